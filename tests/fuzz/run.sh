#!/bin/sh
# How every fuzz target is run (called by mk/fuzz.mk; see tests/fuzz/README.md).
#   run.sh regress TARGET...   each input of corpus/TARGET and regressions/TARGET, once
#   run.sh fuzz TARGET         fuzz for FUZZ_SECONDS, from a copy of the seeds
# A crash, leak, UBSan report, broken property or timeout exits 1, prints
# the log's report and the reproducer, which is left in
# $FUZZ_BUILD/findings/TARGET/.
set -u
mode=$1; shift
here=tests/fuzz
build=${FUZZ_BUILD:-build/fuzz}
seconds=${FUZZ_SECONDS:-60}

# Readable stacks; a UBSan report stops the run (with -fno-sanitize-recover).
sym=/usr/lib/llvm-14/bin/llvm-symbolizer
[ -x "$sym" ] && export ASAN_SYMBOLIZER_PATH=$sym UBSAN_SYMBOLIZER_PATH=$sym
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=detect_leaks=1
# Leaks of third-party libraries only, each explained in the file.
export LSAN_OPTIONS="suppressions=$PWD/$here/lsan.supp:print_suppressions=0"

# The report part of a failed run's log: the sanitizer's or our check's
# lines, the stack, libFuzzer's summary.
report() {
    pat='==[0-9]+==ERROR|runtime error|==FUZZ CHECK FAILED==|libFuzzer: (timeout|fuzz target exited|out-of-memory|deadly signal)'
    if grep -q -E "$pat" "$1"; then
        # From the first report to libFuzzer's closing statistics.
        sed -n -E "/$pat/,/^(stat::|MS: )/p" "$1" | grep -v -E '^(stat::|MS: |INFO: )' | head -n 40
        grep -E 'Running: ' "$1" | tail -n 1
    else
        tail -n 20 "$1" # not a finding: the run itself went wrong
    fi
}

# run TARGET LOG ARGS...: the target with a private TMPDIR (the state and
# config targets write files there), removed afterwards even after a crash.
run() {
    t=$1 log=$2; shift 2
    tmp=$build/tmp/$t
    rm -rf "$tmp" && mkdir -p "$tmp" "$build/findings/$t"
    TMPDIR=$PWD/$tmp "$build/fuzz_$t" -timeout="${FUZZ_TIMEOUT:-5}" \
        -rss_limit_mb="${FUZZ_RSS_MB:-2048}" -artifact_prefix="$build/findings/$t/" "$@" \
        </dev/null >"$log" 2>&1
    rc=$?
    rm -rf "$tmp"
    return $rc
}

mkdir -p "$build/logs" || exit 1
fail=0
case $mode in
regress)
    for t in "$@"; do
        log=$build/logs/$t-regress.log
        # Files, not folders: libFuzzer then runs each once and writes nothing.
        files=$(find "$here/corpus/$t" "$here/regressions/$t" -type f ! -name '.*' 2>/dev/null | sort)
        count=$(printf '%s\n' "$files" | grep -c .)
        # No file at all would make libFuzzer fuzz instead of replaying.
        [ "$count" -gt 0 ] || { echo "fuzz-regress: $t: no input in $here/corpus/$t" >&2; fail=1; continue; }
        # shellcheck disable=SC2086 # file names of the tree: no spaces
        if run "$t" "$log" $files; then
            echo "fuzz-regress: $t: $count inputs, no finding"
        else
            echo "fuzz-regress: $t: FAILED (log $log)" >&2
            report "$log" >&2
            fail=1
        fi
    done
    ;;
fuzz)
    t=$1
    log=$build/logs/$t.log
    work=$build/corpus/$t
    findings=$build/findings/$t
    # The seeds stay read-only: the fuzzer adds to a copy.
    mkdir -p "$work" "$findings"
    cp -R "$here/corpus/$t/." "$work/"
    stamp=$build/logs/$t.start
    : >"$stamp"
    echo "fuzz: $t for ${seconds}s (log $log)"
    regress=""
    [ -d "$here/regressions/$t" ] && regress=$here/regressions/$t
    dict=""
    [ -f "$here/dict/$t.dict" ] && dict=-dict=$here/dict/$t.dict
    # shellcheck disable=SC2086 # $dict, $regress: one word or none
    run "$t" "$log" -max_total_time="$seconds" -print_final_stats=1 $dict "$work" $regress
    rc=$?
    new=$(find "$findings" -type f -newer "$stamp" | sort)
    stats=$(sed -n 's/^stat::\(number_of_executed_units\|average_exec_per_sec\|new_units_added\|peak_rss_mb\): *//p' "$log" | tr '\n' ' ')
    cov=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1 | sed 's/.*\(cov: [0-9]*\).*\(ft: [0-9]*\).*/\1 \2/')
    if [ $rc -eq 0 ] && [ -z "$new" ]; then
        # shellcheck disable=SC2086 # four numbers, one a word
        set -- $stats
        echo "fuzz: $t: no finding; ${1:-?} runs, ${2:-?} exec/s, ${3:-?} new units, ${4:-?} MB peak, $cov"
    else
        echo "fuzz: $t: FINDING (exit $rc; log $log)" >&2
        report "$log" >&2
        for f in $new; do
            echo "fuzz: $t: reproducer $f" >&2
            echo "  replay: $build/fuzz_$t $f" >&2
        done
        echo "  to keep it as a regression test: see tests/fuzz/README.md" >&2
        fail=1
    fi
    ;;
*)
    echo "usage: $0 regress TARGET... | fuzz TARGET" >&2
    exit 2
    ;;
esac
exit $fail
