"""gatedinpaint.web over HTTP, against a real uvicorn on a free port: a fill
changes the hole and nothing else, each bad request gets its JSON error, and
requests served at once give the pixels of serial calls. Skipped (exit 77 in
meson) without Starlette, python-multipart, uvicorn or httpx."""
import concurrent.futures
import struct
import threading
import time

import numpy as np
import pytest

for _name in ("starlette", "multipart", "uvicorn", "httpx"):
    pytest.importorskip(_name)

import httpx  # noqa: E402
import uvicorn  # noqa: E402

import gatedinpaint as gi  # noqa: E402
from gatedinpaint import web  # noqa: E402

from conftest import free_port  # noqa: E402


class Server:
    """create_app(**options) served by uvicorn on a thread."""

    def __init__(self, **options):
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(web.create_app(**options), host="127.0.0.1",
                                                    port=self.port, log_level="warning"))
        self.server.install_signal_handlers = lambda: None
        self.thread = threading.Thread(target=self.server.run)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        self.url = "http://127.0.0.1:%d" % self.port
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(20)


def png(tmp_path, name, array):
    path = tmp_path / name
    gi.save_image(str(path), array)
    return path.read_bytes()


def decode(tmp_path, data):
    path = tmp_path / "answer.png"
    path.write_bytes(data)
    return gi.load_image(str(path))


@pytest.fixture(scope="module")
def server(model_path):
    with Server(model=model_path, workers=2) as s:
        yield s


@pytest.fixture(scope="module")
def inputs(example_paths):
    image_path, mask_path = example_paths
    with open(image_path, "rb") as f, open(mask_path, "rb") as g:
        return {"image": f.read(), "mask": g.read()}


def post(server, files, **kw):
    return httpx.post(server.url + "/api/inpaint", timeout=60,
                      files={k: (k + ".png", v) for k, v in files.items()}, **kw)


def test_fill_changes_the_hole_only(server, inputs, example_paths, tmp_path):
    r = post(server, inputs)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    out = decode(tmp_path, r.content)
    image = gi.load_image(example_paths[0])
    hole = gi.normalize_mask(gi.load_mask(example_paths[1])) > 0
    assert out.shape == image.shape
    assert np.array_equal(out[~hole], image[~hole])
    assert np.abs(out[hole].astype(int) - image[hole]).mean() > 2


def test_grey_image(server, inputs, example_paths, tmp_path):
    grey = gi.load_image(example_paths[0], 1)
    r = post(server, dict(inputs, image=png(tmp_path, "grey.png", grey)))
    assert r.status_code == 200, r.text
    out = decode(tmp_path, r.content)
    hole = gi.normalize_mask(gi.load_mask(example_paths[1])) > 0
    assert out.shape == grey.shape  # grey in, grey out (the library's rule)
    assert np.array_equal(out[~hole], grey[~hole]) and not np.array_equal(out, grey)


def test_page_and_info(server):
    page = httpx.get(server.url + "/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert 'id="paint"' in page.text and "api/inpaint" in page.text
    info = httpx.get(server.url + "/api/info").json()
    assert info["library"] == gi.library_version() and info["max_pixels"] > 0


def error(r, status, *words):
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    for w in words:
        assert w in body["error"] + " " + body.get("field", ""), body
    return body


def test_errors(server, inputs, tmp_path):
    h, w = 425, 680
    error(post(server, dict(inputs, image=b"not a picture at all")), 415, "image")
    error(post(server, dict(inputs, mask=b"\x89PNG\r\n\x1a\n truncated")), 415, "mask")
    error(post(server, {"image": inputs["image"]}), 400, "mask", "missing")
    error(httpx.post(server.url + "/api/inpaint", content=b"x"), 400, "multipart")
    small = png(tmp_path, "small.png", np.full((h - 1, w), 255, np.uint8))
    error(post(server, dict(inputs, mask=small)), 422, "mask", "680x424", "680x425")
    error(post(server, dict(inputs, guide=small)), 422, "guide", "680x424")
    # The test model has no guide channel.
    error(post(server, dict(inputs, guide=inputs["mask"])), 422, "no guide channel")
    empty = png(tmp_path, "empty.png", np.zeros((h, w), np.uint8))
    error(post(server, dict(inputs, mask=empty)), 422, "no hole")
    full = png(tmp_path, "full.png", np.full((h, w), 255, np.uint8))
    error(post(server, dict(inputs, mask=full)), 422, "whole image")


def test_limits(server, model_path, inputs):
    with Server(model=model_path, workers=1, max_bytes=len(inputs["image"]) + 4000,
                max_pixels=680 * 425) as s:
        assert post(s, inputs).status_code == 200
        error(post(s, dict(inputs, guide=inputs["image"])), 413, "bytes")
        # A streamed upload has no Content-Length: the body is counted as it comes.
        body = b"--b\r\nContent-Disposition: form-data; name=\"image\"; filename=\"i\"\r\n\r\n"
        error(httpx.post(s.url + "/api/inpaint", content=iter([body, b"x" * 300_000]),
                         headers={"content-type": "multipart/form-data; boundary=b"}),
              413, "bytes")
    with Server(model=model_path, workers=1, max_pixels=680 * 425 - 1) as s:
        error(post(s, inputs), 413, "680x425", "image")
    # Refused from its header: the library would read it as a broken file (415).
    huge = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" + struct.pack(">II", 50000, 50000)
    error(post(server, dict(inputs, image=huge + b"\x08\x02\x00\x00\x00")), 413, "50000x50000")


def test_concurrent_requests_match_serial_calls(server, model_path, inputs, example_paths,
                                                tmp_path):
    image = gi.load_image(example_paths[0])
    masks = []
    for i in range(4):
        m = np.zeros(image.shape[:2], np.uint8)
        m[40 + 60 * i:100 + 60 * i, 50 + 120 * i:150 + 120 * i] = 255
        masks.append(m)
    uploads = [dict(inputs, mask=png(tmp_path, "m%d.png" % i, m)) for i, m in enumerate(masks)]
    with concurrent.futures.ThreadPoolExecutor(len(uploads)) as pool:
        answers = list(pool.map(lambda files: post(server, files), uploads))
    with gi.Model.from_file(model_path) as model, gi.Session(model, threads=1) as session:
        for i, (answer, mask) in enumerate(zip(answers, masks)):
            assert answer.status_code == 200, answer.text
            expected = session.inpaint(image, mask)
            assert np.array_equal(decode(tmp_path, answer.content), expected), i


def test_icc_and_exif_carried(server, inputs, example_paths, tmp_path):
    from PIL import Image, ImageCms
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    Image.fromarray(gi.load_image(example_paths[0])).save(
        str(tmp_path / "in.jpg"), quality=95, exif=exif.tobytes(), icc_profile=icc)
    r = post(server, dict(inputs, image=(tmp_path / "in.jpg").read_bytes()))
    assert r.status_code == 200, r.text
    (tmp_path / "answer.png").write_bytes(r.content)
    with Image.open(tmp_path / "answer.png") as im:
        assert im.info.get("icc_profile") == icc
        assert im.getexif().get(0x010F) == "TestCam"
