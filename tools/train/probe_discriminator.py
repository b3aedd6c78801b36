#!/usr/bin/python3
"""What a run's discriminator says about real and filled crops.

    tools/train/probe_discriminator.py runs/cpu8/last.pt --data data/photos

Loads the generator and discriminator of a train.py checkpoint (DeepFill v2 family), fills
--n training crops (the run's mask and guide settings, a fixed seed) with the generator, and
prints the discriminator's mean and spread on the real crops and on the filled ones, the
hinge loss they give, and the share of crops it scores higher when real. A discriminator
near chance gives the same numbers for both and a hinge loss near 2 (models/README.md,
"CPU runs 9 and 10"). Eval mode: the spectral norms' power iteration is not advanced.
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gitrain import data, recipe  # noqa: E402


def probe(ckpt_path, data_dir, n=16, seed=123):
    st = torch.load(ckpt_path, map_location="cpu", weights_only=False)  # ours; see export.py
    a = st["args"]
    if a.get("family", "deepfill_v2") != "deepfill_v2":
        raise SystemExit(f"{ckpt_path}: no discriminator (family {a['family']})")
    g, d = recipe.make_nets_from(a, "cpu")
    g.load_state_dict(st["g"])
    d.load_state_dict(st["d"])
    g.eval()
    d.eval()
    ds = data.PhotoCrops.from_args(os.path.join(data_dir, "train"), a, seed=seed)
    with torch.no_grad():
        image, mask, edge, keep, *rgb = next(data.batches(ds, n, 0))
        _, _, complete, guide = recipe.forward_g(g, image, mask, edge, keep, False, *rgb)
        real = d(recipe._d_input(image, mask, guide))
        fake = d(recipe._d_input(complete, mask, guide))
    hinge = recipe.hinge_d_loss(real, fake).item()
    return {"step": st["step"], "real": real, "fake": fake, "hinge": hinge,
            "real_higher": (real.mean(1) > fake.mean(1)).float().mean().item()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("checkpoint")
    p.add_argument("--data", required=True, help="folder with train/")
    p.add_argument("--n", type=int, default=16, help="crops")
    p.add_argument("--seed", type=int, default=123)
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    r = probe(a.checkpoint, a.data, a.n, a.seed)
    print(f"step {r['step']}: real {r['real'].mean():.4f} ± {r['real'].std():.4f}, filled "
          f"{r['fake'].mean():.4f} ± {r['fake'].std():.4f}, hinge {r['hinge']:.4f}, "
          f"real scored higher on {100 * r['real_higher']:.0f} % of the crops")
    return 0


if __name__ == "__main__":
    sys.exit(main())
