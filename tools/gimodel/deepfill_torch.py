"""Independent PyTorch reference of the official DeepFill v2 generator (inference only).

Written from docs/DEEPFILL_V2.md (sections 1-4 and 8), not from any port:
TF 'SAME' padding (bottom/right only on the stride-2 layers), gated convolutions
(first half = features with ELU, ReLU for pmconv6; second half = sigmoid gates),
nearest x2 upsampling, contextual attention with score fusion and the two-step
align-corners mask resize, tanh outputs, stage 2 on the 3-channel composite.

It also reproduces how libgatedinpaint's gi_inpaint() prepares inputs and writes
the uint8 result, so that the C engine can be compared tensor for tensor.
The keyword switches of `Generator` re-create the known porting pitfalls; the
parity tests use them to show that they would catch each one.

Tensors are NCHW with batch 1. Weights: dict "<layer>.weight" (OIHW) /
"<layer>.bias" -> numpy array or tensor, names as in the official checkpoint.

The layer table comes from gimodel.deepfill (lib/families/deepfill_v2_layers.def).
This is the only module of gimodel that imports torch: the parity tests, the
training recipe and the benchmarks use it; the converter never imports it.
"""
from collections import namedtuple

import numpy as np
import torch
import torch.nn.functional as F

from . import deepfill as _arch
from .deepfill import LAYER_NAMES  # noqa: F401  (the 42 names in graph order)

Layer = namedtuple("Layer", "name cin cconv k stride dil act up")

_ACT = {_arch.ELU: "elu", _arch.RELU: "relu", _arch.TANH: "tanh"}


def layer_specs(cnum, guide_channels=0):
    """The 42 layers for width `cnum` (divisible by 4) and 0 or 1 guide channels."""
    return [Layer(sp.name, sp.cin, sp.cconv, sp.k, sp.stride, sp.dilation, _ACT[sp.act],
                  sp.upsample)
            for sp in _arch.layers(cnum, guide_channels)]


def tf_same_pads(n, k, stride, dil):
    """(before, after) zero padding of TF 'SAME' for one axis of length n."""
    out = -(-n // stride)
    total = max((out - 1) * stride + (k - 1) * dil + 1 - n, 0)
    return total // 2, total - total // 2


def nn_index(n_in, n_out):
    """Source indices of TF 1.x resize_nearest_neighbor, align_corners=True.

    scale and i*scale are float32 as in the TF kernel; roundf (half away from zero) is
    done in float64, where adding 0.5 to a float32 value is exact.
    """
    if n_out > 1:
        scale = np.float32(n_in - 1) / np.float32(n_out - 1)
    else:
        scale = np.float32(n_in) / np.float32(n_out)
    prod = np.arange(n_out, dtype=np.float32) * scale
    idx = np.floor(prod.astype(np.float64) + 0.5).astype(np.int64)
    return np.minimum(idx, n_in - 1)


def resize_nn(x, out_h, out_w):
    """TF align-corners nearest-neighbour resize of an NCHW tensor."""
    ri = torch.from_numpy(nn_index(x.shape[2], out_h)).to(x.device)
    ci = torch.from_numpy(nn_index(x.shape[3], out_w)).to(x.device)
    return x.index_select(2, ri).index_select(3, ci)


def upsample2x(x):
    """neuralgym's align-corners NN resize to 2x is exactly pixel replication (doc 2.2)."""
    return x.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)


def gated_conv(x, weight, bias, layer, symmetric_stride2=False):
    """One `gen_conv` / `gen_deconv` layer (doc 2.1-3)."""
    if layer.up:
        x = upsample2x(x)
    if layer.stride == 2 and symmetric_stride2:
        top = bottom = left = right = 1  # pitfall: PyTorch-style padding=1
    else:
        top, bottom = tf_same_pads(x.shape[2], layer.k, layer.stride, layer.dil)
        left, right = tf_same_pads(x.shape[3], layer.k, layer.stride, layer.dil)
    x = F.pad(x, (left, right, top, bottom))
    y = F.conv2d(x, weight, bias, stride=layer.stride, dilation=layer.dil)
    if layer.act == "tanh":
        return torch.tanh(y)
    feat, gate = y.split(layer.cconv // 2, dim=1)
    feat = F.relu(feat) if layer.act == "relu" else F.elu(feat)
    return feat * torch.sigmoid(gate)


def _diag3(s):
    """t[p][q] = s[p-1][q-1] + s[p][q] + s[p+1][q+1], zero outside: TF's conv2d of the
    P x L score image with a 3x3 identity kernel, SAME padding."""
    t = s.clone()
    t[1:, 1:] += s[:-1, :-1]
    t[:-1, :-1] += s[1:, 1:]
    return t


def contextual_attention(f, mask, *, fuse=True, softmax_scale=10.0):
    """Contextual attention of the official graph with f = b (doc 4.1), rate 2.

    f: (1, C, h, w), h and w even. mask: (1, 1, mh, mw), 1 = hole; it is resized here
    to (h/2, w/2) with the TF rule. The official graph passes mask_s (h x w, itself
    resized from the full mask): the two-step resize. Passing the full-resolution
    mask gives the one-step pitfall.
    """
    _, c, h, w = f.shape
    hh, ww = h // 2, w // 2
    # 1. 4x4 raw patches, stride 2, SAME (one zero row/col each side): (C*16, L)
    raw = F.unfold(f, 4, padding=1, stride=2)[0]
    # 2.-3. downscale, then 3x3 patches of the downscaled map (SAME): (C*9, L).
    # Since f = b they are both the matching kernels and the foreground patches.
    fd = resize_nn(f, hh, ww)
    patches = F.unfold(fd, 3, padding=1)[0]
    norm = patches.pow(2).sum(0).sqrt().clamp_min(1e-4)
    kernels = patches / norm
    # 4. valid background patches: the 3x3 window of the 1/8 mask is all zero
    m8 = resize_nn(mask, hh, ww)
    mm = (F.unfold(m8, 3, padding=1)[0].sum(0) == 0).to(f.dtype)
    # 5. scores S[p][q], p = foreground position, q = background patch (row-major)
    s = patches.t() @ kernels
    if fuse:
        # 6. 3-tap diagonal sums on the row-major flattening, then on the
        # column-major one (p' = fx*hh + fy), wrapping across rows / columns.
        n = hh * ww
        s = _diag3(s)
        s = s.view(hh, ww, hh, ww).permute(1, 0, 3, 2).reshape(n, n)
        s = _diag3(s)
        s = s.view(ww, hh, ww, hh).permute(1, 0, 3, 2).reshape(n, n)
    # 7. masked softmax: hole patches keep logit 0 in the denominator
    a = torch.softmax(s * mm * softmax_scale, dim=1) * mm
    # 8. paste: transposed conv, stride 2, crop 1, then /4 (borders stay attenuated)
    cols = raw @ a.t()
    return F.fold(cols[None], (h, w), 4, padding=1, stride=2) / 4


class Generator:
    """The official DeepFill v2 generator graph.

    Pitfall switches (all default to the official behaviour):
      symmetric_stride2: pad 1 on every side of the stride-2 layers instead of (0,1,0,1)
      fuse:              contextual attention score fusion
      two_step_mask:     False resizes the mask H -> H/8 in one step inside the attention
    Feeding RGB to BGR weights is a preprocessing pitfall: prepare(..., channel_order).
    """

    def __init__(self, weights, cnum, guide_channels=0, *, fuse=True, two_step_mask=True,
                 symmetric_stride2=False, softmax_scale=10.0, dtype=torch.float32):
        self.specs = layer_specs(cnum, guide_channels)
        self.fuse = fuse
        self.two_step_mask = two_step_mask
        self.symmetric_stride2 = symmetric_stride2
        self.softmax_scale = softmax_scale
        self.dtype = dtype
        self.params = {}
        for sp in self.specs:
            w = torch.as_tensor(np.asarray(weights[sp.name + ".weight"])).to(dtype)
            b = torch.as_tensor(np.asarray(weights[sp.name + ".bias"])).to(dtype)
            if tuple(w.shape) != (sp.cconv, sp.cin, sp.k, sp.k) or tuple(b.shape) != (sp.cconv,):
                raise ValueError(f"{sp.name}: weight {tuple(w.shape)} bias {tuple(b.shape)}, "
                                 f"expected ({sp.cconv}, {sp.cin}, {sp.k}, {sp.k})")
            self.params[sp.name] = (w, b)
        self._by_name = {sp.name: sp for sp in self.specs}

    def _conv(self, x, name, taps):
        w, b = self.params[name]
        y = gated_conv(x, w, b, self._by_name[name], self.symmetric_stride2)
        if taps is not None:
            taps[name] = y
        return y

    def _run(self, x, names, taps):
        for name in names:
            x = self._conv(x, name, taps)
        return x

    @torch.no_grad()
    def forward(self, x_in, mask, taps=None):
        """x_in: (1, 3 [+1] + 2, H, W) stage-1 input; mask: (1, 1, H, W), 1 = hole.
        Returns (x_stage1, x_stage2). `taps`, if a dict, receives every layer output
        plus "mask_s", "xnow" and "attention"."""
        x_in, mask = x_in.to(self.dtype), mask.to(self.dtype)
        x = self._run(x_in, LAYER_NAMES[0:6], taps)  # conv1 .. conv6
        mask_s = resize_nn(mask, x.shape[2], x.shape[3])  # resize_mask_like(mask, conv6)
        x_stage1 = self._run(x, LAYER_NAMES[6:17], taps)
        xnow = x_stage1 * mask + x_in[:, 0:3] * (1 - mask)

        x_hallu = self._run(xnow, LAYER_NAMES[17:27], taps)
        pm = self._run(xnow, LAYER_NAMES[27:33], taps)  # pmconv1 .. pmconv6
        ca = contextual_attention(pm, mask_s if self.two_step_mask else mask,
                                  fuse=self.fuse, softmax_scale=self.softmax_scale)
        pm = self._run(ca, LAYER_NAMES[33:35], taps)
        x_stage2 = self._run(torch.cat([x_hallu, pm], dim=1), LAYER_NAMES[35:42], taps)
        if taps is not None:
            taps.update(mask_s=mask_s, xnow=xnow, attention=ca)
        return x_stage1, x_stage2


# --------------------------------------------------------------------------------------
# gi_inpaint()'s input preparation and output writing

def network_size(h, w):
    return -(-h // 8) * 8, -(-w // 8) * 8


def prepare(image, mask, guide=None, *, guide_channels=0, channel_order="rgb"):
    """numpy uint8 image (HxWx3|4, RGB[A]), mask (HxW, > 127 = hole), optional guide
    (HxW, > 153 = edge) -> (stage-1 input (1,C,Hn,Wn), mask (1,1,Hn,Wn)), float32.

    Bottom/right reflection padding without repeating the edge pixel, colours reversed
    for "bgr" networks, x = v/127.5 - 1 in float32, hole pixels 0, channels
    [c0, c1, c2, (edge * mask), ones, mask].
    """
    h, w = mask.shape
    hn, wn = network_size(h, w)
    pad = ((0, hn - h), (0, wn - w))
    rgb = np.pad(image[:, :, :3], pad + ((0, 0),), mode="reflect")
    if channel_order == "bgr":
        rgb = rgb[:, :, ::-1]
    elif channel_order != "rgb":
        raise ValueError(f"channel order {channel_order!r}")
    hole = np.pad(mask > 127, pad, mode="reflect").astype(np.float32)
    x = rgb.astype(np.float32) / np.float32(127.5) - np.float32(1.0)
    x[hole > 0] = 0.0
    planes = [x[:, :, 0], x[:, :, 1], x[:, :, 2]]
    if guide_channels:
        edge = np.zeros_like(hole)
        if guide is not None:
            edge = np.pad(guide > 153, pad, mode="reflect").astype(np.float32) * hole
        planes.append(edge)
    planes += [np.ones_like(hole), hole]
    x_in = torch.from_numpy(np.stack(planes)[None].copy())
    return x_in, torch.from_numpy(hole[None, None].copy())


def to_hwc(t):
    """(1, C, H, W) tensor -> float32 HxWxC numpy array."""
    return t[0].permute(1, 2, 0).to(torch.float32).contiguous().numpy()


def compose_output(image, mask, x_stage2_hwc, channel_order="rgb"):
    """gi_inpaint()'s uint8 result: quantised network output inside the hole, the input
    pixels elsewhere, alpha copied, cropped to the input size."""
    h, w = mask.shape
    y = x_stage2_hwc[:h, :w]
    if channel_order == "bgr":
        y = y[:, :, ::-1]
    v = np.floor((y + np.float32(1.0)) * np.float32(127.5) + np.float32(0.5))
    q = np.clip(v, 0, 255).astype(np.uint8)
    out = image.copy()
    hole = mask > 127
    out[hole, :3] = q[hole]
    return out


def inpaint(weights, image, mask, guide=None, *, cnum, guide_channels=0, channel_order="rgb",
            feed_order=None, taps=None, **options):
    """Reference gi_inpaint(): returns dict x_stage1, x_stage2 (Hn x Wn x 3 float32, the
    network's channel order) and out (uint8, like image).

    feed_order overrides the order used to prepare the input and read the output (the
    "RGB fed to BGR weights" pitfall); options go to Generator."""
    order = feed_order or channel_order
    x_in, hole = prepare(image, mask, guide, guide_channels=guide_channels, channel_order=order)
    gen = Generator(weights, cnum, guide_channels, **options)
    s1, s2 = gen.forward(x_in, hole, taps)
    x_stage1, x_stage2 = to_hwc(s1), to_hwc(s2)
    return {"x_stage1": x_stage1, "x_stage2": x_stage2,
            "out": compose_output(image, mask, x_stage2, order)}


# --------------------------------------------------------------------------------------
# Test data

def random_weights(cnum, guide_channels=0, seed=0, gain=1.3, bias_std=0.1):
    """Random float32 weights that keep the network in a tame regime.

    Normal weights with std gain*sqrt(2/fan_in) and small normal biases. Gating damps
    the signal at every layer: with gain 1.0 the output hardly depends on the input
    (every pitfall changes x_stage2 by < 5e-3), with gain 2.0 the scale-10 attention
    softmax turns chaotic (float32 and float64 differ by the full range, doc 4.1).
    At 1.3 x_stage2 has a std of about 0.05-0.25, float32 and float64 agree to < 1e-6
    and each pitfall moves x_stage2 by > 3e-2 (measured at widths 8 and 48).
    """
    rng = np.random.default_rng(seed)
    weights = {}
    for sp in layer_specs(cnum, guide_channels):
        fan_in = sp.cin * sp.k * sp.k
        std = gain * np.sqrt(2.0 / fan_in)
        weights[sp.name + ".weight"] = rng.normal(0.0, std, (sp.cconv, sp.cin, sp.k, sp.k)).astype(np.float32)
        weights[sp.name + ".bias"] = rng.normal(0.0, bias_std, sp.cconv).astype(np.float32)
    return weights


def random_image(h, w, channels=3, seed=0):
    """Smooth random colours plus noise: structured enough for the attention to prefer
    some patches, with the full 0..255 range."""
    rng = np.random.default_rng(seed)
    small = rng.uniform(0, 255, (1, channels, max(h // 16, 2), max(w // 16, 2)))
    img = F.interpolate(torch.from_numpy(small), size=(h, w), mode="bicubic",
                        align_corners=False)[0].permute(1, 2, 0).numpy()
    img = img + rng.normal(0, 12, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def _draw_segment(mask, p0, p1, radius):
    """Set the pixels within `radius` of the segment p0-p1 (a round-capped brush)."""
    yy, xx = np.mgrid[0:mask.shape[0], 0:mask.shape[1]]
    (x0, y0), (x1, y1) = p0, p1
    dx, dy = x1 - x0, y1 - y0
    t = ((xx - x0) * dx + (yy - y0) * dy) / max(dx * dx + dy * dy, 1e-9)
    t = np.clip(t, 0.0, 1.0)
    dist2 = (xx - x0 - t * dx) ** 2 + (yy - y0 - t * dy) ** 2
    mask[dist2 <= radius * radius] = 255


def stroke_mask(h, w, seed=0, strokes=None, max_vertices=8):
    """Free-form brush-stroke mask (uint8, 255 = hole): random polylines with random
    brush widths, as in the paper's training masks."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((h, w), np.uint8)
    size = min(h, w)
    for _ in range(strokes or int(rng.integers(1, 4))):
        x, y = rng.uniform(0, w - 1), rng.uniform(0, h - 1)
        radius = rng.uniform(max(size / 48, 1.0), max(size / 16, 2.0))
        for _ in range(int(rng.integers(2, max_vertices + 1))):
            angle = rng.uniform(0, 2 * np.pi)
            length = rng.uniform(size / 10, size / 3)
            nx = float(np.clip(x + length * np.cos(angle), 0, w - 1))
            ny = float(np.clip(y + length * np.sin(angle), 0, h - 1))
            _draw_segment(mask, (x, y), (nx, ny), radius)
            x, y = nx, ny
    return mask


def box_mask(h, w, top, left, box_h, box_w):
    mask = np.zeros((h, w), np.uint8)
    mask[top:top + box_h, left:left + box_w] = 255
    return mask
