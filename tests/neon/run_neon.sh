#!/bin/sh
# The NEON tier on an x86 machine: build the kernel tests and the parity
# driver for AArch64 with Debian's cross compiler (gcc-aarch64-linux-gnu) and
# run them under qemu-user, the driver through the network parity tests.
#   run_neon.sh SOURCE_ROOT WORK_DIR
# Exits 77 (skipped) when the cross compiler or qemu is missing.
set -eu
src=$1
work=$2
cc=aarch64-linux-gnu-gcc
qemu=qemu-aarch64
if ! command -v "$cc" >/dev/null 2>&1 || ! command -v "$qemu" >/dev/null 2>&1; then
    echo "skip: $cc or $qemu not installed"
    exit 77
fi
export QEMU_LD_PREFIX=/usr/aarch64-linux-gnu
mkdir -p "$work/kernels"
printf '#define GI_HAVE_NEON 1\n' >"$work/kernels/isa_config.h"
flags="-std=c11 -D_GNU_SOURCE -O2 -fopenmp -I$src/include -I$src/lib -I$work"

# Every tier this build has (scalar, neon) against the naive loops.
# shellcheck disable=SC2086
"$cc" $flags "$src/tests/kernels/test_kernels.c" "$src/lib/graph/attention.c" \
    "$src/lib/graph/fill.c" "$src/lib/graph/ring_warp.c" "$src/lib/common/error.c" "$src"/lib/kernels/ref/*.c \
    "$src"/lib/kernels/neon/*.c "$src/lib/cpu/dispatch.c" \
    -lm -o "$work/test_kernels"
"$qemu" "$work/test_kernels"

# The whole network on NEON against the PyTorch reference. Image file I/O
# (libpng/libjpeg, not installed for arm64) is not needed by the driver.
# The embedded default model is left out (size 0): the parity tests bring models.
extra=""
if [ -f "$src/lib/model/default_model.py" ]; then
    /usr/bin/python3 "$src/lib/model/default_model.py" "$work/default_model.c"
    extra="$work/default_model.c"
fi
lib=$(ls $extra "$src"/lib/api/*.c "$src"/lib/runner/*.c "$src"/lib/model/*.c "$src"/lib/families/*.c \
    "$src"/lib/graph/*.c "$src"/lib/common/*.c "$src"/lib/cpu/*.c \
    "$src"/lib/kernels/ref/*.c "$src"/lib/kernels/neon/*.c)
# shellcheck disable=SC2086
"$cc" $flags "$src/tests/parity/parity_driver.c" $lib -lm -lpthread -o "$work/parity_driver"
printf '#!/bin/sh\nexec %s %s "$@"\n' "$qemu" "$work/parity_driver" >"$work/parity_driver.sh"
chmod +x "$work/parity_driver.sh"
GI_PARITY_DRIVER="$work/parity_driver.sh" PYTHONDONTWRITEBYTECODE=1 \
    /usr/bin/python3 -m pytest -q -p no:cacheprovider "$src/tests/parity" \
    -k "w8-rgb-64x64 or w8-bgr-48x80 or w12-bgr-37x90 or w8-guide-56x72"
