"""PConv U-Net in PyTorch: the oracle of lib/families/pconv_unet.c and the network the
training recipe can train (docs/ENGINE.md, "Partial convolutions").

Written from the description of naoto0804/pytorch-inpainting-with-partial-conv's net.py
(its semantics, not its code): masks are multi-channel with 1 = known; a partial
convolution is out = W.(X*M) / sum(M) + b, sum(M) over the window and every input
channel (no sum(1) factor, unlike NVIDIA's partialconv2d.py); where sum(M) = 0 the output
is 0 *before* BatchNorm (so it leaves as BN(0)), and the new mask is "the window had any
valid input", replicated over the output channels. Padding k/2, zeros. Inputs normalised
with ImageNet's mean and standard deviation, output composited with the known pixels.

Keyword options of `forward` re-create porting pitfalls so the parity tests can show
that each one would be caught; all default to the faithful network.
"""

import numpy as np
import torch
import torch.nn.functional as F

from . import pconv

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def random_state_dict(width, depth, seed=0, all_biases=False):
    """Random weights in our tensor names (tools/gimodel/pconv.py), with signal at every
    layer, as a trained network has: He-normal convolutions times the fan-in (the
    renormalisation divides by the count of valid inputs, the fan-in for a full window),
    BatchNorm statistics measured on a random calibration picture with a hole (then
    perturbed), and dec_1 scaled so that the output spreads over the colour range
    without saturating (saturation would hide differences)."""
    g = torch.Generator().manual_seed(seed)
    sd = {}
    for l in pconv.layers(width, depth):
        fan_in = l.cin * l.k * l.k
        sd[l.name + ".conv.weight"] = \
            torch.randn(l.cout, l.cin, l.k, l.k, generator=g) * (2.0 * fan_in) ** 0.5
        if all_biases or l.name == "dec_1":
            sd[l.name + ".conv.bias"] = torch.randn(l.cout, generator=g) * 0.1
        if l.bn:
            sd[l.name + ".bn.weight"] = 0.5 + torch.rand(l.cout, generator=g)
            sd[l.name + ".bn.bias"] = torch.randn(l.cout, generator=g) * 0.1
    side = 1 << depth
    x = torch.randn(1, 3, 2 * side, 2 * side, generator=g)
    m = torch.ones_like(x)
    m[..., side // 2:side + side // 4, side // 3:side + side // 3] = 0
    with torch.no_grad():
        out = forward(sd, x * m, m, width, depth, calibrate=g)
        sd["dec_1.conv.weight"] *= 0.5 / out.std().item()
    return sd


def partial_conv(x, m, weight, bias, stride, *, sum1=False, channel_counts=True,
                 mask_input=True):
    """One partial convolution; x, m: (N, C, H, W), m multi-channel, 1 = known.
    Returns (output, new mask with the output's channel count)."""
    k = weight.shape[-1]
    pad = k // 2
    out = F.conv2d(x * m if mask_input else x, weight, None, stride, pad)
    if channel_counts:
        count = F.conv2d(m, torch.ones(1, m.shape[1], k, k, dtype=m.dtype), None, stride, pad)
    else:  # pitfall: a one-channel mask's count, ignoring the channels
        count = F.conv2d(m[:, :1], torch.ones(1, 1, k, k, dtype=m.dtype), None, stride, pad)
    holes = count == 0
    scale = 1.0 / count.clamp(min=1.0)
    if sum1:  # NVIDIA's partialconv2d.py: W.(X*M) * sum(1) / sum(M)
        scale = scale * (m.shape[1] * k * k)
    out = out * scale
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    out = out.masked_fill(holes, 0.0)
    new_mask = (~holes).to(x.dtype).expand(-1, weight.shape[0], -1, -1)
    return out, new_mask


def forward(sd, x, m, width, depth, *, sum1=False, channel_counts=True, mask_input=True,
            zero_after_bn=False, swap_mask_concat=False, upsample="nearest", bn_eps=1e-5,
            calibrate=None, bn_train=()):
    """The U-Net on normalised x (N, 3, H, W) with mask m (N, 3, H, W), H and W multiples of
    2**depth. Pitfalls: sum1 (NVIDIA's factor), channel_counts=False, mask_input=False
    (features not multiplied by their mask), zero_after_bn (holes zeroed after BN: the
    same result, because every consumer masks them; kept to show it), swap_mask_concat
    (masks concatenated in the other order than the features), upsample='bilinear'.
    calibrate: a torch.Generator: set each BatchNorm's running statistics from this
    input's (perturbed with it) before applying it (random_state_dict).
    bn_train: names of the layers whose BatchNorm uses (and updates) batch statistics, as
    in training; the others use the running ones (eval mode)."""
    h, hm = [x], [m]
    layers = pconv.layers(width, depth)

    def run(l, x, m):
        out, nm = partial_conv(x, m, sd[l.name + ".conv.weight"], sd.get(l.name + ".conv.bias"),
                               l.stride, sum1=sum1, channel_counts=channel_counts,
                               mask_input=mask_input)
        if l.bn and calibrate is not None:
            n = l.cout
            sd[l.name + ".bn.running_mean"] = out.mean((0, 2, 3)) + \
                0.1 * torch.randn(n, generator=calibrate)
            sd[l.name + ".bn.running_var"] = out.var((0, 2, 3)) * \
                (0.5 + torch.rand(n, generator=calibrate))
        if l.bn:
            out = F.batch_norm(out, sd[l.name + ".bn.running_mean"],
                               sd[l.name + ".bn.running_var"], sd[l.name + ".bn.weight"],
                               sd[l.name + ".bn.bias"], l.name in bn_train, 0.1, bn_eps)
            if zero_after_bn:
                out = out * nm
        if l.act == pconv.RELU:
            out = F.relu(out)
        elif l.act == pconv.LEAKY:
            out = F.leaky_relu(out, 0.2)
        return out, nm

    for l in layers[:depth]:
        o, om = run(l, h[-1], hm[-1])
        h.append(o)
        hm.append(om)
    cur, cm = h[depth], hm[depth]
    for i, l in zip(range(depth, 0, -1), layers[depth:]):
        up = F.interpolate(cur, scale_factor=2, mode=upsample,
                           **({} if upsample == "nearest" else {"align_corners": False}))
        upm = F.interpolate(cm, scale_factor=2, mode="nearest")
        feats = torch.cat([up, h[i - 1]], 1)
        masks = torch.cat([hm[i - 1], upm] if swap_mask_concat else [upm, hm[i - 1]], 1)
        cur, cm = run(l, feats, masks)
    return cur


def inpaint(sd, image, hole, width, depth, **pitfalls):
    """image: (H, W, 3) uint8 RGB; hole: (H, W) bool. Pads bottom/right to multiples of
    2**depth as hole, runs, and returns the uint8 composite (the library's output)."""
    H, W = hole.shape
    mult = 1 << depth
    hn, wn = -(-H // mult) * mult, -(-W // mult) * mult
    img = np.zeros((hn, wn, 3), np.uint8)
    img[:H, :W] = image
    known = np.zeros((hn, wn), np.float32)
    known[:H, :W] = ~hole
    x = torch.from_numpy(img).permute(2, 0, 1)[None].float().div(255.0)
    x = (x - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)
    m = torch.from_numpy(known)[None, None].expand(1, 3, hn, wn).contiguous()
    with torch.no_grad():
        out = forward(sd, x * m, m, width, depth, **pitfalls)
    rgb = out * torch.tensor(STD).view(1, 3, 1, 1) + torch.tensor(MEAN).view(1, 3, 1, 1)
    rgb = torch.floor(rgb * 255.0 + 0.5).clamp(0, 255)[0].permute(1, 2, 0).numpy()
    res = image.copy()
    res[hole] = np.nan_to_num(rgb[:H, :W][hole]).astype(np.uint8)
    return res
