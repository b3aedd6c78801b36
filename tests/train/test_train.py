"""Tests of the training recipe (tools/train/gitrain) and the embedded default model.

Fast (CPU, one thread, tiny nets). The C-library checks need GI_PARITY_DRIVER and
GI_LIBRARY, which `meson test train` sets; without them those tests are skipped.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

cv2 = pytest.importorskip("cv2", reason="python3-opencv is needed by the training recipe")

_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.join(_HERE, "..", "..")
sys.path.insert(0, os.path.join(_ROOT, "tools", "train"))
sys.path.insert(0, os.path.join(_ROOT, "tools", "eval"))
sys.path.insert(0, os.path.join(_ROOT, "tools"))

from gimodel import deepfill_torch as ref  # noqa: E402
from gitrain import data, masks, nets, recipe  # noqa: E402

torch.set_num_threads(1)
DRIVER = os.environ.get("GI_PARITY_DRIVER")
LIBRARY = os.environ.get("GI_LIBRARY")
DEFAULT_MODEL = os.path.join(_ROOT, "models", "default.gguf")


def _batch(n=2, size=64, seed=0):
    rng = np.random.default_rng(seed)
    imgs = torch.stack([data.to_tensor(ref.random_image(size, size, seed=seed + i))
                        for i in range(n)])
    ms = torch.stack([torch.from_numpy(masks.training_mask(size, size, rng, box_prob=0.5,
                                                           min_width=6, max_width=14))[None]
                      for _ in range(n)])
    edges = torch.stack([torch.from_numpy(
        (data.edge_map(ref.random_image(size, size, seed=seed + i)) > 0)
        .astype(np.float32))[None] for i in range(n)])
    keep = torch.tensor([1.0, 0.0] * (n // 2) + [1.0] * (n % 2)).view(n, 1, 1, 1)
    return imgs, ms, edges, keep


# ---------------------------------------------------------------------------------------
# the generator is the engine's graph

def test_generator_matches_reference_graph():
    torch.manual_seed(0)
    g = nets.Generator(8, 1)
    r = ref.Generator(g.export_weights(), 8, 1)
    img, m, e, keep = _batch(2, 48)
    x_in = nets.make_input(img, m, e)
    with torch.no_grad():
        a1, a2 = g(x_in, m)
    for i in range(2):
        b1, b2 = r.forward(x_in[i:i + 1], m[i:i + 1])
        assert (a1[i] - b1[0]).abs().max() < 1e-5
        assert (a2[i] - b2[0]).abs().max() < 1e-5
    assert sorted(k.split(".")[0] for k in g.export_weights())[::2] == sorted(ref.LAYER_NAMES)


def test_batched_attention_matches_reference_and_has_finite_gradients():
    torch.manual_seed(1)
    f = torch.relu(torch.randn(3, 8, 16, 20))
    f[0, :, :6, :6] = 0  # all-zero patches: the norm's gradient must stay finite
    m = torch.zeros(3, 1, 16, 20)
    m[:, :, 4:12, 6:14] = 1
    m[2] = 0
    f.requires_grad_(True)
    out = nets.contextual_attention(f, m)
    for i in range(3):
        want = ref.contextual_attention(f[i:i + 1].detach(), m[i:i + 1])
        assert (out[i] - want[0]).abs().max() < 1e-5
    out.square().sum().backward()
    assert torch.isfinite(f.grad).all()


# ---------------------------------------------------------------------------------------
# training

def test_one_training_step_lowers_the_loss():
    torch.manual_seed(0)
    g, d = recipe.make_nets(8, 1, d_width=16)
    opt_g, opt_d = recipe.make_optimizers(g, d, lr=1e-3)
    batch = _batch(2, 64)

    def loss():
        with torch.no_grad():
            x1, x2, _, _ = recipe.forward_g(g, *batch)
            return ((batch[0] - x1).abs().mean() + (batch[0] - x2).abs().mean()).item()
    before = loss()
    out = recipe.train_step(g, d, opt_g, opt_d, batch, recipe.LossConfig(), step=0)
    assert set(out) == {"d", "g_gan", "l1", "g"}
    assert all(np.isfinite(v) for v in out.values())
    assert abs(out["l1"] - before) < 1e-5  # the step reports the loss before its update
    after = loss()
    assert after < before, (before, after)


def test_l1_warmup_skips_the_discriminator():
    torch.manual_seed(0)
    g, d = recipe.make_nets(8, 0, d_width=8)
    opt_g, opt_d = recipe.make_optimizers(g, d)
    d0 = {k: v.clone() for k, v in d.state_dict().items()}
    out = recipe.train_step(g, d, opt_g, opt_d, _batch(2, 64), recipe.LossConfig(gan_start=5))
    assert set(out) == {"l1", "g"}
    assert all(torch.equal(d0[k], v) for k, v in d.state_dict().items())


def test_discriminator_warmup_trains_only_the_discriminator():
    torch.manual_seed(0)
    g, d = recipe.make_nets(8, 1, d_width=8)
    opt_g, opt_d = recipe.make_optimizers(g, d)
    g0 = {k: v.clone() for k, v in g.state_dict().items()}
    d0 = {k: v.clone() for k, v in d.state_dict().items()}
    out = recipe.train_step(g, d, opt_g, opt_d, _batch(2, 64), recipe.LossConfig(),
                            train_g=False)
    assert set(out) == {"d"}
    assert all(torch.equal(g0[k], v) for k, v in g.state_dict().items())
    assert not all(torch.equal(d0[k], v) for k, v in d.state_dict().items())
    assert all(p.grad is None for p in g.parameters())  # nothing built for the generator


def test_hole_weight_adds_the_mean_error_over_hole_pixels():
    torch.manual_seed(0)
    g, d = recipe.make_nets(8, 1, d_width=8)
    opt_g, opt_d = recipe.make_optimizers(g, d)
    batch = _batch(2, 64)
    image, mask = batch[0], batch[1]
    with torch.no_grad():
        x1, x2, _, _ = recipe.forward_g(g, *batch)
    err = (image - x1).abs() + (image - x2).abs()
    want = (err * mask).sum().item() / (3 * mask.sum().item())
    out = recipe.train_step(g, d, opt_g, opt_d, batch,
                            recipe.LossConfig(gan_start=5, hole_weight=2.5))
    assert abs(out["hole_l1"] - want) < 1e-5
    assert abs(out["g"] - (out["l1"] + 2.5 * want)) < 1e-5
    # a hole term is what distinguishes it from the whole-image mean
    assert abs(want - err.mean().item()) > 1e-3


def _detail_scene():
    """A 64x96 scene for the detail penalties: a 32x48 hole, a plain image and noise."""
    rng = np.random.default_rng(0)
    mask = np.zeros((64, 96))
    mask[16:48, 24:72] = 1
    return rng, mask, np.full((64, 96, 3), 0.1), 0.1 + 0.3 * rng.standard_normal((64, 96, 3))


def _chw(*arrays):
    """H x W x C numpy arrays as 1 x C x H x W float tensors."""
    return [torch.from_numpy(np.ascontiguousarray(a, np.float32)).permute(2, 0, 1)[None]
            for a in arrays]


def test_excess_detail_penalises_only_detail_beyond_the_photos():
    from measures import invented_detail
    rng, mask, plain, noise = _detail_scene()
    stripes = plain.copy()
    stripes[16:48:4, 24:72] += 0.3                    # run 14's stripes in a plain box
    outside = plain.copy()
    outside[16:48:4, 0:4] += 0.3                      # the same, left of the hole

    def excess(fill, truth):
        return recipe.excess_detail(*_chw(fill, truth, mask[:, :, None])).item()

    def measured(fill, truth):  # the evaluation's measure, 0-255, on the same images
        u8 = [np.clip(np.round((a + 1) * 127.5), 0, 255).astype(np.uint8) for a in (fill, truth)]
        return invented_detail(*u8, mask > 0.5) / 127.5

    assert excess(noise, noise) == 0
    assert excess(plain, noise) == 0                   # smoother than the photo: free
    striped = excess(stripes, plain)
    assert abs(striped - measured(stripes, plain)) < 0.02 * striped  # uint8 rounding
    assert measured(plain, noise) == 0 and measured(noise, noise) == 0
    # the same number at a size that is no multiple of the window, with a partial hole
    fill = rng.integers(0, 256, (70, 101, 3)).astype(np.uint8)
    truth = cv2.GaussianBlur(rng.integers(0, 256, (70, 101, 3)).astype(np.uint8), (0, 0), 2)
    hole = np.zeros((70, 101), bool)
    hole[9:50, 30:77] = True
    t = [torch.from_numpy(a.astype(np.float32) / 127.5 - 1).permute(2, 0, 1)[None]
         for a in (fill, truth)] + [torch.from_numpy(hole.astype(np.float32))[None, None]]
    want = invented_detail(fill, truth, hole)
    assert want > 10 and abs(recipe.excess_detail(*t).item() * 127.5 - want) < 1e-4 * want
    assert striped > 0.02
    assert excess(outside, plain) == 0                 # only windows with hole pixels count
    # stripes of colour at constant luma (what a grey's weights let through) count too
    tinted = plain.copy()
    tinted[16:48:4, 24:72] += 0.3 * np.array([1.0, -0.299 / 0.587, 0.0])
    assert excess(tinted, plain) > 0.3 * striped
    # texture where the photo has texture, in another pattern, costs little
    assert excess(np.roll(noise, 5, axis=1), noise) < 0.2 * excess(noise, plain)


def _small_step_setup():
    """A small seeded generator, discriminator, optimisers, batch and its composite."""
    torch.manual_seed(0)
    g, d = recipe.make_nets(8, 1, d_width=8)
    opt_g, opt_d = recipe.make_optimizers(g, d)
    batch = _batch(2, 64)
    with torch.no_grad():
        _, _, complete, _ = recipe.forward_g(g, *batch)
    return g, d, opt_g, opt_d, batch, complete


@pytest.mark.parametrize("term, penalty", [("excess", "excess_detail"),
                                           ("texture", "texture_mismatch"),
                                           ("lattice", "lattice_pattern"),
                                           ("periodic", "periodic_pattern"),
                                           ("coherence", "coherence_gap")])
def test_penalty_weight_adds_the_penalty_to_the_generator_loss(term, penalty):
    g, d, opt_g, opt_d, batch, complete = _small_step_setup()
    want = getattr(recipe, penalty)(complete, batch[0], batch[1]).item()
    out = recipe.train_step(g, d, opt_g, opt_d, batch,
                            recipe.LossConfig(gan_start=5, **{term + "_weight": 3.0}))
    assert want > 0 and abs(out[term] - want) < 1e-6
    assert abs(out["g"] - (out["l1"] + 3.0 * want)) < 1e-5


def test_lattice_periods_add_one_term_per_block_size():
    g, d, opt_g, opt_d, batch, complete = _small_step_setup()
    four, eight = (recipe.lattice_pattern(complete, batch[0], batch[1], p, 4 * p).item()
                   for p in (4, 8))
    out = recipe.train_step(g, d, opt_g, opt_d, batch, recipe.LossConfig(
        gan_start=5, lattice_weight=3.0, lattice_periods=(4, 8)))
    assert four > 0 and eight > 0 and abs(out["lattice"] - (four + eight)) < 1e-6
    # a pattern of period 8 that flips sign every 4 px (stage 2's half resolution) cancels
    # out in the 4 px blocks' means: the 8 px term is what sees it
    _, mask, plain, _ = _detail_scene()
    grid8 = plain.copy()
    for sign, start in ((1, 0), (-1, 4)):
        grid8[start::8, :] += sign * 0.15
        grid8[:, start::8] += sign * 0.15
    t = _chw(grid8, plain, mask[:, :, None])
    fill = t[0] * t[2] + t[1] * (1 - t[2])
    at4, at8 = (recipe.lattice_pattern(fill, t[1], t[2], p, 4 * p).item() for p in (4, 8))
    assert at8 > 0.02 and at4 < 0.2 * at8


def test_texture_mismatch_asks_for_the_photos_detail_in_its_directions():
    _, mask, plain, noise = _detail_scene()
    rows, cols = plain.copy(), plain.copy()
    rows[::4, :] += 0.3                               # horizontal stripes
    cols[:, ::4] += 0.3                               # the same turned by 90 degrees

    def mismatch(fill, truth, hole=mask):
        t = _chw(fill, truth, hole[:, :, None])
        return recipe.texture_mismatch(t[0] * t[2] + t[1] * (1 - t[2]), t[1], t[2]).item()

    smooth = mismatch(plain, noise)
    assert mismatch(noise, noise) == 0
    assert smooth > 0.03                              # a smooth fill of a textured hole costs
    assert mismatch(noise, plain) > 0.03              # and so does texture in a plain one
    # texture of the photo's kind in another phase costs little
    assert mismatch(np.roll(noise, 5, axis=1), noise) < 0.1 * smooth
    assert mismatch(np.roll(rows, 2, axis=0), rows) < 0.2 * mismatch(rows, plain)
    # the right amount of detail running the wrong way costs
    assert mismatch(rows, cols) > 0.5 * mismatch(rows, plain)
    # only windows with hole pixels count: noise whose blur (12 px) stays out of them is free
    t = _chw(plain, noise, mask[:, :, None])
    apart = t[0].clone()
    apart[..., 92:] = t[1][..., 92:]                  # the hole ends at 72, its windows at 80
    assert recipe.texture_mismatch(apart, t[0], t[2]).item() < 1e-6   # float rounding
    apart[..., 76:] = t[1][..., 76:]
    assert recipe.texture_mismatch(apart, t[0], t[2]).item() > 1e-3


def test_texture_mismatch_in_opponent_colours_sees_colour_speckles():
    rng, mask, plain, _ = _detail_scene()
    luma = 0.1 + 0.3 * rng.standard_normal((64, 96, 1)).repeat(3, 2)  # grey texture
    speckle = 0.1 + 0.3 * rng.standard_normal((64, 96, 3))  # each colour on its own

    def mismatch(fill, truth, space):
        t = _chw(fill, truth, mask[:, :, None])
        return recipe.texture_mismatch(t[0] * t[2] + t[1] * (1 - t[2]), t[1], t[2],
                                       space=space).item()

    other_phase = np.roll(luma, 5, axis=1)
    for space in ("rgb", "opponent"):
        assert mismatch(plain, luma, space) > 0.03          # a smooth fill still costs
        assert mismatch(other_phase, luma, space) < 0.1 * mismatch(plain, luma, space)
    # R, G, B see the speckles as the photo's texture three times; opponent planes do not
    assert mismatch(speckle, luma, "rgb") < 0.1 * mismatch(plain, luma, "rgb")
    assert mismatch(speckle, luma, "opponent") > 0.5 * mismatch(plain, luma, "opponent")
    with pytest.raises(ValueError):
        mismatch(plain, luma, "lab")


def test_texture_space_reaches_the_generator_loss():
    g, d, opt_g, opt_d, batch, complete = _small_step_setup()
    want = recipe.texture_mismatch(complete, batch[0], batch[1], space="opponent").item()
    out = recipe.train_step(g, d, opt_g, opt_d, batch, recipe.LossConfig(
        gan_start=5, texture_weight=3.0, texture_space="opponent"))
    assert abs(out["texture"] - want) < 1e-6
    assert abs(want - recipe.texture_mismatch(complete, batch[0], batch[1]).item()) > 1e-4


def test_periodic_pattern_sees_waves_of_any_period_not_texture():
    rng, mask, plain, noise = _detail_scene()
    yy, xx = np.mgrid[0:64, 0:96]

    def wave(period, slant=1.0, photo=plain):
        return photo + 0.15 * np.sin(2 * np.pi * (xx + slant * yy) / period)[:, :, None]

    def periodic(fill, truth, hole=mask):
        t = _chw(fill, truth, hole[:, :, None])
        return recipe.periodic_pattern(t[0] * t[2] + t[1] * (1 - t[2]), t[1], t[2]).item()

    on = periodic(wave(8), plain)
    assert on > 0.015
    # the eval's measure (0-255) is the penalty
    from measures import periodic_detail
    for fill, truth in ((wave(8), plain), (noise, plain), (wave(5, -1.0), noise)):
        t = _chw(fill, truth, mask[:, :, None])
        comp = (t[0] * t[2] + t[1] * (1 - t[2]))[0].permute(1, 2, 0).double().numpy()
        want = periodic_detail((comp + 1) * 127.5, (truth + 1) * 127.5, mask > 0.5)
        assert want > 0 and abs(periodic(fill, truth) * 127.5 - want) < 1e-3 * want
    for period, slant in ((4, 0.0), (6, 1.0), (11, -0.5), (8, 3.0)):  # any period and slant
        assert periodic(wave(period, slant), plain) > 0.8 * on
    grid = plain.copy()                                # the lattice penalty's grid too
    grid[::4, :] += 0.15
    grid[:, ::4] += 0.15
    assert periodic(grid, plain) > 0.4 * on
    # detail of the same strength spread over many frequencies costs far less
    amp = wave(8).std()
    white = 0.1 + amp * rng.standard_normal((64, 96, 3))
    grain = cv2.GaussianBlur(rng.standard_normal((64, 96)).astype(np.float32), (0, 0), 1.0)
    grain = 0.1 + (amp / grain.std()) * grain[:, :, None].repeat(3, 2)
    assert periodic(white, plain) < 0.25 * on and periodic(grain, plain) < 0.4 * on
    # one-sided: a smooth fill costs nothing, nor does the photo's own wave in another phase
    assert periodic(plain, wave(8)) == 0 and periodic(plain, plain) == 0
    assert periodic(np.roll(wave(8), 3, axis=1), wave(8)) < 0.05 * on
    assert periodic(np.roll(noise, 5, axis=1), noise) < 0.05 * on
    # only windows with hole pixels count: a hole in columns 0-11 is in the windows at
    # 0-31 alone, which the blur (12 px) lets see column 43 at most
    edge = np.zeros_like(mask)
    edge[16:48, :12] = 1
    t = _chw(plain, plain, edge[:, :, None])
    apart = t[0].clone()
    far = torch.from_numpy(wave(8).astype(np.float32)).permute(2, 0, 1)[None]
    apart[..., 44:] = far[..., 44:]
    assert recipe.periodic_pattern(apart, t[0], t[2]).item() == 0
    apart[..., 24:] = far[..., 24:]
    assert recipe.periodic_pattern(apart, t[0], t[2]).item() > 0.1 * on


def test_coherence_gap_asks_hole_patches_to_have_a_twin_in_the_known_part():
    rng, mask, plain, _ = _detail_scene()
    noise = cv2.GaussianBlur(np.tile(rng.standard_normal((16, 16, 3)), (3, 3, 1)), (0, 0), 1.0)
    tile = noise[16:32, 16:32]                          # a 16 px tile, blurred as a photo
    texture = np.tile(0.1 + 0.3 * (tile - tile.mean()) / tile.std(), (4, 6, 1))
    yy, xx = np.mgrid[0:64, 0:96]
    wave = texture.mean() + 0.3 * np.sin(2 * np.pi * (xx + yy) / 6)[:, :, None].repeat(3, 2)

    def gap(fill, truth):
        t = _chw(fill, truth, mask[:, :, None])
        return recipe.coherence_gap(t[0] * t[2] + t[1] * (1 - t[2]), t[1], t[2]).item()

    invented = gap(wave, texture)
    assert invented > 0.05
    # the eval's measure (numpy, 0-255) is the penalty
    from measures import incoherence
    for fill in (wave, np.roll(texture, 3, axis=1), np.full_like(texture, texture.mean())):
        t = _chw(fill, texture, mask[:, :, None])
        comp = (t[0] * t[2] + t[1] * (1 - t[2]))[0].permute(1, 2, 0).numpy()
        want = incoherence((comp + 1) * 127.5, (texture + 1) * 127.5, mask > 0.5)
        assert want > 0 and abs(gap(fill, texture) * 127.5 - want) < 1e-3 * want
    assert gap(texture, texture) == 0 and gap(plain, plain) == 0
    assert gap(np.roll(texture, 16, axis=1), texture) == 0     # copied from the surroundings
    # moved by a few pixels: no twin pixel for pixel, but its spectra are near the photo's
    for shift, axis in ((1, 1), (3, 1), (5, 0)):
        assert gap(np.roll(texture, shift, axis=axis), texture) < 0.65 * invented
    assert gap(np.full_like(texture, texture.mean()), texture) > 0.5 * invented  # smooth
    # what the photo has only in the hole costs nothing when the fill has it too
    unique = texture.copy()
    unique[20:44, 30:66] = wave[20:44, 30:66]
    assert gap(unique, unique) == 0 and gap(texture, unique) == 0
    assert gap(wave, unique) < 0.5 * invented


def test_lattice_pattern_sees_a_grid_locked_to_4_px_blocks_not_texture():
    _, mask, plain, noise = _detail_scene()
    grid = plain.copy()
    grid[::4, :] += 0.15                              # what stage 2 drew: a 4 px grid
    grid[:, ::4] += 0.15
    off = plain.copy()                                # the same amount, period 5: no lattice
    off[::5, :] += 0.15
    off[:, ::5] += 0.15

    def lattice(fill, truth, hole=mask):
        t = _chw(fill, truth, hole[:, :, None])
        return recipe.lattice_pattern(t[0] * t[2] + t[1] * (1 - t[2]), t[1], t[2]).item()

    on = lattice(grid, plain)
    assert lattice(plain, plain) == 0 and lattice(noise, noise) == 0
    assert on > 0.02
    assert lattice(np.roll(grid, 1, axis=1), plain) > 0.9 * on     # at any phase
    assert lattice(off, plain) < 0.35 * on
    # texture as strong as the grid (std 0.09) costs less, the more so in a textured photo
    fine = 0.1 + (noise - 0.1) * (grid.std() / (noise - 0.1).std())
    assert lattice(fine, plain) < 0.35 * on
    assert lattice(np.roll(fine, 5, axis=1), fine) < 0.2 * on
    # a smooth fill of a photo with a grid of its own costs nothing: one-sided
    assert lattice(plain, grid) == 0
    # only windows with hole pixels count
    t = _chw(plain, plain, mask[:, :, None])
    apart = t[0].clone()
    far = torch.from_numpy(grid.astype(np.float32)).permute(2, 0, 1)[None]
    apart[..., 92:] = far[..., 92:]     # the hole ends at 72, its windows at 80, the blur at 92
    assert recipe.lattice_pattern(apart, t[0], t[2]).item() < 1e-6
    apart[..., 64:] = far[..., 64:]
    assert recipe.lattice_pattern(apart, t[0], t[2]).item() > 0.1 * on


def test_coarse_l1_only_keeps_stage_two_losses_out_of_stage_one():
    from gimodel.deepfill_torch import LAYER_NAMES
    torch.manual_seed(0)
    g = nets.Generator(8, 1, residual=True, input_fill="guided_pushpull")
    for p in g.parameters():  # residual zeroes the output layers; give them a gradient path
        torch.nn.init.normal_(p, 0.0, 0.05)
    batch = _batch(2, 64)
    stage1 = [g.layers[n].weight for n in LAYER_NAMES[0:17]]
    stage2 = [g.layers[n].weight for n in LAYER_NAMES[17:42]]
    grads = {}
    for only in (False, True):
        x1, x2, complete, _ = recipe.forward_g(g, *batch, coarse_l1_only=only)
        g.zero_grad(set_to_none=True)
        complete.abs().mean().backward()           # any stage-2 term
        grads[only] = [p.grad for p in stage1], [p.grad for p in stage2], x1, x2
    assert all(gr is not None and gr.abs().sum() > 0 for gr in grads[False][0])
    assert all(gr is None for gr in grads[True][0])
    assert all(gr is not None for gr in grads[True][1][-5:])
    for a, b in zip(grads[False][2:], grads[True][2:]):  # the same values either way
        assert torch.equal(a, b)
    # train_step passes the option on: a step without stage 1's L1 leaves stage 1 alone
    d = nets.Discriminator(3 + 1 + 1, 8)
    opt_g, opt_d = recipe.make_optimizers(g, d)
    before = [p.detach().clone() for p in stage1]
    recipe.train_step(g, d, opt_g, opt_d, batch,
                      recipe.LossConfig(l1_weight=0.0, texture_weight=1.0, gan_start=5,
                                        coarse_l1_only=True))
    assert all(torch.equal(a, p) for a, p in zip(before, stage1))


def test_ema_update_averages_the_weights():
    torch.manual_seed(0)
    g = nets.Generator(8, 0)
    e = recipe.ema_copy(g)
    before = {k: v.clone() for k, v in e.state_dict().items()}
    with torch.no_grad():
        for p in g.parameters():
            p.add_(1.0)
    recipe.ema_update(e, g, 0.75)
    for k, v in e.state_dict().items():
        assert torch.allclose(v, before[k] + 0.25, atol=1e-6), k
    assert not any(p.requires_grad for p in e.parameters())


def test_training_can_start_from_an_exported_model(tmp_path):
    torch.manual_seed(0)
    g = nets.Generator(8, 1)
    recipe.export_gguf(g, str(tmp_path / "m.gguf"), dtype="f32", name="t", license="x")
    h = nets.Generator(8, 1)
    assert not torch.equal(h.layers["conv1"].weight, g.layers["conv1"].weight)
    recipe.load_gguf_into(h, str(tmp_path / "m.gguf"))
    for k, v in g.state_dict().items():
        assert torch.equal(h.state_dict()[k], v), k
    with pytest.raises(ValueError):
        recipe.load_gguf_into(nets.Generator(8, 0), str(tmp_path / "m.gguf"))
    if os.path.exists(DEFAULT_MODEL):  # the committed default model is a valid start
        from gimodel.gguf import read_gguf
        kv, _ = read_gguf(DEFAULT_MODEL)
        d = nets.Generator(kv["gatedinpaint.width"], kv["gatedinpaint.guide_channels"])
        recipe.load_gguf_into(d, DEFAULT_MODEL)


def test_cosine_learning_rate_schedule():
    import train as train_cli
    a = train_cli.parse_args(["--data", "d", "--out", "o", "--lr", "1e-3", "--lr-final", "1e-5",
                              "--steps", "100"])
    lrs = [train_cli.cosine_lr(a, s, 0.0) for s in range(0, 101, 10)]
    assert abs(lrs[0] - 1e-3) < 1e-12 and abs(lrs[-1] - 1e-5) < 1e-12
    assert abs(lrs[5] - (1e-3 + 1e-5) / 2) < 1e-12
    assert all(x > y for x, y in zip(lrs, lrs[1:]))
    b = train_cli.parse_args(["--data", "d", "--out", "o", "--lr", "1e-3", "--lr-final", "0",
                              "--minutes", "10"])
    assert abs(train_cli.cosine_lr(b, 0, 300.0) - 5e-4) < 1e-12  # by time without --steps


def test_spectral_norm_estimate_matches_largest_singular_value():
    torch.manual_seed(0)
    conv = nets.SNConv2d(32, 64, k=5, stride=2)
    conv.train()
    x = torch.randn(1, 32, 16, 16)
    for _ in range(30):  # one power iteration per training forward, u persists
        conv(x)
    w = conv.weight.detach().reshape(64, -1)
    true = torch.linalg.svdvals(w)[0].item()
    est = conv.sigma(update=False).item()
    assert abs(est - true) / true < 0.01, (est, true)
    # the normalised weight has spectral norm ~1
    assert abs(torch.linalg.svdvals(w / est)[0].item() - 1) < 0.01


def test_discriminator_output_is_a_patch_map():
    d = nets.Discriminator(5, cnum=8)
    y = d(torch.randn(2, 5, 128, 192))
    assert y.shape == (2, 32 * 2 * 3)
    assert nets.Discriminator(5, cnum=8, blur=True)(torch.randn(2, 5, 128, 192)).shape == y.shape


def test_blurred_discriminator_does_not_see_a_one_pixel_checkerboard():
    # the low-pass before each stride-2 convolution removes the pattern a stride-2
    # convolution aliases: a checkerboard added to the input changes nothing
    torch.manual_seed(0)
    x = torch.randn(1, 5, 64, 64)
    yy, xx = torch.meshgrid(torch.arange(64), torch.arange(64), indexing="ij")
    board = (((yy + xx) % 2) * 2 - 1).float() * 0.5
    for blur in (True, False):
        d = nets.Discriminator(5, cnum=8, blur=blur).eval()
        with torch.no_grad():
            change = (d(x + board) - d(x)).abs().max().item()
        assert (change < 1e-5) == blur, (blur, change)


def test_macs_by_part_match_the_convolutions_a_forward_pass_runs(monkeypatch):
    # the layer-table count (gimodel.deepfill.macs, docs/DEEPFILL_V2.md section 6) against
    # the convolutions the training network actually runs, counted from their output sizes
    from gimodel import deepfill
    seen = []
    real = nets.gated_conv

    def counting(x, weight, bias, layer):
        y = real(x, weight, bias, layer)
        seen.append(y.shape[2] * y.shape[3] * layer.cconv * layer.cin * layer.k ** 2)
        return y
    monkeypatch.setattr(nets, "gated_conv", counting)
    g = nets.Generator(8, 1)
    with torch.no_grad():
        g(torch.zeros(1, 6, 64, 96), torch.zeros(1, 1, 64, 96))
    parts = deepfill.macs(8, 1, 64, 96)
    assert len(seen) == 42
    assert sum(v for k, v in parts.items() if not k.startswith("CA ")) == sum(seen)
    p = 8 * 12  # (64 / 8) x (96 / 8) background patches
    assert parts["CA matching"] + parts["CA paste"] == p * p * 25 * 2 * 8
    assert nets.macs(16, 1, 256) == sum(deepfill.macs(16, 1, 256, 256).values()) - \
        deepfill.macs(16, 1, 256, 256)["CA fuse"]
    # the parameter count by part against the training network's own tensors
    assert sum(deepfill.parameters(8, 1).values()) == sum(p.numel() for p in g.parameters())


def test_gray_discriminator_gives_the_generator_no_colour_gradient():
    # the GAN term's gradient on the image is the same for R, G and B, so it cannot push
    # the fill towards a colour; the plain discriminator's gradient differs per channel
    torch.manual_seed(0)
    for gray in (True, False):
        d = nets.Discriminator(5, cnum=8, blur=True, gray=gray)
        x = torch.randn(2, 5, 64, 64, requires_grad=True)
        d(x).sum().backward()
        rgb = x.grad[:, :3]
        spread = (rgb - rgb.mean(1, keepdim=True)).abs().max().item()
        assert rgb.abs().max().item() > 0 and x.grad[:, 3:].abs().max().item() > 0
        assert (spread < 1e-7) == gray, (gray, spread)


# ---------------------------------------------------------------------------------------
# masks and data

@pytest.mark.parametrize("h,w", [(512, 768), (256, 256), (480, 640)])
def test_eval_masks_cover_5_to_20_percent_and_are_deterministic(h, w):
    ratios = []
    for seed in range(25):
        m = masks.eval_mask(h, w, seed)
        assert m.dtype == np.uint8 and set(np.unique(m)) <= {0, 255}
        ratios.append((m > 127).mean())
    assert min(ratios) >= 0.05 and max(ratios) <= 0.20
    assert np.array_equal(masks.eval_mask(h, w, 3), masks.eval_mask(h, w, 3))
    assert not np.array_equal(masks.eval_mask(h, w, 3), masks.eval_mask(h, w, 4))


def test_training_masks_ratio_in_range():
    rng = np.random.default_rng(0)
    strokes = [masks.training_mask(256, 256, rng, box_prob=0).mean() for _ in range(100)]
    both = [masks.training_mask(256, 256, rng, box_prob=1).mean() for _ in range(100)]
    assert min(strokes) > 0.005 and max(strokes) < 0.75
    assert 0.05 < np.mean(strokes) < 0.45
    assert min(both) >= 0.14 and max(both) < 0.85  # the box alone covers >= 14%
    assert np.mean(both) > np.mean(strokes)


def test_photo_crops(tmp_path):
    for i in range(2):
        cv2.imwrite(str(tmp_path / f"p{i}.jpg"), ref.random_image(300, 400, seed=i))
    ds = data.PhotoCrops(str(tmp_path), crop=96, guide_keep=0.5, seed=1)
    img, m, e, keep = next(data.batches(ds, 6))
    assert img.shape == (6, 3, 96, 96) and m.shape == e.shape == (6, 1, 96, 96)
    assert keep.shape == (6, 1, 1, 1)
    assert img.min() >= -1 and img.max() <= 1
    assert set(torch.unique(m).tolist()) <= {0.0, 1.0}
    assert set(torch.unique(e).tolist()) <= {0.0, 1.0}


def _twins(image, mask, grow=2):
    """Top-left corners of the places in image (uint8 HxWx3) that hold exactly the hole's
    bounding box grown by grow px, the hole's own place included."""
    ys, xs = np.nonzero(mask > 0.5)
    y0, x0 = max(ys.min() - grow, 0), max(xs.min() - grow, 0)
    y1, x1 = ys.max() + grow + 1, xs.max() + grow + 1
    block = image[y0:y1, x0:x1]
    bh, bw = block.shape[:2]
    found = []
    for y, x in zip(*np.nonzero((image == block[0, 0]).all(2))):
        if y + bh <= image.shape[0] and x + bw <= image.shape[1] and \
                np.array_equal(image[y:y + bh, x:x + bw], block):
            found.append((int(y - y0), int(x - x0)))
    return found, (bh, bw)


def test_copy_scene_gives_the_hole_and_its_ring_an_exact_twin_in_the_crop():
    patch = np.random.default_rng(0).integers(0, 256, (256, 256, 3), dtype=np.uint8)
    shapes = set()
    for k in range(16):
        image, mask, offset = data.copy_scene(patch, np.random.default_rng(k))
        hole = mask > 0.5
        ys, xs = np.nonzero(hole)
        assert ys.max() - ys.min() < 96 and xs.max() - xs.min() < 96
        shapes.add(bool(hole.sum() == (ys.ptp() + 1) * (xs.ptp() + 1)))  # box or strokes
        offsets, (bh, bw) = _twins(image, mask)
        twin = [o for o in offsets if o != (0, 0)]
        assert (0, 0) in offsets and len(twin) == 1     # noise: the copy is the only twin
        dy, dx = twin[0]
        assert offset == (dy, dx)
        assert abs(dy) >= bh or abs(dx) >= bw            # apart from the hole
        assert dy % data.COPY_STEP == 0 and dx % data.COPY_STEP == 0  # on the attention's grid
        # only the pasted block changed: the hole, its 8-20 px ring, at most 96 + 40 px
        cy, cx = np.nonzero((image != patch).any(2))
        assert cy.min() <= ys.min() - 8 and cy.max() >= ys.max() + 8
        assert cx.min() <= xs.min() - 8 and cx.max() >= xs.max() + 8
        assert cy.ptp() < 136 and cx.ptp() < 136
    assert shapes == {True, False}
    assert data.copy_scene(patch[:60, :60], np.random.default_rng(0)) is None  # no room


def test_photo_crops_copy_share_makes_copy_scenes(tmp_path):
    noise = np.random.default_rng(1).integers(0, 256, (300, 300, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "n.png"), noise)
    base = dict(crop=256, scale=(1.0, 1.0), guide_keep=1.0, guide_shift=1.0, shift_px=8,
                seed=0)
    copied = 0
    for share in (0.0, 1.0):
        ds = data.PhotoCrops(str(tmp_path), copy_share=share, **base)
        for k in range(8):
            img, m, e, _ = ds.sample(np.random.default_rng(k))
            rgb = np.rint((img.numpy().transpose(1, 2, 0) + 1) * 127.5).astype(np.uint8)
            twin = [o for o in _twins(rgb, m[0].numpy())[0] if o != (0, 0)]
            copied += share == 1.0 and len(twin) == 1
            assert share == 1.0 or not twin
            # the guide is the scene's own edges
            assert torch.equal(e[0], torch.from_numpy((data.edge_map(rgb) > 0)
                                                      .astype(np.float32)))
    assert copied == 8


def test_displace_hole_moves_only_the_hole_content():
    # vertical stripes 8 px wide: a displacement of 4 px to the right inverts them
    c, m = 32, 6
    big = np.zeros((c + 2 * m, c + 2 * m, 3), np.uint8)
    big[:, (np.arange(c + 2 * m) // 8) % 2 == 1] = 200
    mask = np.zeros((c, c), np.float32)
    mask[8:24, 8:24] = 1
    known = big[m:m + c, m:m + c]
    for taper in (0, 4):
        target, source = data.displace_hole(big, mask, m, 4, 0, taper)
        assert np.array_equal(target[mask == 0], known[mask == 0])
        deep = mask.copy() if taper == 0 else np.pad(mask[12:20, 12:20], 12)
        assert np.array_equal(target[deep > 0], big[m:m + c, m + 4:m + 4 + c][deep > 0])
        assert not np.array_equal(target[deep > 0], known[deep > 0])
        if taper == 0:  # the guide's source: the displaced image everywhere (no seam)
            assert np.array_equal(source, big[m:m + c, m + 4:m + 4 + c])


def test_photo_crops_make_the_filled_input_in_the_workers(tmp_path):
    img = np.zeros((300, 400, 3), np.uint8)                 # stripes: outlines to guide by
    img[:, (np.arange(400) // 40) % 2 == 1] = (220, 200, 180)
    cv2.imwrite(str(tmp_path / "p.png"), img)
    base = dict(crop=64, box_prob=1.0, guide_keep=0.7, seed=4)
    image, mask, edge, keep, rgb = next(data.batches(
        data.PhotoCrops(str(tmp_path), input_fill="guided_pushpull", **base), 8))
    assert torch.equal(image, next(data.batches(data.PhotoCrops(str(tmp_path), **base), 8))[0])
    guided = nets.fill_rgb(image, mask, edge * keep * mask, "guided_pushpull")
    plain = nets.fill_rgb(image, mask, None, "pushpull")
    assert (rgb - guided).abs().max() < 1e-6
    warped = next(data.batches(data.PhotoCrops(str(tmp_path), input_fill="ring_warp",
                                               **base), 8))[4]
    assert (warped - nets.fill_rgb(image, mask, edge * keep * mask, "ring_warp")).abs().max() \
        < 1e-6
    assert (guided - plain).abs().amax((1, 2, 3)).gt(0.1).any()  # the guide mattered
    assert (guided - plain)[keep[:, 0, 0, 0] == 0].abs().max() < 1e-6  # dropped: plain
    # a generator without a guide channel gets plain pushpull
    no_guide = next(data.batches(data.PhotoCrops(str(tmp_path), input_fill="guided_pushpull",
                                                 guide=False, **base), 8))[4]
    assert (no_guide - plain).abs().max() < 1e-6
    # the network sees the same input either way
    torch.manual_seed(0)
    g = nets.Generator(8, 1, input_fill="guided_pushpull", residual=True)
    with torch.no_grad():
        a = recipe.forward_g(g, image, mask, edge, keep)
        b = recipe.forward_g(g, image, mask, edge, keep, False, rgb)
        c = recipe.forward_g(g, image, mask, edge, keep, False, torch.zeros_like(rgb))
    assert all((x - y).abs().max() < 1e-5 for x, y in zip(a[:3], b[:3]))
    assert (a[1] - c[1]).abs().max() > 0.1                      # and it is the one given
    # train.py's options reach the samples
    args = {"crop": 64, "scale_min": 0.35, "scale_max": 0.9, "guide_keep": 0.7,
            "box_prob": 1.0, "min_width": 12, "max_width": 40, "input_fill": "pushpull",
            "guide": 1}
    assert len(data.PhotoCrops.from_args(str(tmp_path), args, 0).sample(
        np.random.default_rng(0))) == 5
    assert len(data.PhotoCrops.from_args(str(tmp_path), {**args, "family": "pconv_unet"},
                                         0).sample(np.random.default_rng(0))) == 4


def test_photo_crops_guide_shift_moves_guided_holes_and_their_guide(tmp_path):
    # vertical stripes: in an unmoved crop every hole pixel has its column's known colour
    img = np.zeros((300, 400, 3), np.uint8)
    img[:, (np.arange(400) // 40) % 2 == 1] = (220, 200, 180)
    cv2.imwrite(str(tmp_path / "p.png"), img)

    def look(ds, k):
        t, m, e, keep = ds.sample(np.random.default_rng(k))
        u8 = ((t.numpy().transpose(1, 2, 0) + 1) * 127.5).round().astype(np.int16)[:, :, 0]
        hole = m[0].numpy() > 0.5
        cols = [x for x in range(u8.shape[1]) if hole[:, x].any() and (~hole[:, x]).any()]
        same = np.mean([np.abs(u8[hole[:, x], x] - np.median(u8[~hole[:, x], x])).max() < 3
                        for x in cols])
        # guide pixels in the hole sit on the (possibly moved) content's outlines
        gx = np.abs(np.diff(u8, axis=1, prepend=u8[:, :1]))
        near = cv2.dilate((gx > 40).astype(np.uint8), np.ones((1, 7), np.uint8)) > 0
        on = (e[0].numpy() > 0) & hole
        return same, (near[on].mean() if on.any() else 1.0), keep.item()

    plain = data.PhotoCrops(str(tmp_path), crop=64, guide_keep=1.0, box_prob=1.0, seed=2)
    moved = data.PhotoCrops(str(tmp_path), crop=64, guide_keep=1.0, box_prob=1.0,
                            guide_shift=1.0, seed=2)
    unguided = data.PhotoCrops(str(tmp_path), crop=64, guide_keep=0.0, box_prob=1.0,
                               guide_shift=1.0, seed=2)
    n = 16
    assert all(look(plain, k)[0] == 1.0 for k in range(n))
    assert all(look(unguided, k)[0] == 1.0 for k in range(n))  # no guide, nothing moved
    res = [look(moved, k) for k in range(n)]
    assert sum(same < 0.9 for same, _, _ in res) >= n // 2
    assert all(on_outline > 0.9 for _, on_outline, _ in res)
    # a photo without outlines (a soft wave, no guide edges at any scale): nothing moves,
    # since the guide could not say where the content went
    x = np.arange(400)
    wave = (128 + 40 * np.sin(2 * np.pi * x / 120)).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "p.png"), np.repeat(np.repeat(wave[None, :, None], 300, 0), 3, 2))
    soft = data.PhotoCrops(str(tmp_path), crop=64, guide_keep=1.0, box_prob=1.0,
                           guide_shift=1.0, seed=2)
    assert all(look(soft, k)[0] == 1.0 for k in range(n))


def test_outline_scene_moves_the_outline_in_the_hole_only_and_draws_it_there():
    c = 64
    black, white = np.zeros((c, c, 3), np.uint8), np.full((c, c, 3), 255, np.uint8)
    mask = np.zeros((c, c), np.float32)
    mask[16:48, 16:48] = 1
    hole = mask > 0.5
    moved_any = drawn = 0
    for k in range(20):
        for taper in (0.0, 6.0):
            # shift_px 0 draws the same random numbers: the outline as it continues
            still, line0 = data.outline_scene(black, white, mask, np.random.default_rng(k), 0,
                                              taper)
            img, line = data.outline_scene(black, white, mask, np.random.default_rng(k), 20,
                                           taper)
            assert np.array_equal(img[~hole], still[~hole])   # the known pixels stay
            away = cv2.dilate(hole.astype(np.uint8), np.ones((3, 3), np.uint8)) == 0
            assert np.array_equal(line[away], line0[away])
            moved_any += (np.abs(img[hole].astype(int) - still[hole]) > 127).mean() > 0.1
            # the line is the image's outline: black on one side, white on the other
            g = img[:, :, 0].astype(np.int16)
            step = np.maximum(np.abs(np.diff(g, axis=0, prepend=g[:1])),
                              np.abs(np.diff(g, axis=1, prepend=g[:, :1])))
            near = cv2.dilate((step > 60).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
            on = (line > 0) & hole
            assert near[on].all()
            drawn += on.sum() >= 8   # else the line moved out of the hole
            # and it is all the guide holds: one line, not the patches' texture edges
            assert (line > 0).sum() < 3 * 2 * c
    assert moved_any >= 20 and drawn >= 30


def test_photo_crops_guide_outline_replaces_guided_samples_only(tmp_path):
    cv2.imwrite(str(tmp_path / "p.png"), ref.random_image(300, 400, seed=3))
    base = dict(crop=64, box_prob=1.0, seed=2)
    for keep in (1.0, 0.0):
        ds = data.PhotoCrops(str(tmp_path), guide_keep=keep, guide_outline=1.0, **base)
        plain = data.PhotoCrops(str(tmp_path), guide_keep=keep, **base)
        drawn = 0
        for k in range(16):
            t, m, e, _ = ds.sample(np.random.default_rng(k))
            t0, m0, e0, _ = plain.sample(np.random.default_rng(k))
            assert torch.equal(m, m0)
            if not torch.equal(t, t0):
                # the scene's guide is its outline, not the photo's edges
                assert not torch.equal(e, e0) and ((e > 0) & (m > 0)).sum() >= 24
                drawn += 1
        # guided samples become scenes unless the moved line left the hole; unguided stay
        assert drawn >= 12 if keep else drawn == 0


def test_fixed_val_set_takes_photos_smaller_than_its_crop(tmp_path):
    # a 160x400 photo at scale 0.6 is 96 px high: it is enlarged until 128 fits
    cv2.imwrite(str(tmp_path / "small.jpg"), ref.random_image(160, 400, seed=3))
    cv2.imwrite(str(tmp_path / "big.jpg"), ref.random_image(600, 800, seed=4))
    img, m, e = data.fixed_val_set(str(tmp_path), n=4, crop=128)[:3]
    assert img.shape == (4, 3, 128, 128) and m.shape == (4, 1, 128, 128)


def test_pushpull_fills_only_the_holes_smoothly():
    torch.manual_seed(2)
    h, w = 37, 50  # odd sizes: the pyramid pads
    yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float32),
                            torch.arange(w, dtype=torch.float32), indexing="ij")
    ramp = (0.02 * xx - 0.01 * yy)[None, None].repeat(1, 3, 1, 1)
    valid = torch.ones(1, 1, h, w)
    valid[:, :, 10:25, 12:30] = 0
    out = nets.pushpull(ramp, valid)
    assert torch.equal(out * valid, ramp * valid)  # valid pixels untouched
    hole = valid[0, 0] == 0
    # a constant stays constant; a ramp is interpolated, not zeroed
    assert torch.allclose(nets.pushpull(torch.full_like(ramp, 0.3), valid), torch.full_like(ramp, 0.3))
    err = (out - ramp)[0, 0][hole].abs()
    assert err.mean() < 0.1 * ramp[0, 0][hole].abs().mean() + 0.02
    assert err.max() < 0.15
    assert torch.equal(nets.pushpull(ramp, torch.zeros_like(valid)), torch.zeros_like(ramp))


def test_residual_generator_starts_from_its_input_and_init_zeroes_outputs(tmp_path):
    img, m, e, _ = _batch(2, 48)
    x_in = nets.make_input(img, m, e, "pushpull")
    g = nets.Generator(8, 1, input_fill="pushpull", residual=True)
    with torch.no_grad():
        x1, x2 = g(x_in, m)
    assert torch.allclose(x1, x_in[:, :3]) and torch.allclose(x2, x_in[:, :3])
    # an image model loaded into a residual generator: outputs zeroed, the rest kept
    src = _trained_generator()
    recipe.export_gguf(src, str(tmp_path / "m.gguf"), dtype="f32", name="t", license="x")
    h = nets.Generator(8, 1, residual=True)
    recipe.load_gguf_into(h, str(tmp_path / "m.gguf"))
    assert h.layers["conv17"].weight.abs().sum() == 0
    assert torch.equal(h.layers["conv1"].weight, src.layers["conv1"].weight)


def test_make_input_pushpull_fills_the_colour_planes():
    img, m, e, _ = _batch(2, 48)
    z = nets.make_input(img, m, e)
    p = nets.make_input(img, m, e, "pushpull")
    assert torch.equal(z[:, 3:], p[:, 3:])
    assert torch.equal(z[:, :3] * (1 - m), p[:, :3] * (1 - m))
    assert (p[:, :3] * m).abs().sum() > 0 and (z[:, :3] * m).abs().sum() == 0


def test_guided_pushpull_does_not_fill_across_guide_edges():
    # left half of the image one colour, right half another; a hole across the middle
    # split by a guide line at column 12 (the true colour edge is at 16)
    x = torch.zeros(1, 3, 24, 32)
    x[:, 0, :, :16], x[:, 1, :, 16:] = 0.8, -0.6
    hole = torch.zeros(1, 1, 24, 32)
    hole[:, :, 6:18, 4:28] = 1
    edge = torch.zeros_like(hole)
    edge[:, :, :, 12] = 1
    plain = nets.pushpull(x, 1 - hole)
    assert torch.equal(nets.guided_pushpull(x, 1 - hole, torch.zeros_like(hole)), plain)
    out = nets.guided_pushpull(x, 1 - hole, edge * hole)
    assert torch.equal(out * (1 - hole), x * (1 - hole))      # only holes are written
    left = out[0, :, 6:18, 4:12]
    assert torch.allclose(left, x[0, :, 6:18, 4:5].expand_as(left))   # left colour only
    # right region: known border is left-coloured on columns 12-15, right-coloured after
    right = out[0, :, 6:18, 13:28]
    assert (right[1] < 0).all() and (plain[0, 1, 6:18, 13:16] > right[1, :, :3]).all()
    line = out[0, :, 6:18, 12]
    assert ((line[0] > right[0, :, 0]) & (line[0] < left[0, :, -1])).all()   # in between
    # a region that touches no known pixel keeps plain pushpull
    ring = torch.zeros_like(hole)
    ring[:, :, 2:22, 2:30] = 1
    ring[:, :, 4:20, 4:28] = 0                     # a closed guide square inside the hole
    hole2 = torch.zeros_like(hole)
    hole2[:, :, 1:23, 1:31] = 1
    out2 = nets.guided_pushpull(x, 1 - hole2, ring)
    inner = (hole2 - ring)[0, 0].bool()
    inner[:4] = inner[20:] = False
    inner[:, :4] = inner[:, 28:] = False
    assert torch.equal(out2[0][:, inner], nets.pushpull(x, 1 - hole2)[0][:, inner])


def test_ring_warp_fill_moves_the_outline_to_a_drawn_line():
    # left colour on columns < 48, right colour after; a 20 x 64 hole across the edge
    x = torch.zeros(1, 3, 40, 96)
    x[:, 0, :, :48], x[:, 1, :, 48:] = 0.8, -0.6
    hole = torch.zeros(1, 1, 40, 96)
    hole[:, :, 10:30, 16:80] = 1
    assert torch.equal(nets.ring_warp_fill(x, 1 - hole, torch.zeros_like(hole)),
                       nets.pushpull(x, 1 - hole))
    for col in (40, 48, 56):                   # a line left of the edge, on it, right of it
        edge = torch.zeros_like(hole)
        edge[:, :, :, col] = 1
        out = nets.ring_warp_fill(x, 1 - hole, edge * hole)
        assert torch.equal(out * (1 - hole), x * (1 - hole))   # only holes are written
        # red per column, but for the one beside the line (its border pixels' 7 x 7 means
        # reach across): 0.8 left of the line, 0 right of it
        guided = nets.guided_pushpull(x, 1 - hole, edge * hole)
        if col == 48:  # the line meets its outline: nothing moves, the guided fill stays
            assert torch.equal(out, guided)
            continue
        cols, g = out[0, 0, 10:30].mean(0), guided[0, 0, 10:30].mean(0)
        assert (cols[16:col - 1] > 0.6).all() and (cols[col + 2:80] < 0.3).all(), col
        # guided push-pull keeps the other side's colour near the known edge
        assert not ((g[16:col - 1] > 0.6).all() and (g[col + 2:80] < 0.3).all())


def test_border_loop_and_warp():
    box = np.zeros((8, 10), bool)
    box[2:5, 3:7] = True
    assert list(zip(*nets._border_loop(box))) == [
        (2, 3), (2, 4), (2, 5), (2, 6), (3, 6), (4, 6), (4, 5), (4, 4), (4, 3), (3, 3)]
    tee = np.zeros((6, 6), bool)
    tee[1, 1:5] = True
    tee[2:5, 2] = True                          # one pixel wide: walked out and back
    assert list(zip(*nets._border_loop(tee))) == [
        (1, 1), (1, 2), (1, 3), (1, 4), (1, 3), (2, 2), (3, 2), (4, 2), (3, 2), (2, 2)]
    dot = np.zeros((5, 5), bool)
    dot[2, 2] = True
    assert [a.tolist() for a in nets._border_loop(dot)] == [[2], [2]]
    assert nets._loop_warp([], 20).tolist() == list(range(20))
    t = nets._loop_warp([(50, 10)], 200)            # fading to 0 at 48 px from p
    assert t[50] == 60 and t[74] == 79 and t[26] == 31 and t[98] == 98 and t[150] == 150
    t = nets._loop_warp([(5, 12), (150, -12)], 200)  # summed, around the loop's wrap
    assert t[5] == 17 and t[150] == 138 and t[195] == 4
    # each line's end moves to its nearest outline
    step = np.zeros(40)
    step[[12, 30]] = 1.0
    touch = np.zeros(40, bool)
    touch[[8, 34]] = True
    assert nets._loop_anchors(touch, step, 40) == [(8, 4), (34, -4)]
    # an anchor whose target would not come after its neighbour's is left unmoved
    crossing = np.zeros(80)
    crossing[40] = 1.0
    near = np.zeros(80, bool)
    near[[10, 14]] = True                       # both ends reach for the outline at 40
    assert nets._loop_anchors(near, crossing, 80) == [(10, 30), (14, 0)]
    touch[:] = False
    touch[[13, 14]] = True                      # one run; its middle is 14, the step at 12
    assert nets._loop_anchors(touch, step, 40) == [(14, -2)]
    # a line on an outline of its own stays there, though a stronger one is near
    step[:] = 0
    step[[20, 30]] = 0.5, 1.0
    touch[:] = False
    touch[21] = True
    assert nets._loop_anchors(touch, step, 40) == [(21, -1)]
    step[20] = 0.2                              # too weak to be the line's own
    assert nets._loop_anchors(touch, step, 40) == [(21, 9)]
    touch[30] = True                            # but another line meets that outline
    assert nets._loop_anchors(touch, step, 40) == [(21, 0), (30, 0)]


def test_guided_pushpull_needs_a_guide_channel():
    with pytest.raises(ValueError, match="guide channel"):
        nets.Generator(8, 0, input_fill="guided_pushpull")


# ---------------------------------------------------------------------------------------
# export -> C library

def _trained_generator(width=8, guide=1, input_fill="zeros", residual=False):
    torch.manual_seed(0)
    g, d = recipe.make_nets(width, guide, d_width=8, input_fill=input_fill, residual=residual)
    opt_g, opt_d = recipe.make_optimizers(g, d, lr=1e-3)
    recipe.train_step(g, d, opt_g, opt_d, _batch(2, 64))
    return g


@pytest.mark.skipif(not DRIVER, reason="GI_PARITY_DRIVER is not set (meson test train)")
@pytest.mark.parametrize("dtype,fill,residual", [
    ("f32", "zeros", False), ("f16", "zeros", False), ("f32", "pushpull", False),
    ("f16", "pushpull", True), ("f32", "zeros", True), ("f32", "guided_pushpull", True),
    ("f32", "ring_warp", True)])
def test_export_runs_identically_in_the_c_library(tmp_path, dtype, fill, residual):
    g = _trained_generator(input_fill=fill, residual=residual)
    path = str(tmp_path / "m.gguf")
    recipe.export_gguf(g, path, dtype=dtype, name="test", license="Apache-2.0")
    h, w = 61, 75
    img = ref.random_image(h, w, seed=5)
    mask = ref.stroke_mask(h, w, seed=6)
    guide = data.edge_map(img)
    ys, xs = np.nonzero(mask > 127)                 # drawn lines through the hole: the edge
    cy, cx = int(np.median(ys)), int(np.median(xs))  # map of random noise has few edges there
    cv2.line(guide, (cx - 6, 0), (cx + 6, h - 1), 255, 1)
    cv2.line(guide, (0, cy), (w - 1, cy - 4), 255, 2)
    for name, arr in (("image", img), ("mask", mask), ("guide", guide)):
        arr.tofile(tmp_path / f"{name}.u8")
    p = subprocess.run([DRIVER, path, "1", str(h), str(w), "3", str(tmp_path / "image.u8"),
                        str(tmp_path / "mask.u8"), str(tmp_path / "guide.u8"), str(tmp_path)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    hn, wn = (int(v) for v in p.stdout.split())
    c2 = np.fromfile(tmp_path / "x_stage2.f32", np.float32).reshape(hn, wn, 3)
    weights = g.export_weights()
    if dtype == "f16":
        weights = {k: v.astype(np.float16).astype(np.float32) for k, v in weights.items()}
    x_in, hole = ref.prepare(img, mask, guide, guide_channels=1)
    if fill == "pushpull":
        x_in[:, :3] = nets.pushpull(x_in[:, :3], 1 - hole)
    if fill == "guided_pushpull":
        assert (x_in[:, 3] * hole[:, 0]).sum() > 20   # guide pixels inside the hole
        plain = nets.pushpull(x_in[:, :3], 1 - hole)
        x_in[:, :3] = nets.guided_pushpull(x_in[:, :3], 1 - hole, x_in[:, 3:4])
        assert (x_in[:, :3] - plain).abs().max() > 0.05  # the guide changed the pre-fill
    if fill == "ring_warp":
        guided = nets.guided_pushpull(x_in[:, :3], 1 - hole, x_in[:, 3:4])
        x_in[:, :3] = nets.ring_warp_fill(x_in[:, :3], 1 - hole, x_in[:, 3:4])
        assert (x_in[:, :3] - guided).abs().max() > 0.05  # not the guided fill
    gen = nets.Generator(8, 1, residual=residual)
    gen.load_state_dict({"layers." + k: torch.from_numpy(v) for k, v in weights.items()})
    with torch.no_grad():
        _, t2 = gen(x_in, hole)
    assert np.abs(ref.to_hwc(t2) - c2).max() <= 1e-4
    out = np.fromfile(tmp_path / "out.u8", np.uint8).reshape(h, w, 3)
    want = ref.compose_output(img, mask, ref.to_hwc(t2))
    assert np.abs(out.astype(int) - want).max() <= 1


@pytest.mark.skipif(not LIBRARY, reason="GI_LIBRARY is not set (meson test train)")
@pytest.mark.skipif(not os.path.exists(DEFAULT_MODEL), reason="no models/default.gguf")
def test_default_model_is_embedded():
    import gilib
    img = ref.random_image(40, 56, seed=9)
    mask = ref.stroke_mask(40, 56, seed=10)
    embedded = gilib.Inpainter(None, lib=LIBRARY)
    from_file = gilib.Inpainter(DEFAULT_MODEL, lib=LIBRARY)
    a, b = embedded(img, mask), from_file(img, mask)
    assert np.array_equal(a, b)
    assert np.array_equal(a[mask <= 127], img[mask <= 127])
    embedded.close()
    from_file.close()


@pytest.mark.skipif(not LIBRARY, reason="GI_LIBRARY is not set (meson test train)")
def test_crops_figure_shows_each_case_beside_telea_and_the_truth(tmp_path):
    import crops_figure
    for i in range(2):
        cv2.imwrite(str(tmp_path / f"photo{i}.png"), ref.random_image(256, 384, seed=i))
    out = tmp_path / "crops.png"
    assert crops_figure.main(["--photos", str(tmp_path), "--case", "photo1:box",
                              "--case", "photo0:stroke1", "--model", "default",
                              "--model", f"same={DEFAULT_MODEL}", "--size", "384x256",
                              "--crop", "96", "--lib", LIBRARY, "-o", str(out)]) == 0
    fig = cv2.imread(str(out))
    assert fig.shape == (2 * 2 * 96, 4 * 2 * 96, 3)  # 2 cases; Telea, 2 models, truth; 2x
    # the last column is the truth, uncut: its crop around the box is in the photo
    gt = cv2.resize(cv2.imread(str(tmp_path / "photo1.png")), (384, 256))
    box = crops_figure.case_mask("box", 1, 256, 384)
    sy, sx = crops_figure.crop_box(box, 96)
    assert (box[sy, sx] > 127).sum() == (box > 127).sum() > 0  # the whole hole is shown
    want = cv2.resize(gt[sy, sx], None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
    assert np.array_equal(fig[40:192, 3 * 192:], want[40:])  # below the label
    # --strategy: the model's column is the library's fill with that strategy
    import gilib
    out.unlink()  # not a photo: it would renumber the photos, and the masks with them
    out = tmp_path / "figures" / "crops.png"
    out.parent.mkdir()
    inp = gt[:, :, ::-1].copy()
    inp[box > 127] = 0
    cols = {}
    for strategy in ("exact", "regions"):
        assert crops_figure.main(["--photos", str(tmp_path), "--case", "photo1:box",
                                  "--model", "default", "--size", "384x256", "--crop", "96",
                                  "--strategy", strategy, "--lib", LIBRARY, "-o", str(out)]) == 0
        cols[strategy] = cv2.imread(str(out))[40:192, 192:384]
        m = gilib.Inpainter(None, lib=LIBRARY, strategy=strategy)
        fill = cv2.resize(m(inp, box)[sy, sx][:, :, ::-1], None, fx=2, fy=2,
                          interpolation=cv2.INTER_NEAREST)
        m.close()
        assert np.abs(cols[strategy].astype(int) - fill[40:]).mean() < 2  # JPEG
    assert np.abs(cols["exact"].astype(int) - cols["regions"]).mean() > 2
    with pytest.raises(SystemExit, match="no photo"):
        crops_figure.main(["--photos", str(tmp_path), "--case", "nothere:box", "--model",
                           "default", "--lib", LIBRARY, "-o", str(out)])


def test_train_cli_runs_resumes_and_exports(tmp_path):
    import train as train_cli
    import export as export_cli
    from gimodel.gguf import read_gguf
    for split in ("train", "val"):
        (tmp_path / split).mkdir()
        for i in range(2):
            cv2.imwrite(str(tmp_path / split / f"p{i}.jpg"),
                        ref.random_image(460, 640, seed=i + (split == "val") * 10))
    run = tmp_path / "run"
    common = ["--data", str(tmp_path), "--out", str(run), "--width", "8", "--crop", "64",
              "--batch", "2", "--d-width", "8", "--threads", "1", "--no-progress",
              "--val-every", "1", "--sample-every", "2", "--device", "cpu",
              "--val-n", "2", "--val-crop", "64", "--ema", "0.5"]
    assert train_cli.main(common + ["--steps", "2"]) == 0
    assert train_cli.main(common + ["--steps", "3", "--export", str(tmp_path / "a.gguf"),
                                    "--snapshot-every", "3"]) == 0
    assert (tmp_path / "a-raw.gguf").exists()   # with --ema, the trained weights beside
    assert sorted(f for f in os.listdir(run) if f.startswith("snap-")) == \
        ["snap-0000003-raw.gguf", "snap-0000003.gguf"]
    log = (run / "log.tsv").read_text().splitlines()
    assert [line.split("\t")[0] for line in log[1:]] == ["1", "2", "3"]  # resumed at 2
    assert (run / "samples" / "step0000002.jpg").exists()
    head, row = log[0].split("\t"), dict(zip(log[0].split("\t"), log[-1].split("\t")))
    assert head[-3:] == ["val_psnr", "val_detail", "val_colour"]
    assert 0 < float(row["val_psnr"]) < 60 and 0 <= float(row["val_detail"]) < 5
    assert export_cli.main([str(run / "last.pt"), "-o", str(tmp_path / "b.gguf")]) == 0
    (_, ta), (kv, tb) = read_gguf(str(tmp_path / "a.gguf")), read_gguf(str(tmp_path / "b.gguf"))
    assert kv["gatedinpaint.train.steps"] == 3
    assert kv["general.license"] == "Apache-2.0"
    assert kv["gatedinpaint.channel_order"] == "rgb"
    assert ta == tb
    assert read_gguf(str(run / "snap-0000003.gguf"))[1] == ta  # the snapshot at the last step
    # the export is the moving average; --raw gives the trained weights, which differ
    assert export_cli.main([str(run / "last.pt"), "-o", str(tmp_path / "c.gguf"), "--raw"]) == 0
    _, tc = read_gguf(str(tmp_path / "c.gguf"))
    assert tc != ta
    assert read_gguf(str(run / "snap-0000003-raw.gguf"))[1] == tc  # the snapshot's, too
    assert read_gguf(str(tmp_path / "a-raw.gguf"))[1] == tc
    assert "moving average" in kv["gatedinpaint.train.recipe"]


def test_train_cli_saves_and_exports_on_sigterm(tmp_path):
    import signal
    import time
    from gimodel.gguf import read_gguf
    for split in ("train", "val"):
        (tmp_path / split).mkdir()
        cv2.imwrite(str(tmp_path / split / "p.jpg"), ref.random_image(200, 240, seed=5))
    run = tmp_path / "run"
    p = subprocess.Popen(
        [sys.executable, os.path.join(_ROOT, "tools", "train", "train.py"), "--data", str(tmp_path),
         "--out", str(run), "--width", "8", "--crop", "64", "--batch", "2", "--d-width", "8",
         "--threads", "1", "--no-progress", "--device", "cpu", "--val-n", "1",
         "--val-crop", "64", "--val-every", "1", "--steps", "100000",
         "--input-fill", "ring_warp", "--residual", "--export", str(tmp_path / "m.gguf")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log = run / "log.tsv"
    deadline = time.time() + 120
    while time.time() < deadline and p.poll() is None and \
            not (log.exists() and len(log.read_text().splitlines()) >= 3):
        time.sleep(0.2)
    p.send_signal(signal.SIGTERM)
    out = p.communicate(timeout=120)[0]
    assert p.returncode == 0, out
    assert "(SIGTERM)" in out
    summary = json.loads((run / "summary.json").read_text())
    assert summary["sigterm"] and 2 <= summary["step"] < 100000
    kv = read_gguf(str(tmp_path / "m.gguf"))[0]
    assert kv["gatedinpaint.train.steps"] == summary["step"]
    assert kv["gatedinpaint.input_fill"] == "ring_warp"   # the CLI takes every model fill
    assert torch.load(run / "last.pt", weights_only=False)["step"] == summary["step"]


def test_train_cli_discriminator_lr_ratio_and_cpu_clock(tmp_path):
    import train as train_cli
    for split in ("train", "val"):
        (tmp_path / split).mkdir()
        cv2.imwrite(str(tmp_path / split / "p.jpg"), ref.random_image(200, 240, seed=3))
    run = tmp_path / "run"
    args = ["--data", str(tmp_path), "--out", str(run), "--width", "8", "--crop", "64",
            "--batch", "2", "--d-width", "8", "--threads", "1", "--no-progress",
            "--device", "cpu", "--val-n", "1", "--val-crop", "64", "--lr", "1e-3",
            "--lr-final", "1e-4", "--d-lr-ratio", "4", "--clock", "cpu"]
    assert train_cli.main(args + ["--steps", "2"]) == 0
    st = torch.load(run / "last.pt", weights_only=False)
    lr_g = st["opt_g"]["param_groups"][0]["lr"]
    assert 1e-4 < lr_g < 1e-3  # the cosine schedule has started
    assert st["opt_d"]["param_groups"][0]["lr"] == pytest.approx(4 * lr_g)
    assert st["args"]["clock"] == "cpu" and st["elapsed"] > 0
    # the discriminator probe reads the same checkpoint
    import probe_discriminator
    r = probe_discriminator.probe(str(run / "last.pt"), str(tmp_path), n=2)
    assert r["step"] == 2 and r["real"].shape == r["fake"].shape and r["real"].shape[0] == 2
    want = torch.relu(1 - r["real"]).mean() + torch.relu(1 + r["fake"]).mean()
    assert abs(r["hinge"] - want.item()) < 1e-6 and 0 < r["hinge"] < 4
    assert not torch.equal(r["real"], r["fake"])  # the filled crops are not the real ones
    # a discriminator warm-up needs the GAN term from the start
    with pytest.raises(SystemExit, match="--d-warmup"):
        train_cli.main(args + ["--out", str(tmp_path / "w"), "--d-warmup", "5",
                               "--gan-weight", "0"])
    # a discriminator of another kind is not resumed
    with pytest.raises(SystemExit, match="d_blur"):
        train_cli.main(args + ["--steps", "3", "--d-blur"])
    with pytest.raises(SystemExit, match="d_gray"):
        train_cli.main(args + ["--steps", "3", "--d-gray"])
    with pytest.raises(SystemExit, match="residual"):  # the generator's too
        train_cli.main(args + ["--steps", "3", "--residual"])
    # the moved guided holes and the drawn outlines reach the data
    seen = {}
    real = data.PhotoCrops.__init__

    def spy(self, *a, **kw):
        seen.update(kw)
        real(self, *a, **kw)
    data.PhotoCrops.__init__ = spy
    try:
        assert train_cli.main(args + ["--out", str(tmp_path / "s"), "--steps", "1",
                                      "--guide-shift", "0.4", "--shift-px", "9",
                                      "--guide-outline", "0.3"]) == 0
    finally:
        data.PhotoCrops.__init__ = real
    assert seen["guide_shift"] == 0.4 and seen["shift_px"] == 9
    assert seen["guide_outline"] == 0.3
    # the elapsed time was counted on the CPU clock: resuming on the wall clock is refused
    wall = args[:-1] + ["wall"]
    with pytest.raises(SystemExit, match="--clock cpu"):
        train_cli.main(wall + ["--steps", "3"])


def test_guide_figure_finds_the_outline_column():
    import eval_quality
    h, w, cx, cy, hole = 200, 300, 150, 100, 64
    for col in (130, 150, 171):
        img = np.zeros((h, w, 3), np.uint8)
        img[:, :col] = (120, 110, 100)
        img[:, col:] = (40, 90, 200)
        got = eval_quality.boundary_column(img, cx, cy, hole)
        assert abs(got - col) < 0.5, (col, got)
        assert eval_quality.step_column(img, cx, cy, hole) == col
    # a step from the left colour to a blend (0.6 left + 0.4 right) at column 130, the
    # right colour only past the hole (118-181): boundary_column sees no outline in the
    # hole (it returns the hole's right side), step_column finds the step
    img = np.zeros((h, w, 3), np.uint8)
    img[:, :130] = (120, 110, 100)
    img[:, 130:182] = (88, 102, 140)
    img[:, 182:] = (40, 90, 200)
    assert eval_quality.step_column(img, cx, cy, hole) == 130
    assert eval_quality.boundary_column(img, cx, cy, hole) == 182


def test_detail_ratio_measures_fine_texture_in_the_hole():
    from measures import detail_ratio
    rng = np.random.default_rng(3)
    img = (128 + 40 * rng.standard_normal((120, 160, 3))).clip(0, 255).astype(np.uint8)
    hole = np.zeros((120, 160), bool)
    hole[40:80, 50:110] = True
    assert 0.9 < detail_ratio(img, hole) < 1.1          # same texture inside and around
    flat = img.copy()
    flat[hole] = 128
    assert detail_ratio(flat, hole) < 0.05               # a smooth fill
    half = img.copy()
    half[hole] = (128 + (img[hole].astype(np.float64) - 128) / 2).astype(np.uint8)
    assert 0.4 < detail_ratio(half, hole) < 0.6          # half the amplitude


def test_colour_noise_ratio_sees_colour_speckles_that_detail_counts_as_texture():
    from measures import colour_noise_ratio, detail_ratio
    rng = np.random.default_rng(4)
    h, w = 120, 160
    hole = np.zeros((h, w), bool)
    hole[40:80, 50:110] = True
    grey = 128 + 30 * rng.standard_normal((h, w, 1))
    tint = 4 * rng.standard_normal((h, w, 3))          # a little colour texture everywhere
    img = (grey + tint).clip(0, 255).astype(np.uint8)
    assert 0.85 < colour_noise_ratio(img, hole) < 1.15   # the same texture inside and around
    flat = img.copy()
    flat[hole] = 128
    assert colour_noise_ratio(flat, hole) < 0.05
    speckle = img.copy()                               # the same grey detail, new colours
    spots = (grey + 25 * rng.standard_normal((h, w, 3))).clip(0, 255).astype(np.uint8)
    speckle[hole] = spots[hole]
    assert detail_ratio(speckle, hole) < 1.5            # the grey measure calls it texture
    assert colour_noise_ratio(speckle, hole) > 3


def test_validate_measures_the_composite_in_the_hole():
    from measures import detail_ratio
    img, m, e, _ = _batch(2, 64, seed=5)

    def gives(fill):  # a stand-in generator whose stage 2 is `fill` everywhere
        def forward(g, image, mask, edge, keep):
            return fill, fill, fill * mask + image * (1 - mask), None
        return forward
    l1, ps, dr, cn = recipe.validate(torch.nn.Identity(), img, m, e, False, forward=gives(img))
    assert l1 == 0 and ps > 100 and cn > 0.3
    u8 = ((img + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()  # independent of to_u8
    want = np.mean([detail_ratio(u8[i], m[i, 0].numpy() > 0.5) for i in range(2)])
    assert abs(dr - want) < 1e-9 and dr > 0.5
    grey = torch.zeros_like(img)                     # a flat fill: no detail, known error
    l1, ps, dr, cn = recipe.validate(torch.nn.Identity(), img, m, e, False, forward=gives(grey))
    want_l1 = ((img.abs() * m).sum() / (m.sum() * 3)).item()
    assert abs(l1 - want_l1) < 1e-6 and ps < 30 and dr < 0.05 and cn < 0.05


def test_learning_curves_read_logs_and_draw(tmp_path):
    import curves
    for lo, hi in ((0.335, 1.355), (21.9, 22.61), (0.0, 3250.0), (0.1, 0.1004)):
        t = curves._ticks(lo, hi)
        eps = (hi - lo) * 1e-6
        assert len(t) >= 2 and t[0] >= lo - eps and t[-1] <= hi + eps, (lo, hi, t)  # on the axis
    log = tmp_path / "train-log.tsv"
    log.write_text("run\tstep\tminutes\tval_hole_l1\tval_psnr\tval_detail\n"
                   "6\t250\t21\t0.14\t\t\n"                 # written before the measures
                   "7\t1\t0.1\t0.13\t22.4\t0.15\n7\t200\t6\t0.13\t22.1\t0.30\n")
    got = curves.read_log(str(log), run=7)
    assert got == {"val_psnr": ([1.0, 200.0], [22.4, 22.1]),
                   "val_detail": ([1.0, 200.0], [0.15, 0.30]), "val_colour": ([], [])}
    assert curves.read_log(str(log), run=6)["val_psnr"] == ([], [])
    assert curves.read_log(str(log), run=7, x="minutes")["val_detail"] == ([0.1, 6.0],
                                                                          [0.15, 0.30])
    out = tmp_path / "c.png"
    assert curves.main([str(log), "--run", "7", "--labels", "run 7", "-o", str(out)]) == 0
    img = cv2.imread(str(out))
    assert img.shape == (curves.legend_height(1) + 600, 560, 3)  # legend, two panels: no val_colour
    # the detail line rises: its colour is higher up (smaller row) at the right end
    line = np.all(img == curves.COLOURS[0], axis=2)  # BGR, as drawn
    rows, cols = np.nonzero(line[-300:])
    assert rows[cols > 500].mean() < rows[cols < 120].mean()
    assert curves.main([str(log), "--run", "6", "-o", str(out)]) == 1
    # several runs of one log: a line each, in the palette's order
    with open(log, "a") as f:
        f.write("8\t1\t0.1\t0.13\t22.4\t0.15\n8\t200\t6\t0.13\t22.3\t0.12\n")
    assert curves.main([str(log), "--run", "7,8", "-o", str(out)]) == 0
    img = cv2.imread(str(out))
    for k, falls in ((0, False), (1, True)):  # run 7's detail rises, run 8's falls
        rows, cols = np.nonzero(np.all(img[-300:] == curves.COLOURS[k], axis=2))
        assert (rows[cols > 500].mean() > rows[cols < 120].mean()) == falls
    with pytest.raises(SystemExit):
        curves.main([str(log), str(log), "--run", "7,8", "-o", str(out)])
    # a log without a measure leaves its panel, and the others keep their colours there
    log2 = tmp_path / "with-colour.tsv"
    log2.write_text("run\tstep\tval_psnr\tval_colour\n7\t1\t22\t\n7\t9\t21\t\n"
                    "8\t1\t22\t0.4\n8\t9\t21\t0.9\n")
    assert curves.main([str(log2), "--run", "7,8", "-o", str(out)]) == 0
    img = cv2.imread(str(out))
    assert img.shape == (curves.legend_height(2) + 600, 560, 3)
    assert not np.all(img[-300:] == curves.COLOURS[0], axis=2).any()
    assert np.all(img[-300:] == curves.COLOURS[1], axis=2).any()


def _eval_result(folder, name, model, psnr, detail, cases=74):
    """A results.json as eval_quality.py writes it, with the fields the tables read."""
    ours = {"l1": 0.09, "psnr": psnr, "ssim": 0.5, "detail": detail, "colour_noise": 0.4,
            "invented": 0.1}
    telea = dict(ours, psnr=19.21, detail=0.35)
    path = folder / name
    path.write_text(json.dumps({"meta": {"model": model, "cases": cases,
                                         "mask_kind": "objects"},
                                "summary": {"ours": ours, "telea": telea}}))
    return str(path)


def test_eval_table_orders_snapshots_by_step_and_curves_draw_it(tmp_path):
    import curves
    import eval_table

    def result(*a, **k):
        return _eval_result(tmp_path, *a, **k)
    paths = [result("b.json", "runs/x/snap-0001600-raw.gguf", 19.5, 0.4),
             result("a.json", "runs/x/raw-859.gguf", 19.7, 0.16),
             result("c.json", "runs/x/snap-0001200-raw.gguf", 19.6, 0.3)]
    table = tmp_path / "t.tsv"
    assert eval_table.main(paths + ["-o", str(table)]) == 0
    got = curves.read_log(str(table))
    assert got["val_psnr"] == ([859.0, 1200.0, 1600.0], [19.7, 19.6, 19.5])
    assert got["val_detail"] == ([859.0, 1200.0, 1600.0], [0.16, 0.3, 0.4])
    assert got["val_colour"][1] == [0.4, 0.4, 0.4]
    assert "telea_psnr" in table.read_text().split("\n")[0]
    # snapshots measured on different cases do not make one curve
    odd = result("d.json", "runs/x/snap-0002000-raw.gguf", 19.4, 0.5, cases=21)
    assert eval_table.main(paths + [odd, "-o", str(table)]) == 1
    with pytest.raises(ValueError):
        eval_table.step_of("runs/x/model.gguf")


def test_target_map_puts_each_model_by_detail_and_psnr_above_telea(tmp_path):
    import target_map
    cases = {"in": (19.71, 0.6, True),             # +0.5 dB, detail 0.6: met
             "dim": (18.71, 0.6, False),           # -0.5 dB
             "smooth": (19.71, 0.4, False)}        # detail below 0.5
    files = {k: _eval_result(tmp_path, f"{k}.json", f"{k}.gguf", psnr, detail)
             for k, (psnr, detail, _) in cases.items()}
    for k, (psnr, detail, in_target) in cases.items():
        point = target_map.read(f"{k}={files[k]}")
        assert point["gain"] == pytest.approx(psnr - 19.21)
        img = target_map.draw([point])
        ys, xs = np.nonzero(np.all(img == (200, 80, 30), axis=2))
        cy, cx = int(ys.mean()), int(xs.mean())
        around = np.all(img[cy - 8:cy + 9, cx - 8:cx + 9] == (215, 240, 215), axis=2)
        assert around.any() == in_target, k
    out = tmp_path / "m.png"
    assert target_map.main([f"{k}={f}" for k, f in files.items()] + ["-o", str(out)]) == 0
    assert out.stat().st_size > 0
    other = _eval_result(tmp_path, "o.json", "o.gguf", 19.0, 0.2, cases=21)
    assert target_map.main([f"in={files['in']}", f"o={other}", "-o", str(out)]) == 1
    with pytest.raises(SystemExit):
        target_map.read(files["in"])             # no label


def test_compare_report_tables(tmp_path, capsys):
    import json as js
    import compare_report
    run = tmp_path / "gated-l1"
    run.mkdir()
    (run / "log.tsv").write_text("step\tminutes\tval_hole_l1\tval_psnr\tval_detail\n"
                                 "1\t0\t0.42\t11.0\t0.10\n600\t9\t0.38\t12.5\t0.20\n")
    (run / "summary.json").write_text(js.dumps({"step": 600, "minutes": 40.02,
                                                "args": {"batch": 8, "clock": "cpu"}}))
    ev = tmp_path / "eval-l1-objects"
    ev.mkdir()
    m = {"l1": 0.2, "psnr": 13.4, "ssim": 0.446, "detail": 0.21, "colour_noise": 0.9}
    (ev / "results.json").write_text(js.dumps({
        "meta": {"cases": 74, "mean_hole": 0.035},
        "summary": {"ours": m, "compare": dict(m, psnr=12.2), "telea": m}}))
    assert compare_report.main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert ("| gated-l1 | 40.0 CPU | 600 | 4,800 | 0.420 -> 0.380 | 11.00 -> 12.50 | "
            "0.10 -> 0.20 |") in out
    assert "| gated-paper | missing |" in out
    assert "| objects (74 cases, 3.5 %) | gated-l1 | 0.2000 | 13.40 | 0.446 | 0.21 | 0.90 |" in out
    assert "| | pconv-l1 | 0.2000 | 12.20 |" in out
    assert "strokes | paper: missing" in out


# ---------------------------------------------------------------------------------------
# the PConv U-Net recipe (gitrain/pconv_net.py)

def test_pconv_training_steps_and_fine_tuning():
    from gitrain import pconv_net
    torch.manual_seed(0)
    g = pconv_net.PConvNet(8, 4, seed=1)
    opt = torch.optim.Adam(g.parameters(), lr=1e-3)
    imgs, ms, _, _ = _batch(n=2, size=64)
    first = [pconv_net.train_step(g, opt, (imgs, ms), "paper")["g"] for _ in range(8)]
    assert first[-1] < first[0]
    mean = g.state()["enc_2.bn.running_mean"].clone()
    assert not torch.equal(mean, pconv_net.PConvNet(8, 4, seed=1).state()["enc_2.bn.running_mean"])
    g.freeze_encoder_bn()  # the encoder's statistics stop moving, the decoder's do not
    dec = g.state()["dec_2.bn.running_mean"].clone()
    pconv_net.train_step(g, opt, (imgs, ms), "l1", hole_weight=2.0)
    assert torch.equal(mean, g.state()["enc_2.bn.running_mean"])
    assert not torch.equal(dec, g.state()["dec_2.bn.running_mean"])
    # the recipe's cost function: the numbers of lib/families/pconv_unet.c's layout
    assert pconv_net.macs(64, 7, 512) == 4 * pconv_net.macs(64, 7, 256)


def test_pconv_weights_train_at_the_scale_of_nvidia_parametrisation():
    """state() is the engine's W; the optimiser sees W / fan_in, so one Adam step moves a
    convolution by about lr relative to its size, as for the gated network."""
    from gitrain import pconv_net
    from gimodel import pconv_torch
    g = pconv_net.PConvNet(8, 4, seed=1)
    want = pconv_torch.random_state_dict(8, 4, seed=1)
    assert torch.allclose(g.state()["enc_2.conv.weight"], want["enc_2.conv.weight"])
    assert g.weights["enc_2__conv__weight"].std() < 1  # He-normal, not x fan_in
    before = g.state()["enc_2.conv.weight"].detach().clone()
    opt = torch.optim.Adam(g.parameters(), lr=1e-3)
    pconv_net.train_step(g, opt, _batch(n=2, size=64)[:2], "paper")
    after = g.state()["enc_2.conv.weight"].detach()
    assert ((after - before).abs().mean() / before.abs().mean()) > 1e-3
    # a checkpoint in the old form (no marker) is refused, not exported with wrong weights
    pconv_net.check_checkpoint({"pconv_parametrisation": pconv_net.PARAMETRISATION}, "new.pt")
    with pytest.raises(SystemExit, match="before the W / fan_in"):
        pconv_net.check_checkpoint({}, "old.pt")


@pytest.mark.skipif(not LIBRARY, reason="GI_LIBRARY is not set (meson test train)")
def test_pconv_export_runs_in_the_engine(tmp_path):
    """What trains is what the library runs: the exported net (F32) against its own
    eval-mode forward, on a picture with a hole, within 1 LSB."""
    import gilib
    from gitrain import pconv_net
    g = pconv_net.PConvNet(8, 4, seed=2)
    opt = torch.optim.Adam(g.parameters(), lr=1e-3)
    imgs, ms, _, _ = _batch(n=2, size=64, seed=3)
    for _ in range(3):
        pconv_net.train_step(g, opt, (imgs, ms), "paper")
    path = str(tmp_path / "p.gguf")
    pconv_net.export_gguf(g, path, dtype="f32", name="t", license="Apache-2.0")
    img = ref.random_image(64, 64, seed=4)
    hole = ref.stroke_mask(64, 64, seed=5) > 127
    g.eval()
    with torch.no_grad():
        x = data.to_tensor(img)[None]
        m = torch.from_numpy(hole.astype(np.float32))[None, None]
        out = g(x, m)[0].permute(1, 2, 0).numpy()
    want = np.clip(np.floor((out + 1) * 127.5 + 0.5), 0, 255).astype(np.uint8)
    got = gilib.Inpainter(path, lib=LIBRARY, strategy="exact")(img, hole.astype(np.uint8) * 255)
    assert np.array_equal(got[~hole], img[~hole])
    assert (np.abs(got.astype(int) - want.astype(int))[hole] <= 1).mean() >= 0.999


def test_blas_names_the_reference_blas(tmp_path):
    from gitrain import blas
    ref = tmp_path / "blas" / "libblas.so.3"
    openblas = tmp_path / "openblas-openmp" / "libblas.so.3"
    for p in (ref, openblas):
        p.parent.mkdir()
        p.write_bytes(b"")
    line = "7f00-7f10 r-xp 00000000 08:01 123 {}\n"
    assert blas.reference_blas(line.format(ref) + "7f20-7f30 rw-p 0 00:00 0\n") == str(ref)
    assert blas.reference_blas(line.format(openblas)) is None
    assert blas.reference_blas(line.format("/usr/lib/x86_64-linux-gnu/libm.so.6")) is None
    assert blas.mapped_blas(line.format(ref) + line.format(openblas)) == sorted(
        [str(ref), str(openblas)])


def test_graft_replaces_stage_one_only(tmp_path):
    import graft
    from gimodel.deepfill_torch import LAYER_NAMES
    torch.manual_seed(0)
    args = {"width": 8, "guide": 1, "d_width": 8, "input_fill": "guided_pushpull",
            "residual": True}
    g, d = recipe.make_nets_from(args)
    donor, _ = recipe.make_nets_from(args)
    for p in list(g.parameters()) + list(donor.parameters()):
        torch.nn.init.normal_(p, 0.0, 0.05)
    recipe.export_gguf(donor, str(tmp_path / "donor.gguf"), dtype="f32", name="donor",
                       license="Apache-2.0")
    state = {"g": g.state_dict(), "g_ema": recipe.ema_copy(g).state_dict(),
             "d": d.state_dict(), "step": 7, "args": args}
    before = {k: v.clone() for k, v in state["g"].items()}
    torch.save(state, tmp_path / "last.pt")
    assert graft.main([str(tmp_path / "last.pt"), "--stage1", str(tmp_path / "donor.gguf"),
                       "-o", str(tmp_path / "new" / "last.pt")]) == 0
    new = torch.load(tmp_path / "new" / "last.pt", weights_only=False)
    want = donor.state_dict()
    for key in ("g", "g_ema"):
        for i, name in enumerate(LAYER_NAMES):
            for t in ("weight", "bias"):
                k = f"layers.{name}.{t}"
                assert torch.equal(new[key][k], want[k] if i < 17 else before[k]), (key, k)
    assert new["step"] == 7 and new["d"].keys() == state["d"].keys()


def test_export_summary_names_the_extra_terms():
    import export
    args = {"lr": 1e-4, "l1_weight": 1.0, "gan_weight": 1.0, "texture_weight": 30.0,
            "excess_weight": 20.0, "coarse_l1_only": True}
    s = export.recipe_summary(args, 10)
    assert "texture mismatch x30" in s and "excess detail x20" in s and "stage 1: its L1 only" in s
    assert "texture" not in export.recipe_summary({**args, "texture_weight": 0.0}, 10)
    one = export.recipe_summary({**args, "lattice_weight": 50.0}, 10)
    assert "lattice pattern x50" in one and " px" not in one
    assert "lattice pattern x50 at 4/8 px" in export.recipe_summary(
        {**args, "lattice_weight": 50.0, "lattice_periods": [4, 8]}, 10)
    assert "lattice" not in s


def test_graft_restarts_the_stage_two_output():
    import graft
    import probe_stages
    torch.manual_seed(0)
    args = {"width": 8, "guide": 1, "d_width": 8, "input_fill": "guided_pushpull",
            "residual": True}
    g, d = recipe.make_nets_from(args)
    with torch.no_grad():  # stage 2's output block as the trained models had it: shut
        g.layers["allconv16"].bias.fill_(-30.0)
        g.layers["allconv17"].weight.mul_(1e-3)
    opt_g, opt_d = recipe.make_optimizers(g, d)
    batch = _batch(2, 64)
    recipe.train_step(g, d, opt_g, opt_d, batch, recipe.LossConfig(gan_start=5))
    state = {"g": g.state_dict(), "opt_g": opt_g.state_dict(), "args": args, "step": 1}
    assert graft.restart_stage2_output(state, g) == ["allconv16", "allconv17"]
    assert all(i not in state["opt_g"]["state"] for i in (80, 81, 82, 83))
    assert 79 in state["opt_g"]["state"]
    g.load_state_dict(state["g"])
    opt_g.load_state_dict(state["opt_g"])
    assert not g.layers["allconv17"].weight.any()
    _, s2, acts = probe_stages.probe(g, batch[0], batch[1])
    assert acts["allconv16"] > 0.01                    # open again
    assert s2 < 1e-6                                   # and the output unchanged
    recipe.train_step(g, d, opt_g, opt_d, batch, recipe.LossConfig(gan_start=5))
    assert g.layers["allconv17"].weight.abs().max() > 0  # which now learns
    g.residual = False
    with pytest.raises(ValueError):
        graft.restart_stage2_output(state, g)


def test_graft_restarts_a_model_files_stage_two_output(tmp_path):
    import graft
    torch.manual_seed(0)
    g = nets.Generator(8, 1, residual=True, input_fill="guided_pushpull")
    for p in g.parameters():
        torch.nn.init.normal_(p, 0.0, 0.05)
    with torch.no_grad():
        g.layers["allconv16"].bias.fill_(-30.0)
    src, out = str(tmp_path / "in.gguf"), str(tmp_path / "out.gguf")
    recipe.export_gguf(g, src, dtype="f32", name="shut", license="Apache-2.0", working_size=64)
    assert graft.main([src, "--restart-stage2-output", "-o", out]) == 0
    new, kv = recipe.generator_from_gguf(out)
    assert kv["general.license"] == "Apache-2.0" and kv["gatedinpaint.working_size"] == 64
    for name, conv in g.layers.items():
        same = torch.equal(new.layers[name].weight, conv.weight)
        assert same == (name not in ("allconv16", "allconv17")), name
    assert not new.layers["allconv17"].weight.any()


def test_probe_guide_scores_following_the_moved_content(tmp_path):
    import probe_guide
    # vertical stripes 40 px wide: every case has outlines in its hole
    img = np.zeros((500, 700, 3), np.uint8)
    img[:, (np.arange(700) // 40) % 2 == 1] = (220, 200, 180)
    cv2.imwrite(str(tmp_path / "p.png"), img)
    orig, moved, mask, edge = probe_guide.shifted_cases(str(tmp_path), per_photo=2)
    assert len(orig) == 2
    hole = mask.expand_as(orig) > 0.5
    assert torch.equal(orig[~hole], moved[~hole]) and not torch.equal(orig[hole], moved[hole])
    assert (edge * mask).sum() >= 2 * probe_guide.MIN_EDGE
    # the whole hole's content moved 24 px sideways: the outlines jump at its border
    o, n = (probe_guide.CROP - probe_guide.HOLE) // 2, probe_guide.HOLE
    for k in range(2):
        shifted = [orig[k, :, o:o + n, o + d:o + n + d] for d in (-24, 24)]
        assert any(torch.equal(moved[k, :, o:o + n, o:o + n], s) for s in shifted)
    assert probe_guide.follow_share(moved, orig, moved) == 1.0
    assert probe_guide.follow_share(orig, orig, moved) == 0.0
    half = torch.where(torch.arange(orig.shape[3]) < orig.shape[3] // 2, moved, orig)
    assert 0.2 < probe_guide.follow_share(half, orig, moved) < 0.8

    class Follower(torch.nn.Module):
        """Fills with the moved content where its guide is given, else with the unmoved."""
        guide_channels, input_fill = 1, "zeros"

        def forward(self, x_in, m, coarse_l1_only=False, attention=None):
            given = x_in[:, 3:4].amax((2, 3), keepdim=True) > 0
            out = torch.where(given, moved[:len(m)], orig[:len(m)])
            return out, out
    assert probe_guide.probe(Follower(), (orig, moved, mask, edge)) == (0.0, 1.0)

    class Echo(Follower):
        """Returns its input's colour planes: the pre-fill itself."""
        def forward(self, x_in, m, coarse_l1_only=False, attention=None):
            return x_in[:, :3], x_in[:, :3]
    cases = (orig, moved, mask, edge)
    zeros = probe_guide.probe(Echo(), cases)[1]
    for fill in ("guided_pushpull", "ring_warp"):   # --prefill reaches the network's input
        assert probe_guide.probe(Echo(), cases, prefill=fill)[1] != zeros


def test_probe_copy_scores_fills_against_the_twin(tmp_path):
    import probe_copy
    noise = np.random.default_rng(3).integers(0, 256, (480, 520, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "n.png"), cv2.GaussianBlur(noise, (0, 0), 1.0))
    scene, mask, offset = probe_copy.copy_cases(str(tmp_path), per_photo=2)
    assert scene.shape == (2, 3, 256, 256) and mask.shape == (2, 1, 256, 256)
    for s, m, o in zip(recipe.to_u8(scene), mask[:, 0].numpy(), offset.tolist()):
        assert sorted(_twins(s, m)[0]) == sorted([(0, 0), tuple(o)])  # the hole and its twin
    # attention weights that borrow from everywhere, from the twin's cell (the oracle's), or
    # from a cell 3 cells off
    n = 32 * 32
    even = torch.full((2, n, n), 1 / n)
    assert np.mean(probe_copy.twin_share(even, mask, offset)) == pytest.approx(9 / n)
    assert np.allclose(probe_copy.attention_entropy(even, mask), np.log(n))
    copy = probe_copy.oracle(even, mask, offset)
    assert np.allclose(probe_copy.attention_entropy(copy, mask), 0, atol=1e-6)
    hole = recipe.attention_cells(mask)[0]
    assert torch.equal(copy[~hole], even[~hole])    # the known cells' rows stay
    assert np.mean(probe_copy.twin_share(copy, mask, offset)) == 1
    for k in range(2):                              # the one cell is the twin's, by hand
        p = int(hole[k].nonzero()[0])
        dy, dx = (int(v) // 8 for v in offset[k])
        assert int(copy[k, p].argmax()) == (p // 32 + dy) * 32 + p % 32 + dx
    shifted = copy.roll(3, dims=2)                  # 3 cells off: only the even rows' share
    assert np.mean(probe_copy.twin_share(shifted, mask, offset)) < 0.05

    class Copier(torch.nn.Module):
        """Fills each hole with the truth: what finding the twin gives."""
        guide_channels, input_fill = 0, "zeros"

        def forward(self, x_in, m, coarse_l1_only=False, attention=None):
            return scene[:len(m)], scene[:len(m)]

    class Grey(Copier):
        """Fills with mid grey: no detail, the error of the truth's distance from 0."""
        def forward(self, x_in, m, coarse_l1_only=False, attention=None):
            return torch.zeros_like(x_in[:, :3]), torch.zeros_like(x_in[:, :3])
    r = probe_copy.probe(Copier(), (scene, mask, offset))
    assert r["psnr"] > 100 and r["twin_detail"] > 0.3
    assert r["detail"] == pytest.approx(r["twin_detail"])
    assert np.isnan(r["attention"]) and np.isnan(r["entropy"])  # no attention in this fake
    r = probe_copy.probe(Grey(), (scene, mask, offset))
    psnr, fill = r["psnr"], r["detail"]
    grey = recipe.to_u8(torch.zeros_like(scene)).astype(float)
    truth = recipe.to_u8(scene).astype(float)
    hole = mask[:, 0].numpy() > 0.5
    expect = 10 * np.log10(255 ** 2 / ((truth - grey)[hole] ** 2).mean())
    assert psnr == pytest.approx(expect, abs=0.05) and fill < 0.05
    # a real generator: the probe sees its attention, and the oracle's changes the fill
    g = nets.Generator(width=4, guide_channels=0).eval()
    r = probe_copy.probe(g, (scene, mask, offset))
    assert 0 <= r["attention"] <= 1 and r["oracle_psnr"] != r["psnr"]
    assert 0 <= r["entropy"] <= np.log(n)


def test_attention_targets_point_hole_cells_at_their_twin():
    patch = np.random.default_rng(4).integers(0, 256, (256, 256, 3), dtype=np.uint8)
    hits = total = 0
    for k in range(6):
        scene, mask, (dy, dx) = data.copy_scene(patch, np.random.default_rng(k))
        image = data.to_tensor(scene)[None]
        m = torch.from_numpy(mask)[None, None]
        target, rows = recipe.attention_targets(image, m)
        assert target.shape == rows.shape == (1, 32 * 32)
        m8 = nets.resize_nn(nets.resize_nn(m, 64, 64), 32, 32)
        known = torch.nn.functional.unfold(m8, 3, padding=1).sum(1)[0] == 0
        assert known[target[0]].all()                   # only cells the attention may borrow
        cells = rows[0].nonzero()[:, 0]
        twin = cells + (dy // 8) * 32 + dx // 8
        hits += int((target[0, cells] == twin).sum())
        total += len(cells)
    assert total > 50 and hits >= 0.9 * total


def test_attention_supervision_and_teacher_forcing_reach_the_step(monkeypatch):
    n = 16
    target = torch.tensor([[3, 5, 7, 0]] * 2).repeat(1, 4)
    rows = torch.zeros(2, n, dtype=torch.bool)
    rows[:, :3] = True
    even = torch.full((2, n, n), 1 / n)
    forced = recipe.teacher_weights(even, target, rows)
    assert torch.equal(forced[~rows], even[~rows])
    assert torch.equal(forced[rows].argmax(1), target[rows]) and (forced[rows].sum(1) == 1).all()
    assert recipe.attention_miss(even, target, rows).item() == pytest.approx(np.log(n), 1e-5)
    assert recipe.attention_miss(forced, target, rows).item() < 1e-5
    # in a training step: the term is the attention's miss, and a teacher changes the fill
    g, d, opt_g, opt_d, batch, _ = _small_step_setup()
    state = {k: v.clone() for k, v in g.state_dict().items()}
    out = recipe.train_step(g, d, opt_g, opt_d, batch,
                            recipe.LossConfig(gan_start=5, attention_weight=3.0))
    assert 0 < out["attention"] <= -np.log(1e-6) + 1e-4      # the clamp bounds it
    assert abs(out["g"] - (out["l1"] + 3.0 * out["attention"])) < 1e-5
    l1 = {}
    for share in (0.0, 1.0):
        g.load_state_dict(state)
        l1[share] = recipe.train_step(g, d, opt_g, opt_d, batch,
                                      recipe.LossConfig(gan_start=5, teacher_share=share))["l1"]
    assert l1[0.0] != l1[1.0]
    # a fade from step 10 to 20: the teacher's share is whole before it, none after it
    fade = recipe.LossConfig(gan_start=5, teacher_share=1.0, teacher_fade=(10, 20))
    assert [recipe.teacher_share_at(fade, s) for s in (0, 10, 15, 20, 30)] == \
        [1.0, 1.0, 0.5, 0.0, 0.0]
    calls, real_targets = [], recipe.attention_targets
    monkeypatch.setattr(recipe, "attention_targets", lambda *a: calls.append(1) or real_targets(*a))
    for step, want, cdists in ((10, 1.0, 1), (20, 0.0, 0)):
        g.load_state_dict(state)
        got = recipe.train_step(g, d, opt_g, opt_d, batch, fade, step)["l1"]
        assert got == l1[want]
        assert len(calls) == cdists         # no teacher, no cross-entropy: no targets sought
        calls.clear()
