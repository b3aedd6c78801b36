"""Fill measures shared by the evaluation scripts (numpy uint8 H x W x 3|4 images, boolean
hole masks)."""
import cv2
import numpy as np


def _hf_ratio(planes, hole):
    """Mean high frequency (|x - GaussianBlur(x, sigma 1.5)|, summed over `planes`) over the
    hole eroded by 2 px, over that of the known pixels within 24 px of the hole but more
    than 2 px from it."""
    hf = sum(np.abs(p - cv2.GaussianBlur(p, (0, 0), 1.5, borderType=cv2.BORDER_REFLECT))
             for p in planes)
    h8 = hole.astype(np.uint8)
    inner = cv2.erode(h8, np.ones((5, 5), np.uint8)) > 0
    near = cv2.dilate(h8, np.ones((5, 5), np.uint8)) > 0
    ring = (cv2.dilate(h8, np.ones((49, 49), np.uint8)) > 0) & ~near
    if not inner.any() or not ring.any():
        return float("nan")
    return float(hf[inner].mean() / max(hf[ring].mean(), 1e-9))


def detail_ratio(img, hole):
    """How much fine detail the hole has, relative to the known pixels around it.

    grey = 0.299R + 0.587G + 0.114B (0-255); hf = |grey - GaussianBlur(grey, sigma 1.5)|;
    A = mean hf over the hole eroded by 2 px; B = mean hf over the known pixels within 24 px
    of the hole but more than 2 px from it; returns A / B (1: as much detail as around it;
    a smooth fill is near 0). The definition of the project's quality targets."""
    grey = img[:, :, :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    return _hf_ratio([grey], hole)


def colour_noise_ratio(img, hole):
    """The detail ratio of the colour alone: the same A / B over the two chroma planes
    (Cb, Cr of BT.601, 0-255). Texture that continues its surroundings has about the ring's
    chroma detail (<= 1); speckles and blotches of new colours, the usual adversarial
    artefact, put more in the hole than around it (> 1) while the grey detail ratio counts
    them as texture. Reported beside the detail ratio so that a rise in detail made of
    colour noise shows."""
    rgb = img[:, :, :3].astype(np.float64)
    cb = rgb @ np.array([-0.168736, -0.331264, 0.5])
    cr = rgb @ np.array([0.5, -0.418688, -0.081312])
    return _hf_ratio([cb, cr], hole)


def invented_detail(out, gt, hole, window=16):
    """Fine detail the fill has beyond the photo's, where the photo has less: stripes in a
    plain background count, texture where the photo is textured (in any pattern) does not,
    a smooth fill scores 0. The detail ratio cannot tell those apart.

    For each of R, G, B (0-255): hf = |x - GaussianBlur(x, sigma 1.5)|, averaged over windows
    of `window` px at half-window steps; a window's excess is relu(fill's - photo's),
    averaged over the planes and weighted by the window's share of hole pixels. The
    training penalty recipe.excess_detail (train.py --excess-weight) is this, in [-1, 1]
    units (its test holds it to this one)."""
    step = window // 2
    h, w = hole.shape
    nb_y, nb_x = h // step, w // step

    def windows(a):  # H x W x C -> (windows down) x (windows across) x C means
        blocks = a[:nb_y * step, :nb_x * step].reshape(nb_y, step, nb_x, step, -1).mean((1, 3))
        return (blocks[:-1, :-1] + blocks[1:, :-1] + blocks[:-1, 1:] + blocks[1:, 1:]) / 4

    def amount(img):
        x = img[:, :, :3].astype(np.float64)
        return windows(np.abs(x - cv2.GaussianBlur(x, (0, 0), 1.5)))

    share = windows(hole.astype(np.float64)[:, :, None])[:, :, 0]
    excess = np.maximum(amount(out) - amount(gt), 0).mean(2)
    return float((share * excess).sum() / max(share.sum(), 1e-12))


def periodic_detail(out, gt, hole, window=32):
    """Detail the fill puts in a periodic pattern (waves, herringbones, grids of any period
    and slant) beyond the photo's: the artefact with which a network pays for "as much
    detail as the photo" most cheaply, and which the detail ratio counts as detail.

    For each window of `window` px at half-window steps and each of R, G, B (0-255): the
    power spectrum p of the Hann-windowed high-pass x - GaussianBlur(x, sigma 3), scaled
    by the window's energy; sqrt(sum(p^2) / sum(p)), an amplitude that is about a third of
    a pure wave's root mean square and a far smaller share of broad texture's; a
    window's excess is relu(fill's - photo's), averaged over the planes and weighted by
    the window's share of hole pixels. A smooth fill scores 0. The training penalty
    recipe.periodic_pattern (train.py --periodic-weight) is this, in [-1, 1] units (its
    test holds it to this one)."""
    step = window // 2
    han = np.hanning(window)
    han = han[:, None] * han[None, :]

    def tiles(a):  # H x W x C -> n x m x C x window x window
        v = np.lib.stride_tricks.sliding_window_view(a, (window, window), axis=(0, 1))
        return v[::step, ::step]

    share = tiles(hole.astype(np.float64)[:, :, None])[:, :, 0].mean((-2, -1))
    near = share > 0  # only these windows count: the others' spectra are not computed

    def peak(img):
        x = img[:, :, :3].astype(np.float64)
        power = np.abs(np.fft.rfft2(tiles(x - cv2.GaussianBlur(x, (0, 0), 3))[near] * han)) ** 2
        power /= (han ** 2).sum() * window ** 2
        return np.sqrt((power ** 2).sum((-2, -1)) / np.maximum(power.sum((-2, -1)), 1e-12)
                       + 1e-8 * 127.5 ** 2)

    excess = np.maximum(peak(out) - peak(gt), 0).mean(1)
    return float((share[near] * excess).sum() / max(share.sum(), 1e-12))


class CoherenceContext:
    """What incoherence needs of the photo alone (its patches' signatures), computed once
    per case when several fills of it are measured."""

    def __init__(self, gt, hole, patch=16, stride=8):
        han = np.hanning(patch).astype(np.float32)
        self.han, self.patch, self.stride = han[:, None] * han[None, :], patch, stride
        share = self.tiles(hole.astype(np.float32)[:, :, None])[:, :, 0]
        self.share, known = share.mean((-2, -1)), share.max((-2, -1)) == 0
        self.near = self.share > 0
        self.empty = not self.near.any() or not known.any()
        if not self.empty:
            self.ctx = self.spectra(gt, known)
            self.ctx_sq = (self.ctx ** 2).sum(1)
            self.own = self.gap(self.spectra(gt, self.near))

    def tiles(self, a):  # H x W x C -> n x m x C x patch x patch, as F.unfold's patches
        v = np.lib.stride_tricks.sliding_window_view(a, (self.patch, self.patch), axis=(0, 1))
        return v[::self.stride, ::self.stride]

    def spectra(self, img, keep):  # the kept patches' signatures, N x D
        p = self.tiles(img[:, :, :3].astype(np.float32))[keep]
        p = (p - p.mean((-2, -1), keepdims=True)) * self.han
        return np.abs(np.fft.rfft2(p)).reshape(len(p), -1) / self.patch

    def gap(self, q):  # each row of q: RMS difference to its nearest known patch's
        nearest = ((q ** 2).sum(1)[:, None] + self.ctx_sq[None, :] - 2 * q @ self.ctx.T)\
            .argmin(1)
        return np.sqrt(((q - self.ctx[nearest]).astype(np.float64) ** 2).mean(1)
                       + 1e-8 * 127.5 ** 2)


def incoherence(out, gt, hole, context=None):
    """How much less the fill's patches look like some patch of the photo's known part than
    the photo's own patches there do: it rises with patterns the photo does not have (on
    10 object cases of five held-out photos, CPU run 39's weave scored 0.13, the default's
    smooth fills 0.04, OpenCV Telea's streaks 0.16) and with a smooth fill of a textured
    hole (tests/train: coherence_gap); about 0 for texture like the surroundings', moved
    or not. Not in the paper: Wexler, Shechtman and Irani's coherence, made one-sided.

    Patches of 16 px at 8 px steps: those touching the hole, and the known ones (no hole
    pixel). A patch's signature is the amplitude spectrum of each of R, G, B (0-255, its
    mean removed, Hann-windowed), which a shift of the texture leaves nearly alone. For
    each hole patch, the root mean square difference of the signature to its nearest known
    patch's, for the fill and for the photo; the measure is by how much the fill's exceeds
    the photo's, weighted by the patch's share of hole pixels. The training penalty
    recipe.coherence_gap (train.py --coherence-weight) is this, in [-1, 1] units (its test
    holds it to this one). context: CoherenceContext(gt, hole), to reuse."""
    c = context or CoherenceContext(gt, hole)
    if c.empty:
        return float("nan")
    excess = np.maximum(c.gap(c.spectra(out, c.near)) - c.own, 0)
    return float((c.share[c.near] * excess).sum() / c.share[c.near].sum())


def psnr(out, gt, hole):
    """PSNR in dB over the hole pixels, 0-255 scale."""
    d = out[:, :, :3].astype(np.float64)[hole] - gt[:, :, :3].astype(np.float64)[hole]
    return float(10 * np.log10(255.0 ** 2 / max((d * d).mean(), 1e-12)))
