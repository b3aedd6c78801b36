#!/usr/bin/python3
"""Give a training checkpoint another model's stage 1 (the coarse network).

    tools/train/graft.py RUN_DIR/last.pt --stage1 models/default.gguf [--restart-stage2-output] \
        -o NEW_RUN/last.pt
    tools/train/graft.py models/default.gguf --restart-stage2-output -o init.gguf  # for --init

Copies the 17 stage-1 layers (LAYER_NAMES[0:17]: the coarse network, conv1 to conv17)
of a model file into the checkpoint's generator and its moving average; stage 2, the
discriminator, the optimisers, the step and the time are kept, so train.py resumes the
result where the checkpoint left off. Both must have the same width, guide channels and
channel order. A model file in (.gguf) gives a model file out (F32), for train.py --init.
--restart-stage2-output also gives stage 2's last two layers a fresh
start: allconv16 a new random initialisation, allconv17 zeros (so the output is unchanged:
a residual stage 2 then adds nothing), both without their Adam state. Why: in the default
model and every later run checked (11, 14, 19), allconv16's gates had closed (mean output
about 1e-3) and allconv17 was about 0, so stage 2, contextual attention included, added
nothing (1e-5 or less) and neither layer's gradient could reopen the other. And CPU runs
14 to 24 let the GAN term reach stage 1 through the residual stage 2, where stage 1 drew
the detail as a grid of its dilated convolutions; runs 25 to 28 continue run 19 with the
L1-trained default model's smooth stage 1, the restarted output block and --coarse-l1-only
(models/README.md, CPU runs 22 to 28).
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from gitrain import nets, recipe  # noqa: E402
from gitrain.nets import LAYER_NAMES  # noqa: E402

STAGE1 = LAYER_NAMES[0:17]
STAGE2_OUTPUT = LAYER_NAMES[40:42]  # allconv16, allconv17


def _fresh_like(g):
    """A newly initialised generator of g's shape (width, guide, input fill, residual)."""
    return nets.Generator(g.width, g.guide_channels, input_fill=g.input_fill,
                          residual=g.residual)


def _set_layers(state, names, source):
    """Copy the weight and bias of layers `names` from state dict `source` into the
    checkpoint's "g" and, when present, "g_ema". Returns the keys set."""
    keys = [f"layers.{name}.{t}" for name in names for t in ("weight", "bias")]
    for net in ("g", "g_ema"):
        for k in keys if net in state else ():
            state[net][k] = source[k].clone()
    return keys


def graft_stage1(state, g, model_path):
    """`state` (a checkpoint dict whose generator has g's shape) with the stage-1 weights of
    the model file at `model_path`. Returns the number of tensors per network replaced."""
    donor = _fresh_like(g)
    recipe.load_gguf_into(donor, model_path)  # refuses another width, guide or order
    return len(_set_layers(state, STAGE1, donor.state_dict()))


def restart_stage2_output(state, g, seed=0):
    """`state` with allconv16 freshly initialised (as a new generator's) and allconv17 zero,
    and their Adam state dropped from "opt_g". Returns the layers."""
    if not g.residual:
        raise ValueError("graft: --restart-stage2-output needs residual stages (a zero "
                         "allconv17 would otherwise zero the output)")
    torch.manual_seed(seed)
    order = list(state["g"].keys())  # the optimiser's parameter order
    for k in _set_layers(state, STAGE2_OUTPUT, _fresh_like(g).state_dict()):  # residual:
        if "opt_g" in state:                                              # allconv17 is 0
            state["opt_g"]["state"].pop(order.index(k), None)
    return list(STAGE2_OUTPUT)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint", help="train.py checkpoint (.pt) or model file (.gguf)")
    p.add_argument("--stage1", default="", help="model file (GGUF) whose stage 1 to use")
    p.add_argument("--restart-stage2-output", action="store_true",
                   help="re-initialise allconv16, zero allconv17, drop their Adam state")
    p.add_argument("-o", "--out", required=True, help="the new checkpoint (a run's last.pt)")
    a = p.parse_args(argv)
    model_file = a.checkpoint.endswith(".gguf")
    if model_file:
        g, kv = recipe.generator_from_gguf(a.checkpoint)
        state = {"g": g.state_dict(), "step": kv.get("gatedinpaint.train.steps")}
    else:
        state = torch.load(a.checkpoint, map_location="cpu", weights_only=False)  # ours
        g = recipe.make_nets_from(state["args"])[0]
    if a.stage1:
        print(f"graft: {graft_stage1(state, g, a.stage1)} stage-1 tensors from {a.stage1}")
    if a.restart_stage2_output:
        print("graft: restarted " + ", ".join(restart_stage2_output(state, g)))
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    if model_file:
        g.load_state_dict(state["g"])
        what = " (stage 2 output restarted)" if a.restart_stage2_output else ""
        recipe.export_gguf(g, a.out, dtype="f32", license=kv.get("general.license", ""),
                           name=kv.get("general.name", "") + what,
                           working_size=kv.get("gatedinpaint.working_size"))
    else:
        torch.save(state, a.out)
    print(f"graft: {a.out}, step {state['step']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
