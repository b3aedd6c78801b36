#!/usr/bin/python3
"""Export a training checkpoint's generator as a libgatedinpaint model file (GGUF).

    tools/train/export.py RUN_DIR/last.pt -o model.gguf [--dtype f16|f32] [--name TEXT]

Channel order rgb, licence Apache-2.0 (our trained weights), training provenance in the
metadata (steps, minutes, device, recipe settings). Writer: tools/gimodel/gguf.py.
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from gitrain import nets, pconv_net, recipe  # noqa: E402


def recipe_summary(args, step=None):
    """The loss and optimiser settings of a run (that reached `step`), in one line."""
    lr = f"Adam {args['lr']:g}"
    if args.get("lr_final"):
        lr += f" cosine to {args['lr_final']:g}"
    l1 = f"L1 x{args['l1_weight']:g}"
    if args.get("hole_weight"):
        l1 += f" + hole L1 x{args['hole_weight']:g}"
    if args.get("excess_weight"):
        l1 += f" + excess detail x{args['excess_weight']:g}"
    if args.get("texture_weight"):
        l1 += f" + texture mismatch x{args['texture_weight']:g}"
    if args.get("lattice_weight"):
        periods = args.get("lattice_periods", [4])
        l1 += f" + lattice pattern x{args['lattice_weight']:g}" + \
            ("" if list(periods) == [4] else f" at {'/'.join(map(str, periods))} px")
    if args.get("coarse_l1_only"):
        l1 += " (stage 1: its L1 only)"
    gan = f"SN-PatchGAN hinge x{args['gan_weight']:g}"
    if args.get("gan_start"):
        gan += f" from step {args['gan_start']}"
    if not args["gan_weight"] or (step is not None and args.get("gan_start", 0) >= step):
        gan = "no GAN term"
    fill = ""
    if args.get("input_fill", "zeros") != "zeros" or args.get("residual"):
        fill = f"; holes in: {args.get('input_fill', 'zeros')}" + \
            ("; residual stages" if args.get("residual") else "")
    return f"tools/train: {l1}; {gan}; {lr}{fill}"


def pconv_summary(args):
    loss = "valid L1 + 6 hole L1 + 0.1 TV (no VGG terms)" if args["pconv_loss"] == "paper" \
        else f"L1 + hole L1 x{args.get('hole_weight', 0):g}"
    tune = f", encoder BatchNorm frozen and Adam {args['lr_finetune']:g} from step " \
        f"{args['freeze_enc_bn_at']}" if args.get("freeze_enc_bn_at") else ""
    return f"tools/train: PConv U-Net layer_size {args['depth']}; {loss}; Adam {args['lr']:g}{tune}"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--dtype", choices=("f16", "f32"), default="f16")
    p.add_argument("--name", default=None)
    p.add_argument("--license", default="Apache-2.0")
    p.add_argument("--raw", action="store_true",
                   help="export the trained weights, not their moving average (--ema runs)")
    a = p.parse_args(argv)
    # our own checkpoint (args, optimiser state): torch >= 2.6 would refuse it by default
    st = torch.load(a.checkpoint, map_location="cpu", weights_only=False)
    args = st["args"]
    pconv = args.get("family") == "pconv_unet"
    if pconv:
        g = pconv_net.PConvNet(args["width"], args["depth"])
    else:
        g = nets.Generator(args["width"], args["guide"],
                           input_fill=args.get("input_fill", "zeros"),
                           residual=args.get("residual", False))
    ema = "g_ema" in st and not a.raw
    if pconv:
        pconv_net.check_checkpoint(st, a.checkpoint)
    g.load_state_dict(st["g_ema"] if ema else st["g"])
    family = args.get("family", "deepfill_v2")
    name = a.name or (f"libgatedinpaint {'default ' if not pconv else ''}{family} width "
                      f"{args['width']}, {st['step']} steps")
    extra = {"gatedinpaint.train.steps": int(st["step"]),
             "gatedinpaint.train.minutes": float(st["elapsed"] / 60),
             "gatedinpaint.train.device": str(st.get("device", "?")),
             "gatedinpaint.train.crop": int(args["crop"]),
             "gatedinpaint.train.batch": int(args["batch"]),
             "gatedinpaint.train.data": "Debian wallpaper photos, tools/data/photos.tsv",
             "gatedinpaint.train.recipe": (pconv_summary(args) if pconv else
                                           recipe_summary(args, st["step"]))
             + (f"; weights: moving average, decay {args['ema']:g}" if ema else "")}
    # The regions strategy shrinks windows to this side: twice the training crop, so a
    # hole up to working_size / 8 thick sits in as much context as in training and more.
    (pconv_net if pconv else recipe).export_gguf(g, a.output, dtype=a.dtype, name=name, license=a.license, extra=extra,
                       working_size=2 * int(args["crop"]))
    print(f"export: {a.output} ({os.path.getsize(a.output)} bytes, step {st['step']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
