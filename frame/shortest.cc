/*
 * shortest.cc - Dragonbox behind a C prototype (see shortest.h).
 *
 * Python's repr() of a float, which its json module, pandas' to_csv and
 * str() all print, is the shortest decimal that reads back as the double,
 * the nearest one when several are that short.  Searching for it with
 * printf("%.17g") and strtod cost about 8,000 instructions a number, the
 * bulk of a cached figure callback (bench/README.md).  Dragonbox (Junekey
 * Jeon, 2020; Debian's libdragonbox-dev, header-only) computes exactly those
 * digits, proven shortest and nearest, with a few multiplications by a
 * table of powers of ten.  Its defaults are the ones wanted here: the
 * reader rounds to nearest-even (so an even significand's interval ends
 * count), a tie between two nearest candidates goes to the even digit, as
 * in David Gay's dtoa that CPython uses, and trailing zeros are removed.
 *
 * Built with -fno-exceptions -fno-rtti: the header uses nothing of the C++
 * runtime (only <cstdint>-level templates and assert), so libfcdash links
 * with the C compiler and needs no libstdc++.  tests/unit/test_repr checks
 * the result against /usr/bin/python3's repr() value for value.
 */
#include "frame/shortest.h"

#include <dragonbox/dragonbox.h>

void frame_shortest_digits(double v, uint64_t *digits, int *exp10)
{
    auto d = jkj::dragonbox::to_decimal(v, jkj::dragonbox::policy::sign::ignore);

    *digits = d.significand;
    *exp10 = d.exponent;
}
