"""GGUF v3 writer and reader for libgatedinpaint model files (docs/MODEL_FORMAT.md).

`write_model` (DeepFill v2) and `write_pconv_model` (PConv U-Net) are the one
way our tools (gi-convert, the training recipe) write a model: they check the
tensor set against the family's table before anything touches the disk. `write_gguf` is the unchecked low-level writer and
`read_gguf` / `parse_gguf` the reader used by the round-trip tests.

Dimensions are stored innermost-first as in ggml: a PyTorch OIHW weight of
shape (O, I, kh, kw) has dims [kw, kh, I, O] and its data in C order.
"""

import math
import os
import struct
from collections import OrderedDict, namedtuple

from . import deepfill, pconv
from .tensor import f32_from_bytes, numel, numpy_or_none

MAGIC = b"GGUF"
VERSION = 3
ALIGNMENT = 64
DEFAULT_ALIGNMENT = 32  # what readers assume when general.alignment is absent
ARCHITECTURE = "gatedinpaint"

# Metadata value types.
T_U8, T_I8, T_U16, T_I16, T_U32, T_I32, T_F32, T_BOOL, T_STRING, T_ARRAY, T_U64, \
    T_I64, T_F64 = range(13)
_SCALAR_FMT = {T_U8: "B", T_I8: "b", T_U16: "H", T_I16: "h", T_U32: "I", T_I32: "i",
               T_F32: "f", T_BOOL: "?", T_U64: "Q", T_I64: "q", T_F64: "d"}

# Tensor types: the only two the library accepts.
GGML_F32, GGML_F16 = 0, 1
_GGML_TYPES = {GGML_F32: ("f32", 4), GGML_F16: ("f16", 2)}
_GGML_BY_NAME = {"f32": GGML_F32, "f16": GGML_F16}


class GGUFError(ValueError):
    """A malformed GGUF file, or arguments that would make one."""


# ----------------------------------------------------------------------------
# Low-level writer

def _pack_string(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _pack_value(vtype, value):
    if vtype == T_STRING:
        return _pack_string(value)
    if vtype == T_ARRAY:
        etype, items = value
        if etype == T_ARRAY:
            raise GGUFError("nested arrays are not supported")
        return struct.pack("<IQ", etype, len(items)) + b"".join(
            _pack_value(etype, v) for v in items)
    if vtype not in _SCALAR_FMT:
        raise GGUFError("unknown GGUF value type %r" % (vtype,))
    try:
        return struct.pack("<" + _SCALAR_FMT[vtype], value)
    except struct.error as e:
        raise GGUFError("value %r does not fit GGUF type %d: %s" % (value, vtype, e)) from None


def _pad(n, alignment):
    return (alignment - n % alignment) % alignment


def write_gguf(path, kv, tensors, alignment=ALIGNMENT):
    """Write a GGUF v3 file without any architecture checks.

    kv: sequence of (key, value_type, value); an array value is
        (element_type, list). If `general.alignment` is among them its value
        must equal `alignment`.
    tensors: sequence of (name, shape in PyTorch order, ggml type, data bytes).
    The file is written to a temporary name and renamed, so a failure never
    leaves a truncated model behind.
    """
    if alignment < 8 or alignment & (alignment - 1):
        raise GGUFError("alignment must be a power of two >= 8, got %d" % alignment)
    head = [MAGIC, struct.pack("<IQQ", VERSION, len(tensors), len(kv))]
    for key, vtype, value in kv:
        if key == "general.alignment" and value != alignment:
            raise GGUFError("general.alignment = %r but writing with alignment %d"
                            % (value, alignment))
        head.append(_pack_string(key) + struct.pack("<I", vtype) + _pack_value(vtype, value))
    offset = 0
    for name, shape, gtype, data in tensors:
        if gtype not in _GGML_TYPES:
            raise GGUFError("tensor %s: unsupported ggml type %r" % (name, gtype))
        if len(data) != numel(shape) * _GGML_TYPES[gtype][1]:
            raise GGUFError("tensor %s: %d bytes do not match shape %s"
                            % (name, len(data), tuple(shape)))
        dims = list(reversed(shape))  # ggml: innermost dimension first
        head.append(_pack_string(name) + struct.pack("<I", len(dims))
                    + struct.pack("<%dQ" % len(dims), *dims)
                    + struct.pack("<IQ", gtype, offset))
        offset += len(data) + _pad(len(data), alignment)
    header = b"".join(head)
    tmp = "%s.tmp%d" % (path, os.getpid())
    try:
        with open(tmp, "wb") as f:
            f.write(header)
            f.write(b"\0" * _pad(len(header), alignment))
            for _, _, _, data in tensors:
                f.write(data)
                f.write(b"\0" * _pad(len(data), alignment))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


# ----------------------------------------------------------------------------
# Checked model writer

_RESERVED_KEYS = (
    "general.architecture", "general.alignment", "general.name", "general.license",
    "general.source_url", "gatedinpaint.family", "gatedinpaint.arch_version",
    "gatedinpaint.width", "gatedinpaint.guide_channels", "gatedinpaint.channel_order",
    "gatedinpaint.attention.fuse", "gatedinpaint.attention.softmax_scale",
    "gatedinpaint.input_fill", "gatedinpaint.residual", "gatedinpaint.working_size",
    "gatedinpaint.pconv.layer_size",
)


def _extra_entry(key, value):
    if not isinstance(key, str) or not key:
        raise GGUFError("extra_kv keys must be non-empty strings, got %r" % (key,))
    if key in _RESERVED_KEYS:
        raise GGUFError("extra_kv may not set %s; it is a write_model argument" % key)
    if isinstance(value, bool):
        return (key, T_BOOL, value)
    if isinstance(value, int):
        # u32 like the other integer keys when it fits; i64 otherwise.
        if 0 <= value < 2 ** 32:
            return (key, T_U32, value)
        if -2 ** 63 <= value < 2 ** 63:
            return (key, T_I64, value)
        raise GGUFError("extra_kv %s: integer %d does not fit in 64 bits" % (key, value))
    if isinstance(value, float):
        return (key, T_F64, value)  # f64 keeps provenance values exact
    if isinstance(value, str):
        return (key, T_STRING, value)
    raise GGUFError("extra_kv %s: values must be str, int, float or bool, got %s"
                    % (key, type(value).__name__))


def _as_f32(name, value):
    """(shape, little-endian float32 bytes) from a numpy array or a (shape, bytes) pair."""
    if hasattr(value, "dtype") and hasattr(value, "shape"):  # a numpy array
        if value.dtype.kind != "f":
            raise GGUFError("tensor %s: dtype %s is not floating point" % (name, value.dtype))
        np = numpy_or_none()
        with np.errstate(over="ignore"):  # overflow to inf is reported below
            data = np.ascontiguousarray(value, dtype="<f4").tobytes()
        return tuple(int(d) for d in value.shape), data
    try:
        shape, data = value
        shape = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise GGUFError("tensor %s: expected a numpy array or a (shape, float32 bytes) "
                        "pair, got %s" % (name, type(value).__name__)) from None
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise GGUFError("tensor %s: data must be bytes, got %s" % (name, type(data).__name__))
    data = bytes(data)
    if len(data) != 4 * numel(shape):
        raise GGUFError("tensor %s: shape %s needs %d float32 bytes, got %d"
                        % (name, shape, 4 * numel(shape), len(data)))
    return shape, data


def _check_finite(name, data):
    np = numpy_or_none()
    if np is not None:
        arr = np.frombuffer(data, "<f4")
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            raise GGUFError("tensor %s: element %d is %r; NaN and Inf are not allowed"
                            % (name, int(bad[0]), float(arr[bad[0]])))
        return
    for i, v in enumerate(f32_from_bytes(data)):
        if not math.isfinite(v):
            raise GGUFError("tensor %s: element %d is %r; NaN and Inf are not allowed"
                            % (name, i, v))


def _to_f16(name, data):
    np = numpy_or_none()
    if np is not None:
        arr = np.frombuffer(data, "<f4")
        with np.errstate(over="ignore"):
            half = arr.astype("<f2")
        bad = np.flatnonzero(~np.isfinite(half))
        if bad.size:
            raise GGUFError("tensor %s: element %d (%r) is out of float16 range; use "
                            "dtype f32" % (name, int(bad[0]), float(arr[bad[0]])))
        return half.tobytes()
    vals = f32_from_bytes(data)
    try:
        return struct.pack("<%de" % len(vals), *vals)
    except OverflowError:
        big = next(v for v in vals if abs(v) >= 65520.0)
        raise GGUFError("tensor %s: value %r is out of float16 range; use dtype f32"
                        % (name, big)) from None


def write_model(path, tensors, *, width, guide_channels=0, channel_order, name, license,
                source_url="", fuse=True, softmax_scale=10.0, input_fill="zeros",
                residual=False, dtype="f32", extra_kv=None, working_size=None):
    """Check and write a DeepFill v2 model file.

    tensors: mapping "<layer>.weight" / "<layer>.bias" -> numpy float array
      (PyTorch OIHW shape) or (shape, little-endian float32 bytes).
    dtype: storage type of every tensor, "f32" or "f16".
    input_fill: how the holes enter stage 1, "zeros" (the official network),
      "pushpull" or "guided_pushpull" (needs a guide channel; lib/graph/fill.h); a
      non-zeros fill is written with arch_version 2, which libraries that do not know
      the key refuse.
    residual: each stage adds its output to its input image (arch_version 2 as well).
    working_size: the window side (network pixels) the model fills best at, 64..8192,
      for the library's 'regions' strategy (None: not written; readers assume 512).
    extra_kv: optional dict of additional str/int/float/bool keys.
    Raises GGUFError or deepfill.ArchError (both ValueError) with a message
    naming the offending argument or tensor; nothing is written then.
    """
    deepfill.check_params(width, guide_channels)
    _check_common(channel_order, name, license, source_url, dtype, working_size)
    if not isinstance(fuse, bool):
        raise GGUFError("fuse must be a bool, got %r" % (fuse,))
    if isinstance(softmax_scale, bool) or not isinstance(softmax_scale, (int, float)) \
            or not math.isfinite(softmax_scale) or softmax_scale <= 0:
        raise GGUFError("softmax_scale must be a positive finite number, got %r"
                        % (softmax_scale,))
    if input_fill not in deepfill.INPUT_FILLS:
        raise GGUFError("input_fill must be one of %s, got %r"
                        % (", ".join(deepfill.INPUT_FILLS), input_fill))
    if input_fill == "guided_pushpull" and not guide_channels:
        raise GGUFError("input_fill guided_pushpull needs a guide channel (guide_channels 1)")
    if not isinstance(residual, bool):
        raise GGUFError("residual must be a bool, got %r" % (residual,))

    kv = _general_kv(name, license, source_url)
    kv += [("gatedinpaint.family", T_STRING, deepfill.FAMILY),
           ("gatedinpaint.arch_version", T_U32,
            deepfill.ARCH_VERSION if input_fill == "zeros" and not residual else 2),
           ("gatedinpaint.width", T_U32, width),
           ("gatedinpaint.guide_channels", T_U32, guide_channels),
           ("gatedinpaint.channel_order", T_STRING, channel_order),
           ("gatedinpaint.attention.fuse", T_BOOL, fuse),
           ("gatedinpaint.attention.softmax_scale", T_F32, float(softmax_scale))]
    if input_fill != "zeros":
        kv.append(("gatedinpaint.input_fill", T_STRING, input_fill))
    if residual:
        kv.append(("gatedinpaint.residual", T_BOOL, True))
    normalized = {str(k): _as_f32(k, v) for k, v in tensors.items()}
    deepfill.check_tensor_shapes({k: s for k, (s, _) in normalized.items()},
                                 width, guide_channels)
    _write_checked(path, kv, working_size, extra_kv, normalized,
                   deepfill.expected_shapes(width, guide_channels), dtype)


def write_pconv_model(path, tensors, *, width, depth, name, license, source_url="",
                      channel_order="rgb", bn_eps=1e-5, dtype="f32", extra_kv=None,
                      working_size=None):
    """Check and write a PConv U-Net model file (gatedinpaint.family pconv_unet).

    tensors: mapping in our names ("enc_1.conv.weight", "enc_2.bn.running_var",
      "dec_1.conv.bias", ...; tools/gimodel/pconv.py) -> numpy float array or
      (shape, float32 bytes). Conv biases are optional (net.py has only dec_1's).
    depth: net.py's layer_size (sides are padded to multiples of 2**depth).
    Other arguments as write_model. Raises GGUFError or pconv.ArchError.
    """
    pconv.check_params(width, depth)
    _check_common(channel_order, name, license, source_url, dtype, working_size)
    if isinstance(bn_eps, bool) or not isinstance(bn_eps, (int, float)) or \
            not math.isfinite(bn_eps) or bn_eps <= 0:
        raise GGUFError("bn_eps must be a positive finite number, got %r" % (bn_eps,))
    kv = _general_kv(name, license, source_url)
    kv += [("gatedinpaint.family", T_STRING, pconv.FAMILY),
           ("gatedinpaint.arch_version", T_U32, pconv.ARCH_VERSION),
           ("gatedinpaint.width", T_U32, width),
           ("gatedinpaint.pconv.layer_size", T_U32, depth),
           ("gatedinpaint.channel_order", T_STRING, channel_order)]
    if bn_eps != 1e-5:
        kv.append(("gatedinpaint.pconv.bn_eps", T_F32, float(bn_eps)))
    normalized = {str(k): _as_f32(k, v) for k, v in tensors.items()}
    pconv.check_tensor_shapes({k: s for k, (s, _) in normalized.items()}, width, depth)
    required, optional = pconv.expected_shapes(width, depth)
    shapes = OrderedDict((k, v) for k, v in list(required.items()) + list(optional.items())
                         if k in normalized)
    _write_checked(path, kv, working_size, extra_kv, normalized, shapes, dtype)


def _check_common(channel_order, name, license, source_url, dtype, working_size):
    if channel_order not in ("bgr", "rgb"):
        raise GGUFError("channel_order must be 'bgr' or 'rgb', got %r" % (channel_order,))
    for label, value in (("name", name), ("license", license)):
        if not isinstance(value, str) or not value.strip():
            raise GGUFError("%s must be a non-empty string, got %r" % (label, value))
    if not isinstance(source_url, str):
        raise GGUFError("source_url must be a string, got %r" % (source_url,))
    if dtype not in _GGML_BY_NAME:
        raise GGUFError("dtype must be 'f32' or 'f16', got %r" % (dtype,))
    if working_size is not None and (isinstance(working_size, bool) or
                                     not isinstance(working_size, int) or
                                     not 64 <= working_size <= 8192):
        raise GGUFError("working_size must be an int from 64 to 8192, got %r" % (working_size,))


def _general_kv(name, license, source_url):
    kv = [("general.architecture", T_STRING, ARCHITECTURE),
          ("general.alignment", T_U32, ALIGNMENT),
          ("general.name", T_STRING, name),
          ("general.license", T_STRING, license)]
    if source_url:
        kv.append(("general.source_url", T_STRING, source_url))
    return kv


def _write_checked(path, kv, working_size, extra_kv, normalized, shapes, dtype):
    """kv + working_size + extra keys, then the tensors of `shapes` in its order."""
    if working_size is not None:
        kv.append(("gatedinpaint.working_size", T_U32, working_size))
    kv += [_extra_entry(k, v) for k, v in (extra_kv or {}).items()]
    out = []
    for tname, shape in shapes.items():
        data = normalized[tname][1]
        _check_finite(tname, data)
        if dtype == "f16":
            data = _to_f16(tname, data)
        out.append((tname, shape, _GGML_BY_NAME[dtype], data))
    write_gguf(path, kv, out)


# ----------------------------------------------------------------------------
# Reader

TensorInfo = namedtuple("TensorInfo", "name dims ggml_type offset")
GGUFFile = namedtuple("GGUFFile", "kv kv_types tensors alignment data_start data")


class _Cursor:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n, what):
        if n < 0 or self.pos + n > len(self.data):
            raise GGUFError("truncated file: %s at byte %d needs %d bytes, %d left"
                            % (what, self.pos, n, len(self.data) - self.pos))
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def unpack(self, fmt, what):
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))

    def string(self, what):
        (n,) = self.unpack("Q", what)
        try:
            return self.take(n, what).decode("utf-8")
        except UnicodeDecodeError:
            raise GGUFError("%s is not valid UTF-8" % what) from None

    def value(self, vtype, what):
        if vtype == T_STRING:
            return self.string(what)
        if vtype == T_ARRAY:
            etype, count = self.unpack("IQ", what)
            if etype == T_ARRAY:
                raise GGUFError("%s: nested arrays are not supported" % what)
            if count > len(self.data) - self.pos:  # every element takes >= 1 byte
                raise GGUFError("%s: array count %d exceeds the file" % (what, count))
            return [self.value(etype, what) for _ in range(count)]
        if vtype not in _SCALAR_FMT:
            raise GGUFError("%s: unknown value type %d" % (what, vtype))
        if vtype == T_BOOL:
            (b,) = self.unpack("B", what)
            if b > 1:
                raise GGUFError("%s: bool byte is %d, not 0 or 1" % (what, b))
            return bool(b)
        return self.unpack(_SCALAR_FMT[vtype], what)[0]


def parse_gguf(data):
    """Parse and check a whole GGUF file held in `data` (bytes)."""
    cur = _Cursor(data)
    if cur.take(4, "magic") != MAGIC:
        raise GGUFError("not a GGUF file (bad magic)")
    (version,) = cur.unpack("I", "version")
    if version != VERSION:
        raise GGUFError("GGUF version %d is not supported (only %d)" % (version, VERSION))
    n_tensors, n_kv = cur.unpack("QQ", "counts")
    # Every kv and tensor info takes well over 8 bytes: bound counts by the size.
    if n_tensors > len(data) // 8 or n_kv > len(data) // 8:
        raise GGUFError("tensor or key count exceeds the file size")
    kv, kv_types = OrderedDict(), OrderedDict()
    for _ in range(n_kv):
        key = cur.string("key")
        if key in kv:
            raise GGUFError("duplicate key %s" % key)
        (vtype,) = cur.unpack("I", "type of " + key)
        kv[key] = cur.value(vtype, key)
        kv_types[key] = vtype
    alignment = kv.get("general.alignment", DEFAULT_ALIGNMENT)
    if kv_types.get("general.alignment", T_U32) != T_U32 or alignment < 8 \
            or alignment & (alignment - 1):
        raise GGUFError("general.alignment must be a u32 power of two >= 8, got %r"
                        % (alignment,))
    infos, seen = [], set()
    for _ in range(n_tensors):
        name = cur.string("tensor name")
        if name in seen:
            raise GGUFError("duplicate tensor %s" % name)
        seen.add(name)
        (n_dims,) = cur.unpack("I", "n_dims of " + name)
        if n_dims > 4:
            raise GGUFError("tensor %s has %d dimensions (at most 4)" % (name, n_dims))
        dims = cur.unpack("%dQ" % n_dims, "dims of " + name)
        gtype, offset = cur.unpack("IQ", "type and offset of " + name)
        if gtype not in _GGML_TYPES:
            raise GGUFError("tensor %s has ggml type %d (only 0 = F32, 1 = F16)"
                            % (name, gtype))
        if offset % alignment:
            raise GGUFError("tensor %s: offset %d is not a multiple of the alignment %d"
                            % (name, offset, alignment))
        infos.append(TensorInfo(name, tuple(dims), gtype, offset))
    data_start = cur.pos + _pad(cur.pos, alignment)
    spans = []
    for t in infos:
        start = data_start + t.offset
        end = start + numel(t.dims) * _GGML_TYPES[t.ggml_type][1]
        if end > len(data):
            raise GGUFError("tensor %s: data [%d, %d) runs past the end of the file (%d)"
                            % (t.name, start, end, len(data)))
        spans.append((start, end, t.name))
    spans.sort()
    for (s0, e0, n0), (s1, e1, n1) in zip(spans, spans[1:]):
        if s1 < e0:
            raise GGUFError("tensors %s and %s overlap" % (n0, n1))
    return GGUFFile(kv, kv_types, infos, alignment, data_start, data)


def with_kv(path, out, updates):
    """Copy the GGUF file at `path` to `out` with the string or number values of some
    keys replaced ({key: value}; each key must exist, and keeps its type). Tensors and
    the other keys are copied as they are (F16 stays F16)."""
    with open(path, "rb") as f:
        g = parse_gguf(f.read())
    for key in updates:
        if key not in g.kv:
            raise GGUFError("%s: no key %s to replace" % (path, key))
    kv = [(k, g.kv_types[k], updates.get(k, v)) for k, v in g.kv.items()]
    tensors = []
    for t in g.tensors:
        size = _GGML_TYPES[t.ggml_type][1]
        start = g.data_start + t.offset
        tensors.append((t.name, tuple(reversed(t.dims)), t.ggml_type,
                        g.data[start:start + numel(t.dims) * size]))
    write_gguf(out, kv, tensors, alignment=g.alignment)


def read_gguf(path):
    """(kv, tensors): kv maps key -> value; tensors maps name ->
    (shape in PyTorch order, "f32" or "f16", little-endian data bytes)."""
    with open(path, "rb") as f:
        g = parse_gguf(f.read())
    tensors = OrderedDict()
    for t in g.tensors:
        dtype, size = _GGML_TYPES[t.ggml_type]
        start = g.data_start + t.offset
        tensors[t.name] = (tuple(reversed(t.dims)), dtype,
                           g.data[start:start + numel(t.dims) * size])
    return g.kv, tensors
