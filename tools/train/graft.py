#!/usr/bin/python3
"""Give a training checkpoint another model's stage 1 (the coarse network).

    tools/train/graft.py RUN_DIR/last.pt --stage1 models/default.gguf -o NEW_RUN/last.pt

Copies the 17 stage-1 layers (LAYER_NAMES[0:17]: the coarse network, conv1 to conv17)
of a model file into the checkpoint's generator and its moving average; stage 2, the
discriminator, the optimisers, the step and the time are kept, so train.py resumes the
result where the checkpoint left off. Both must have the same width, guide channels and
channel order. Why: CPU runs 14 to 24 let the GAN term reach stage 1 through the residual
stage 2, and stage 1 drew the detail as a grid of its dilated convolutions; runs 25 and 26
continue run 19 with the L1-trained default model's smooth stage 1 and --coarse-l1-only
(models/README.md, CPU runs 22 to 26).
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from gitrain import recipe  # noqa: E402
from gitrain.nets import LAYER_NAMES  # noqa: E402

STAGE1 = LAYER_NAMES[0:17]


def graft_stage1(state, model_path):
    """`state` (a train.py checkpoint dict) with the stage-1 weights of the model file at
    `model_path` in "g" and, when present, "g_ema". Returns the number of tensors replaced."""
    donor, _ = recipe.make_nets_from(state["args"])
    recipe.load_gguf_into(donor, model_path)
    new = donor.state_dict()
    n = 0
    for key in ("g", "g_ema"):
        if key not in state:
            continue
        for name in STAGE1:
            for t in ("weight", "bias"):
                k = f"layers.{name}.{t}"
                state[key][k] = new[k].clone()
                n += 1
    return n


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint")
    p.add_argument("--stage1", required=True, help="model file (GGUF) whose stage 1 to use")
    p.add_argument("-o", "--out", required=True, help="the new checkpoint (a run's last.pt)")
    a = p.parse_args(argv)
    state = torch.load(a.checkpoint, map_location="cpu", weights_only=False)  # ours
    n = graft_stage1(state, a.stage1)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    torch.save(state, a.out)
    print(f"graft: {a.out}: {n} stage-1 tensors from {a.stage1}, step {state['step']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
