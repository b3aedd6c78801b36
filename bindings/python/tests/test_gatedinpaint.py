"""Tests of the Python bindings against the real library."""
import gc
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from PIL import Image

import gatedinpaint as gi
from gatedinpaint import _capi

from conftest import PACKAGE_ROOT


@pytest.fixture(scope="module")
def model(model_path):
    with gi.Model.from_file(model_path) as m:
        yield m


@pytest.fixture()
def session(model):
    with gi.Session(model, threads=1) as s:
        yield s


@pytest.fixture(scope="module")
def crop(example_paths):
    """A 56x72 crop of the example (a view with a row stride, not a copy) and
    a mask with a rectangular hole."""
    image = gi.load_image(example_paths[0])[100:156, 200:272]
    mask = np.zeros(image.shape[:2], np.uint8)
    mask[20:36, 24:50] = 255
    return image, mask


def hole_changed_rest_same(image, mask, out):
    assert out.shape == image.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(out[mask <= 127], image[mask <= 127])
    assert (out[mask > 127] != image[mask > 127]).any()


def test_version():
    assert gi.library_version() == "%d.%d.%d" % _capi.version
    assert gi.__version__ == gi.library_version()


def test_version_check_rejects_other_major_and_older_minor():
    _capi.check_version(_capi.MIN_VERSION, "lib")
    _capi.check_version((_capi.MIN_VERSION[0], 99, 0), "lib")
    with pytest.raises(ImportError, match="needs 0.x"):
        _capi.check_version((_capi.MIN_VERSION[0] + 1, 0, 0), "lib")
    with pytest.raises(ImportError, match="at least"):
        _capi.check_version((0, 0, 9), "lib")
    assert _capi.decode_version(10203) == (1, 2, 3)


def run_import(env_library):
    env = dict(os.environ, PYTHONPATH=PACKAGE_ROOT)
    env["GATEDINPAINT_LIBRARY"] = env_library
    return subprocess.run([sys.executable, "-c", "import gatedinpaint"], env=env,
                          capture_output=True, text=True)


def test_explicit_library_path_is_used_without_fallback(tmp_path):
    r = run_import(str(tmp_path / "libnothere.so"))
    assert r.returncode != 0
    assert "cannot load the libgatedinpaint shared library" in r.stderr
    assert "libnothere.so" in r.stderr and "GATEDINPAINT_LIBRARY" in r.stderr


def test_model_properties(model):
    assert model.family == "deepfill_v2"
    assert model.width == 8
    assert model.guide_channels == 0
    assert model.channel_order == "rgb"
    assert model.param_count > 0
    assert model.input_fill == "zeros" and model.residual is False
    assert model.working_size == 512  # the file does not say: the library's default
    assert "width 8" in repr(model)


def test_model_from_bytes(model_path):
    with open(model_path, "rb") as f:
        data = f.read()
    with gi.Model.from_bytes(data) as m:
        assert m.param_count > 0
    with pytest.raises(gi.BadModelError) as e:
        gi.Model.from_bytes(data[:1000])
    assert e.value.status == -4 and e.value.message


def test_model_errors(tmp_path):
    with pytest.raises(gi.FileError) as e:
        gi.Model.from_file(tmp_path / "missing.gguf")
    assert isinstance(e.value, OSError)
    assert e.value.status == -3 and "missing.gguf" in e.value.message
    assert "missing.gguf" in str(e.value)
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + bytes(60))
    with pytest.raises(gi.BadModelError):
        gi.Model.from_file(bad)


def test_default_model_or_unsupported():
    try:
        m = gi.Model.default()
    except gi.UnsupportedError as e:
        assert e.status == -5 and "default" in e.message
    else:
        with m:
            assert m.family == "deepfill_v2"
            # the default model's pre-fill moves outlines to the guide (models/README.md)
            assert m.input_fill == "ring_warp" and m.residual is True
            assert m.working_size == 256  # twice its 128-pixel training crop


def test_inpaint_numpy(session, crop):
    image, mask = crop
    out = session.inpaint(image, mask)
    assert isinstance(out, np.ndarray)
    hole_changed_rest_same(image, mask, out)
    # Deterministic, also through the other mask forms.
    np.testing.assert_array_equal(session.inpaint(image, mask > 127), out)
    np.testing.assert_array_equal(session.inpaint(np.ascontiguousarray(image),
                                                  mask[:, :, None]), out)


def test_inpaint_rgba_keeps_alpha(session, crop):
    image, mask = crop
    alpha = np.arange(image.shape[0] * image.shape[1], dtype=np.uint8).reshape(mask.shape)
    rgba = np.dstack([image, alpha])
    out = session.inpaint(rgba, mask)
    assert out.shape[2] == 4
    np.testing.assert_array_equal(out[:, :, 3], alpha)
    np.testing.assert_array_equal(out[:, :, :3], session.inpaint(image, mask))


def test_inpaint_pil(session, crop):
    image, mask = crop
    out = session.inpaint(Image.fromarray(image), Image.fromarray(mask))
    assert isinstance(out, Image.Image) and out.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(out), session.inpaint(image, mask))
    # A mask drawn in the alpha channel of an RGBA image.
    painted = np.zeros(mask.shape + (4,), np.uint8)
    painted[:, :, 3] = mask
    np.testing.assert_array_equal(np.asarray(session.inpaint(Image.fromarray(image),
                                                             Image.fromarray(painted))),
                                  np.asarray(out))


def test_inpaint_paths(session, crop, tmp_path):
    image, mask = crop
    Image.fromarray(image).save(tmp_path / "image.png")
    Image.fromarray(mask).save(tmp_path / "mask.png")
    from_paths = session.inpaint(tmp_path / "image.png", str(tmp_path / "mask.png"))
    np.testing.assert_array_equal(from_paths, session.inpaint(image, mask))
    written = session.inpaint(tmp_path / "image.png", tmp_path / "mask.png",
                              output=tmp_path / "out.png")
    assert written == tmp_path / "out.png"
    np.testing.assert_array_equal(gi.load_image(written), from_paths)


def test_module_inpaint(model, crop):
    image, mask = crop
    out = gi.inpaint(image, mask, threads=1, model=model)
    hole_changed_rest_same(image, mask, out)
    try:
        gi.inpaint(image, mask)
    except gi.UnsupportedError:
        pass  # no embedded default model in this build


def test_errors_name_the_argument(session, crop):
    image, mask = crop
    with pytest.raises(gi.ShapeError) as e:
        session.inpaint(image, mask[:-1])
    assert "mask" in e.value.message and isinstance(e.value, ValueError)
    with pytest.raises(gi.InvalidArgumentError) as e:
        session.inpaint(image, mask, guide=mask)
    assert "guide" in e.value.message
    with pytest.raises(TypeError, match="uint8"):
        session.inpaint(image.astype(np.float32), mask)
    with pytest.raises(TypeError, match="numpy array"):
        session.inpaint([[1, 2]], mask)
    with pytest.raises(gi.FileError):
        session.inpaint(image, "/nonexistent/mask.png")


def test_progress_and_cancel(session, crop):
    image, mask = crop
    seen = []
    out = session.inpaint(image, mask, progress=lambda done, stage: seen.append((done, stage)))
    dones = [d for d, _ in seen]
    assert dones == sorted(dones) and dones[-1] == 1.0
    assert {"coarse", "refine"} <= {s for _, s in seen}

    calls = []

    def cancel_late(done, stage):
        calls.append(done)
        return done > 0.5

    with pytest.raises(gi.CancelledError) as e:
        session.inpaint(image, mask, progress=cancel_late)
    assert e.value.status == -7 and calls[-1] > 0.5 and len(calls) < len(seen)

    class Stop(Exception):
        pass

    def raise_early(done, stage):
        raise Stop(stage)

    with pytest.raises(Stop):
        session.inpaint(image, mask, progress=raise_early)
    # The session is still usable and the callback is gone.
    np.testing.assert_array_equal(session.inpaint(image, mask), out)


def test_threads_and_isa(model, crop):
    image, mask = crop
    with gi.Session(model, threads=2) as s2, gi.Session(model, threads=1) as s1:
        assert s2.threads == 2 and s1.threads == 1
        assert s1.isa >= 0
        np.testing.assert_array_equal(s1.inpaint(image, mask), s2.inpaint(image, mask))
        with pytest.raises(gi.InvalidArgumentError):
            s1.threads = -1


def test_strategy(model, crop):
    image, mask = crop
    with gi.Session(model) as s, gi.Session(model, strategy="exact") as e:
        assert s.strategy == "regions" and e.strategy == "exact"
        hole_changed_rest_same(image, mask, s.inpaint(image, mask))
        assert s.last_regions >= 1 and s.last_scale >= 1
        hole_changed_rest_same(image, mask, e.inpaint(image, mask))
        assert e.last_regions == 1 and e.last_scale == 1
        with pytest.raises(ValueError):
            s.strategy = "fast"


def test_session_per_thread(model, crop):
    image, mask = crop
    results = [None, None]

    def work(i):
        with gi.Session(model, threads=1) as s:
            results[i] = s.inpaint(image, mask)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    np.testing.assert_array_equal(results[0], results[1])


def test_close_is_deterministic_and_idempotent(model_path, crop):
    image, mask = crop
    m = gi.Model.from_file(model_path)
    s = gi.Session(m, threads=1)
    m.close()  # the session holds its own reference
    hole_changed_rest_same(image, mask, s.inpaint(image, mask))
    s.close()
    s.close()
    with pytest.raises(ValueError, match="closed"):
        s.inpaint(image, mask)
    with pytest.raises(ValueError, match="closed"):
        m.width
    assert "closed" in repr(m)
    # Dropped without close(): garbage collection releases them.
    gi.Session(gi.Model.from_file(model_path))
    gc.collect()


def test_load_save_roundtrip(tmp_path, crop):
    image, _ = crop
    gi.save_image(tmp_path / "x.png", image)
    np.testing.assert_array_equal(gi.load_image(tmp_path / "x.png"), image)
    assert gi.load_image(tmp_path / "x.png", channels=4).shape == image.shape[:2] + (4,)
    with pytest.raises(gi.GatedInpaintError):
        gi.save_image(tmp_path / "x.bmp", image)


def test_example_script(model_path, example_paths, tmp_path):
    out = tmp_path / "dune_inpainted.png"
    script = os.path.join(PACKAGE_ROOT, "examples", "inpaint.py")
    env = dict(os.environ, PYTHONPATH=PACKAGE_ROOT)
    r = subprocess.run([sys.executable, script, *example_paths, str(out), model_path],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    image = gi.load_image(example_paths[0])
    mask = gi.load_mask(example_paths[1])
    hole_changed_rest_same(image, mask, gi.load_image(out))
    # A bad model path fails with the library's message and a non-zero exit.
    r = subprocess.run([sys.executable, script, *example_paths, str(out), str(tmp_path)],
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "gi_model_load_file" in r.stderr


def test_mask_rule_shared_with_the_library(session, crop):
    """A 0/1 mask is read as non-zero = hole, by gi_inpaint itself (the rule of
    include/gatedinpaint.h), the same as normalize_mask; any other mask > 127."""
    image, mask = crop
    out = session.inpaint(image, mask)
    zero_one = (mask > 127).astype(np.uint8)
    np.testing.assert_array_equal(session.inpaint(image, zero_one), out)
    np.testing.assert_array_equal(gi.normalize_mask(zero_one), np.where(mask > 127, 255, 0))
    # 0/2 is not a 0/1 mask: nothing is > 127, so nothing is filled.
    np.testing.assert_array_equal(session.inpaint(image, zero_one * 2), image)


def luma(rgb):
    r, g, b = (rgb[..., k].astype(np.uint32) for k in range(3))
    return ((19595 * r + 38470 * g + 7471 * b + 32768) >> 16).astype(np.uint8)


def test_inpaint_grey_stays_grey(session, crop, tmp_path):
    image, mask = crop
    grey = np.ascontiguousarray(image[:, :, 1])
    out = session.inpaint(grey, mask)
    assert out.shape == grey.shape and out.dtype == np.uint8
    as_rgb = session.inpaint(np.dstack([grey] * 3), mask)
    hole = mask > 127
    np.testing.assert_array_equal(out[~hole], grey[~hole])
    np.testing.assert_array_equal(out[hole], luma(as_rgb)[hole])
    gi.save_image(tmp_path / "grey.png", grey)
    from_path = session.inpaint(tmp_path / "grey.png", mask)
    assert from_path.shape == grey.shape + (1,)
    np.testing.assert_array_equal(from_path[:, :, 0], out)


def test_inpaint_16bit_exact(session, crop, tmp_path):
    image, mask = crop
    offsets = (np.arange(image.size).reshape(image.shape) * 37 % 241 - 120)
    deep = np.clip(image.astype(np.int64) * 257 + offsets, 0, 65535).astype(np.uint16)
    out = session.inpaint(deep, mask)
    assert out.dtype == np.uint16
    hole = mask > 127
    np.testing.assert_array_equal(out[~hole], deep[~hole])
    np.testing.assert_array_equal(out[hole], session.inpaint(image, mask)[hole].astype(np.uint16) * 257)
    gi.save_image(tmp_path / "deep.png", deep)
    np.testing.assert_array_equal(gi.load_image(tmp_path / "deep.png", keep_16bit=True), deep)
    assert gi.load_image(tmp_path / "deep.png").dtype == np.uint8
    np.testing.assert_array_equal(session.inpaint(tmp_path / "deep.png", mask), out)
    with pytest.raises(gi.UnsupportedError, match="8 bits"):
        gi.save_image(tmp_path / "deep.jpg", deep)


# --------------------------------------------------------------------------
# EXIF and ICC carried from input to output

def _jpeg_with_metadata(path, image):
    """`image` saved as a JPEG stored turned (EXIF orientation 6), with an
    sRGB ICC profile and a camera make. Returns the profile's bytes."""
    from PIL import ImageCms
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "TestCam"
    turned = Image.fromarray(np.ascontiguousarray(np.rot90(image, 1)))  # 6: turn right to view
    turned.save(str(path), quality=95, exif=exif.tobytes(), icc_profile=icc)
    return icc


def test_metadata_load_and_save(tmp_path, crop):
    image = np.ascontiguousarray(crop[0])
    icc = _jpeg_with_metadata(tmp_path / "in.jpg", image)
    array, meta = gi.load_image(str(tmp_path / "in.jpg"), metadata=True)
    with meta:
        assert array.shape == image.shape  # turned upright
        assert meta.icc == icc
        assert meta.exif[:4] in (b"II*\0", b"MM\0*") and b"TestCam" in meta.exif
        assert "icc %d bytes" % len(icc) in repr(meta)
        for ext in ("png", "jpg", "webp"):
            out = tmp_path / ("out." + ext)
            try:
                gi.save_image(str(out), array, metadata=meta)
            except gi.UnsupportedError:
                assert ext == "webp"  # a build without WebP
                continue
            with Image.open(out) as im:
                assert im.info.get("icc_profile") == icc, ext
                got = im.getexif()
                assert got.get(0x010F) == "TestCam" and got.get(0x0112, 1) == 1, (ext, dict(got))
    assert repr(meta) == "<gatedinpaint.Metadata closed>"
    with pytest.raises(ValueError, match="closed"):
        gi.save_image(str(tmp_path / "x.png"), array, metadata=meta)
    with pytest.raises(TypeError, match="Metadata"):
        gi.save_image(str(tmp_path / "x.png"), array, metadata=icc)
    # a file without either block
    gi.save_image(str(tmp_path / "plain.png"), array)
    _, plain = gi.load_image(str(tmp_path / "plain.png"), metadata=True)
    assert plain.exif is None and plain.icc is None
    plain.close()


def test_inpaint_path_to_output_carries_metadata(tmp_path, session, crop):
    image, mask = crop
    icc = _jpeg_with_metadata(tmp_path / "in.jpg", np.ascontiguousarray(image))
    upright = gi.load_image(str(tmp_path / "in.jpg"))
    out_path = str(tmp_path / "filled.png")
    assert session.inpaint(str(tmp_path / "in.jpg"), mask, output=out_path) == out_path
    with Image.open(out_path) as im:
        assert im.info.get("icc_profile") == icc
        assert im.getexif().get(0x010F) == "TestCam"
    hole_changed_rest_same(upright, mask, gi.load_image(out_path))
    # an array input has no metadata to carry
    session.inpaint(upright, mask, output=str(tmp_path / "array.png"))
    with Image.open(tmp_path / "array.png") as im:
        assert "icc_profile" not in im.info
