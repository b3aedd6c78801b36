#!/bin/sh
# The long fuzz run: every fuzz target for SECONDS each (default 1200, so
# the three targets together take an hour), JOBS targets at a time.
#   tests/fuzz/run_long.sh [SECONDS] [JOBS]
# TARGETS (default "model image inpaint") picks the targets.
# Uses (and if needed configures) the sanitizer build build-asan of
# tools/run-tests.sh; corpora grow in build-asan/fuzz-long/<target>/corpus;
# logs and any crash inputs land in build-asan/fuzz-long/<target>/.
# Record the result in docs/RELIABILITY.md.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-1200}
jobs=${2:-1}
build="$root/build-asan"
"$root/tools/sanitize.sh" configure "$build"
out="$build/fuzz-long"
mkdir -p "$out"
rtdir=$(clang -print-runtime-dir 2>/dev/null || true)
export LD_LIBRARY_PATH="$rtdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

run_target() { # name
    name=$1
    dir="$out/$name"
    mkdir -p "$dir"
    start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    if [ "$name" = model ]; then
        GI_FUZZ_SECONDS=$seconds sh "$root/tests/model/run_fuzz.sh" "$root" "$dir" \
            "$build/tests/model/test_model" >"$dir/log.txt" 2>&1 && rc=0 || rc=$?
    else
        GI_FUZZ_SECONDS=$seconds "$root/tests/fuzz/run_target.sh" "$build/tests/fuzz/fuzz_$name" \
            "$root/tests/fuzz/corpus/$name" "$root/tests/fuzz/regressions/$name" "$dir" \
            >"$dir/log.txt" 2>&1 && rc=0 || rc=$?
    fi
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$dir/log.txt" | grep -o '[0-9]*$' || echo "?")
    echo "$name: started $start, ${seconds}s, exit $rc, $execs executions (log: $dir/log.txt)"
}

n=0
for t in ${TARGETS:-model image inpaint}; do
    run_target "$t" &
    n=$((n + 1))
    if [ "$n" -ge "$jobs" ]; then wait; n=0; fi
done
wait
