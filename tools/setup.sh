#!/bin/sh
# Install what the build and tests need (Debian 12), then configure and build.
#   tools/setup.sh [BUILD_DIR]          (default: build)
# As root, missing Debian packages are installed with apt-get; otherwise the
# exact apt-get line is printed and the script stops.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$root/build"}

# Build: compilers, meson, image libraries (WebP and TIFF are optional
# meson features, installed here so the default build has them). Tests: clang + libFuzzer runtime,
# PyTorch/numpy (the reference network), pytest, valgrind, the AArch64 cross
# compiler with its C library headers and qemu-user (NEON tests), binutils (nm and
# readelf for the ABI test), LLVM's OpenMP runtime (ThreadSanitizer runs),
# OpenCV and tqdm (training recipe tests, quality evaluation), OpenBLAS for torch
# (without it Debian's torch runs on the reference BLAS: training steps about 3x
# slower; tools/train/README.md, "CPU speed"), venv, pip and
# meson-python (the Python package built by pip: tests/install), Dask
# (gatedinpaint.dask and its test), gcovr (tools/coverage.sh), Starlette, python-multipart, uvicorn and
# httpx (gatedinpaint.web and its test), Chromium, its WebDriver and Selenium
# (the browser test of the page).
packages="gcc g++ clang libclang-rt-14-dev pkg-config meson ninja-build \
libpng-dev libjpeg62-turbo-dev libwebp-dev libtiff-dev python3 python3-numpy python3-torch python3-pytest \
python3-pil python3-venv python3-pip python3-mesonpy valgrind gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user binutils libomp-dev python3-opencv python3-tqdm libopenblas0-openmp \
python3-dask python3-distributed gcovr \
python3-starlette python3-multipart python3-uvicorn python3-httpx chromium chromium-driver python3-selenium"
# Rust bindings (bindings/rust): Debian's cargo unless a toolchain (rustup) is on PATH.
command -v cargo >/dev/null 2>&1 || packages="$packages cargo"

missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "setup: installing:$missing"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        # shellcheck disable=SC2086
        apt-get install -y -qq --no-install-recommends $missing
    else
        echo "setup: missing Debian packages; run as root:"
        echo "  apt-get install -y$missing"
        exit 1
    fi
fi

if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$root" --buildtype=release
fi
ninja -C "$build"
