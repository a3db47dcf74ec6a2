/*
 * fuzz_frame_binary.c - the frame's compact binary form as it comes back
 * from the cache (fcd_frame_from_binary): a peer, or anyone who can write
 * to memcached, chooses these bytes.  A decoded frame must encode again.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fcdash.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* With FUZZ_FRAME_SEEDS=DIR set: write the binary form of a frame with a
 * column of every type, and of the same frame with a string index, into
 * DIR as seeds, then exit. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    const char *dir = getenv("FUZZ_FRAME_SEEDS");
    if (dir == NULL)
        return 0;
    static const char *const labels[3] = {"x", "y", "z"};
    static const char *const names[5] = {"i", "f", "s", "b", "t"};
    static const fcd_frame_type_t types[5] = {FCD_FRAME_INT64, FCD_FRAME_FLOAT64,
                                              FCD_FRAME_STRING, FCD_FRAME_BOOL,
                                              FCD_FRAME_DATETIME};
    fcd_frame_err_t err;
    fcd_frame_t *f = fcd_frame_new();
    if (f == NULL)
        abort();
    for (size_t c = 0; c < 5; c++)
        if (fcd_frame_add_column(f, names[c], types[c], &err) != FCD_OK)
            abort();
    /* Row by row: fcd_frame_add_string with a NULL (missing) entry trips
     * UBSan in frame_utf8_valid (fuzz/README.md), so missing cells go in
     * as FCD_FRAME_NA. */
    if (fcd_frame_append(f, &err, FCD_FRAME_I(1), FCD_FRAME_F(0.5), FCD_FRAME_S("a"),
                         FCD_FRAME_B(1), FCD_FRAME_T(0)) != FCD_OK ||
        fcd_frame_append(f, &err, FCD_FRAME_I(-2), FCD_FRAME_F(-1e300), FCD_FRAME_NA,
                         FCD_FRAME_B(0), FCD_FRAME_NA) != FCD_OK ||
        fcd_frame_append(f, &err, FCD_FRAME_I(3), FCD_FRAME_NA, FCD_FRAME_S("\xc3\xa9t\xc3\xa9"),
                         FCD_FRAME_NA, FCD_FRAME_T(1700000000000000000)) != FCD_OK)
        abort();
    for (int round = 0; round < 2; round++) {
        char path[4096];
        fcd_frame_buf_t bin = FCD_FRAME_BUF_INIT;
        if (round == 1 && fcd_frame_set_index_string(f, labels, 3, &err) != FCD_OK)
            abort();
        if (fcd_frame_to_binary(f, &bin, &err) != FCD_OK)
            abort();
        snprintf(path, sizeof path, "%s/all-types-%d", dir, round);
        FILE *fp = fopen(path, "wb");
        if (fp == NULL || fwrite(bin.data, 1, bin.len, fp) != bin.len || fclose(fp) != 0)
            abort();
        fcd_frame_buf_free(&bin);
    }
    fcd_frame_free(f);
    exit(0);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    fcd_frame_err_t err;
    fcd_frame_t *f = fcd_frame_from_binary(data, size, &err);
    if (f == NULL)
        return 0;
    /* 24 bytes can declare 2^24 rows of no columns (fuzz/README.md):
     * re-encoding those takes a third of a second and 160 MB, so only
     * frames of a size a test can afford are encoded again. */
    if (fcd_frame_nrows(f) > 100000) {
        fcd_frame_free(f);
        return 0;
    }
    fcd_frame_buf_t json = FCD_FRAME_BUF_INIT;
    if (fcd_frame_to_json(f, FCD_FRAME_SPLIT, FCD_FRAME_ISO_DATES, &json, &err) != FCD_OK)
        abort();
    fcd_frame_buf_free(&json);
    fcd_frame_free(f);
    return 0;
}
