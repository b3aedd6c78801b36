"""The PConv U-Net (Liu et al. 2018) for training, on the same data, masks and evaluation as
the gated recipe, for the gated-vs-partial comparison (docs/GATED_VS_PARTIAL.md).

The network is tools/gimodel/pconv_torch.py's (the engine's parity oracle) with trainable
weights: what trains here runs identically in the library after export.

Losses (`loss`):
  paper: L_valid + 6 L_hole + 0.1 L_tv, the paper's weights without its perceptual (0.05)
         and style (120) terms: those need ImageNet-trained VGG-16 weights, which no Debian
         package ships and this project cannot download. A substitute (e.g. a random or
         self-trained feature net) would not be the paper's loss, so none is used; the
         comparison says so. L_valid / L_hole: mean absolute error over the known / hole
         pixels (normalised by all pixels, as the paper's 1/N), L_tv: total variation of
         the composite over the whole image (as naoto0804's implementation).
  l1:    the gated recipe's L1 terms for one stage: mean |out - gt| + hole_weight x the
         mean over hole pixels, so that a comparison can hold the loss fixed.
BatchNorm trains with batch statistics; `freeze_encoder_bn()` switches the encoder's to
its running statistics for the paper's fine-tuning phase (lr 5e-5).

Each convolution weight is trained as W / fan_in (fan_in = cin x k x k): the engine's (and
naoto0804's) layer divides by sum(M), the count of valid inputs, where NVIDIA's multiplies
by sum(1) / sum(M), so its weights are fan_in times larger for the same function (He-normal
x fan_in, about 35 at fan_in 600). Adam moves a weight by about lr per step whatever its
size, so trained as they are, the weights would change fan_in times more slowly relative
to their size than the gated network's: a first comparison, trained that way, left the
U-Net near its initialisation (docs/GATED_VS_PARTIAL.md). Trained as W / fan_in, the
optimiser sees NVIDIA's parametrisation; state() and the export give the engine's W.
Images here are in [-1, 1] and masks 1 = hole (the gated recipe's convention); the network
sees ImageNet-normalised colour and 1 = known masks, converted at the boundary.
"""
import os
import sys

import torch
import torch.nn as nn

_TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
if _TOOLS not in sys.path:
    sys.path.insert(0, _TOOLS)

from gimodel import pconv, pconv_torch  # noqa: E402

_MEAN = torch.tensor(pconv_torch.MEAN).view(1, 3, 1, 1)
_STD = torch.tensor(pconv_torch.STD).view(1, 3, 1, 1)


# Checkpoints carry this (train.py); one without it holds weights in the old form, W.
PARAMETRISATION = "w_over_fan_in"


def check_checkpoint(st, path):
    if st.get("pconv_parametrisation") != PARAMETRISATION:
        raise SystemExit(f"{path}: a PConv checkpoint from before the W / fan_in "
                         "parametrisation (gitrain/pconv_net.py); its export is what remains")


class PConvNet(nn.Module):
    guide_channels = 0

    def __init__(self, width, depth, seed=0):
        super().__init__()
        self.width, self.depth = width, depth
        self.layers = pconv.layers(width, depth)
        sd = pconv_torch.random_state_dict(width, depth, seed=seed)
        self.weights = nn.ParameterDict()
        self.fan_in = {}  # parameter key -> the factor its trained value is scaled by
        for k, v in sd.items():
            key = k.replace(".", "__")
            if k.endswith(("running_mean", "running_var")):
                self.register_buffer(key, v.clone())
                continue
            if k.endswith(".conv.weight"):
                self.fan_in[key] = float(v.shape[1] * v.shape[2] * v.shape[3])
            self.weights[key] = nn.Parameter(v.clone() / self.fan_in.get(key, 1.0))
        self.frozen = set()

    def freeze_encoder_bn(self):
        self.frozen = {l.name for l in self.layers if l.name.startswith("enc_")}

    def state(self):
        """Our tensor names -> tensors (parameters and running statistics)."""
        out = {k.replace("__", "."): v * self.fan_in[k] if k in self.fan_in else v
               for k, v in self.weights.items()}
        out.update({k.replace("__", "."): v for k, v in self.named_buffers()})
        return out

    def forward(self, image, mask):
        """image in [-1, 1], mask 1 = hole -> output in [-1, 1] (every pixel)."""
        known = (1 - mask).expand(-1, 3, -1, -1)
        x = ((image + 1) / 2 - _MEAN.to(image)) / _STD.to(image)
        train = {l.name for l in self.layers if l.bn} - self.frozen if self.training else ()
        out = pconv_torch.forward(self.state(), x * known, known, self.width, self.depth,
                                  bn_train=train)
        return (out * _STD.to(out) + _MEAN.to(out)) * 2 - 1

    def export_weights(self):
        return {k: v.detach().float().cpu().numpy() for k, v in self.state().items()}


def forward_g(g, image, mask):
    """(out, out, composite, None): the gated recipe's (x1, x2, complete, guide) shape."""
    out = g(image, mask)
    return out, out, out * mask + image * (1 - mask), None


def train_step(g, opt, batch, loss="paper", hole_weight=0.0):
    image, mask = batch[0], batch[1]
    out, _, comp, _ = forward_g(g, image, mask)
    err = (out - image).abs()
    if loss == "paper":
        valid = (err * (1 - mask)).mean()
        hole = (err * mask).mean()
        tv = (comp[:, :, :, 1:] - comp[:, :, :, :-1]).abs().mean() + \
            (comp[:, :, 1:, :] - comp[:, :, :-1, :]).abs().mean()
        total = valid + 6 * hole + 0.1 * tv
        parts = {"valid": valid.item(), "hole": hole.item(), "tv": tv.item()}
    else:
        total = err.mean()
        parts = {}
        if hole_weight > 0:
            area = (mask.sum() * 3).clamp_min(1)
            total = total + hole_weight * (err * mask).sum() / area
    opt.zero_grad(set_to_none=True)
    total.backward()
    opt.step()
    return {"l1": err.mean().item(), "g": total.item(), **parts}


def export_gguf(g, path, *, dtype="f16", name, license, source_url="", extra=None,
                working_size=None):
    from gimodel.gguf import write_pconv_model
    write_pconv_model(path, g.export_weights(), width=g.width, depth=g.depth, name=name,
                      license=license, source_url=source_url, dtype=dtype, extra_kv=extra,
                      working_size=working_size)


def macs(width, depth, size):
    """Multiply-adds of one size x size forward pass (size a multiple of 2**depth)."""
    total, res = 0, size
    for l in pconv.layers(width, depth):
        res = res // 2 if l.name.startswith("enc_") else res * 2
        total += res * res * l.cout * l.cin * l.k * l.k
    return total
