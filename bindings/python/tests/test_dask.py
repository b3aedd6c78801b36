"""gatedinpaint.dask on a LocalCluster of 2 worker processes: the same pixels
as gi-inpaint's folder mode, per-file errors reported, a killed worker loses
no file. Skipped without dask/distributed or without the built gi-inpaint."""
import os
import subprocess
import sys

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
pytest.importorskip("dask")

import gatedinpaint as gi  # noqa: E402
from gatedinpaint import dask as gid  # noqa: E402

from conftest import PACKAGE_ROOT, REPO  # noqa: E402


def _cli():
    lib = os.environ.get("GATEDINPAINT_LIBRARY")
    cands = [os.environ.get("GATEDINPAINT_CLI"),
             lib and os.path.join(os.path.dirname(lib), "tools", "gi-inpaint"),
             os.path.join(REPO, "build", "tools", "gi-inpaint")]
    for c in cands:
        if c and os.access(c, os.X_OK):
            return c
    pytest.skip("no built gi-inpaint (set GATEDINPAINT_CLI)")


@pytest.fixture(scope="module")
def cluster():
    # Workers are new processes: they find the package and the library as we do.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [PACKAGE_ROOT, os.path.dirname(os.path.abspath(__file__))] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as c:
        yield c


@pytest.fixture
def client(cluster, model_path):
    with distributed.Client(cluster) as c:
        gid.register(c, model_path, threads=1)
        yield c


def _make_inputs(root, example_paths, n=6, h=96, w=128):
    """n crops of the example, masks in a separate folder under the three names."""
    img = gi.load_image(example_paths[0])
    images, masks = root / "images", root / "masks"
    images.mkdir()
    masks.mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        y, x = 40 * i, 60 * i
        crop = np.ascontiguousarray(img[y:y + h, x:x + w])
        name = "img%02d.%s" % (i, "png" if i % 2 else "jpg")
        gi.save_image(str(images / name), crop)
        m = np.zeros((h, w), np.uint8)
        y0, x0 = rng.integers(8, h - 40), rng.integers(8, w - 40)
        m[y0:y0 + 24, x0:x0 + 30] = 1 if i == 3 else 255  # one 0/1 mask
        suffix = ["", "_mask", ".mask"][i % 3]
        gi.save_image(str(masks / ("img%02d%s.png" % (i, suffix))), m)
    return images, masks


def test_pair_files_rule(tmp_path):
    for name in ["a.jpg", "b.PNG", "c.jpeg", "d.png", "e.txt", ".hidden.png",
                 "a_mask.png", "f.png"]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub.png").mkdir()
    masks = tmp_path / "m"
    masks.mkdir()
    for name in ["a.png", "b_mask.JPG", "c.mask.jpeg", "d.mask.png", "d_mask.png"]:
        (masks / name).write_bytes(b"x")
    jobs, problems = gid.pair_files(str(tmp_path), str(masks), "/out")
    # a_mask.png is an image here (masks live elsewhere) with no mask; f.png neither
    assert [os.path.basename(p) for p, _ in problems] == ["a_mask.png", "f.png"]
    assert [os.path.basename(i) for i, _, _ in jobs] == ["a.jpg", "b.PNG", "c.jpeg", "d.png"]
    assert [os.path.basename(m) for _, m, _ in jobs] == ["a.png", "b_mask.JPG",
                                                        "c.mask.jpeg", "d_mask.png"]
    # masks with the images: NAME_mask / NAME.mask are not images; the image itself never its mask
    jobs, problems = gid.pair_files(str(tmp_path), str(tmp_path), "/out")
    assert [(os.path.basename(i), os.path.basename(m)) for i, m, _ in jobs] == [
        ("a.jpg", "a_mask.png")]
    # one mask file for every image
    jobs, _ = gid.pair_files(str(tmp_path), str(masks / "a.png"), "/out")
    assert len(jobs) == 6 and all(m == str(masks / "a.png") for _, m, _ in jobs)
    assert gid.output_path("/o", "x/y.tif") == "/o/y.png"


def _pixels(path):
    return gi.load_image(path)


def test_same_pixels_as_cli(tmp_path, example_paths, model_path, client):
    images, masks = _make_inputs(tmp_path, example_paths)
    cli_out, dask_out = tmp_path / "cli", tmp_path / "dask"
    subprocess.run([_cli(), "--image", str(images), "--mask", str(masks),
                    "--output", str(cli_out), "--model", model_path, "--threads", "1", "-q"],
                   check=True)
    jobs, problems = gid.pair_files(str(images), str(masks), str(dask_out))
    assert len(jobs) == 6 and not problems
    records = gid.run(client, jobs, problems, progress=None)
    assert all(r["ok"] for r in records), records
    assert len({r["worker"] for r in records}) >= 1
    for name in sorted(os.listdir(cli_out)):
        a, b = _pixels(str(cli_out / name)), _pixels(str(dask_out / name))
        assert a.shape == b.shape and np.array_equal(a, b), name


def test_corrupt_file_reported(tmp_path, example_paths, client, capsys):
    images, masks = _make_inputs(tmp_path, example_paths)
    (images / "img02.jpg").write_bytes(b"not a jpeg at all")
    out = tmp_path / "out"
    jobs, problems = gid.pair_files(str(images), str(masks), str(out))
    records = gid.run(client, jobs, problems, progress=sys.stderr)
    bad = [r for r in records if not r["ok"]]
    assert [os.path.basename(r["image"]) for r in bad] == ["img02.jpg"]
    assert bad[0]["error"]
    assert sorted(os.listdir(out)) == ["img%02d.%s" % (i, "png" if i % 2 else "jpg")
                                       for i in range(6) if i != 2]
    assert "[6/6]" in capsys.readouterr().err


def test_killed_worker_loses_no_file(tmp_path, example_paths, client):
    images, masks = _make_inputs(tmp_path, example_paths, n=6)
    out = tmp_path / "out"
    jobs, problems = gid.pair_files(str(images), str(masks), str(out))
    # Slow the first tasks down so a worker dies with work in hand.
    futures = [client.submit(_slow_then_fill, i, m, o, retries=3, pure=False)
               for i, m, o in jobs]
    distributed.wait(futures[:1])
    pids = client.run(os.getpid)
    victim = sorted(pids)[0]
    try:
        client.run(os._exit, 1, workers=[victim])
    except Exception:
        pass
    results = [f.result(timeout=120) for f in futures]
    assert pids[victim] not in client.run(os.getpid).values()  # it did die
    assert all(r["ok"] for r in results), results
    assert sorted(os.listdir(out)) == sorted(os.path.basename(o) for _, _, o in jobs)


def _slow_then_fill(image, mask, output):
    import time
    time.sleep(0.5)
    return gid.inpaint_file(image, mask, output)


def test_command_line_exit_status(tmp_path, example_paths, model_path):
    images, masks = _make_inputs(tmp_path, example_paths, n=3)
    env = dict(os.environ, PYTHONPATH=PACKAGE_ROOT)
    cmd = [sys.executable, "-m", "gatedinpaint.dask", "--image", str(images), "--mask",
           str(masks), "--output", str(tmp_path / "out"), "--local", "1", "--model", model_path,
           "--threads", "1"]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "3 written, 0 failed" in r.stderr
    (images / "img01.png").write_bytes(b"\x89PNG broken")
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == gid.EXIT_FAILED, r.stderr
    assert "2 written, 1 failed" in r.stderr and "img01.png" in r.stderr


def test_masks_with_images_like_cli(tmp_path, example_paths, model_path, client):
    """Masks beside the images (NAME_mask / NAME.mask are not images), an
    image without a mask, an empty mask (written unchanged): the same files
    written, the same failures and the same pixels as gi-inpaint."""
    images, masks = _make_inputs(tmp_path, example_paths, n=4)
    for m in os.listdir(masks):  # NAME.png would be the image itself: NAME_mask.png
        bare = "_" not in m and m.count(".") == 1
        os.replace(str(masks / m), str(images / (m.replace(".png", "_mask.png") if bare else m)))
    gi.save_image(str(images / "img01.mask.png"), np.zeros((96, 128), np.uint8))  # empty
    os.unlink(str(images / "img01_mask.png"))
    gi.save_image(str(images / "lonely.png"), np.zeros((96, 128, 3), np.uint8))
    cli_out, dask_out = tmp_path / "cli", tmp_path / "dask"
    r = subprocess.run([_cli(), "--image", str(images), "--mask", str(images),
                        "--output", str(cli_out), "--model", model_path, "-q"])
    assert r.returncode == 6
    jobs, problems = gid.pair_files(str(images), str(images), str(dask_out))
    assert [os.path.basename(p) for p, _ in problems] == ["lonely.png"]
    records = gid.run(client, jobs, problems, progress=None)
    assert [os.path.basename(r["image"]) for r in records if not r["ok"]] == ["lonely.png"]
    assert [os.path.basename(r["image"]) for r in records if r["empty"]] == ["img01.png"]
    assert sorted(os.listdir(cli_out)) == sorted(os.listdir(dask_out))
    for name in os.listdir(cli_out):
        if name == "img01.png":  # copied byte for byte by both
            assert (cli_out / name).read_bytes() == (dask_out / name).read_bytes()
        assert np.array_equal(_pixels(str(cli_out / name)), _pixels(str(dask_out / name))), name
