#!/bin/sh
# Run one libFuzzer target for a bounded time.
#   run_target.sh EXE SEED_CORPUS REGRESSIONS WORK_DIR
# GI_FUZZ_SECONDS: run time (default 20; 0 = only replay the seeds, the
# regressions and the work corpus). New inputs are kept in WORK_DIR/corpus
# (so coverage accumulates between runs); a crash, leak, timeout or single
# allocation over 128 MiB leaves its input in WORK_DIR and fails the test.
set -eu
exe=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") # absolute: we cd below
seeds=$2
regress=$3
work=$4
seconds=${GI_FUZZ_SECONDS:-20}
mkdir -p "$work/corpus"
# libFuzzer pulls in libstdc++ ahead of the shared ASan runtime (sanitizer
# builds use -shared-libasan); libstdc++ does not define malloc, so the
# order is harmless.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
if [ "$seconds" -gt 0 ]; then limit="-max_total_time=$seconds"; else limit=-runs=0; fi
dirs="$work/corpus $seeds"
[ -d "$regress" ] && dirs="$dirs $regress"
cd "$work"
# libFuzzer's default error exit code is 77, which meson reads as "skipped".
# shellcheck disable=SC2086
exec "$exe" "$limit" -error_exitcode=1 -timeout_exitcode=1 -timeout=20 \
    -rss_limit_mb=2048 -malloc_limit_mb=128 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$work/" $dirs
