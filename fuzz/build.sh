#!/bin/sh
# fuzz/build.sh SRCDIR BUILDDIR OUTDIR LIBS -- LIBRARY_SOURCES...
#
# Builds the libFuzzer targets with clang: the library's sources are
# compiled again with coverage instrumentation (-fsanitize=fuzzer-no-link)
# and ASan+UBSan, since the objects make builds with the configured
# compiler carry no coverage and the fuzzer would run blind.  Objects are
# rebuilt only when their source or a header changed, so a second
# `make check` costs little.  fuzz/local.mk calls it with the library's
# source list from the Makefile, so a new module is fuzzed without an edit
# here.
set -eu
srcdir=$1 builddir=$2 out=$3 libs=$4
shift 4
[ "$1" = "--" ] && shift
CLANG=${CLANG:-clang}
# frame/shortest.cc, the one C++ file, with the flags Makefile.am gives it;
# DRAGONBOX_CFLAGS comes from configure through fuzz/local.mk.
CLANGXX=${CLANGXX:-$(echo "$CLANG" | sed "s/clang/clang++/")}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-g -O1 -std=gnu11 $SAN -DHAVE_CONFIG_H -DFCDASH_BUILD -I$builddir -I$srcdir/include -I$srcdir $(pkg-config --cflags json-c)"
mkdir -p "$out/obj"
newest_header=$(find "$srcdir/include" "$srcdir/base" "$srcdir/fcgi" "$srcdir/handlers" \
    "$srcdir/cache" "$srcdir/frame" "$srcdir/fuzz" -name '*.h' -newer "$out/obj" 2>/dev/null | head -1 || true)
objs=
CXXFLAGS="-g -O1 -std=gnu++17 -fno-exceptions -fno-rtti $SAN -DFCDASH_BUILD -I$srcdir ${DRAGONBOX_CFLAGS:-}"
for s in "$@"; do
    case $s in *.c | *.cc) ;; *) continue ;; esac
    o="$out/obj/$(echo "$s" | tr / _ | sed 's/\.cc*$/.o/')"
    if [ ! -f "$o" ] || [ "$srcdir/$s" -nt "$o" ] || [ -n "$newest_header" ]; then
        case $s in
        *.cc) $CLANGXX $CXXFLAGS -fsanitize=fuzzer-no-link -c "$srcdir/$s" -o "$o" ;;
        *) $CLANG $CFLAGS -fsanitize=fuzzer-no-link -c "$srcdir/$s" -o "$o" ;;
        esac
    fi
    objs="$objs $o"
done
touch "$out/obj"
for t in update params frame_json frame_binary session memo_value; do
    extra=
    [ "$t" = memo_value ] && extra="-Wl,--wrap=fcd_cache_get,--wrap=fcd_cache_get_multi,--wrap=fcd_cache_set"
    src="$srcdir/fuzz/fuzz_$t.c"
    # Linked last, the archive contributes only what a target needs.
    $CLANG $CFLAGS -fsanitize=fuzzer -o "$out/fuzz_$t" "$src" $extra $objs $libs
done
