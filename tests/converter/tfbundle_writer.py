"""A minimal TensorFlow tensor-bundle writer for tests (one shard, uncompressed
index blocks, prefix-compressed keys, correct crcs), so the converter's TF
path can be tested end to end without TensorFlow."""

import struct

import numpy as np

from gimodel.tfbundle import crc32c, mask_crc

_DT = {np.dtype("float32"): 1, np.dtype("float64"): 2, np.dtype("int32"): 3,
       np.dtype("int64"): 9, np.dtype("float16"): 19}
_RESTART_INTERVAL = 4  # small, so that both restarts and shared prefixes occur


def _varint(n):
    n &= (1 << 64) - 1  # protobuf int64: two's complement
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(num, wire, payload):
    key = _varint((num << 3) | wire)
    if wire == 0:
        return key + _varint(payload)
    if wire == 5:
        return key + struct.pack("<I", payload)
    return key + _varint(len(payload)) + payload  # wire 2


def _entry_proto(dtype, shape, offset, size, crc):
    dims = b"".join(_field(2, 2, _field(1, 0, d)) for d in shape)
    return (_field(1, 0, dtype) + _field(2, 2, dims) + _field(4, 0, offset)
            + _field(5, 0, size) + _field(6, 5, mask_crc(crc)))


def _block(items):
    out, restarts, prev = bytearray(), [], b""
    for i, (key, value) in enumerate(items):
        shared = 0
        if i % _RESTART_INTERVAL:
            while shared < min(len(prev), len(key)) and prev[shared] == key[shared]:
                shared += 1
        else:
            restarts.append(len(out))
        out += (_varint(shared) + _varint(len(key) - shared) + _varint(len(value))
                + key[shared:] + value)
        prev = key
    restarts = restarts or [0]
    out += struct.pack("<%dI" % len(restarts), *restarts) + struct.pack("<I", len(restarts))
    return bytes(out)


def _with_trailer(block):
    return block + b"\0" + struct.pack("<I", mask_crc(crc32c(block + b"\0")))


def write_bundle(prefix, tensors):
    """Write `tensors` (key -> numpy array) as checkpoint `prefix`."""
    data = bytearray()
    entries = []
    for key in sorted(tensors):
        arr = np.ascontiguousarray(tensors[key])
        raw = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        entries.append((key.encode(), _entry_proto(_DT[arr.dtype], arr.shape, len(data),
                                                   len(raw), crc32c(raw))))
        data += raw
    header = _field(1, 0, 1) + _field(3, 2, _field(1, 0, 1))  # 1 shard, version 1
    data_block = _with_trailer(_block([(b"", header)] + entries))
    handle = _varint(0) + _varint(len(data_block) - 5)
    index_block = _with_trailer(_block([(entries[-1][0], handle)]))
    meta_block = _with_trailer(_block([]))
    index_off = len(data_block)
    meta_off = index_off + len(index_block)
    footer = (_varint(meta_off) + _varint(len(meta_block) - 5)
              + _varint(index_off) + _varint(len(index_block) - 5))
    footer = footer.ljust(40, b"\0") + struct.pack("<Q", 0xDB4775248B80FB57)
    with open(prefix + ".index", "wb") as f:
        f.write(data_block + index_block + meta_block + footer)
    with open(prefix + ".data-00000-of-00001", "wb") as f:
        f.write(data)
