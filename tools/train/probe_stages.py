#!/usr/bin/python3
"""How much each stage of a DeepFill v2 model changes the fill, and how open each layer is.

    tools/train/probe_stages.py models/default.gguf --data data/photos
    tools/train/probe_stages.py runs/a/last.pt --data data/photos      # its moving average

Fills the fixed validation crops of DATA/val (train.py's, without a guide) and prints the
mean absolute change, over hole pixels in [-1, 1] units, that stage 1 makes to its input
(the pre-fill, or zeros) and that stage 2 makes to stage 1's composite, then the mean
absolute output of every gated layer. A residual stage whose change is about 0 adds
nothing; a layer whose output is about 0 has shut its gates, and the layers after it get
no gradient through it. The default model and CPU runs 11, 14 and 19 have stage 2 at 1e-5
or less, with allconv16 shut (models/README.md, CPU runs 22 to 28).
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gitrain import data, nets, recipe  # noqa: E402


@torch.no_grad()
def probe(g, image, mask):
    """(stage 1's change, stage 2's change, {layer: mean absolute output})."""
    acts, orig = {}, nets.gated_conv

    def spy(x, w, b, layer):
        y = orig(x, w, b, layer)
        acts[layer.name] = float(y.abs().mean())
        return y
    guide = torch.zeros_like(mask) if g.guide_channels else None
    x_in = nets.make_input(image, mask, guide, g.input_fill)
    nets.gated_conv = spy
    try:
        x1, x2 = g(x_in, mask)
    finally:
        nets.gated_conv = orig
    xnow = x1 * mask + x_in[:, 0:3] * (1 - mask)
    n = (mask.sum() * 3).clamp_min(1)
    s1 = float(((xnow - x_in[:, 0:3]).abs() * mask).sum() / n)
    s2 = float(((x2 - xnow).abs() * mask).sum() / n)
    return s1, s2, acts


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model", help="GGUF model file or train.py checkpoint")
    p.add_argument("--data", required=True, help="folder with val/")
    p.add_argument("--n", type=int, default=8, help="validation crops")
    p.add_argument("--crop", type=int, default=256)
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    image, mask, _ = data.fixed_val_set(os.path.join(a.data, "val"), n=a.n, crop=a.crop)
    s1, s2, acts = probe(recipe.load_generator(a.model), image, mask)
    print(f"{a.model}: stage 1 changes the hole by {s1:.2e}, stage 2 by {s2:.2e} "
          "(mean absolute, [-1, 1])")
    print("mean absolute output per layer: " + " ".join(f"{k} {v:.2g}" for k, v in acts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
