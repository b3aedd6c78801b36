"""A framework-free tensor: dtype name, shape and C-contiguous little-endian bytes.

The checkpoint readers return these; `to_f32_bytes` feeds the GGUF writer.
numpy is used for speed when it is installed, never required.
"""

import itertools
import struct
import sys

# dtype name -> (struct format character or None, item size in bytes)
DTYPES = {
    "f32": ("f", 4), "f16": ("e", 2), "f64": ("d", 8), "bf16": (None, 2),
    "i8": ("b", 1), "u8": ("B", 1), "i16": ("h", 2), "u16": ("H", 2),
    "i32": ("i", 4), "u32": ("I", 4), "i64": ("q", 8), "u64": ("Q", 8),
    "bool": ("?", 1),
}
FLOAT_DTYPES = ("f32", "f16", "f64", "bf16")
_NUMPY_NAMES = {"f32": "<f4", "f16": "<f2", "f64": "<f8"}


def numpy_or_none():
    """numpy if it can be imported, else None (the tools must work without it)."""
    try:
        import numpy
    except ImportError:
        return None
    return numpy


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


class RawTensor:
    __slots__ = ("dtype", "shape", "data")

    def __init__(self, dtype, shape, data):
        if dtype not in DTYPES:
            raise ValueError("unknown dtype %r" % (dtype,))
        shape = tuple(int(d) for d in shape)
        if any(d < 0 for d in shape):
            raise ValueError("negative dimension in shape %s" % (shape,))
        want = numel(shape) * DTYPES[dtype][1]
        if len(data) != want:
            raise ValueError("%s tensor of shape %s needs %d bytes, got %d"
                             % (dtype, shape, want, len(data)))
        self.dtype, self.shape, self.data = dtype, shape, bytes(data)

    def __repr__(self):
        return "RawTensor(%s, %s)" % (self.dtype, self.shape)

    def values(self):
        """The elements as a flat tuple of Python numbers."""
        if self.dtype == "bf16":
            return struct.unpack("<%df" % numel(self.shape), self.to_f32_bytes())
        fmt = DTYPES[self.dtype][0]
        return struct.unpack("<%d%s" % (numel(self.shape), fmt), self.data)

    def permute(self, perm):
        """A copy with dimensions reordered like numpy.transpose(perm)."""
        if sorted(perm) != list(range(len(self.shape))):
            raise ValueError("bad permutation %s for shape %s" % (perm, self.shape))
        shape = tuple(self.shape[p] for p in perm)
        np = numpy_or_none()
        if np is not None and self.dtype in _NUMPY_NAMES:
            arr = np.frombuffer(self.data, _NUMPY_NAMES[self.dtype]).reshape(self.shape)
            return RawTensor(self.dtype, shape, np.ascontiguousarray(arr.transpose(perm)).tobytes())
        src_strides = contiguous_strides(self.shape)
        stride = tuple(src_strides[p] for p in perm)
        return RawTensor(self.dtype, shape,
                         strided_bytes(self.data, DTYPES[self.dtype][1], 0, shape, stride))

    def to_f32_bytes(self):
        """Little-endian float32 bytes of a floating-point tensor."""
        if self.dtype == "f32":
            return self.data
        if self.dtype not in FLOAT_DTYPES:
            raise ValueError("a %s tensor is not floating point" % self.dtype)
        if self.dtype == "bf16":
            # bfloat16 is the upper half of a float32: widen by zero low bytes.
            out = bytearray(2 * len(self.data))
            out[2::4] = self.data[0::2]
            out[3::4] = self.data[1::2]
            return bytes(out)
        np = numpy_or_none()
        if np is not None:
            with np.errstate(over="ignore"):  # f64 overflow shows up as inf later
                return np.frombuffer(self.data, _NUMPY_NAMES[self.dtype]).astype("<f4").tobytes()
        vals = self.values()
        try:
            return struct.pack("<%df" % len(vals), *vals)
        except OverflowError:
            raise ValueError("a float64 value does not fit in float32") from None


def f32_from_bytes(data):
    """A flat array.array('f') from little-endian float32 bytes."""
    from array import array
    arr = array("f")
    arr.frombytes(data)
    if sys.byteorder == "big":
        arr.byteswap()
    return arr


def contiguous_strides(shape):
    """Element strides of a C-contiguous array of this shape."""
    strides, acc = [], 1
    for d in reversed(shape):
        strides.append(acc)
        acc *= d
    return tuple(reversed(strides))


def strided_bytes(data, itemsize, offset, shape, stride):
    """C-contiguous bytes of the view (element offset, shape, element strides) of `data`.

    Raises ValueError if the view reaches outside `data`.
    """
    n = numel(shape)
    if len(stride) != len(shape) or offset < 0 or any(s < 0 for s in stride):
        raise ValueError("bad view: offset %d, shape %s, stride %s" % (offset, shape, stride))
    if n == 0:
        return b""
    last = offset + sum((d - 1) * s for d, s in zip(shape, stride))
    if (last + 1) * itemsize > len(data):
        raise ValueError("view (offset %d, shape %s, stride %s) reaches past its storage of "
                         "%d elements" % (offset, shape, stride, len(data) // itemsize))
    # Strides of size-1 dimensions do not matter for contiguity.
    want = contiguous_strides(shape)
    if all(d == 1 or s == w for d, s, w in zip(shape, stride, want)):
        return bytes(data[offset * itemsize:(offset + n) * itemsize])
    mv = memoryview(data)
    outer = itertools.product(*(range(d) for d in shape[:-1]))
    inner_n, inner_s = shape[-1], stride[-1]
    parts = []
    for idx in outer:
        base = offset + sum(i * s for i, s in zip(idx, stride))
        if inner_s == 1:
            parts.append(mv[base * itemsize:(base + inner_n) * itemsize])
        else:
            for j in range(inner_n):
                p = (base + j * inner_s) * itemsize
                parts.append(mv[p:p + itemsize])
    return b"".join(parts)
