"""Free-form image inpainting with gated convolutions (DeepFill v2) on the CPU.

Python bindings (ctypes) of libgatedinpaint; see docs/python.md.

    import gatedinpaint as gi
    with gi.Model.default() as model, gi.Session(model) as session:
        filled = session.inpaint("photo.jpg", "mask.png")   # numpy array

Images are numpy arrays (uint8, or uint16 for 16-bit images; H x W grey,
H x W x 1..4), PIL images or file paths. Masks follow the library's mask
rule (include/gatedinpaint.h): a mask whose largest value is 1 is a 0/1
mask (non-zero = fill), any other is white (> 127) where to fill.
"""
import ctypes
import os
import threading

import numpy as np

from . import _capi
from ._capi import lib as _lib

__version__ = "0.1.0"
__all__ = [
    "Model", "Session", "inpaint", "load_image", "load_mask", "save_image", "Metadata",
    "normalize_mask", "dilate_mask", "blend_feather",
    "library_version", "library_path",
    "GatedInpaintError", "InvalidArgumentError", "OutOfMemoryError", "FileError",
    "BadModelError", "UnsupportedError", "ShapeError", "CancelledError", "InternalError",
]

library_path = _capi.path
"""The shared library file (or loader name) that was loaded."""


def library_version():
    """Version of the loaded library, "MAJOR.MINOR.PATCH"."""
    return _lib.gi_version_string().decode()


# --------------------------------------------------------------------------
# Errors


class GatedInpaintError(Exception):
    """A library call failed. `status` is the GI_E_* code (negative),
    `message` the library's explanation (gi_last_error)."""

    def __init__(self, status, message):
        self.status = status
        self.message = message
        super().__init__("%s (%s)" % (message, _lib.gi_status_string(status).decode()))


class InvalidArgumentError(GatedInpaintError, ValueError):
    """GI_E_INVALID_ARG: a bad, missing or inconsistent argument."""


class OutOfMemoryError(GatedInpaintError, MemoryError):
    """GI_E_NOMEM: allocation failed or a memory limit was hit."""


class FileError(GatedInpaintError, OSError):
    """GI_E_IO: a file could not be read, written or decoded."""

    __str__ = Exception.__str__  # not OSError's "[Errno ...]" form


class BadModelError(GatedInpaintError):
    """GI_E_BAD_MODEL: the model file is malformed or inconsistent."""


class UnsupportedError(GatedInpaintError):
    """GI_E_UNSUPPORTED: valid, but this build or model cannot do it."""


class ShapeError(GatedInpaintError, ValueError):
    """GI_E_SHAPE: image, mask, guide or output sizes do not fit together."""


class CancelledError(GatedInpaintError):
    """GI_E_CANCELLED: the progress callback asked to stop."""


class InternalError(GatedInpaintError):
    """GI_E_INTERNAL: a bug in the library; please report it."""


_ERRORS = {-1: InvalidArgumentError, -2: OutOfMemoryError, -3: FileError, -4: BadModelError,
           -5: UnsupportedError, -6: ShapeError, -7: CancelledError, -8: InternalError}


def _check(status):
    if status != _capi.OK:
        # Read right away: the message is per thread and the next call replaces it.
        message = _lib.gi_last_error().decode(errors="replace")
        raise _ERRORS.get(status, GatedInpaintError)(status, message)


def _path_bytes(path):
    return os.fsencode(os.fspath(path))


# --------------------------------------------------------------------------
# Tensors: numpy arrays lent to the library for the length of one call


class _Borrowed:
    """gi_tensor over a numpy uint8 or uint16 array (H x W x C); destroyed on
    exit. The array must outlive the block, which holding it in a local
    guarantees."""

    def __init__(self, array):
        self.array = array
        self.handle = ctypes.c_void_p()

    def __enter__(self):
        h, w, c = self.array.shape
        dtype = _capi.DTYPE_U16 if self.array.dtype == np.uint16 else _capi.DTYPE_U8
        _check(_lib.gi_tensor_wrap(dtype, h, w, c, self.array.ctypes.data,
                                   self.array.strides[0], ctypes.byref(self.handle)))
        return self.handle

    def __exit__(self, *exc):
        _lib.gi_tensor_destroy(self.handle)


def _as_hwc(array, what, sixteen=False):
    """A uint8 (or with `sixteen` uint16) H x W x C array the library can read
    in place: channels and pixels packed, any row stride (so crops of a
    larger array are not copied)."""
    if array.dtype == np.bool_:
        array = array.astype(np.uint8) * 255
    if array.dtype != np.uint8 and not (sixteen and array.dtype == np.uint16):
        raise TypeError("%s: dtype is %s, expected uint8%s"
                        % (what, array.dtype, " or uint16" if sixteen else ""))
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3:
        raise ValueError("%s: shape is %s, expected (height, width) or "
                         "(height, width, channels)" % (what, array.shape))
    h, w, c = array.shape
    size = array.itemsize
    if not (array.strides[2] == size and array.strides[1] == c * size
            and array.strides[0] >= w * c * size and array.strides[0] % size == 0):
        array = np.ascontiguousarray(array)
    return array


def _tensor_to_array(handle):
    """Copy a library-owned U8 or U16 tensor into a new numpy array."""
    h, w, c = ctypes.c_int32(), ctypes.c_int32(), ctypes.c_int32()
    _check(_lib.gi_tensor_shape(handle, ctypes.byref(h), ctypes.byref(w), ctypes.byref(c)))
    h, w, c = h.value, w.value, c.value
    dtype = np.uint16 if _lib.gi_tensor_dtype(handle) == _capi.DTYPE_U16 else np.uint8
    item = np.dtype(dtype).itemsize
    stride = _lib.gi_tensor_row_stride(handle)
    # Exactly the bytes the tensor covers: the last row may end before a stride.
    size = (h - 1) * stride + w * c * item
    flat = np.frombuffer((ctypes.c_uint8 * size).from_address(_lib.gi_tensor_data(handle)),
                         dtype=np.uint8)
    rows = np.lib.stride_tricks.as_strided(flat, (h, w * c * item), (stride, 1)).copy()
    return rows.view(dtype).reshape(h, w, c)


def _owned(status_call):
    """Run a C call that creates a tensor through its last argument and return
    the tensor as a numpy array, freeing the C tensor."""
    handle = ctypes.c_void_p()
    _check(status_call(ctypes.byref(handle)))
    try:
        return _tensor_to_array(handle)
    finally:
        _lib.gi_tensor_destroy(handle)


class _Owner:
    """A library handle freed by close(), by a `with` block's end or when
    the object goes away."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()


class Metadata(_Owner):
    """The EXIF block and ICC colour profile of an image file, as
    load_image(..., metadata=True) read them, for save_image(...,
    metadata=) to write to another file. `exif` and `icc` are bytes, or None
    where the file had none; the EXIF orientation reads 1 (the pixels were
    turned upright on loading). Holds a library handle: close() or a `with`
    block frees it early."""

    def __init__(self, _handle):
        self._handle = _handle

    def _live(self):
        if not self._handle:
            raise ValueError("Metadata is closed")
        return self._handle

    def _block(self, kind):
        data, size = ctypes.c_void_p(), ctypes.c_size_t()
        _check(_lib.gi_metadata_get(self._live(), kind, ctypes.byref(data), ctypes.byref(size)))
        return ctypes.string_at(data, size.value) if data.value else None

    @property
    def exif(self):
        return self._block(_capi.META_EXIF)

    @property
    def icc(self):
        return self._block(_capi.META_ICC)

    def close(self):
        if self._handle:
            _lib.gi_metadata_destroy(self._handle)
            self._handle = None

    def __repr__(self):
        if not self._handle:
            return "<gatedinpaint.Metadata closed>"
        exif, icc = self.exif, self.icc
        return "<gatedinpaint.Metadata exif %s, icc %s>" % (
            "%d bytes" % len(exif) if exif else "none", "%d bytes" % len(icc) if icc else "none")


def load_image(path, channels=0, keep_16bit=False, metadata=False):
    """Decode an image file (PNG, JPEG; WebP and TIFF where the library has
    them; EXIF orientation applied) into a uint8 H x W x C array.
    channels: 0 = as stored, or 1, 3, 4 to convert. keep_16bit: a 16-bit
    PNG or TIFF gives a uint16 array instead of being rounded to 8 bits.
    metadata: also return the file's EXIF and ICC profile, as
    (array, Metadata), to carry them to the output with save_image."""
    flags = _capi.LOAD_16BIT if keep_16bit else 0
    meta = ctypes.c_void_p() if metadata else None
    array = _owned(lambda out: _lib.gi_image_load_ex(
        _path_bytes(path), channels, flags, out, ctypes.byref(meta) if metadata else None))
    return (array, Metadata(meta.value)) if metadata else array


def save_image(path, image, quality=0, metadata=None):
    """Encode a uint8 or uint16 array (H x W, or H x W x 1..4), the format
    chosen by the file extension (.png, .jpg/.jpeg, .webp, .tif/.tiff).
    uint16 needs .png or .tif. quality: JPEG (and lossy WebP) quality
    1..100, 0 = default (JPEG 95, WebP lossless). metadata: a Metadata from
    load_image, written where the format holds it (PNG, JPEG, WebP: EXIF and
    ICC; TIFF: ICC); the ICC profile only if its colour space (grey or RGB)
    is the image's."""
    if metadata is not None and not isinstance(metadata, Metadata):
        raise TypeError("metadata must be a gatedinpaint.Metadata (from load_image)")
    handle = metadata._live() if metadata is not None else None
    with _Borrowed(_as_hwc(np.asarray(image), "image", sixteen=True)) as t:
        _check(_lib.gi_image_save_ex(_path_bytes(path), t, quality, handle))


def _to_mask(array):
    """The library's mask rule for a decoded mask image: a non-uniform alpha
    channel is the mask, else the brightest colour channel. Returns H x W."""
    with _Borrowed(array) as t:
        return _owned(lambda out: _lib.gi_image_to_mask(t, out))[:, :, 0]


def load_mask(path):
    """Load a mask image file as a uint8 H x W array (values as stored; the
    mask rule reads them)."""
    return _to_mask(_as_hwc(load_image(path), "mask"))


def _mask_array(mask, what="mask"):
    """A 1-channel uint8 mask array (H x W or H x W x 1) as H x W x 1."""
    array = _as_hwc(np.asarray(mask), what)
    if array.shape[2] != 1:
        raise ValueError("%s: %d channels, expected 1 (see load_mask)" % (what, array.shape[2]))
    return array


def _radius(radius):
    if isinstance(radius, bool) or not isinstance(radius, (int, np.integer)):
        raise TypeError("radius: expected an int, got %s" % type(radius).__name__)
    if radius < 0:
        raise ValueError("radius is %d, must be >= 0" % radius)
    return int(radius)


def normalize_mask(mask):
    """The library's rule for masks as people make them (gi_mask_normalize):
    if the largest value is 1, non-zero is a hole, else > 127 is. Returns a
    new H x W uint8 array of 0 and 255."""
    with _Borrowed(_mask_array(mask)) as t:
        return _owned(lambda out: _lib.gi_mask_normalize(t, out))[:, :, 0]


def dilate_mask(mask, radius):
    """Grow the holes (the mask rule) by `radius` pixels with a square
    (gi_mask_dilate). Returns a new H x W uint8 array of 0 and 255."""
    radius = _radius(radius)
    array = _mask_array(mask).copy()
    with _Borrowed(array) as t:
        _check(_lib.gi_mask_dilate(t, radius))
    return array[:, :, 0]


def blend_feather(image, mask, filled, radius):
    """Composite `filled` over `image`: the hole (the mask rule) from `filled`,
    then a band of `radius` pixels where the weight of `filled` falls
    linearly from 1 to 0 with the distance to the hole; beyond it the
    pixels of `image` unchanged (gi_blend_feather). Returns a new array
    shaped like `image`."""
    radius = _radius(radius)
    img = _as_hwc(np.asarray(image), "image", sixteen=True)
    fill = _as_hwc(np.asarray(filled), "filled", sixteen=True)
    m = _mask_array(mask)
    out = np.empty(img.shape, dtype=img.dtype)
    with _Borrowed(img) as ti, _Borrowed(m) as tm, _Borrowed(fill) as tf, \
            _Borrowed(out) as to:
        _check(_lib.gi_blend_feather(ti, tm, tf, radius, to))
    return out.reshape(np.asarray(image).shape)


# --------------------------------------------------------------------------
# Accepted inputs: numpy arrays, PIL images, paths


def _is_pil(obj):
    try:
        from PIL import Image
    except ImportError:
        return False
    return isinstance(obj, Image.Image)


def _image_input(image):
    """(H x W x C array, kind, Metadata or None): kind is how to return the
    result; a file's EXIF and ICC profile go to the output file."""
    if isinstance(image, np.ndarray):
        return _as_hwc(image, "image", sixteen=True), "array", None
    if _is_pil(image):
        has_alpha = "A" in image.getbands() or "transparency" in image.info
        mode = "RGBA" if has_alpha else "RGB"
        return _as_hwc(np.asarray(image.convert(mode)), "image"), "pil", None
    if isinstance(image, (str, bytes, os.PathLike)):
        array, meta = load_image(image, keep_16bit=True, metadata=True)
        return array, "path", meta
    raise TypeError("image: expected a numpy array, a PIL image or a path, got %s"
                    % type(image).__name__)


def _mask_input(mask, what):
    """H x W x 1 uint8 array from a mask or guide in any accepted form."""
    if isinstance(mask, (str, bytes, os.PathLike)):
        return load_mask(mask)[:, :, None]
    if _is_pil(mask):
        mask = np.asarray(mask if mask.mode in ("L", "LA", "RGB", "RGBA")
                          else mask.convert("RGBA" if "transparency" in mask.info else "L"))
    if not isinstance(mask, np.ndarray):
        raise TypeError("%s: expected a numpy array, a PIL image or a path, got %s"
                        % (what, type(mask).__name__))
    array = _as_hwc(mask, what)
    if array.shape[2] != 1:
        array = _to_mask(array)[:, :, None]
    return array


# --------------------------------------------------------------------------
# Models and sessions


class Model(_Owner):
    """A loaded model: immutable, may be shared by any number of sessions and
    threads. Create with from_file(), from_bytes() or default(); release with
    close() or a `with` block (garbage collection also releases it)."""

    def __init__(self, _handle):
        self._handle = _handle

    @classmethod
    def from_file(cls, path):
        """Load a GGUF model file (docs/MODEL_FORMAT.md)."""
        handle = ctypes.c_void_p()
        _check(_lib.gi_model_load_file(_path_bytes(path), ctypes.byref(handle)))
        return cls(handle)

    @classmethod
    def from_bytes(cls, data):
        """Load a model from the bytes of a GGUF file."""
        data = bytes(data)
        handle = ctypes.c_void_p()
        _check(_lib.gi_model_load_memory(data, len(data), ctypes.byref(handle)))
        return cls(handle)

    @classmethod
    def default(cls):
        """The model embedded in the library. Raises UnsupportedError when the
        library was built without one."""
        handle = ctypes.c_void_p()
        _check(_lib.gi_model_load_default(ctypes.byref(handle)))
        return cls(handle)

    @property
    def _ptr(self):
        if self._handle is None:
            raise ValueError("the Model is closed")
        return self._handle

    def _string(self, prop):
        out = ctypes.c_char_p()
        _check(_lib.gi_model_get_string(self._ptr, prop, ctypes.byref(out)))
        return out.value.decode(errors="replace")

    def _int(self, prop):
        out = ctypes.c_int64()
        _check(_lib.gi_model_get_int(self._ptr, prop, ctypes.byref(out)))
        return out.value

    family = property(lambda self: self._string(_capi.MODEL_FAMILY),
                      doc='Network family, e.g. "deepfill_v2".')
    name = property(lambda self: self._string(_capi.MODEL_NAME))
    license = property(lambda self: self._string(_capi.MODEL_LICENSE))
    source_url = property(lambda self: self._string(_capi.MODEL_SOURCE_URL))
    channel_order = property(lambda self: self._string(_capi.MODEL_CHANNEL_ORDER),
                             doc='"rgb" or "bgr" on the network side (the API is RGB).')
    width = property(lambda self: self._int(_capi.MODEL_WIDTH),
                     doc="Base channel count (48 for the official weights).")
    guide_channels = property(lambda self: self._int(_capi.MODEL_GUIDE_CHANNELS))
    arch_version = property(lambda self: self._int(_capi.MODEL_ARCH_VERSION))
    param_count = property(lambda self: self._int(_capi.MODEL_PARAM_COUNT))
    input_fill = property(lambda self: self._string(_capi.MODEL_INPUT_FILL),
                          doc='How holes enter the network: "zeros" (official), "pushpull", '
                              '"guided_pushpull" or "ring_warp".')
    residual = property(lambda self: bool(self._int(_capi.MODEL_RESIDUAL)))
    working_size = property(lambda self: self._int(_capi.MODEL_WORKING_SIZE),
                            doc="window side (network pixels) the 'regions' strategy scales to")

    def close(self):
        """Drop this object's reference (sessions keep their own)."""
        if self._handle is not None:
            _lib.gi_model_release(self._handle)
            self._handle = None

    def __repr__(self):
        if self._handle is None:
            return "<gatedinpaint.Model closed>"
        return "<gatedinpaint.Model %s width %d: %s>" % (self.family, self.width, self.name)


class Session(_Owner):
    """Runs a model; owns scratch memory that is reused between calls. Use a
    session from one thread at a time (one session per thread)."""

    def __init__(self, model, threads=None, max_isa=None, strategy=None):
        """threads: worker threads (None or 0 = all cores). max_isa: cap on the
        instruction set (GI_ISA_* value of gatedinpaint.h), None = best.
        strategy: "regions" (default: each hole region in a context window at
        the model's working scale) or "exact" (the whole image at full
        resolution, the official graph)."""
        self._handle = None  # for close() from __del__ if creation fails
        if not isinstance(model, Model):
            raise TypeError("model: expected a gatedinpaint.Model, got %s"
                            % type(model).__name__)
        handle = ctypes.c_void_p()
        _check(_lib.gi_session_create(model._ptr, ctypes.byref(handle)))
        self._handle = handle
        self._lock = threading.Lock()
        if threads is not None:
            self.threads = threads
        if max_isa is not None:
            _check(_lib.gi_session_set_int(self._ptr, _capi.OPT_MAX_ISA, max_isa))
        if strategy is not None:
            self.strategy = strategy

    @property
    def _ptr(self):
        if self._handle is None:
            raise ValueError("the Session is closed")
        return self._handle

    def _get(self, option):
        out = ctypes.c_int64()
        _check(_lib.gi_session_get_int(self._ptr, option, ctypes.byref(out)))
        return out.value

    @property
    def threads(self):
        """Worker threads the session uses."""
        return self._get(_capi.OPT_NUM_THREADS)

    @threads.setter
    def threads(self, n):
        _check(_lib.gi_session_set_int(self._ptr, _capi.OPT_NUM_THREADS, n))

    @property
    def strategy(self):
        """"regions" or "exact" (see __init__)."""
        value = self._get(_capi.OPT_STRATEGY)
        return next(k for k, v in _capi.STRATEGIES.items() if v == value)

    @strategy.setter
    def strategy(self, name):
        if name not in _capi.STRATEGIES:
            raise ValueError("strategy must be one of %s, got %r"
                             % (", ".join(sorted(_capi.STRATEGIES)), name))
        _check(_lib.gi_session_set_int(self._ptr, _capi.OPT_STRATEGY, _capi.STRATEGIES[name]))

    @property
    def last_regions(self):
        """Network passes of the last inpaint() (0 for an empty mask)."""
        return self._get(_capi.OPT_LAST_REGIONS)

    @property
    def last_scale(self):
        """Largest factor the last inpaint() shrank a region by (1 = full resolution)."""
        return self._get(_capi.OPT_LAST_SCALE)

    @property
    def isa(self):
        """Instruction set in use (GI_ISA_* value: 0 scalar, 20 AVX2, 30 AVX-512...)."""
        return self._get(_capi.OPT_ISA)

    def inpaint(self, image, mask, guide=None, *, progress=None, output=None, maps=None):
        """Fill `image` where `mask` has holes (the mask rule: a 0/1 mask
        is filled where non-zero, any other where > 127).

        image: numpy array (uint8 or uint16; H x W grey, H x W x 1..4:
            grey, grey+alpha, RGB, RGBA), PIL image or path (grey and
            16-bit files stay so).
        mask, guide: numpy array (H x W, H x W x 1, bool, or an image that
            load_mask would read), PIL image or path. `guide` is a sketch
            of wanted edges, for models with guide_channels == 1.
        progress: called as progress(done, stage) with done in [0, 1]; a
            truthy return cancels (CancelledError); an exception it raises
            cancels and is re-raised here.
        output: a path to save the result to (format by extension, as
            save_image); when `image` is a path, its EXIF and ICC profile
            are written there too.
        maps: experimental (the gate viewer, docs/ENGINE.md): called as
            maps(info, array) with each intermediate map of the network:
            info a dict (layer, kind "gate" or "mask", index, pass, net_h,
            net_w), array an h x w x c float32 copy; a truthy return cancels.

        Returns the result as the same kind as `image`: a numpy array, or a
        PIL image. For a path, `output` is returned when given, else an array.
        Pixels outside the hole are returned unchanged, alpha passes through.
        """
        image_array, kind, meta = _image_input(image)
        try:
            mask_array = _mask_input(mask, "mask")
            guide_array = None if guide is None else _mask_input(guide, "guide")
            out = np.empty(image_array.shape, dtype=image_array.dtype)

            if not self._lock.acquire(blocking=False):
                raise RuntimeError("this Session is running on another thread; "
                                   "use one Session per thread")
            try:
                self._run(image_array, mask_array, guide_array, out, progress, maps)
            finally:
                self._lock.release()

            if output is not None:
                save_image(output, out, metadata=meta)
        finally:
            if meta is not None:
                meta.close()
        if output is not None and kind == "path":
            return output
        if kind == "pil":
            from PIL import Image
            return Image.fromarray(out, "RGBA" if out.shape[2] == 4 else "RGB")
        return out.reshape(image.shape) if kind == "array" else out

    def _run(self, image, mask, guide, out, progress, maps=None):
        raised = []

        def guarded(fn):  # an exception must not unwind through C: cancel instead
            def call(*args):
                try:
                    return 1 if fn(*args) else 0
                except BaseException as e:
                    raised.append(e)
                    return 1
            return call

        callback = _capi.progress_fn()  # NULL: no callback
        if progress is not None:
            callback = _capi.progress_fn(guarded(
                lambda _user, done, stage: progress(done, stage.decode() if stage else "")))
        _check(_lib.gi_session_set_progress(self._ptr, callback, None))
        observer = _capi.map_observer_fn()
        if maps is not None:
            if not hasattr(_lib, "gi_session_set_map_observer"):
                raise UnsupportedError(-5, "this libgatedinpaint has no "
                                       "map observer (experimental, newer libraries)")

            def see(_user, info_p, data):
                i = info_p.contents
                arr = np.ctypeslib.as_array(data, shape=(i.h, i.w, i.c)).copy()
                return maps({"layer": i.layer.decode(), "kind": i.kind.decode(),
                             "index": i.index, "pass": i.pass_, "net_h": i.net_h,
                             "net_w": i.net_w}, arr)
            observer = _capi.map_observer_fn(guarded(see))
            _check(_lib.gi_session_set_map_observer(self._ptr, observer, None))
        try:
            with _Borrowed(image) as ti, _Borrowed(mask) as tm, _Borrowed(out) as to:
                if guide is None:
                    status = _lib.gi_inpaint(self._ptr, ti, tm, None, to)
                else:
                    with _Borrowed(guide) as tg:
                        status = _lib.gi_inpaint(self._ptr, ti, tm, tg, to)
            if raised:
                raise raised[0]
            _check(status)
        finally:
            if progress is not None:
                _lib.gi_session_set_progress(self._ptr, _capi.progress_fn(), None)
            if maps is not None:
                _lib.gi_session_set_map_observer(self._ptr, _capi.map_observer_fn(), None)

    def close(self):
        """Free the session and its scratch memory now."""
        if self._handle is not None:
            _lib.gi_session_destroy(self._handle)
            self._handle = None


_default = {}
_default_lock = threading.Lock()


def inpaint(image, mask, guide=None, threads=None, *, model=None, progress=None, output=None):
    """One-call inpainting: Session(model, threads).inpaint(...). Without
    `model`, the library's embedded default model (loaded once)."""
    if model is None:
        with _default_lock:
            if "model" not in _default:
                _default["model"] = Model.default()
            model = _default["model"]
    with Session(model, threads=threads) as session:
        return session.inpaint(image, mask, guide, progress=progress, output=output)
