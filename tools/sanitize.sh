#!/bin/sh
# Sanitizer runs of the test suite (docs/RELIABILITY.md), called by
# tools/run-tests.sh; needs clang and its sanitizer runtimes
# (libclang-rt-14-dev) and LLVM's OpenMP runtime (libomp-dev).
#
#   tools/sanitize.sh asan [BUILD]       AddressSanitizer + UndefinedBehaviorSanitizer
#                                        (clang, -fno-sanitize-recover=all) build of the
#                                        library, CLI and C tests, plus libFuzzer targets run
#                                        for GI_FUZZ_SECONDS each (default 20)
#   tools/sanitize.sh tsan [BUILD]       ThreadSanitizer build; the threading tests with
#                                        LLVM's libomp and its Archer tool, which tells
#                                        TSan about OpenMP's synchronisation
#   tools/sanitize.sh configure BUILD    only configure and build the asan build
#
# BUILD defaults to build-asan / build-tsan in the source root. Exit status 77
# when clang cannot build sanitized programs (the caller reports a skip).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-}
clang=${CLANG:-clang}

if ! command -v "$clang" >/dev/null 2>&1; then
    echo "sanitize: $clang not found"
    exit 77
fi
rtdir=$("$clang" -print-runtime-dir 2>/dev/null || true)
# The ASan runtime as a shared library: libgatedinpaint.so is linked with
# --no-undefined, so it must find the sanitizer symbols at link time.
export LD_LIBRARY_PATH="$rtdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

configure() { # dir sanitizer extra-c-args extra-link-args [more meson args]
    dir=$1 san=$2 cargs=$3 largs=$4
    shift 4
    # Configured again from scratch when this script's options changed.
    want="$clang|$san|$cargs|$largs|$*"
    if [ ! -f "$dir/build.ninja" ] || [ "$(cat "$dir/.gi-sanitize" 2>/dev/null)" != "$want" ]; then
        wipe=""
        [ -f "$dir/build.ninja" ] && wipe=--wipe
        # shellcheck disable=SC2086
        CC=$clang meson setup $wipe "$dir" "$root" --buildtype=debugoptimized \
            -Db_sanitize="$san" -Db_lundef=false \
            -Dc_args="-fno-omit-frame-pointer $cargs" -Dc_link_args="$largs" "$@" >/dev/null
        printf '%s\n' "$want" >"$dir/.gi-sanitize"
    fi
}

# -Werror=vla: no stack array may be sized by an input (a tall image once
# put h/4 + w/4 ints on the stack of the calling thread).
asan_configure() {
    configure "$1" address,undefined \
        "-fno-sanitize-recover=all -fsanitize=fuzzer-no-link -Werror=vla" "-shared-libasan" \
        -Dfuzzing=true
    ninja -C "$1"
}

case "$mode" in
configure)
    asan_configure "${2:?build dir}"
    ;;
asan)
    build=${2:-"$root/build-asan"}
    asan_configure "$build"
    export ASAN_OPTIONS="detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    export GI_FUZZ_SECONDS="${GI_FUZZ_SECONDS:-20}"
    # Small counts: ASan makes every call several times slower.
    export GI_STRESS_THREADS=3 GI_STRESS_CALLS=60
    # Every C test program; the Python-driven tests that run our C programs
    # (CLI corpus, parity driver); the fuzz targets. test_cli.py is left out
    # because it runs gi-inpaint under valgrind, which cannot run ASan code
    # (bad-cli covers the CLI here), and so is e2e (official width: too slow).
    meson test -C "$build" --num-processes 1 --print-errorlogs \
        kernels api io model bad bad-cli alloc-fail concurrency \
        fuzz-replay-image fuzz-replay-inpaint fuzz-image fuzz-inpaint parity
    ;;
tsan)
    build=${2:-"$root/build-tsan"}
    configure "$build" thread "" ""
    ninja -C "$build" tests/concurrency/test_concurrency tests/api/test_api
    archer=""
    for d in "$rtdir/../../../.." /usr/lib/llvm-14/lib; do
        [ -f "$d/libarcher.so" ] && archer="$d/libarcher.so" && break
    done
    if [ -z "$archer" ]; then
        echo "sanitize: libarcher.so (LLVM OpenMP) not found; OpenMP off for TSan"
        exit 77
    fi
    # libomp itself is not instrumented: ignore_noninstrumented_modules keeps
    # its internals out; Archer supplies the OpenMP happens-before edges.
    export OMP_TOOL_LIBRARIES="$archer"
    export TSAN_OPTIONS="ignore_noninstrumented_modules=1:halt_on_error=1:exitcode=66:second_deadlock_stack=1"
    export GI_STRESS_THREADS=4 GI_STRESS_CALLS=60 GI_STRESS_OMP=2
    status=0
    for t in tests/concurrency/test_concurrency tests/api/test_api; do
        echo "tsan: $t"
        "$build/$t" >"$build/$(basename "$t").log" 2>&1 || status=$?
        tail -n 4 "$build/$(basename "$t").log"
        if [ "$status" -ne 0 ] || grep -q "ThreadSanitizer" "$build/$(basename "$t").log"; then
            echo "tsan: $t FAILED (log: $build/$(basename "$t").log)"
            grep -A 30 "WARNING: ThreadSanitizer" "$build/$(basename "$t").log" | head -60 || true
            status=1
        fi
    done
    exit $status
    ;;
*)
    sed -n '2,16p' "$0"
    exit 2
    ;;
esac
