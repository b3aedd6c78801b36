"""A page to paint on: open a photo, paint the hole, press Fill.

    python3 -m gatedinpaint.web [--host 127.0.0.1] [--port 8000] [--model FILE]
                                [--workers N] [--max-bytes N] [--max-pixels N]

Serves one self-contained page (web.html, no network needed) and
`POST /api/inpaint` for scripts: multipart fields `image`, `mask` and
optional `guide` (image files, masks white = fill); the answer is the filled
image as PNG, or a JSON object {"error": message, "field": name} with status
400 (a field missing), 413 (upload or picture too large), 415 (not an
image the library decodes), 422 (sizes differ, no hole, a hole over the
whole image, a guide the model cannot use), 503 (out of memory).

The model is loaded once; `workers` sessions (each with cores / workers
threads) serve that many requests at once, off the event loop, and further
requests wait for a free session. Needs Starlette, python-multipart and
uvicorn (Debian: python3-starlette python3-multipart python3-uvicorn).
"""
import argparse
import contextlib
import os
import queue
import struct
import tempfile

try:
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.datastructures import UploadFile
    from starlette.formparsers import MultiPartException, MultiPartParser
    from starlette.responses import HTMLResponse, JSONResponse, Response
    from starlette.routing import Route
except ImportError as e:
    raise ImportError("gatedinpaint.web needs Starlette and python-multipart (Debian: apt-get "
                      "install python3-starlette python3-multipart python3-uvicorn): %s" % e) from e

import gatedinpaint as gi

__all__ = ["create_app", "image_size", "main"]

DEFAULT_MAX_BYTES = 32 << 20     # one request body, all fields together
DEFAULT_MAX_PIXELS = 24_000_000  # width x height of each uploaded picture
FIELDS = ("image", "mask", "guide")
PAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "web.html")


class Refused(Exception):
    """A request the server answers with a JSON error."""

    def __init__(self, status, message, field=None):
        super().__init__(message)
        self.status, self.message, self.field = status, message, field

    def response(self):
        body = {"error": self.message}
        if self.field:
            body["field"] = self.field
        return JSONResponse(body, status_code=self.status)


# --------------------------------------------------------------------------
# Sizes from the file header, before anything is decoded


def image_size(data):
    """(width, height) from a PNG or JPEG header, None for other bytes (the
    library's decoder then decides; it refuses huge headers itself)."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:2] != b"\xff\xd8":
        return None
    pos = 2
    while pos + 4 <= len(data):  # JPEG: walk the segments to a start-of-frame
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if pos + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[pos + 5:pos + 9])
            return width, height
        pos += 2 + length
    return None


# --------------------------------------------------------------------------
# The work of one request, on a worker thread


def _plane(path):
    """A mask or guide upload as _decode wants it: (H x W array, None)."""
    return gi.load_mask(path), None


class Filler:
    """The model and a pool of sessions; fill() may be called from any thread."""

    def __init__(self, model, workers, threads, max_pixels):
        self.model = model
        self.max_pixels = max_pixels
        self.sessions = queue.Queue()
        for _ in range(workers):
            self.sessions.put(gi.Session(model, threads=threads))

    def close(self):
        while not self.sessions.empty():
            self.sessions.get().close()
        self.model.close()

    def _check_pixels(self, field, width, height):
        if width * height > self.max_pixels:
            raise Refused(413, "%s is %dx%d, more than the %d pixels this server takes"
                          % (field, width, height, self.max_pixels), field)

    def _decode(self, folder, field, data, load):
        """load(path) -> (array, extra) of an upload, its size checked before and after
        decoding; a file the library cannot decode is a 415."""
        size = image_size(data)
        if size:
            self._check_pixels(field, *size)
        path = os.path.join(folder, field)
        with open(path, "wb") as f:
            f.write(data)
        try:
            array, extra = load(path)
        except gi.FileError as e:
            raise Refused(415, "%s: not an image this server can read (%s)"
                          % (field, e.message.replace(path, field)), field)
        self._check_pixels(field, array.shape[1], array.shape[0])
        return array, extra

    def fill(self, uploads):
        """PNG bytes of the filled image, from {field: file bytes}. The
        upload's EXIF and ICC profile are carried into the PNG."""
        with tempfile.TemporaryDirectory(prefix="gatedinpaint-web-") as folder:
            # as stored (grey, 16 bits), with its EXIF and ICC profile for the result
            image, meta = self._decode(folder, "image", uploads["image"],
                                       lambda path: gi.load_image(path, keep_16bit=True,
                                                                  metadata=True))
            with meta:
                out = self._fill(folder, image, uploads)
                path = os.path.join(folder, "out.png")
                gi.save_image(path, out, metadata=meta)
            with open(path, "rb") as f:
                return f.read()

    def _fill(self, folder, image, uploads):
        mask = gi.normalize_mask(self._decode(folder, "mask", uploads["mask"], _plane)[0])
        guide = None
        if "guide" in uploads:
            guide = self._decode(folder, "guide", uploads["guide"], _plane)[0]
        h, w = image.shape[:2]
        for field, plane in (("mask", mask), ("guide", guide)):
            if plane is not None and plane.shape != (h, w):
                raise Refused(422, "%s is %dx%d, image is %dx%d"
                              % (field, plane.shape[1], plane.shape[0], w, h), field)
        if not mask.any():
            raise Refused(422, "the mask has no hole: paint where the image "
                          "should be filled", "mask")
        if mask.all():
            raise Refused(422, "the mask covers the whole image: nothing is left "
                          "to fill it from", "mask")
        session = self.sessions.get()
        try:
            return session.inpaint(image, mask, guide)
        except gi.OutOfMemoryError as e:
            raise Refused(503, e.message)
        except (gi.InvalidArgumentError, gi.ShapeError) as e:
            raise Refused(422, e.message)
        except gi.GatedInpaintError as e:
            raise Refused(500, e.message)
        finally:
            self.sessions.put(session)


# --------------------------------------------------------------------------
# HTTP


async def _limited(stream, limit):
    """The request body, refused once it passes `limit` bytes."""
    total = 0
    async for chunk in stream:
        total += len(chunk)
        if total > limit:
            raise Refused(413, "the upload is larger than %d bytes" % limit)
        yield chunk


async def _read_uploads(request, max_bytes):
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > max_bytes:
        raise Refused(413, "the upload is %s bytes, more than the %d this server takes"
                      % (length, max_bytes))
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise Refused(400, "send multipart/form-data with the fields image and mask "
                      "(and optionally guide)")
    try:
        form = await MultiPartParser(request.headers, _limited(request.stream(), max_bytes),
                                     max_files=len(FIELDS), max_fields=len(FIELDS)).parse()
    except MultiPartException as e:
        raise Refused(400, e.message)
    uploads = {}
    try:
        for field in FIELDS:
            value = form.get(field)
            if isinstance(value, UploadFile):
                uploads[field] = await value.read()
            elif value is not None:
                raise Refused(400, "%s must be a file" % field, field)
    finally:
        await form.close()
    for field in ("image", "mask"):
        if field not in uploads:
            raise Refused(400, "the field %s is missing" % field, field)
    return uploads


def create_app(model=None, *, workers=2, threads=None, max_bytes=DEFAULT_MAX_BYTES,
               max_pixels=DEFAULT_MAX_PIXELS):
    """The Starlette application. model: a gatedinpaint.Model, a model file
    path, or None for the library's default model; the application owns it
    and closes it at shutdown. threads: per session (None: cores / workers)."""
    if not isinstance(model, gi.Model):
        model = gi.Model.default() if model is None else gi.Model.from_file(model)
    if threads is None:
        threads = max(1, (os.cpu_count() or 1) // workers)
    filler = Filler(model, workers, threads, max_pixels)
    with open(PAGE, "rb") as f:
        page = f.read()

    async def index(request):
        return HTMLResponse(page)

    async def info(request):
        return JSONResponse({"model": model.name, "family": model.family,
                             "guide": model.guide_channels > 0,
                             "max_bytes": max_bytes, "max_pixels": max_pixels,
                             "library": gi.library_version()})

    async def inpaint(request):
        try:
            uploads = await _read_uploads(request, max_bytes)
            png = await run_in_threadpool(filler.fill, uploads)
        except Refused as e:
            return e.response()
        return Response(png, media_type="image/png")

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        filler.close()

    return Starlette(routes=[Route("/", index), Route("/api/info", info),
                             Route("/api/inpaint", inpaint, methods=["POST"])],
                     lifespan=lifespan)


def main(argv=None):
    import uvicorn

    p = argparse.ArgumentParser(prog="python3 -m gatedinpaint.web",
                                description="A page to paint on: inpainting in the browser.")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="default 8000")
    p.add_argument("--model", help="model file (.gguf); default: the library's own")
    p.add_argument("--workers", type=int, default=2,
                   help="requests filled at once, one session each (default 2)")
    p.add_argument("--threads", type=int,
                   help="threads per session (default: cores / workers)")
    p.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES,
                   help="largest upload in bytes, all fields (default %(default)d)")
    p.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS,
                   help="largest picture, width x height (default %(default)d)")
    args = p.parse_args(argv)
    if args.workers < 1 or args.max_bytes < 1 or args.max_pixels < 1:
        p.error("--workers, --max-bytes and --max-pixels must be at least 1")
    try:
        app = create_app(args.model, workers=args.workers, threads=args.threads,
                         max_bytes=args.max_bytes, max_pixels=args.max_pixels)
    except gi.GatedInpaintError as e:
        p.exit(4, "gatedinpaint.web: %s\n" % e.message)
    print("gatedinpaint.web: open http://%s:%d/" % (args.host, args.port), flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
