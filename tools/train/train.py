#!/usr/bin/python3
"""Train a DeepFill v2 model (gated convolutions, SN-PatchGAN) for libgatedinpaint, or,
with --family pconv_unet, the partial-convolution U-Net on the same data (gitrain/pconv_net.py).

    tools/train/train.py --data DATA_DIR --out RUN_DIR [options]

DATA_DIR holds train/ and val/ folders of photos (tools/data/collect_photos.py writes them).
RUN_DIR receives last.pt (checkpoint, resumed automatically), log.tsv (losses), samples/
(picture grids) and, with --export, the GGUF model. The device is chosen automatically
(CUDA when present). Defaults are the official DeepFill v2 settings (256x256, batch 16,
Adam 1e-4 / 0.5 / 0.999, hinge loss, GAN and L1 weights 1, stroke + box masks).
"""
import argparse
import json
import os
import signal
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from gitrain import blas, data, nets, pconv_net, recipe  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="folder with train/ and val/")
    p.add_argument("--out", required=True, help="run folder (checkpoints, log, samples)")
    p.add_argument("--family", choices=("deepfill_v2", "pconv_unet"), default="deepfill_v2")
    p.add_argument("--width", type=int, default=48,
                   help="generator cnum (default 48); pconv_unet: channels of enc_1")
    p.add_argument("--depth", type=int, default=7, help="pconv_unet: layer_size (default 7)")
    p.add_argument("--pconv-loss", choices=("paper", "l1"), default="paper",
                   help="pconv_unet: the paper's valid + 6 hole + 0.1 TV L1 terms (no VGG "
                        "terms: gitrain/pconv_net.py), or the gated recipe's L1 terms")
    p.add_argument("--freeze-enc-bn-at", type=int, default=0,
                   help="pconv_unet: from this step the encoder's BatchNorm uses its running "
                        "statistics and the learning rate is --lr-finetune (the paper's "
                        "fine-tuning); 0: never")
    p.add_argument("--lr-finetune", type=float, default=5e-5)
    p.add_argument("--guide", type=int, choices=(0, 1), default=1, help="guide channels")
    p.add_argument("--guide-keep", type=float, default=0.5,
                   help="share of samples that get the edge guide (default 0.5)")
    p.add_argument("--guide-shift", type=float, default=0.0,
                   help="share of the guided samples whose hole content is displaced, so the "
                        "guide alone says where outlines go (gitrain/data.py displace_hole)")
    p.add_argument("--guide-outline", type=float, default=0.0,
                   help="share of the guided samples that are two photos joined along an "
                        "outline moved in the hole, the guide being that line alone, as a "
                        "user draws it (gitrain/data.py outline_scene)")
    p.add_argument("--attention-weight", type=float, default=0.0,
                   help="weight of a cross-entropy asking each hole cell's contextual "
                        "attention to borrow from the known cell whose photo window is "
                        "nearest its own (recipe.attention_targets; 0: off, as the paper; "
                        "CPU runs 47 to 51 paid it by spreading the attention)")
    p.add_argument("--teacher-share", type=float, default=0.0,
                   help="share of the steps in which the hole cells borrow from those cells "
                        "alone instead of the attention's choice (teacher forcing), so the "
                        "layers after the attention learn to carry a source into the fill")
    p.add_argument("--teacher-fade", type=int, nargs=2, default=(), metavar=("START", "END"),
                   help="--teacher-share falls in a straight line to 0 from step START to "
                        "step END (recipe.teacher_share_at)")
    p.add_argument("--copy-share", type=float, default=0.0,
                   help="share of the samples whose hole and a ring around it repeat another "
                        "part of the crop, so L1 pays only for copying it "
                        "(gitrain/data.py copy_scene)")
    p.add_argument("--shift-px", type=int, default=24,
                   help="largest displacement for --guide-shift and --guide-outline (px at "
                        "the crop's scale)")
    p.add_argument("--crop", type=int, default=256)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--scale-min", type=float, default=0.35,
                   help="random scale of the (1280 px) photos before cropping")
    p.add_argument("--scale-max", type=float, default=0.9)
    p.add_argument("--box-prob", type=float, default=1.0, help="share of masks with a box")
    p.add_argument("--min-width", type=int, default=12, help="brush width range (px)")
    p.add_argument("--max-width", type=int, default=40)
    p.add_argument("--d-width", type=int, default=64, help="discriminator cnum (default 64)")
    p.add_argument("--d-blur", action="store_true",
                   help="low-pass before each of the discriminator's stride-2 convolutions "
                        "(anti-aliased; gitrain/nets.py Discriminator)")
    p.add_argument("--d-gray", action="store_true",
                   help="the discriminator sees the colour channels' mean, so the GAN term "
                        "adds no colour (gitrain/nets.py Discriminator)")
    p.add_argument("--d-lr-ratio", type=float, default=1.0,
                   help="discriminator learning rate over the generator's (1: official)")
    p.add_argument("--d-warmup", type=int, default=0,
                   help="train only the discriminator, against the generator as it is, for "
                        "the run's first this many steps (from --init: the discriminator "
                        "starts random while the generator already fills)")
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--beta1", type=float, default=0.5)
    p.add_argument("--beta2", type=float, default=0.999)
    p.add_argument("--gan-weight", type=float, default=1.0)
    p.add_argument("--l1-weight", type=float, default=1.0)
    p.add_argument("--gan-start", type=int, default=0, help="L1-only warm-up steps")
    p.add_argument("--hole-weight", type=float, default=0.0,
                   help="weight of an extra L1 term averaged over hole pixels only (v1 style)")
    p.add_argument("--excess-weight", type=float, default=0.0,
                   help="penalty on fine detail beyond the photo's, per hole window "
                        "(recipe.excess_detail; 0: off, as the paper)")
    p.add_argument("--texture-weight", type=float, default=0.0,
                   help="penalty on the hole's detail differing from the photo's, per window, "
                        "direction and band (recipe.texture_mismatch; 0: off, as the paper)")
    p.add_argument("--texture-space", choices=("rgb", "opponent"), default="rgb",
                   help="the planes whose detail --texture-weight compares: R, G, B, or luma "
                        "and two colour differences, where colour speckles cost "
                        "(recipe.to_opponent)")
    p.add_argument("--lattice-weight", type=float, default=0.0,
                   help="penalty on a pattern at the same place in every 4 x 4 block of the "
                        "hole beyond the photo's, per window (recipe.lattice_pattern: "
                        "the stage-2 grid; 0: off, as the paper)")
    p.add_argument("--periodic-weight", type=float, default=0.0,
                   help="penalty on the hole's detail being a periodic pattern (waves, "
                        "herringbones, grids of any period) beyond the photo's, per window "
                        "(recipe.periodic_pattern; 0: off, as the paper)")
    p.add_argument("--coherence-weight", type=float, default=0.0,
                   help="penalty on hole patches with no look-alike in the photo's known part, "
                        "beyond the photo's own (recipe.coherence_gap; 0: off, as the paper)")
    p.add_argument("--lattice-periods", type=int, nargs="+", default=[4],
                   help="the block sizes the lattice penalty looks at, one term each "
                        "(window 4 blocks): 4 (stage 2's quarter resolution), 8 (its half)")
    p.add_argument("--coarse-l1-only", action="store_true",
                   help="stage 1 learns from its own L1 alone: the stage-2 losses (L1, GAN, "
                        "penalties) do not reach it (recipe.LossConfig.coarse_l1_only)")
    p.add_argument("--lr-final", type=float, default=0.0,
                   help="cosine decay of the learning rate to this value over --steps (or "
                        "--minutes); 0: constant (official)")
    p.add_argument("--ema", type=float, default=0.0,
                   help="keep an exponential moving average of the generator's weights with "
                        "this decay (e.g. 0.999); it is what is validated and exported. "
                        "0: off (official)")
    p.add_argument("--input-fill", choices=nets.INPUT_FILLS, default="zeros",
                   help="how the holes enter stage 1: zeros (official), a push-pull "
                        "interpolation of the surrounding pixels, one that does not "
                        "cross the guide's edges, or one that also moves outlines to them "
                        "(ring_warp; lib/graph/fill.h); stored in the "
                        "exported model")
    p.add_argument("--residual", action="store_true",
                   help="each stage predicts a correction added to its input image (with "
                        "--input-fill pushpull: to the interpolated hole); stored in the "
                        "exported model")
    p.add_argument("--init", default="",
                   help="start the generator from this model file (GGUF, e.g. "
                        "models/default.gguf) instead of a random initialisation; ignored when "
                        "RUN_DIR has a checkpoint to resume")
    p.add_argument("--steps", type=int, default=0, help="stop at this step (0: no limit)")
    p.add_argument("--minutes", type=float, default=0, help="stop after this many minutes")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="what --minutes, the cosine schedule and the log's minutes count: "
                        "wall-clock time, or this process's CPU time (runs that share a "
                        "CPU then get equal compute however the scheduler splits it)")
    p.add_argument("--ckpt-minutes", type=float, default=5.0, help="checkpoint interval")
    p.add_argument("--val-every", type=int, default=200)
    p.add_argument("--val-n", type=int, default=8, help="validation crops (fixed)")
    p.add_argument("--val-crop", type=int, default=256)
    p.add_argument("--sample-every", type=int, default=500)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    p.add_argument("--workers", type=int, default=-1, help="data workers (-1: auto)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--export", default="", help="write the generator as GGUF here at the end")
    p.add_argument("--snapshot-every", type=int, default=0,
                   help="also export OUT/snap-STEP.gguf every this many steps (0: never), so "
                        "that the evaluation can pick a step, not only the last; with --ema "
                        "also OUT/snap-STEP-raw.gguf, the trained weights (and so --export)")
    p.add_argument("--export-dtype", choices=("f16", "f32"), default="f16")
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


def cosine_lr(a, step, seconds):
    """--lr decayed to --lr-final along half a cosine over the run's length (--steps, else
    --minutes)."""
    import math
    frac = step / a.steps if a.steps else seconds / (60 * a.minutes) if a.minutes else 0.0
    frac = min(max(frac, 0.0), 1.0)
    return a.lr_final + 0.5 * (a.lr - a.lr_final) * (1 + math.cos(math.pi * frac))


def save_grid(path, image, mask, x1, x2, edge=None):
    """Rows: input | (guide) | stage 1 | stage 2 composite | ground truth."""
    import cv2
    u8 = recipe.to_u8
    incomplete = image * (1 - mask) + mask
    cols = [u8(incomplete)]
    if edge is not None:
        cols.append(u8(edge.repeat(1, 3, 1, 1) * 2 - 1))
    cols += [u8(x1), u8(x2 * mask + image * (1 - mask)), u8(image)]
    rows = [np.concatenate([c[i] for c in cols], axis=1) for i in range(image.shape[0])]
    cv2.imwrite(path, np.concatenate(rows, axis=0)[:, :, ::-1])


def main(argv=None):
    a = parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    # The attention's softmax leaves weights like exp(-90): denormal arithmetic in its
    # matrix products made CPU steps about 1.8x slower.
    torch.set_flush_denormal(True)
    dev = a.device
    if dev == "auto":
        dev = "cuda" if torch.cuda.is_available() else "cpu"
    if dev == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    workers = a.workers if a.workers >= 0 else (6 if dev == "cuda" else 0)
    if dev == "cpu" and os.path.exists("/proc/self/maps"):
        with open("/proc/self/maps") as f:
            slow = blas.reference_blas(f.read())
        if slow:
            print(f"train: warning: torch uses the reference BLAS ({slow}); 256x256 steps are "
                  "2-4 times slower than with OpenBLAS: apt-get install libopenblas0-openmp",
                  file=sys.stderr, flush=True)
    torch.manual_seed(a.seed)
    os.makedirs(os.path.join(a.out, "samples"), exist_ok=True)

    pconv = a.family == "pconv_unet"
    if a.d_warmup and (pconv or a.gan_weight <= 0 or a.gan_start > 0):
        raise SystemExit("train: --d-warmup needs the GAN term from step 0 (--gan-weight > 0, "
                         "--gan-start 0) and a discriminator (not --family pconv_unet)")
    if pconv:  # no discriminator; Adam with torch's default betas, as the paper's code
        a.guide = 0
        g, d = pconv_net.PConvNet(a.width, a.depth, seed=a.seed).to(dev), None
        opt_g, opt_d = torch.optim.Adam(g.parameters(), lr=a.lr), None
    else:
        g, d = recipe.make_nets_from(vars(a), dev)
        opt_g, opt_d = recipe.make_optimizers(g, d, a.lr, (a.beta1, a.beta2), a.d_lr_ratio)
    cfg = recipe.LossConfig(**{k: getattr(a, k) for k in recipe.LossConfig.__dataclass_fields__})
    step, elapsed, ema_state = 0, 0.0, None
    ckpt = os.path.join(a.out, "last.pt")
    if os.path.exists(ckpt):
        st = torch.load(ckpt, map_location=dev, weights_only=False)  # ours; see export.py
        old = st["args"]
        have, want = recipe.net_options(old), recipe.net_options(vars(a))
        if have != want:
            raise SystemExit(f"train: {ckpt} was trained with " + ", ".join(
                f"{k} {v}" for k, v in have.items() if v != want[k]))
        if old.get("clock", "wall") != a.clock:  # its elapsed time was counted on that clock
            raise SystemExit(f"train: {ckpt} was trained with --clock {old.get('clock', 'wall')}")
        if pconv:
            pconv_net.check_checkpoint(st, ckpt)
        g.load_state_dict(st["g"])
        opt_g.load_state_dict(st["opt_g"])
        if d is not None:
            d.load_state_dict(st["d"])
            opt_d.load_state_dict(st["opt_d"])
        step, elapsed, ema_state = st["step"], st["elapsed"], st.get("g_ema")
        print(f"train: resumed {ckpt} at step {step} ({elapsed / 60:.1f} min)", flush=True)
    elif a.init:
        recipe.load_gguf_into(g, a.init)
        print(f"train: generator initialised from {a.init}", flush=True)
    # the average starts from the generator as it is now (or as it was saved)
    g_ema = recipe.ema_copy(g) if a.ema else None
    if g_ema is not None and ema_state is not None:
        g_ema.load_state_dict(ema_state)

    ds = data.PhotoCrops.from_args(os.path.join(a.data, "train"), vars(a),
                                   seed=a.seed * 1000003 + step)
    it = data.batches(ds, a.batch, workers)
    val = [t.to(dev) for t in data.fixed_val_set(os.path.join(a.data, "val"),
                                                        n=a.val_n, crop=a.val_crop)]

    def save(path=ckpt):
        tmp = path + ".tmp"
        extra = {"g_ema": g_ema.state_dict()} if g_ema is not None else {}
        nets_d = {"d": d.state_dict(), "opt_d": opt_d.state_dict()} if d is not None else {}
        torch.save({**extra, **nets_d, "g": g.state_dict(), "opt_g": opt_g.state_dict(),
                    "step": step, "elapsed": elapsed, "args": vars(a), "device": dev,
                    **({"pconv_parametrisation": pconv_net.PARAMETRISATION} if pconv else {})},
                   tmp)
        os.replace(tmp, path)

    log_path = os.path.join(a.out, "log.tsv")
    if not os.path.exists(log_path):
        with open(log_path, "w") as f:
            f.write("step\tminutes\td\tg_gan\tl1\tval_hole_l1\tval_hole_l1_guide\tval_psnr\t"
                    "val_detail\tval_colour\n")
    try:
        from tqdm import tqdm
        bar = tqdm(total=a.steps or None, initial=step, disable=a.no_progress,
                   dynamic_ncols=True, mininterval=5)
    except ImportError:
        bar = None
    g_out = g_ema if g_ema is not None else g  # the generator that is validated and exported
    forward = (lambda g, image, mask, _edge, _keep: pconv_net.forward_g(g, image, mask)) \
        if pconv else recipe.forward_g
    clock = time.process_time if a.clock == "cpu" else time.time
    t0, last_ckpt = clock() - elapsed, time.time()
    avg = {}
    # SIGTERM (a timeout, a job's end) stops after the step in progress: the run saves and
    # exports as if its time were up, and a resumed run goes on from that step
    stop = []
    old_handler = signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    while not stop:
        if a.steps and step >= a.steps:
            break
        if a.minutes and (clock() - t0) / 60 >= a.minutes:
            break
        finetune = pconv and a.freeze_enc_bn_at and step >= a.freeze_enc_bn_at
        if finetune:
            g.freeze_encoder_bn()
            if g_ema is not None:
                g_ema.freeze_encoder_bn()
        if a.lr_final or finetune:
            lr = a.lr_finetune if finetune else cosine_lr(a, step, clock() - t0)
            for opt, scale in ((opt_g, 1.0), (opt_d, a.d_lr_ratio)):
                for group in opt.param_groups if opt is not None else ():
                    group["lr"] = lr * scale
        if step == a.gan_start and a.gan_start > 0 and a.gan_weight > 0:
            save(os.path.join(a.out, "pre_gan.pt"))  # the L1-only model, for comparison
        batch = [t.to(dev, non_blocking=True) for t in next(it)]
        losses = pconv_net.train_step(g, opt_g, batch, a.pconv_loss, a.hole_weight) if pconv \
            else recipe.train_step(g, d, opt_g, opt_d, batch, cfg, step,
                                   train_g=step >= a.d_warmup)
        if g_ema is not None:
            recipe.ema_update(g_ema, g, a.ema)
        step += 1
        elapsed = clock() - t0
        for k, v in losses.items():
            avg[k] = 0.98 * avg.get(k, v) + 0.02 * v
        if bar is not None:
            bar.update(1)
            if step % 20 == 0:  # formatting reads the losses: a wait for the GPU
                bar.set_postfix({k: f"{v:.4f}" for k, v in avg.items()}, refresh=False)
        if step % a.val_every == 0 or step == 1:
            v0, ps, dr, cn = recipe.validate(g_out, *val, use_guide=False, forward=forward)
            v1 = recipe.validate(g_out, *val, use_guide=True)[0] if a.guide else float("nan")
            with open(log_path, "a") as f:
                f.write(f"{step}\t{elapsed / 60:.2f}\t{avg.get('d', float('nan')):.5f}\t"
                        f"{avg.get('g_gan', float('nan')):.5f}\t"
                        f"{avg.get('l1', float('nan')):.5f}\t"
                        f"{v0:.5f}\t{v1:.5f}\t{ps:.3f}\t{dr:.4f}\t{cn:.4f}\n")
            if a.no_progress:
                print(f"step {step} {elapsed / 60:.1f} min "
                      + " ".join(f"{k} {v:.4f}" for k, v in avg.items())
                      + f" val_hole_l1 {v0:.4f} guided {v1:.4f} psnr {ps:.2f} detail {dr:.3f}"
                      + f" colour {cn:.3f}",
                      flush=True)
        if step % a.sample_every == 0:
            with torch.no_grad():
                g_out.eval()
                n = min(4, val[0].shape[0])
                im, m, e = val[0][:n], val[1][:n], val[2][:n]
                keep = torch.zeros_like(m[:, :, :1, :1])
                x1, x2, _, _ = forward(g_out, im, m, e, keep)
                save_grid(os.path.join(a.out, "samples", f"step{step:07d}.jpg"), im, m, x1, x2)
                g_out.train()
        if a.snapshot_every and step % a.snapshot_every == 0:
            save()
            last_ckpt = time.time()
            export_model(ckpt, os.path.join(a.out, f"snap-{step:07d}.gguf"), a.export_dtype,
                         g_ema is not None)
        if time.time() - last_ckpt >= a.ckpt_minutes * 60:
            save()
            last_ckpt = time.time()
    signal.signal(signal.SIGTERM, old_handler)
    save()
    if bar is not None:
        bar.close()
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump({"step": step, "minutes": elapsed / 60, "device": dev, "sigterm": bool(stop),
                   "losses_ema": {k: float(v) for k, v in avg.items()}, "args": vars(a)},
                  f, indent=1)
    print(f"train: stopped at step {step} after {elapsed / 60:.1f} min"
          + (" (SIGTERM)" if stop else ""), flush=True)
    if a.export:
        export_model(ckpt, a.export, a.export_dtype, g_ema is not None)
    return 0


def export_model(ckpt, path, dtype, raw_too):
    """The checkpoint as a model file (tools/train/export.py: the moving average if there
    is one); with raw_too also PATH-raw.gguf, the trained weights: the average lags them by
    ~1/(1 - decay) steps, and a restarted stage 2 shows in them first."""
    import export
    export.main([ckpt, "-o", path, "--dtype", dtype])
    if raw_too:
        export.main([ckpt, "-o", os.path.splitext(path)[0] + "-raw.gguf", "--dtype", dtype,
                     "--raw"])


if __name__ == "__main__":
    sys.exit(main())
