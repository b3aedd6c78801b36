"""normalize_mask, dilate_mask, blend_feather: the wrappers of the library's
mask helpers (the numerics are tested in C, tests/io/test_mask_ops.c)."""
import numpy as np
import pytest

import gatedinpaint as gi


def test_normalize_zero_one_and_threshold():
    m = np.zeros((4, 5), np.uint8)
    m[1, 2] = 1
    out = gi.normalize_mask(m)
    assert out.shape == (4, 5) and out.dtype == np.uint8
    assert out[1, 2] == 255 and out.sum() == 255
    m[1, 2] = 100  # no longer a 0/1 mask: > 127 decides
    m[0, 0] = 200
    out = gi.normalize_mask(m[:, :, None])
    assert out[1, 2] == 0 and out[0, 0] == 255 and out.sum() == 255


def test_dilate_square_and_copy():
    m = np.zeros((9, 9), np.uint8)
    m[4, 4] = 255
    out = gi.dilate_mask(m, 2)
    assert m.sum() == 255, "the input is not modified"
    want = np.zeros((9, 9), np.uint8)
    want[2:7, 2:7] = 255
    assert np.array_equal(out, want)
    assert np.array_equal(gi.dilate_mask(m, 0), m)


def test_blend_feather_band_and_outside():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)
    filled = rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)
    mask = np.zeros((20, 20), np.uint8)
    mask[8:12, 8:12] = 255
    out = gi.blend_feather(image, mask, filled, 3)
    assert out.shape == image.shape
    assert np.array_equal(out[8:12, 8:12], filled[8:12, 8:12])
    band = gi.dilate_mask(mask, 3) > 0
    assert np.array_equal(out[~band], image[~band]), "bit-identical beyond the band"
    # One pixel from the hole: alpha = 1 - 1/3.
    want = np.rint(2 / 3 * filled[7, 9].astype(float) + 1 / 3 * image[7, 9]).astype(np.uint8)
    assert np.abs(out[7, 9].astype(int) - want).max() <= 1
    assert np.array_equal(gi.blend_feather(image, mask, filled, 0)[~(mask > 0)],
                          image[~(mask > 0)])


def test_errors():
    m = np.zeros((4, 4), np.uint8)
    with pytest.raises(ValueError, match="must be >= 0"):
        gi.dilate_mask(m, -1)
    with pytest.raises(ValueError, match="must be >= 0"):
        gi.blend_feather(np.zeros((4, 4, 3), np.uint8), m, np.zeros((4, 4, 3), np.uint8), -1)
    with pytest.raises(TypeError):
        gi.dilate_mask(m, 1.5)
    with pytest.raises(ValueError, match="channels"):
        gi.normalize_mask(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(gi.ShapeError, match="filled"):
        gi.blend_feather(np.zeros((4, 4, 3), np.uint8), m, np.zeros((4, 5, 3), np.uint8), 1)
    with pytest.raises(TypeError, match="uint8"):
        gi.normalize_mask(np.zeros((4, 4), np.float32))


def test_views_with_any_strides_read_the_right_pixels():
    rng = np.random.default_rng(2)
    m = rng.integers(0, 256, (6, 14), dtype=np.uint8)
    for view in (m[:, ::2], m[::2, ::-1], m[1:5, 3:11], m.T):
        want = np.where(np.ascontiguousarray(view) > 127, 255, 0)
        assert np.array_equal(gi.normalize_mask(view), want)
        assert np.array_equal(gi.normalize_mask(view[:, :, None]), want)


def test_image_views_with_any_strides():
    rng = np.random.default_rng(3)
    big = rng.integers(0, 256, (12, 20, 4), dtype=np.uint8)
    mask = np.zeros((6, 10), np.uint8)
    mask[2:4, 3:7] = 255
    for image in (big[::2, ::2, :3], big[:6, 10:, 2::-1], big[::2, :10, 1:]):
        filled = np.full(image.shape, 7, np.uint8)
        want = gi.blend_feather(np.ascontiguousarray(image), mask, filled, 2)
        assert np.array_equal(gi.blend_feather(image, mask, filled, 2), want)
        assert np.array_equal(gi.blend_feather(image, mask, filled, 0)[mask == 0],
                              image[mask == 0])


def test_radius_must_be_an_int():
    m = np.zeros((4, 4), np.uint8)
    with pytest.raises(TypeError, match="radius"):
        gi.dilate_mask(m, True)
