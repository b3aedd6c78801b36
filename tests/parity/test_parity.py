"""Network parity: libgatedinpaint's gi_inpaint() against the PyTorch reference of the
official DeepFill v2 graph (tools/gimodel/deepfill_torch.py), on random-weight models.

The C side runs through parity_driver (path in GI_PARITY_DRIVER, set by meson), which
returns the stage outputs via the gi_debug_taps hook. Checks: x_stage1 and x_stage2
within 1e-4 max abs, the uint8 result within 1 LSB inside the hole and bit-identical
outside; and that every known porting pitfall, re-created in the reference, moves the
output far beyond that tolerance (so these tests would catch it).
"""
import os
import subprocess
import sys
from collections import namedtuple

import numpy as np
import pytest
import torch

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(_HERE, "..", "..", "tools"))
from gimodel import deepfill_torch as ref  # noqa: E402
from make_model import make_model  # noqa: E402

DRIVER = os.environ.get("GI_PARITY_DRIVER")
pytestmark = pytest.mark.skipif(not DRIVER, reason="GI_PARITY_DRIVER is not set "
                                "(run through `meson test parity`)")
TOL = 1e-4        # max abs error on the tanh stage outputs (DESIGN.md)
PITFALL_MIN = 1e-2  # a pitfall must move x_stage2 at least this much
MAX_FLIPPED = 0.005  # fraction of hole values that may differ by 1 level (test_uint8_output)

torch.set_num_threads(1)

Case = namedtuple("Case", "id width guide order h w channels mask seed threads use_guide "
                          "dtype fuse")


def _case(id, width, order, h, w, *, guide=0, channels=3, mask="stroke", seed=0, threads=1,
          use_guide=False, dtype="f32", fuse=True):
    return Case(id, width, guide, order, h, w, channels, mask, seed, threads, use_guide,
                dtype, fuse)


CASES = [
    _case("w8-rgb-64x64", 8, "rgb", 64, 64, seed=1),
    _case("w8-bgr-64x64-t2", 8, "bgr", 64, 64, mask="stroke+box", seed=2, threads=2),
    _case("w8-bgr-48x80-rgba-t2", 8, "bgr", 48, 80, channels=4, seed=3, threads=2),
    _case("w8-rgb-61x75-t2", 8, "rgb", 61, 75, seed=4, threads=2),
    _case("w12-bgr-37x90", 12, "bgr", 37, 90, channels=4, seed=5),
    _case("w8-guide-56x72", 8, "rgb", 56, 72, guide=1, mask="box", seed=6, use_guide=True),
    _case("w8-guide-56x72-noguide", 8, "rgb", 56, 72, guide=1, mask="box", seed=6),
    _case("w8-bgr-40x24-f16", 8, "bgr", 40, 24, mask="box", seed=7, dtype="f16"),
    _case("w8-rgb-64x48-nofuse", 8, "rgb", 64, 48, seed=8, fuse=False),
    _case("w48-bgr-128x128-t2", 48, "bgr", 128, 128, mask="stroke+box", seed=9, threads=2),
    _case("w48-bgr-100x150", 48, "bgr", 100, 150, channels=4, seed=10),
]
BY_ID = {c.id: c for c in CASES}

# Pitfalls re-created in the reference: (name, inpaint() keyword arguments).
PITFALLS = [
    ("symmetric-stride2-padding", dict(symmetric_stride2=True)),
    ("fuse-off", dict(fuse=False)),
    ("one-step-mask-resize", dict(two_step_mask=False)),
    ("rgb-fed-to-bgr-weights", dict(feed_order="rgb")),
]
PITFALL_CASES = ["w8-bgr-64x64-t2", "w48-bgr-128x128-t2"]


def _one_step_box(h, w):
    """A box that is a hole in the 1/8 attention mask only when the mask is resized
    H -> H/8 in one step: it spans the gap between two rows (columns) sampled by the
    official two-step H -> H/4 -> H/8 resize around a one-step sample."""
    def span(n):
        two = ref.nn_index(n, n // 4)[ref.nn_index(n // 4, n // 8)]
        one = ref.nn_index(n, n // 8)
        for a, b in zip(two, two[1:]):
            if any(a < o < b for o in one):
                return a + 1, b - a - 1
        raise AssertionError(f"no one-step-only sample for size {n}")
    (top, bh), (left, bw) = span(h), span(w)
    return ref.box_mask(h, w, top, left, bh, bw)


def _inputs(case):
    img = ref.random_image(case.h, case.w, case.channels, seed=case.seed)
    if case.mask == "box":
        mask = ref.box_mask(case.h, case.w, case.h // 4, case.w // 3, case.h // 2, case.w // 3)
    else:
        mask = ref.stroke_mask(case.h, case.w, seed=case.seed + 100)
        if case.mask == "stroke+box":
            hn, wn = ref.network_size(case.h, case.w)
            mask |= _one_step_box(hn, wn)[:case.h, :case.w]
    guide = None
    if case.use_guide:
        # diagonal lines everywhere, so some cross the hole; 154 is an edge, 153 is not
        yy, xx = np.mgrid[0:case.h, 0:case.w]
        guide = np.where((xx + yy) % 6 == 0, 154, 0).astype(np.uint8)
        guide[(xx - yy) % 6 == 0] = 153
    return img, mask, guide


class _Runs:
    """Models, C results and reference results, each computed once per session."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.models, self.c, self.ref = {}, {}, {}

    def model(self, case):
        key = (case.width, case.guide, case.order, case.seed, case.dtype, case.fuse)
        if key not in self.models:
            path = str(self.tmp / ("model-%d-%d-%s-%d-%s-%d.gguf" % key))
            weights = make_model(path, width=case.width, guide_channels=case.guide,
                                 channel_order=case.order, seed=case.seed, dtype=case.dtype,
                                 fuse=case.fuse)
            self.models[key] = (path, weights)
        return self.models[key]

    def c_result(self, case, threads=None):
        threads = threads or case.threads
        key = (case.id, threads)
        if key not in self.c:
            self.c[key] = self._run_driver(case, threads)
        return self.c[key]

    def _run_driver(self, case, threads):
        work = self.tmp / ("%s-t%d" % (case.id, threads))
        work.mkdir()
        img, mask, guide = _inputs(case)
        img.tofile(work / "image.u8")
        mask.tofile(work / "mask.u8")
        guide_arg = "-"
        if guide is not None:
            guide.tofile(work / "guide.u8")
            guide_arg = str(work / "guide.u8")
        cmd = [DRIVER, self.model(case)[0], str(threads), str(case.h), str(case.w),
               str(case.channels), str(work / "image.u8"), str(work / "mask.u8"), guide_arg,
               str(work)]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, "parity_driver failed: %s" % (p.stderr.strip() or p.returncode)
        hn, wn = (int(v) for v in p.stdout.split())
        assert (hn, wn) == ref.network_size(case.h, case.w), "network size of the taps"
        return {"x_stage1": np.fromfile(work / "x_stage1.f32", np.float32).reshape(hn, wn, 3),
                "x_stage2": np.fromfile(work / "x_stage2.f32", np.float32).reshape(hn, wn, 3),
                "out": np.fromfile(work / "out.u8", np.uint8).reshape(img.shape)}

    def ref_result(self, case, pitfall=None):
        key = (case.id, pitfall)
        if key not in self.ref:
            img, mask, guide = _inputs(case)
            options = dict(dict(PITFALLS)[pitfall]) if pitfall else {}
            self.ref[key] = ref.inpaint(self.model(case)[1], img, mask, guide, cnum=case.width,
                                        guide_channels=case.guide, channel_order=case.order,
                                        fuse=options.pop("fuse", case.fuse), **options)
        return self.ref[key]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return _Runs(tmp_path_factory.mktemp("parity"))


def _worst(name, got, want):
    err = np.abs(got.astype(np.float64) - want)
    y, x, c = np.unravel_index(int(err.argmax()), err.shape)
    return ("%s: max abs error %.3g at (y=%d, x=%d, c=%d): C %.7f, reference %.7f; "
            "%d of %d values over %g" % (name, err.max(), y, x, c, got[y, x, c], want[y, x, c],
                                         int((err > TOL).sum()), err.size, TOL))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_stage_outputs_match_reference(runs, case):
    got, want = runs.c_result(case), runs.ref_result(case)
    for stage in ("x_stage1", "x_stage2"):
        err = np.abs(got[stage] - want[stage]).max()
        assert err <= TOL, _worst(stage, got[stage], want[stage])


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_uint8_output(runs, case):
    img, mask, _ = _inputs(case)
    got, want = runs.c_result(case)["out"], runs.ref_result(case)["out"]
    hole = mask > 127
    assert (got[~hole] == img[~hole]).all(), "pixels outside the hole must be copied"
    if case.channels == 4:
        assert (got[..., 3] == img[..., 3]).all(), "alpha must be copied"
    diff = np.abs(got[hole].astype(int) - want[hole])
    assert diff.max() <= 1, "hole pixels differ by up to %d levels (%d values > 1)" % (
        diff.max(), int((diff > 1).sum()))
    # Exact-ish: the stage outputs agree to 1e-4 on the tanh scale (0.013 levels), so only a
    # value at a rounding boundary may differ by 1. Truncating instead of rounding, or an
    # output scale of 127 instead of 127.5, stays within 1 level but moves far more values.
    flipped = float((diff > 0).mean())
    assert flipped <= MAX_FLIPPED, "%.2f %% of the hole values differ by 1 level" % (
        100 * flipped)


@pytest.mark.parametrize("pitfall", [p for p, _ in PITFALLS])
@pytest.mark.parametrize("case_id", PITFALL_CASES)
def test_pitfall_would_be_caught(runs, case_id, pitfall):
    case = BY_ID[case_id]
    got = runs.c_result(case)["x_stage2"]
    wrong = runs.ref_result(case, pitfall)["x_stage2"]
    err = np.abs(got - wrong).max()
    assert err > PITFALL_MIN, "%s: reference with the pitfall is only %.3g from C" % (pitfall, err)


def test_guide_is_used(runs):
    """The guide moves x_stage1 well beyond TOL, so the guide case's parity check would
    catch an engine that ignores or mis-thresholds the guide."""
    with_guide = runs.c_result(BY_ID["w8-guide-56x72"])["x_stage1"]
    without = runs.c_result(BY_ID["w8-guide-56x72-noguide"])["x_stage1"]
    assert np.abs(with_guide - without).max() > 10 * TOL


@pytest.mark.parametrize("case_id", ["w8-rgb-61x75-t2", "w48-bgr-128x128-t2"])
def test_thread_count_gives_identical_bits(runs, case_id):
    case = BY_ID[case_id]
    one, two = runs.c_result(case, threads=1), runs.c_result(case, threads=2)
    for key in ("x_stage1", "x_stage2", "out"):
        assert np.array_equal(one[key], two[key]), key
