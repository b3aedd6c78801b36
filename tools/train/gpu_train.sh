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
# Settings: the default model's CPU recipe (models/README.md) at 4x its batch, continuing
# from models/default.gguf: width 16, 128x128 crops, batch 32, mostly stroke masks,
# push-pull pre-fill that respects the guide's edges and residual stages, hole L1 term,
# moving average of the weights, lr 2e-4 decayed to 1e-5, no GAN term. On the H100 such a
# width-16 run made 19.6 steps/s at batch 16 and 256x256 (models/README.md, GPU session);
# this setting (batch 32 at 128x128, half those pixels per step) has not run on a GPU yet.
# At that rate 8 minutes would be about 300,000 crops; all CPU runs together saw 247,136.
# Extra train.py options, which override these: GI_TRAIN_ARGS="--lr 1e-4 ...".
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
    --init "$root/models/default.gguf" --width 16 --guide 1 --crop 128 --batch 32 \
    --box-prob 0.1 --input-fill guided_pushpull --residual --hole-weight 2 --ema 0.999 \
    --gan-weight 0 --lr 2e-4 --lr-final 1e-5 \
    --minutes "$minutes" --ckpt-minutes 2 --val-every 250 --sample-every 1000 \
    --device auto --no-progress --export "$run/model.gguf" ${GI_TRAIN_ARGS:-}
# The device tool brings back at most 8 files: the model, log, summary and last sample grid
# of each run, in $OUT/RUN_NAME/.
if [ -n "${OUT:-}" ]; then
    dst="$OUT/$(basename "$run")"
    mkdir -p "$dst"
    cp "$run/model.gguf" "$run/log.tsv" "$run/summary.json" "$dst/"
    last=$(ls "$run"/samples/*.jpg 2>/dev/null | tail -n 1)
    [ -z "$last" ] || cp "$last" "$dst/"
fi
