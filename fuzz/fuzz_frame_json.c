/*
 * fuzz_frame_json.c - the split-format decoder (fcd_frame_from_json), as a
 * Store's JSON reaches it from a client.  The first byte picks the shape
 * (split or columns); the rest is the text.  A decoded frame must encode
 * again (JSON and binary), and its binary form must decode.
 */
#include <stdlib.h>

#include "fcdash.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size < 1)
        return 0;
    fcd_frame_orient_t orient = (data[0] & 1) ? FCD_FRAME_COLUMNS : FCD_FRAME_SPLIT;
    fcd_frame_err_t err;
    fcd_frame_t *f = fcd_frame_from_json((const char *)data + 1, size - 1, orient, &err);
    if (f == NULL)
        return 0;
    fcd_frame_buf_t json = FCD_FRAME_BUF_INIT, bin = FCD_FRAME_BUF_INIT;
    if (fcd_frame_to_json(f, FCD_FRAME_SPLIT, FCD_FRAME_ISO_DATES, &json, &err) != FCD_OK)
        abort();
    if (fcd_frame_to_binary(f, &bin, &err) != FCD_OK)
        abort();
    fcd_frame_t *g = fcd_frame_from_binary(bin.data, bin.len, &err);
    if (g == NULL || fcd_frame_nrows(g) != fcd_frame_nrows(f) ||
        fcd_frame_ncols(g) != fcd_frame_ncols(f))
        abort();
    fcd_frame_free(g);
    fcd_frame_buf_free(&json);
    fcd_frame_buf_free(&bin);
    fcd_frame_free(f);
    return 0;
}
