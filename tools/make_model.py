#!/usr/bin/python3
"""Write a model file with random weights (for tests and benchmarks).

    make_model.py -o model.gguf [--width 48] [--guide 0|1] [--channel-order rgb|bgr]
                  [--seed 0] [--dtype f32|f16] [--no-fuse]
    make_model.py -o model.gguf --family pconv_unet [--width 64] [--depth 7] [--seed 0]

DeepFill v2 weights come from gimodel.deepfill_torch.random_weights, whose scale keeps the
network numerically tame, so the same file can be held to the PyTorch reference at 1e-4;
PConv U-Net weights from gimodel.pconv_torch.random_state_dict (signal at every layer).
"""
import argparse
import sys

import numpy as np

from gimodel import deepfill_torch, pconv_torch
from gimodel.gguf import write_model, write_pconv_model


def make_model(path, *, width, guide_channels=0, channel_order="rgb", seed=0, dtype="f32",
               fuse=True):
    """Write the model and return its weights as the engine will see them (float32
    numpy arrays, rounded through float16 when dtype is "f16")."""
    weights = deepfill_torch.random_weights(width, guide_channels, seed)
    if dtype == "f16":
        weights = {k: v.astype(np.float16).astype(np.float32) for k, v in weights.items()}
    write_model(path, weights, width=width, guide_channels=guide_channels,
                channel_order=channel_order,
                name=f"random deepfill_v2 width {width} seed {seed}",
                license="CC0-1.0", fuse=fuse, dtype=dtype,
                extra_kv={"gatedinpaint.random_seed": seed})
    return weights


def make_pconv_model(path, *, width, depth, seed=0, dtype="f32"):
    """Write a random PConv U-Net; returns its state dict (torch tensors)."""
    sd = pconv_torch.random_state_dict(width, depth, seed=seed)
    write_pconv_model(path, {k: v.numpy() for k, v in sd.items()}, width=width, depth=depth,
                      name=f"random pconv_unet width {width} layer_size {depth} seed {seed}",
                      license="CC0-1.0", dtype=dtype,
                      extra_kv={"gatedinpaint.random_seed": seed})
    return sd


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-o", "--output", required=True, help="model file to write")
    p.add_argument("--family", choices=("deepfill_v2", "pconv_unet"), default="deepfill_v2")
    p.add_argument("--width", type=int,
                   help="DeepFill v2: cnum, a multiple of 4 (default 48); PConv U-Net: "
                        "channels of enc_1 (default 64)")
    p.add_argument("--depth", type=int, default=7, help="PConv U-Net layer_size (default 7)")
    p.add_argument("--guide", type=int, choices=(0, 1), default=0, help="guide channels")
    p.add_argument("--channel-order", choices=("rgb", "bgr"), default="rgb")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dtype", choices=("f32", "f16"), default="f32")
    p.add_argument("--no-fuse", action="store_true",
                   help="mark the attention score fusion off (not the official graph)")
    a = p.parse_args(argv)
    try:
        if a.family == "pconv_unet":
            make_pconv_model(a.output, width=a.width or 64, depth=a.depth, seed=a.seed,
                             dtype=a.dtype)
            return 0
        make_model(a.output, width=a.width or 48, guide_channels=a.guide,
                   channel_order=a.channel_order, seed=a.seed, dtype=a.dtype,
                   fuse=not a.no_fuse)
    except (ValueError, OSError) as e:
        print(f"make_model: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
