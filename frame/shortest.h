/*
 * shortest.h - the shortest decimal digits that read back as a double.
 *
 * The one C++ translation unit of the library (frame/shortest.cc) wraps
 * Dragonbox behind this C prototype; frame/format.c lays the digits out as
 * Python's repr() does.
 */
#ifndef FCD_FRAME_SHORTEST_H
#define FCD_FRAME_SHORTEST_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* |v| as digits * 10^exp10 with the fewest digits that read back as |v|
 * (under round-to-nearest-even, as strtod and Python's float() read), the
 * nearest to |v| of those, ties to an even last digit; no trailing zeros
 * in `digits` (at most 17 of them).  v must be finite and not zero. */
void frame_shortest_digits(double v, uint64_t *digits, int *exp10);

#ifdef __cplusplus
}
#endif

#endif /* FCD_FRAME_SHORTEST_H */
