#!/bin/sh
# fuzz/run-fuzz.sh - the bounded fuzz run of make check (issue 8, item 2).
#
# Runs each libFuzzer target in $FCDASH_BUILDDIR/fuzz for FUZZ_SECONDS
# (default 4) from its seeds in fuzz/corpus/<target> (copied to a temp
# dir, so new inputs never land in the source tree), plus every saved
# crash in fuzz/regression/<target>-* replayed first.  One check per target:
# "ok" when nothing crashed, leaked or tripped ASan/UBSan in that time.
# A crash's input is kept in $FCDASH_BUILDDIR/fuzz/crashes/ and named in
# the output.  Last line: "N passed, N failed".
set -u
src=${FCDASH_SRCDIR:-.}
build=${FCDASH_BUILDDIR:-.}
secs=${FUZZ_SECONDS:-4}
bin=$build/fuzz
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fcdash-fuzz-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$bin/crashes"
pass=0 fail=0
for t in update params frame_json frame_binary session memo_value; do
    exe=$bin/fuzz_$t
    if [ ! -x "$exe" ]; then
        echo "FAIL fuzz_$t: not built ($exe)"
        fail=$((fail + 1))
        continue
    fi
    corpus=$tmp/$t
    mkdir -p "$corpus"
    [ -d "$src/fuzz/corpus/$t" ] && cp "$src/fuzz/corpus/$t/"* "$corpus/" 2>/dev/null
    log=$tmp/$t.log
    ok=1
    # Saved crashes first: each must now run clean.
    for r in "$src"/fuzz/regression/"$t"-*; do
        [ -f "$r" ] || continue
        if ! "$exe" "$r" >"$log" 2>&1; then
            ok=0
            echo "# regression $r still fails:"
            grep -E 'ERROR|SUMMARY|runtime error' "$log" | head -5 | sed 's/^/#   /'
        fi
    done
    "$exe" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$bin/crashes/$t-" "$corpus" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    if [ $rc -ne 0 ]; then
        ok=0
        echo "# fuzz_$t exited $rc:"
        grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -8 | sed 's/^/#   /'
    fi
    if [ $ok -eq 1 ]; then
        echo "ok fuzz_$t: ${execs:-?} runs in ${secs} s, ${cov:-cov: ?}, no crash"
        pass=$((pass + 1))
    else
        echo "FAIL fuzz_$t (${execs:-?} runs)"
        fail=$((fail + 1))
    fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
