#!/bin/sh
# Build the model-reader fuzz target with clang's libFuzzer, ASan and UBSan,
# seed it with files from the test builder and run it for a bounded time.
#   run_fuzz.sh SOURCE_ROOT WORK_DIR TEST_MODEL_EXE
# GI_FUZZ_SECONDS sets the run time (default 30; 0 only replays the seeds
# and corpus); CLANG the compiler.
# Exits 77 (skipped) when clang or libFuzzer is not available.
set -eu
src=$1
work=$2
test_model=$3
seconds=${GI_FUZZ_SECONDS:-30}
clang=${CLANG:-clang}

if ! command -v "$clang" >/dev/null 2>&1; then
    echo "skip: $clang not found"
    exit 77
fi
mkdir -p "$work"
probe="$work/fuzz_probe.c"
printf '%s\n' '#include <stdint.h>' '#include <stddef.h>' \
    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
    >"$probe"
if ! "$clang" -fsanitize=fuzzer "$probe" -o "$work/fuzz_probe" >/dev/null 2>&1; then
    echo "skip: $clang cannot link -fsanitize=fuzzer (libFuzzer missing)"
    exit 77
fi

exe="$work/fuzz_model"
# The loader links the families (and, through their forward passes, the
# graph and the scalar kernels); no SIMD tier: an empty isa_config.h.
mkdir -p "$work/kernels"
: >"$work/kernels/isa_config.h"
# model.c refers to the embedded default model, which meson generates;
# the fuzz target gets an empty one (the loader is what is fuzzed).
extra=""
if [ -f "$src/lib/model/default_model.py" ]; then
    /usr/bin/python3 "$src/lib/model/default_model.py" "$work/default_model.c"
    extra="$work/default_model.c"
fi
# shellcheck disable=SC2086
"$clang" -std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$src/include" -I"$src/lib" -I"$work" \
    "$src/tests/model/fuzz_model.c" "$src"/lib/model/*.c "$src"/lib/families/*.c \
    "$src"/lib/graph/*.c "$src"/lib/common/*.c "$src"/lib/cpu/*.c "$src"/lib/kernels/ref/*.c \
    $extra -o "$exe" -lm -pthread

seeds="$work/fuzz_seeds"
corpus="$work/fuzz_corpus"
rm -rf "$seeds"
"$test_model" --write-seeds "$seeds"
mkdir -p "$corpus"
# libFuzzer reads -max_total_time=0 as "no limit"
if [ "$seconds" -gt 0 ]; then limit="-max_total_time=$seconds"; else limit=-runs=0; fi
cd "$work"
# New inputs go to the first directory, which is kept between runs so
# coverage accumulates; crash files land in WORK_DIR.
# -error_exitcode: libFuzzer's default, 77, is what meson reads as "skipped",
# so a crash would have passed unnoticed.
exec "$exe" "$limit" -error_exitcode=1 -timeout_exitcode=1 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 \
    "$corpus" "$seeds"
