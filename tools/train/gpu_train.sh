#!/bin/sh
# One-command training run for a GPU session (the device tool: one H100, at most 10 minutes
# per command, about 15 minutes per session).
#   tools/train/gpu_train.sh [DATA_DIR] [RUN_DIR] [MINUTES]
# DATA_DIR (default data/photos) is the bundle written by tools/data/collect_photos.py
# (about 11 MB; the device machine has no network, so carry it: carry=["data"]).
# RUN_DIR (default runs/gpu) keeps last.pt: calling this again on the same warm machine
# resumes. At the end the generator is exported to RUN_DIR/model.gguf (F16), and when $OUT
# is set (device runs) the model, log, summary and sample grids are copied there.
# Evaluate it (tools/eval/eval_quality.py --model ...) before copying it to
# models/default.gguf, and update models/README.md.
#
# Settings: the official DeepFill v2 recipe (256x256 crops, batch 16, stroke + box masks,
# hinge SN-PatchGAN + L1, Adam 1e-4 / 0.5 / 0.999) at width 32 (an F16 file of ~3.5 MB),
# the edge guide kept for half of the samples, 1000 L1-only warm-up steps, and two additions
# the CPU-trained default model used (models/README.md; not measured one by one): the hole
# L1 term (--hole-weight 1) and a moving average of the weights (--ema 0.999), plus the
# default model's input: holes pre-filled by push-pull and residual stages
# (--input-fill pushpull --residual; tools/train/README.md), so training starts from the
# pre-fill's quality.
# Extra train.py options: GI_TRAIN_ARGS="--lr 2e-4 ...".
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
data=${1:-"$root/data/photos"}
run=${2:-"$root/runs/gpu"}
minutes=${3:-8}
mkdir -p "$run"
# A Python with torch (and cv2, numpy): $PYTHON, else the first of python3, /usr/bin/python3.
py=${PYTHON:-}
if [ -z "$py" ]; then
    for c in python3 /usr/bin/python3; do
        if "$c" -c 'import torch, cv2' 2>/dev/null; then py=$c; break; fi
    done
fi
[ -n "$py" ] || { echo "gpu_train: no python with torch and cv2 (set PYTHON)" >&2; exit 1; }
"$py" -c 'import torch; print("torch", torch.__version__, "cuda",
    torch.cuda.is_available() and torch.cuda.get_device_name(0))'
# shellcheck disable=SC2086
"$py" "$root/tools/train/train.py" --data "$data" --out "$run" \
    --width 32 --guide 1 --crop 256 --batch 16 --gan-start 1000 --hole-weight 1 --ema 0.999 \
    --input-fill pushpull --residual \
    --minutes "$minutes" --ckpt-minutes 2 --val-every 250 --sample-every 1000 \
    --device auto --no-progress --export "$run/model.gguf" ${GI_TRAIN_ARGS:-}
if [ -n "${OUT:-}" ]; then
    cp "$run/model.gguf" "$run/log.tsv" "$run/summary.json" "$OUT/"
    mkdir -p "$OUT/samples" && cp "$run"/samples/*.jpg "$OUT/samples/" 2>/dev/null || true
fi
