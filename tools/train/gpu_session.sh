#!/bin/sh
# Everything a GPU session (the device tool: one GPU and 16 cores, 15 minutes of device time,
# at most 10 per command, 64 MiB of working tree out, 8 files of 16 MiB back) should train:
# two variants of the default model's texture run (models/README.md, "GPU runs"), side
# by side on the GPU, and with COMPARE=1 also the four gated-vs-partial runs
# (docs/GATED_VS_PARTIAL.md, tools/train/compare_gated_partial.sh), which then share it.
#
#   here:    tools/train/gpu_session.sh pack [PHOTOS]     # -> .gpu-data/ (train + val, JPEG q85)
#   device:  run(command="tools/train/gpu_session.sh run 10.5 8", carry=[".gpu-data"],
#                timeout_s=600)                           # trains 8 of 10.5 minutes, packs
#            give_back() only if that failed; else at once, while the machine is warm:
#            run(command="tools/train/gpu_session.sh run 10.5", carry=[".gpu-data"],
#                timeout_s=300)                           # resumes, ends the schedule, packs
#   here:    tools/train/gpu_session.sh unpack FILES_AT   # -> runs/gpu-session/
#            tools/train/gpu_session.sh eval               # the tables and grids, on the CPU
#
# pack: the photos (about 60 MB as collected) do not fit beside the tree; re-encoded at JPEG
# quality 85 at the same size they do (the crops are shrunk 0.35-0.9x in training). .gpu-data/
# is git-ignored.
# run MINUTES [STOP]: the trainings at once, each on a schedule of MINUTES (the cosine
# decay of the learning rate) and sent SIGTERM STOP minutes after it starts (default
# MINUTES + 1.25, a safety net), on which train.py saves and exports at once; then the
# logs and exports (F16; the PConv U-Net's 20 MB each) packed into $OUT as session.tgz.NN
# parts of 15 MB. A second call on the same (warm) machine finds each run's last.pt and
# goes on from there. Session 14 measured it: the machine started and took the tree in
# 36 s; train.py's start-up about 15 s; export and packing under 10 s.
# Throughput (session 14, one H200, batch 32 at 256 px): a step with the guided input fill
# computed in the training process took 0.36 s alone (the GPU busy for 94 ms of it, the
# rest launching kernels: a throwaway torch.profiler run) and 1.4 s with four runs sharing
# the machine (310 steps in 7.5 minutes). The fill is now made in the data workers
# (data.PhotoCrops input_fill; 11.6 ms a sample on one core), which cut the operators a
# step dispatches from 25,785 to 2,552 (bench/train_step.py --fill-only, batch 32 on the
# CPU), so two runs with six workers each.
# Recipes (change with GI14_ARGS for the default model, GI_TRAIN_ARGS for the comparison):
#   default-gan-texture8  continues models/default.gguf, with its stage 2's output block
#                restarted (graft.py --restart-stage2-output: in the default model that
#                block was shut and stage 2 added nothing) and stage 1 trained by its own
#                L1 alone (--coarse-l1-only: otherwise the GAN term reaches stage 1 through
#                the residual stage 2 and stage 1 draws a grid; CPU runs 22 to 28), with L1
#                + SN-PatchGAN (weight 1, the paper's), discriminator width 32, boxes in half
#                the masks, guide kept for 70 % and half of the guided holes displaced
#                (--guide-shift 0.5: the guide target), an anti-aliased discriminator that
#                sees no colour (--d-blur --d-gray), batch 32 at the paper's 256x256, the
#                holes pre-filled as the default model now runs (--input-fill ring_warp:
#                20.7 ms a sample on one core of the development VM, against 11.6 for
#                guided_pushpull: six workers make about 9 batches of 32 a second); the
#                texture penalty (--texture-weight 30: the hole's detail per window,
#                direction and band held to the photo's; CPU run 25) and the lattice
#                penalty on 4 and 8 px blocks (--lattice-weight 100 --lattice-periods 4 8:
#                CPU run 31's 4 px term took stage 2's grid away, and its remaining
#                cross-hatch measured above the default's at 8 px); a snapshot every 1000
#                steps, the average and the trained weights (-raw), 0.9 MB each: at most
#                about 25 MB for both runs (the GPU alone needed 94 ms a step: at most
#                6,700 steps in 10.5 minutes), under the 64 MB that comes back. The
#                evaluation picks a snapshot by the detail and colour noise ratios, PSNR
#                against Telea's, and eyes. Without the penalties (the paper's objective)
#                the CPU runs' stage 2 drew a 4 px grid (runs 29 to 31)
#   default-texture  the same start and data without the discriminator, as CPU run 42:
#                the texture penalty in opponent colours (--texture-weight 150
#                --texture-space opponent: R, G, B let colour speckles pass as texture), the
#                periodic penalty (--periodic-weight 1000: the texture penalty alone is paid
#                with waves and herringbones, CPU run 38) and the coherence penalty
#                (--coherence-weight 500: hole patches should look like some patch of the
#                photo, which the fine weave CPU run 39 still drew does not), with the lattice
#                penalty as above. On the CPU it was the cleanest fill with a live stage 2
#                (models/README.md, "CPU runs 37 to 42"). It replaced default-gan-outline,
#                the drawn-outline scenes for the guide, which the ring-warp pre-fill now meets.
#                Since session 16 it also learns to borrow texture rather than draw it: half
#                the samples are copy scenes (--copy-share 0.5: the hole has an exact twin in
#                the crop), half the steps force the attention onto each hole cell's nearest
#                known source (--teacher-share 0.5). The default model's fill did not
#                change when its attention was pointed at the twin; with the teacher the
#                layers after it began to carry the source (CPU runs 46 to 48, "CPU runs
#                43 to 48"). No cross-entropy on the attention (--attention-weight): it was
#                paid by spreading the attention over the whole crop (CPU runs 49 to 52)
#   compare/*    (COMPARE=1) compare_gated_partial.sh's four runs, PARALLEL=1, batch 16
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
cmd=${1:-}
[ $# -gt 0 ] && shift
session="$root/runs/gpu-session"

case "$cmd" in
pack)
    photos=${1:-"$root/data/photos"}
    /usr/bin/python3 - "$photos" "$root/.gpu-data" <<'EOF'
import os, sys
import cv2
src, dst = sys.argv[1:3]
total = 0
for split in ("train", "val"):
    os.makedirs(os.path.join(dst, split), exist_ok=True)
    for name in sorted(os.listdir(os.path.join(src, split))):
        img = cv2.imread(os.path.join(src, split, name), cv2.IMREAD_COLOR)
        if img is None:
            continue
        out = os.path.join(dst, split, os.path.splitext(name)[0] + ".jpg")
        cv2.imwrite(out, img, [cv2.IMWRITE_JPEG_QUALITY, 85])
        total += os.path.getsize(out)
print(f"gpu_session: {dst}: {total / 2**20:.1f} MiB")
EOF
    ;;
run)
    minutes=${1:-10.5}
    stop_after=$(awk -v m="$minutes" -v s="${2:-}" \
        'BEGIN { printf "%d", (s == "" ? m + 1.25 : s) * 60 }')
    data="$root/.gpu-data"
    [ -d "$data/train" ] || { echo "gpu_session: no $data (run 'pack' here, carry it)" >&2; exit 1; }
    py=${PYTHON:-$(command -v python3)}
    dev=${GI_DEVICE:-cuda} # cpu: a smoke test of this script, here
    "$py" -c 'import sys, torch, cv2
assert sys.argv[1] != "cuda" or torch.cuda.is_available(), "no CUDA"
print("torch", torch.__version__, torch.cuda.is_available() and torch.cuda.get_device_name(0))' \
        "$dev"
    mkdir -p "$session"
    "$py" "$root/tools/train/graft.py" "$root/models/default.gguf" --restart-stage2-output \
        -o "$session/init.gguf"
    default_run() { # NAME EXTRA-ARGS...
        name=$1
        shift
        # --foreground: the signal goes to train.py alone, not to its data workers, which
        # it still needs while it stops; the log is appended to by a resumed call
        # shellcheck disable=SC2086
        timeout --foreground --preserve-status -k 20 -s TERM "$stop_after" \
            "$py" "$root/tools/train/train.py" --data "$data" --out "$session/$name" \
            --init "$session/init.gguf" --coarse-l1-only --input-fill ring_warp --residual \
            --width 16 --guide 1 --guide-keep 0.7 --guide-shift 0.5 --crop 256 --batch 32 \
            --box-prob 0.5 --lr 1e-4 --lr-final 1e-5 --ema 0.999 --gan-weight 1 \
            --d-width 32 --d-blur --d-gray --workers 6 --threads 2 --minutes "$minutes" \
            --ckpt-minutes 2 --val-every 250 --sample-every 500 --snapshot-every 1000 \
            --device "$dev" --no-progress --export "$session/$name/model.gguf" "$@" \
            ${GI14_ARGS:-} >>"$session/$name.log" 2>&1
    }
    default_run default-gan-texture8 --texture-weight 30 --lattice-weight 100 \
        --lattice-periods 4 8 & p1=$!
    default_run default-texture --gan-weight 0 --texture-weight 150 --texture-space opponent \
        --periodic-weight 1000 --coherence-weight 500 --lattice-weight 100 \
        --lattice-periods 4 8 --copy-share 0.5 --teacher-share 0.5 \
        & p2=$!
    if [ "${COMPARE:-0}" = 1 ]; then
        PYTHON="$py" PARALLEL=1 NO_EVAL=1 EXPORT_DTYPE=f16 \
            GI_TRAIN_ARGS="--batch 16 --workers 2 ${GI_TRAIN_ARGS:-}" \
            "$root/tools/train/compare_gated_partial.sh" "$data" "$session/compare" "$minutes" \
            "$dev" || echo "gpu_session: the comparison failed (its logs are packed)" >&2
    fi
    failed=0
    for p in "$p1" "$p2"; do
        wait "$p" || { failed=1; echo "gpu_session: a default-* run failed (its log is packed)" >&2; }
    done
    [ -n "${OUT:-}" ] || exit "$failed"
    cd "$session"
    # what comes back: models, logs, summaries, the last sample grid of each run (no .pt)
    find . \( \( -name '*.gguf' ! -name init.gguf \) -o -name 'log.tsv' -o -name 'summary.json' \
        -o -name '*.log' -o -path './compare/logs/*' \) -type f >files.txt
    for d in default-*/ compare/*/; do
        last=$(ls "$d"samples/*.jpg 2>/dev/null | tail -n 1)
        [ -z "$last" ] || echo "$last" >>files.txt
    done
    tar -czf - -T files.txt | split -b 15m -d - "$OUT/session.tgz."
    ls -l "$OUT"
    exit "$failed" # after packing: a failed run's log still comes back
    ;;
unpack)
    at=${1:?"gpu_session: unpack FILES_AT (the run's files_at folder)"}
    mkdir -p "$session"
    cat "$at"/session.tgz.* | tar -xzf - -C "$session"
    echo "gpu_session: unpacked into $session"
    ;;
eval)
    photos=${1:-"$root/data/photos"}
    [ ! -d "$session/compare" ] ||
        EVAL_ONLY=1 "$root/tools/train/compare_gated_partial.sh" "$photos" "$session/compare"
    # the default model's runs: the last export and every snapshot, against the current
    # default, so that a step before the adversarial artefacts can be picked; the trained
    # weights (-raw) first: a restarted stage 2 shows there long before the average
    for m in "$session"/default-*/*-raw.gguf "$session"/default-*/snap-*[0-9].gguf \
        "$session"/default-*/model.gguf; do
        [ -f "$m" ] || continue
        run=$(basename "$(dirname "$m")")
        out="$session/eval-$run/$(basename "$m" .gguf)"
        /usr/bin/python3 "$root/tools/eval/eval_quality.py" --photos "$photos/val" --model "$m" \
            --compare "$root/models/default.gguf" --mask-kind objects --threads 2 --out "$out"
        # the holes where CPU runs 14-16 drew stripes and ripples (plain and out-of-focus
        # backgrounds), beside two textured ones: to be looked at, not only measured
        /usr/bin/python3 "$root/tools/eval/crops_figure.py" --photos "$photos/val" \
            --case northern_harrier:box --case duck:box --case squirrel:blob \
            --case LadyBird:blob --case IMG_2020:box --case colosseum:box \
            --model "default=$root/models/default.gguf" --model "$run=$m" -o "$out/crops.jpg"
    done
    ;;
*)
    echo "usage: gpu_session.sh pack [PHOTOS] | run [MINUTES] | unpack FILES_AT | eval [PHOTOS]" >&2
    exit 2
    ;;
esac
