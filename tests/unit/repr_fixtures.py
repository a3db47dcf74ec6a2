#!/usr/bin/python3
"""Python's own text of doubles, for tests/unit/test_repr.c.

test_repr runs this with Debian's /usr/bin/python3 at the start of its run,
so the C writer is compared with the repr() of the Python on this machine.

    repr_fixtures.py IN OUT

IN has one double a line as 16 hex digits of its IEEE-754 bits; OUT gets,
a line for each, repr(x) and a tab and json.dumps(x) (the figure's text;
Python writes NaN and Infinity there, which Dash's JSON cannot carry, so
the C side writes null and the test skips those).
"""
import json
import struct
import sys


def main():
    src, dst = sys.argv[1], sys.argv[2]
    with open(src) as f, open(dst, "w") as out:
        for line in f:
            x = struct.unpack("<d", int(line, 16).to_bytes(8, "little"))[0]
            out.write("%s\t%s\n" % (repr(x), json.dumps(x)))


if __name__ == "__main__":
    main()
