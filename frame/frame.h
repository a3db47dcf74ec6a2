/*
 * frame.h - a small typed column table for Dash apps written in C.
 *
 * The guide's apps keep their data in pandas DataFrames: they filter rows,
 * hand columns to figures, show a frame as a table or as CSV, and move
 * frames between callbacks as JSON (a dcc.Store) or through the server-side
 * cache.  fcd_frame_t is the C counterpart, kept to what those apps need:
 *
 *   - columns of five types: int64, float64 (NaN is missing), string (UTF-8,
 *     NULL is missing), bool (with missing) and datetime (nanoseconds since
 *     the epoch, FCD_FRAME_NAT is missing);
 *   - an index: a RangeIndex (0..n-1) unless one was set or decoded;
 *   - the JSON texts pandas writes with to_json(orient='split') and
 *     to_json() (orient='columns'), byte for byte, and their decoding with
 *     the dtype rules of pandas' read_json (frame/README.md lists them);
 *   - pandas' to_csv(index=False) text, cell text as Python's str() shows it,
 *     and a compact binary form for the cache.
 *
 * Ownership.  A frame is owned by whoever created it and released with
 * fcd_frame_free(); functions that return a new frame say so.  Pointers
 * into a frame (names, arrays, strings) are borrowed: valid until the frame
 * changes or is freed.  A packed frame (fcd_frame_pack) lives in memory the
 * caller's allocator gave and is read-only.  Frames are not locked: share a
 * frame between threads only for reading.
 *
 * Errors.  Functions return FCD_OK or FCD_ERROR (or a frame or NULL) and,
 * when `err` is not NULL, fill err->msg with one line saying why; decoders
 * name the byte offset.  Out of memory is an FCD_ERROR with the message "out
 * of memory"; the frame or buffer in hand is left as it was before the call.
 * Nothing here prints, exits, or keeps global mutable state.
 *
 * Every string in a frame is valid UTF-8 (checked when it enters), so every
 * encoder succeeds on any frame except for lack of memory and the two
 * uniqueness rules pandas has for orient='columns'.
 */
/* The frame's public API is declared in include/fcdash.h (the one public
 * header), section "Data frames"; this header stays for the library's own
 * files. */
#ifndef FCD_FRAME_H
#define FCD_FRAME_H

#include "fcdash.h"

#endif /* FCD_FRAME_H */
