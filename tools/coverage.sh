#!/bin/sh
# Line and branch coverage of the library (lib/) by the test suite, with a
# floor (docs/RELIABILITY.md, "Coverage").
#
#   tools/coverage.sh [BUILD]     default: build-coverage in the source root
#
# Configures BUILD with -Db_coverage=true (gcc --coverage, debugoptimized),
# builds it, runs the suite there except the slow suites that add no library
# code of their own (valgrind: the same C tests again; install, docs: copies
# of the repository built elsewhere; e2e: official width; neon: AArch64 under
# qemu, another build) and prints gcovr's line and branch summary of lib/.
# The HTML report goes to BUILD/coverage/index.html, the JSON summary to
# BUILD/coverage/summary.json. Fails when line coverage is below
# GI_COVERAGE_MIN_LINES percent (default 95).
#
# gcovr 5.2 needs --gcov-ignore-parse-errors with gcc 12: gcov's output for
# the threaded (atomic) counters has lines gcovr cannot parse; they are
# skipped, the counts of the other lines are right.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$root/build-coverage"}
floor=${GI_COVERAGE_MIN_LINES:-95}

if ! command -v gcovr >/dev/null 2>&1; then
    echo "coverage: gcovr not found (apt-get install gcovr; tools/setup.sh lists it)"
    exit 1
fi
if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$root" --buildtype=debugoptimized -Db_coverage=true >/dev/null
fi
nice ninja -C "$build"
# Counters of an earlier run would add up with this one.
find "$build" -name '*.gcda' -delete
rc=0
meson test -C "$build" --num-processes 1 --print-errorlogs \
    --no-suite valgrind --no-suite install --no-suite docs --no-suite e2e --no-suite neon || rc=$?
if [ "$rc" -ne 0 ]; then
    echo "coverage: the test suite failed in $build (exit $rc)"
    exit 1
fi
mkdir -p "$build/coverage"
gcovr --root "$root" --object-directory "$build" --filter "$root/lib/" \
    --gcov-ignore-parse-errors --exclude-unreachable-branches \
    --html-details "$build/coverage/index.html" \
    --json-summary "$build/coverage/summary.json" --json-summary-pretty \
    --txt "$build/coverage/report.txt" --print-summary --branches \
    --fail-under-line "$floor" || {
    echo "coverage: line coverage of lib/ is below the floor of $floor % (or gcovr failed)"
    exit 1
}
echo "coverage: lib/ line coverage is at least $floor %; report: $build/coverage/index.html"
