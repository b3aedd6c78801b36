#!/bin/sh
# The gated-vs-partial comparison (docs/GATED_VS_PARTIAL.md): four generators trained from
# scratch on the same photos, masks, crop, batch and wall-clock budget, then judged on the
# held-out photos with the same evaluation.
#   tools/train/compare_gated_partial.sh [DATA_DIR] [OUT_DIR] [MINUTES] [DEVICE]
# Defaults: data/photos, runs/compare, 10 minutes per run, auto device (CUDA when present).
#   gated-paper   DeepFill v2 width 16 with a guide channel, the paper's objective:
#                 L1 on both stages + SN-PatchGAN hinge (weight 1), Adam 1e-4 (0.5, 0.999)
#   gated-l1      the same with no GAN term
#   pconv-paper   PConv U-Net width 40, layer_size 7 (3.7 GMAC per 256x256 against the
#                 gated net's 3.9: within 20 %), the paper's L1 terms (valid + 6 hole +
#                 0.1 TV; its VGG terms are not available: gitrain/pconv_net.py), Adam
#                 2e-4, the last fifth fine-tuned at 5e-5 with the encoder's BatchNorm frozen
#   pconv-l1      the same net with the gated recipe's L1 (whole image), no fine-tuning
# Every run keeps a moving average of its weights (decay 0.999), which is exported (F32)
# and evaluated. Extra train.py options for all four: GI_TRAIN_ARGS. CLOCK=cpu counts MINUTES
# as each run's own CPU time (train.py --clock cpu), so that runs sharing a CPU with each
# other or with other work still get equal compute.
# PARALLEL=1 trains the four at once (on one GPU: tools/train/gpu_session.sh), each with the
# same wall-clock budget; NO_EVAL=1 stops after the exports; EVAL_ONLY=1 evaluates the
# exports OUT_DIR/*.gguf that an earlier (device) run left (tools/train/gpu_session.sh).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
data=${1:-"$root/data/photos"}
out=${2:-"$root/runs/compare"}
minutes=${3:-10}
device=${4:-auto}
py=${PYTHON:-/usr/bin/python3}
mkdir -p "$out"
train() { # NAME MINUTES ARGS...
    name=$1 m=$2
    shift 2
    # shellcheck disable=SC2086
    "$py" "$root/tools/train/train.py" --data "$data" --out "$out/$name" --crop 128 \
        --batch 8 --box-prob 0.3 --ema 0.999 --val-every 100 --val-n 6 --minutes "$m" \
        --clock "${CLOCK:-wall}" --device "$device" --no-progress "$@" ${GI_TRAIN_ARGS:-}
}
pconv="--family pconv_unet --width 40 --depth 7 --lr 2e-4"
pconv_paper() { # the paper's schedule: the last fifth fine-tuned with the encoder's BN frozen
    # shellcheck disable=SC2086
    train pconv-paper "$("$py" -c "import sys; print(float(sys.argv[1]) * 0.8)" "$minutes")" $pconv
    step=$("$py" -c "import json,sys; print(json.load(open(sys.argv[1]))['step'])" \
        "$out/pconv-paper/summary.json")
    # shellcheck disable=SC2086
    train pconv-paper "$minutes" $pconv --freeze-enc-bn-at "$step"
}
job() { # NAME COMMAND...: run it now, or with PARALLEL=1 in the background (log in logs/NAME)
    name=$1
    shift
    if [ "${PARALLEL:-0}" = 1 ]; then
        mkdir -p "$out/logs"
        "$@" >"$out/logs/$name" 2>&1 &
        pids="$pids $!"
    else
        "$@"
    fi
}
if [ "${EVAL_ONLY:-0}" != 1 ]; then
    pids=""
    job gated-paper train gated-paper "$minutes" --width 16 --guide 1 --gan-weight 1
    job gated-l1 train gated-l1 "$minutes" --width 16 --guide 1 --gan-weight 0
    job pconv-paper pconv_paper
    # shellcheck disable=SC2086
    job pconv-l1 train pconv-l1 "$minutes" $pconv --pconv-loss l1
    failed=0
    for p in $pids; do wait "$p" || failed=1; done
    [ "$failed" = 0 ] || { tail -n 5 "$out"/logs/* >&2; exit 1; }
    for name in gated-paper gated-l1 pconv-paper pconv-l1; do
        "$py" "$root/tools/train/export.py" "$out/$name/last.pt" -o "$out/$name.gguf" \
            --dtype "${EXPORT_DTYPE:-f32}"
    done
fi
[ "${NO_EVAL:-0}" = 1 ] && exit 0
# the gated model without and with a guide, the PConv U-Net, Telea and Navier-Stokes on the
# same held-out cases, free-form strokes and object-removal masks
for pair in paper l1; do
    for kind in strokes objects; do
        "$py" "$root/tools/eval/eval_quality.py" --photos "$data/val" \
            --model "$out/gated-$pair.gguf" --compare "$out/pconv-$pair.gguf" \
            --mask-kind "$kind" --out "$out/eval-$pair-$kind"
    done
done
