"""One training step of DeepFill v2 with SN-PatchGAN, and the GGUF export.

As the official code (JiahuiYu/generative_inpainting, inpaint_model.py, DeepFill v2):
  x_in      = [image * (1 - mask), (guide * mask), ones, mask]
  x1, x2    = G(x_in, mask)
  complete  = x2 * mask + image * (1 - mask)
  D input   = [image or complete, mask (, guide)]
  D loss    = mean(relu(1 - D(real))) + mean(relu(1 + D(complete)))      (hinge)
  G loss    = gan_weight * -mean(D(complete))
              + l1_weight * (mean|image - x1| + mean|image - x2|)         (whole image)
  one D step, then one G step, per batch; Adam(lr 1e-4, betas 0.5, 0.999) for both.
gan_start > 0 trains the first steps with L1 only (a warm-up the official v2 recipe does
not use; off by default). hole_weight > 0 adds DeepFill v1's hole term (without its spatial
discount): hole_weight * (mean over hole pixels of |image - x1| + |image - x2|). The whole-
image mean gives a 5-20 % hole a 5-20 % share of the gradient; this term is what the
composite (and every in-hole metric) depends on. Off by default (v2 has no such term).
excess_weight > 0 adds a penalty on invented detail (not in the paper; excess_detail below):
the generator may put as much fine detail in each window of the hole as the photo has there,
and pays for any more. It is one-sided, so it does not pull texture towards the L1 average.
texture_weight > 0 adds its two-sided, oriented form (not in the paper; texture_mismatch
below): each window of the hole must have as much detail as the photo has there, in each
direction and at two scales, so a smooth fill of a textured area costs as much as stripes
in a plain one. texture_space "opponent" compares luma and two colour differences instead
of R, G and B, so that colour speckles cost where the photo's texture is luma alone.
lattice_weight > 0 adds a penalty on a pattern locked to the 4 px blocks of the network's
quarter-resolution features (not in the paper; lattice_pattern below): the grid the CPU
runs' stage 2 drew into plain areas once it came alive. lattice_periods (4,) by default;
(4, 8) adds the same term on the 8 px blocks of stage 2's half-resolution features, where
run 31's cross-hatch sat (one term per period, window 4 periods, summed).
periodic_weight > 0 adds a penalty on detail concentrated at a few frequencies, of any
period and slant (not in the paper; periodic_pattern below): the waves and herringbones
with which stage 2 paid the texture penalty in CPU runs 37 and 38.
coherence_weight > 0 adds a penalty on hole patches that look like no patch of the photo's
known part, by amplitude spectrum, beyond the photo's own (not in the paper; coherence_gap
below, after Wexler et al.'s space-time completion): invented patterns cost, texture like
the surroundings' does not.
attention_weight > 0 supervises contextual attention (not in the paper;
attention_targets below): each hole cell should borrow from the known cell whose
16 px window of the photo is nearest to its own, the source from which a copy would
fill it best (on a copy scene, its twin). teacher_share > 0 makes that share of the steps
use those sources alone in place of the attention's weights (teacher forcing), so the
layers after the attention learn to carry a found source into the fill: the default
model's fill is the same whether its attention points at the twin or not (probe_copy.py).
coarse_l1_only keeps every stage-2 term (its L1, the GAN, the penalties) out of stage 1,
which then learns from its own L1 alone (not in the paper, where the stage-2 losses
reach stage 1 through stage 2's input). With residual stages that path is the identity,
and the CPU runs' GAN terms made the coarse network, not the refinement network, draw
the detail: a grid of its dilated convolutions (models/README.md, CPU runs 22 to 28).
"""
import os
import sys
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .nets import Discriminator, Generator, make_input, resize_nn

_TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
for _p in (_TOOLS, os.path.join(_TOOLS, "eval")):  # gimodel; measures (the eval's measures)
    if _p not in sys.path:
        sys.path.insert(0, _p)


@dataclass
class LossConfig:
    gan_weight: float = 1.0
    l1_weight: float = 1.0
    gan_start: int = 0
    hole_weight: float = 0.0
    excess_weight: float = 0.0
    texture_weight: float = 0.0
    texture_space: str = "rgb"
    coarse_l1_only: bool = False
    lattice_weight: float = 0.0
    lattice_periods: tuple = (4,)
    periodic_weight: float = 0.0
    coherence_weight: float = 0.0
    attention_weight: float = 0.0
    teacher_share: float = 0.0
    teacher_fade: tuple = ()


def teacher_share_at(cfg, step):
    """cfg.teacher_share, or with cfg.teacher_fade = (start, end) that share falling in a
    straight line to 0 from step start to step end, meant to let the attention's own choice
    take over what the layers after it learned to carry from the teacher's (in CPU runs 51
    and 52 that carrying faded with the teacher instead)."""
    if not cfg.teacher_fade:
        return cfg.teacher_share
    start, end = cfg.teacher_fade
    return cfg.teacher_share * min(max((end - step) / max(end - start, 1), 0.0), 1.0)


def make_nets(width, guide_channels, d_width=64, device="cpu", input_fill="zeros",
              residual=False, d_blur=False, d_gray=False):
    g = Generator(width, guide_channels, input_fill=input_fill, residual=residual).to(device)
    d = Discriminator(3 + 1 + guide_channels, d_width, blur=d_blur, gray=d_gray).to(device)
    return g, d


# What a checkpoint's two networks are built from: train.py's option, and its value in
# checkpoints written before the option existed (None: always present). make_nets_from
# builds from them; train.py refuses to resume a checkpoint whose values differ.
NET_OPTIONS = (("width", None), ("guide", None), ("d_width", None), ("input_fill", "zeros"),
               ("residual", False), ("d_blur", False), ("d_gray", False))


def net_options(args):
    """{option: value} of a train.py argument dict (a checkpoint's "args" or vars(args))."""
    return {k: args[k] if default is None else args.get(k, default) for k, default in NET_OPTIONS}


def make_nets_from(args, device="cpu"):
    o = net_options(args)
    return make_nets(o["width"], o["guide"], o["d_width"], device, o["input_fill"],
                     o["residual"], o["d_blur"], o["d_gray"])


def make_optimizers(g, d, lr=1e-4, betas=(0.5, 0.999), d_lr_ratio=1.0):
    """Adam for both; the discriminator's learning rate is d_lr_ratio times the generator's
    (1 in the official code; > 1 is the two time-scale rule of Heusel et al. 2017).
    foreach: one operator per step for all parameters instead of one per parameter (the
    same arithmetic; fewer kernel launches on a GPU, bench/train_step.py)."""
    return (torch.optim.Adam(g.parameters(), lr=lr, betas=betas, foreach=True),
            torch.optim.Adam(d.parameters(), lr=lr * d_lr_ratio, betas=betas, foreach=True))


def hinge_d_loss(real, fake):
    """The discriminator's hinge loss on its outputs for real and for filled crops."""
    return F.relu(1 - real).mean() + F.relu(1 + fake).mean()


def _gaussian_blur(x, sigma=1.5, radius=6):
    """Separable Gaussian blur of a B x C x H x W batch, plane by plane, borders reflected
    (cv2.GaussianBlur's 13 taps and border for this sigma)."""
    b, c, h, w = x.shape
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-t * t / (2 * sigma * sigma))
    k = k / k.sum()
    x = x.reshape(b * c, 1, h, w)
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode="reflect"), k.view(1, 1, 1, -1))
    x = F.conv2d(F.pad(x, (0, 0, radius, radius), mode="reflect"), k.view(1, 1, -1, 1))
    return x.reshape(b, c, h, w)


def excess_detail(fill, truth, mask, window=16):
    """How much more fine detail `fill` has than `truth` in the hole: the one-sided penalty
    on invented texture.

    Fine detail is the detail ratio's high-pass (|x - GaussianBlur(x, sigma 1.5)|) of each
    of R, G and B, averaged over windows of `window` px at half-window steps; each window's
    excess relu(fill's - truth's) is averaged over the three planes and weighted by the
    window's share of hole pixels. A textured window lets the fill have texture up to the
    photo's amount, of any pattern; a plain one lets it have none, which the discriminator
    at chance did not enforce (run 14's stripes in plain boxes). Per plane, not on a grey:
    a grey's weights would push the planes apart and turn the stripes into colour noise
    (runs 17 and 18, the first version, on the detail ratio's luma).
    Images in [-1, 1]; returns the excess in those units (0 when the fill is no busier)."""
    def amount(x):
        return F.avg_pool2d((x - _gaussian_blur(x)).abs(), window, window // 2)

    share = F.avg_pool2d(mask, window, window // 2)
    excess = F.relu(amount(fill) - amount(truth)).mean(1, keepdim=True)
    return (share * excess).sum() / share.sum().clamp_min(1e-6)


# 3x3 central differences along 0, 45, 90 and 135 degrees (texture_mismatch's directions)
_DIRECTIONS = torch.tensor([[[0, 0, 0], [-1, 0, 1], [0, 0, 0]],
                            [[0, 0, 1], [0, 0, 0], [-1, 0, 0]],
                            [[0, 1, 0], [0, 0, 0], [0, -1, 0]],
                            [[1, 0, 0], [0, 0, 0], [0, 0, -1]]], dtype=torch.float32) / 2


def _oriented_detail(x, window):
    """Per window of `window` px (half-window steps): the mean absolute derivative along
    four directions of two bands of each plane, the fine band x - G(1.5) (excess_detail's
    and the detail ratio's high-pass) and the mid band G(1.5) - G(3). B x 24 x h x w."""
    b1 = _gaussian_blur(x, 1.5, 6)
    bands = torch.cat([x - b1, b1 - _gaussian_blur(x, 3.0, 12)], 1)
    k = _DIRECTIONS.to(x)[:, None].repeat(bands.shape[1], 1, 1, 1)
    d = F.conv2d(F.pad(bands, (1, 1, 1, 1), mode="replicate"), k, groups=bands.shape[1])
    return F.avg_pool2d(d.abs(), window, window // 2)


# Opponent colour planes (rows: luma, red-green, yellow-blue), each row of unit norm: in
# them a photo's texture is mostly luma, and a speckle of independent colours shows as
# chroma detail, which in R, G, B looks like the same texture three times.
_OPPONENT = torch.tensor([[1, 1, 1], [1, -1, 0], [1, 1, -2]], dtype=torch.float32)
_OPPONENT = _OPPONENT / _OPPONENT.norm(dim=1, keepdim=True)


def to_opponent(x):
    """B x 3 x H x W R, G, B to luma, red-green, yellow-blue (_OPPONENT)."""
    return torch.einsum("pc,bchw->bphw", _OPPONENT.to(x), x)


def texture_mismatch(fill, truth, mask, window=16, space="rgb"):
    """How far the hole's texture is from the photo's, window by window: the two-sided,
    oriented form of excess_detail (not in the paper).

    For each window of `window` px (half-window steps), 24 amounts of detail (four
    directions x two bands x R, G, B: _oriented_detail) of `fill` and of `truth`; the mean
    absolute difference, weighted by the window's share of hole pixels. Detail of any
    phase counts as the photo's (texture need not be where the photo has it, only as
    much and in the same directions), so, unlike L1, it does not pay the generator to
    smooth a textured hole; unlike excess_detail, a smooth fill of a textured window
    costs; and horizontal stripes in a window whose detail runs another way cost even
    when their amount is right. What the discriminator was meant to judge, and at
    chance on the CPU runs did not. Images in [-1, 1]; 0 when the amounts match.

    space "opponent": the planes are luma and two colour differences (to_opponent) rather
    than R, G, B, so speckles of colour cost where the photo's detail is luma alone."""
    if space == "opponent":
        fill, truth = to_opponent(fill), to_opponent(truth)
    elif space != "rgb":
        raise ValueError(f"texture_mismatch: space {space!r}, not rgb or opponent")
    share = F.avg_pool2d(mask, window, window // 2)
    diff = (_oriented_detail(fill, window) - _oriented_detail(truth, window)).abs()
    return (share * diff.mean(1, keepdim=True)).sum() / share.sum().clamp_min(1e-6)


def lattice_pattern(fill, truth, mask, period=4, window=16):
    """How far the hole's pattern locked to the network's pixel lattice is from the
    photo's (not in the paper).

    The stage-2 network works at a quarter of the image's resolution, and on the CPU runs
    its GAN terms drew a grid of that period (4 px) into plain areas: each quarter-
    resolution feature pixel painted its 4 x 4 block alike. Such a pattern sits at the same
    place in every block, where a photo's texture does not. For each window of `window` px
    (a multiple of `period`, not overlapping) and each of the period x period positions in
    a block, the mean of the high-pass x - G(3) over the window's blocks: a photo's
    averages out towards 0, a grid's does not. The penalty is by how much the fill's means
    exceed the photo's in size (one-sided, as matching the photo's chance means would ask
    for a pattern), averaged, weighted by each window's share of hole pixels. Texture at no
    fixed place in the blocks costs almost nothing. Images in [-1, 1]; 0 when the fill has
    no more of such a pattern than the photo."""
    def phase_means(x):
        hp = x - _gaussian_blur(x, 3.0, 12)
        b, c, h, w = hp.shape
        n, m, k = h // window, w // window, window // period
        hp = hp[:, :, :n * window, :m * window].reshape(b, c, n, k, period, m, k, period)
        return hp.mean((3, 6))                                   # b, c, n, p, m, p
    share = F.avg_pool2d(mask, window, window)                   # b, 1, n, m
    diff = F.relu(phase_means(fill).abs() - phase_means(truth).abs()).mean((1, 3, 5))
    return (share[:, 0] * diff).sum() / share.sum().clamp_min(1e-6)


def _hann2(n, like):
    """An n x n Hann window (no wrap-around: periodic=False), of `like`'s dtype and device."""
    han = torch.hann_window(n, periodic=False, dtype=like.dtype, device=like.device)
    return han[:, None] * han[None, :]


def periodic_pattern(fill, truth, mask, window=32):
    """How much more of the hole's detail is a periodic pattern than the photo's (not in
    the paper).

    The texture penalty asks each window for an amount of detail in each direction, and
    a wave of the right slant pays it most cheaply: CPU runs 37 and 38 drew diagonal
    ripples and herringbones. A photo's texture spreads its energy over many frequencies,
    a wave puts it in a few. For each window of `window` px (half-window steps) and each
    plane, the power spectrum p of the Hann-windowed high-pass x - G(3), scaled by the
    window's energy (rfft2: one of each mirrored pair of frequencies); its peak power
    sum(p^2) / sum(p) is an eighth of the mean square for a pure wave (the window spreads
    its one peak over 3 x 3 frequencies) and a far smaller share for broad texture or
    noise (white noise of the same strength: under a quarter of the wave's root). The
    penalty is by how much the square root (an amplitude) of the fill's exceeds the
    photo's (one-sided: the photo's own fences and bricks are free), weighted by the
    window's share of hole pixels. Any period and slant, unlike lattice_pattern, which
    sees only patterns locked to stage 2's 4 px blocks. Images in [-1, 1]."""
    step = window // 2
    han = _hann2(window, fill)

    def peak(x):
        hp = x - _gaussian_blur(x, 3.0, 12)
        tiles = hp.unfold(2, window, step).unfold(3, window, step)  # b c n m w w
        power = torch.fft.rfft2(tiles * han).abs().square() / (han.square().sum() * window ** 2)
        return (power.square().sum((-2, -1)) / power.sum((-2, -1)).clamp_min(1e-12)
                + 1e-8).sqrt()
    share = F.avg_pool2d(mask, window, step)                     # b 1 n m
    diff = F.relu(peak(fill) - peak(truth)).mean(1)
    return (share[:, 0] * diff).sum() / share.sum().clamp_min(1e-6)


def coherence_gap(fill, truth, mask, patch=16, stride=8):
    """How much less each hole patch of the fill looks like some patch of the photo's known
    part than the photo's own patch there does (not in the paper; the coherence of Wexler,
    Shechtman and Irani's space-time completion, made one-sided and shift-tolerant).

    Per image: the patches (`patch` px, `stride` apart) that touch the hole, and those of
    the known part that do not. A patch is compared by its amplitude spectrum (each plane,
    its mean removed, Hann-windowed), which a shift of the texture leaves nearly alone:
    compared pixel by pixel, a copy of the surroundings moved by a pixel or two finds no
    twin among patches a stride apart. For each hole patch, the root mean square
    difference to its nearest known patch, for the fill and for the photo; the penalty is
    by how much the fill's exceeds the photo's, weighted by the patch's share of hole
    pixels. A pattern the network invents (the weave of CPU run 39) has no twin in the
    photo and costs, and so does a smooth fill of a textured hole; texture like the
    surroundings' does not; content the photo has only in the hole is free, as its own
    patch has no twin either. The nearest patch is found without gradient. Images in
    [-1, 1]."""
    han, c = _hann2(patch, fill), fill.shape[1]

    def spectra(x, b, keep):  # the kept patches' amplitude spectra, N x D
        p = F.unfold(x[b:b + 1], patch, stride=stride)[0].t()[keep].reshape(-1, c, patch, patch)
        p = (p - p.mean((-2, -1), keepdim=True)) * han
        return torch.fft.rfft2(p).abs().flatten(1) / patch

    def gap(q, ctx):  # each row of q: RMS difference to its nearest row of ctx
        with torch.no_grad():
            nearest = torch.cdist(q.detach(), ctx).argmin(1)
        return ((q - ctx[nearest]).square().mean(1) + 1e-8).sqrt()

    total, weight = fill.new_zeros(()), fill.new_zeros(())
    for b in range(fill.shape[0]):
        cover = F.unfold(mask[b:b + 1], patch, stride=stride)[0]              # patch^2 x L
        share = cover.mean(0)
        hole, known = share > 0, cover.amax(0) == 0
        if not hole.any() or not known.any():
            continue
        ctx = spectra(truth, b, known)
        with torch.no_grad():
            own = gap(spectra(truth, b, hole), ctx)
        total = total + (share[hole] * F.relu(gap(spectra(fill, b, hole), ctx) - own)).sum()
        weight = weight + share[hole].sum()
    return total / weight.clamp_min(1e-6)


def attention_cells(mask, cell=8):
    """The hole as contextual attention's grid (cell px) sees it, after the generator's two
    nearest resizes of the mask (to its quarter-resolution features, then to the grid):
    (hole, known), each (B, n) bool, row-major as the rows of the attention's weights;
    known cells are those it may borrow from (no hole cell among their 3 x 3 neighbours)."""
    h, w = mask.shape[-2:]
    m = resize_nn(resize_nn(mask, h // 4, w // 4), h // cell, w // cell)
    return m.flatten(1) > 0.5, F.unfold(m, 3, padding=1).sum(1) == 0


def attention_targets(image, mask, cell=8):
    """For each cell of contextual attention's grid (cell px; row-major, as the rows of its
    weights), the known cell whose window of the photo is nearest (L2) to its own: the
    source a copy would best fill it from. A cell's window is the 16 px square its
    features are borrowed with (the attention folds 4 x 4 patches of its quarter-
    resolution features at stride 2: image rows 8q - 4 to 8q + 11 for cell q), among the
    known cells of attention_cells. Returns (target: (B, n) long, rows: (B, n) bool, the
    hole's cells, whose target is meant). Without gradient."""
    with torch.no_grad():
        rows, known = attention_cells(mask, cell)
        half = cell // 2
        win = F.unfold(F.pad(image, (half, half, half, half), mode="replicate"), 2 * cell,
                       stride=cell).transpose(1, 2)                          # (B, n, D)
        d2 = torch.cdist(win, win).square()
        d2 = d2.masked_fill(~known[:, None, :], float("inf"))
        return d2.argmin(2), rows


def teacher_weights(weights, target, rows):
    """The attention weights with each of the `rows` borrowing from its target alone."""
    forced = F.one_hot(target, weights.shape[2]).to(weights.dtype)
    return torch.where(rows[:, :, None], forced, weights)


def attention_miss(weights, target, rows):
    """Mean over the hole's cells of -log(the weight on the target cell): the attention's
    cross-entropy against the nearest source."""
    picked = weights.gather(2, target[:, :, None])[:, :, 0]
    return -(picked.clamp_min(1e-6).log() * rows).sum() / rows.sum().clamp_min(1)


def _d_input(x, mask, guide):
    return torch.cat([x, mask] + ([guide] if guide is not None else []), dim=1)


def forward_g(g, image, mask, edge, keep, coarse_l1_only=False, rgb=None, attention=None):
    """Returns (x1, x2, complete, guide fed to the network or None). rgb: the input's
    filled planes when the data workers made them (data.PhotoCrops input_fill), else
    computed here. attention: a hook for contextual attention's weights (Generator)."""
    guide = edge * keep * mask if g.guide_channels else None
    x_in = make_input(image, mask, guide, g.input_fill, rgb)
    x1, x2 = g(x_in, mask, coarse_l1_only, attention)
    complete = x2 * mask + image * (1 - mask)
    return x1, x2, complete, guide


def train_step(g, d, opt_g, opt_d, batch, cfg=LossConfig(), step=0, train_g=True):
    """One D update and one G update on `batch` = (image, mask, edge, keep[, filled rgb])
    on the nets' device; with train_g False only the D update, against the generator as it
    is (a discriminator warm-up). Returns a dict of the losses (before the updates) as
    0-d tensors on the nets' device: reading one as a number waits for the GPU to finish
    the step, so the caller does that only when it logs, and the next step's launches
    overlap this one's kernels."""
    image, mask, edge, keep, *rgb = batch
    use_gan = cfg.gan_weight > 0 and step >= cfg.gan_start
    hook, seen = None, []
    teach = cfg.teacher_share > 0 and float(torch.rand(())) < teacher_share_at(cfg, step)
    if teach or cfg.attention_weight > 0:  # the targets' cdist only in steps that use them
        target, rows = attention_targets(image, mask)

        def hook(a):
            seen.append(a)
            return teacher_weights(a, target, rows) if teach else a
    with torch.set_grad_enabled(train_g):
        x1, x2, complete, guide = forward_g(g, image, mask, edge, keep, cfg.coarse_l1_only,
                                            *rgb, attention=hook)
    out = {}
    if use_gan:
        pos_neg = d(_d_input(torch.cat([image, complete.detach()]), mask.repeat(2, 1, 1, 1),
                             guide.repeat(2, 1, 1, 1) if guide is not None else None))
        pos, neg = pos_neg.chunk(2)
        d_loss = hinge_d_loss(pos, neg)
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        out["d"] = d_loss.detach()
    if not train_g:
        return out
    e1, e2 = (image - x1).abs(), (image - x2).abs()
    l1 = e1.mean() + e2.mean()
    g_loss = cfg.l1_weight * l1
    if cfg.hole_weight > 0:
        area = (mask.sum() * image.shape[1]).clamp_min(1)
        hole = ((e1 + e2) * mask).sum() / area
        g_loss = g_loss + cfg.hole_weight * hole
        out["hole_l1"] = hole.detach()
    penalties = {  # name: the term; its weight is cfg.<name>_weight (0: off)
        "excess": lambda: excess_detail(complete, image, mask),
        "texture": lambda: texture_mismatch(complete, image, mask, space=cfg.texture_space),
        "lattice": lambda: sum(lattice_pattern(complete, image, mask, p, 4 * p)
                               for p in cfg.lattice_periods),
        "periodic": lambda: periodic_pattern(complete, image, mask),
        "coherence": lambda: coherence_gap(complete, image, mask),
        "attention": lambda: attention_miss(seen[0], target, rows)}
    for name, term in penalties.items():
        weight = getattr(cfg, name + "_weight")
        if weight > 0:
            value = term()
            g_loss = g_loss + weight * value
            out[name] = value.detach()
    if use_gan:
        g_gan = -d(_d_input(complete, mask, guide)).mean()
        g_loss = g_loss + cfg.gan_weight * g_gan
        out["g_gan"] = g_gan.detach()
    opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    opt_g.step()
    out["l1"] = l1.detach()
    out["g"] = g_loss.detach()
    return out


def ema_copy(g):
    """A frozen copy of the generator for the exponential moving average of its weights."""
    import copy
    e = copy.deepcopy(g)
    for p in e.parameters():
        p.requires_grad_(False)
    return e


@torch.no_grad()
def ema_update(g_ema, g, decay):
    """g_ema <- decay * g_ema + (1 - decay) * g, parameter by parameter. Averaging the last
    ~1/(1-decay) steps removes the step-to-step jitter of the weights: with lr 5e-4 and no
    average, the validation hole L1 of the default model's run went up by 8-9 % between
    log points 250 steps apart (0.166 -> 0.179, 0.158 -> 0.172; run 1 in
    models/default.train-log.tsv);
    with the average it fell at every log point. All parameters in one operator each
    (torch._foreach_*): fewer kernel launches on a GPU."""
    pe, p = list(g_ema.parameters()), [q.detach() for q in g.parameters()]
    torch._foreach_mul_(pe, decay)
    torch._foreach_add_(pe, p, alpha=1 - decay)
    for be, b in zip(g_ema.buffers(), g.buffers()):  # BatchNorm statistics (PConv U-Net)
        be.copy_(b)


def to_u8(t):
    """A batch in [-1, 1] (B x 3 x H x W) as B x H x W x 3 uint8 RGB arrays."""
    return ((t.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()


@torch.no_grad()
def validate(g, image, mask, edge, use_guide, forward=None):
    """The stage-2 composite on a fixed validation batch, measured in the hole: mean
    absolute error ([-1, 1] units), PSNR (dB, 0-255) and the detail ratio (tools/eval/
    measures.py, the quality targets' definition) and the colour noise ratio (the detail ratio
    of the chroma: above 1, the detail is speckles of new colours), the last three averaged
    over the crops (forward: forward_g's stand-in for another family).
    Returns (l1, psnr, detail, colour)."""
    import numpy as np
    from measures import colour_noise_ratio, detail_ratio, psnr
    was = g.training
    g.eval()
    keep = torch.full_like(mask[:, :, :1, :1], 1.0 if use_guide else 0.0)
    _, _, complete, _ = (forward or forward_g)(g, image, mask, edge, keep)
    g.train(was)
    err = ((complete - image).abs() * mask).sum() / (mask.sum() * 3).clamp_min(1)
    out, gt, hole = to_u8(complete), to_u8(image), (mask[:, 0] > 0.5).cpu().numpy()
    ps = [psnr(o, t, h) for o, t, h in zip(out, gt, hole) if h.any()]
    dr = [detail_ratio(o, h) for o, h in zip(out, hole)]
    cn = [colour_noise_ratio(o, h) for o, h in zip(out, hole)]
    return err.item(), float(np.mean(ps)), float(np.nanmean(dr)), float(np.nanmean(cn))


def load_gguf_into(g, path):
    """Load a libgatedinpaint model file's weights into generator g (to continue training
    from a released model). Width, guide channels and channel order must match g. A model
    that predicts images loaded into a residual g gets its output layers zeroed
    (Generator.zero_outputs), so g starts from its input image. Returns the file's keys."""
    import numpy as np
    from gimodel.gguf import read_gguf
    from gimodel.tensor import RawTensor
    kv, tensors = read_gguf(path)
    have = (kv.get("gatedinpaint.width"), kv.get("gatedinpaint.guide_channels"),
            kv.get("gatedinpaint.channel_order"))
    if have != (g.width, g.guide_channels, "rgb"):
        raise ValueError(f"{path}: width/guide/order {have}, the generator is "
                         f"{(g.width, g.guide_channels, 'rgb')}")
    state = {}
    for name, (shape, dtype, raw) in tensors.items():
        f32 = RawTensor(dtype, shape, raw).to_f32_bytes()
        state["layers." + name] = torch.from_numpy(np.frombuffer(f32, "<f4").reshape(shape).copy())
    g.load_state_dict(state)
    if g.residual and not kv.get("gatedinpaint.residual", False):
        g.zero_outputs()
    return kv


def generator_from_gguf(path):
    """A Generator shaped as the model file at `path` says (width, guide channels, input
    fill, residual stages), with its weights. Returns (generator, the file's keys)."""
    from gimodel.gguf import read_gguf
    kv, _ = read_gguf(path)
    g = Generator(kv["gatedinpaint.width"], kv["gatedinpaint.guide_channels"],
                  input_fill=kv.get("gatedinpaint.input_fill", "zeros"),
                  residual=bool(kv.get("gatedinpaint.residual", False)))
    load_gguf_into(g, path)
    return g, kv


def load_generator(path, raw=False):
    """The generator of a model file (GGUF), or of a train.py checkpoint: its moving average,
    or with raw (or without an average) its trained weights. In eval mode, on the CPU."""
    if path.endswith(".gguf"):
        g = generator_from_gguf(path)[0]
    else:
        st = torch.load(path, map_location="cpu", weights_only=False)  # ours; see export.py
        g = make_nets_from(st["args"])[0]
        g.load_state_dict(st["g"] if raw else (st.get("g_ema") or st["g"]))
    return g.eval()


def probe_parser(doc):
    """The command line the probes share: model files or checkpoints (load_generator),
    --data DATA (its val/), --raw (a checkpoint's trained weights)."""
    import argparse
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    p.add_argument("models", nargs="+", help="GGUF model files or train.py checkpoints")
    p.add_argument("--data", required=True, help="folder with val/")
    p.add_argument("--raw", action="store_true",
                   help="checkpoints: the trained weights, not the moving average")
    return p


def export_gguf(g, path, *, dtype="f16", name, license, source_url="", extra=None,
                working_size=None):
    """Write the generator as a libgatedinpaint model file (channel order rgb)."""
    from gimodel.gguf import write_model
    write_model(path, g.export_weights(), width=g.width, guide_channels=g.guide_channels,
                channel_order="rgb", name=name, license=license, source_url=source_url,
                fuse=g.fuse, softmax_scale=g.softmax_scale, input_fill=g.input_fill,
                residual=g.residual, dtype=dtype, extra_kv=extra, working_size=working_size)
