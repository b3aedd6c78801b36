"""Read TensorFlow tensor-bundle checkpoints (TF1 and TF2) without TensorFlow.

A checkpoint `PREFIX` is `PREFIX.index` plus `PREFIX.data-0000S-of-0000N`.
The index is a LevelDB-style table (footer with magic, block handles,
prefix-compressed keys with a restart array, a 5-byte block trailer holding
the compression type and a masked crc32c). The entry with the empty key is
a BundleHeaderProto; every other value is a BundleEntryProto saying where a
tensor lives in which data shard and its masked crc32c.

Every index block's crc is checked when the bundle is opened; a tensor's crc
is checked whenever it is read (`read`, `verify`, `verify_all`). Tensors that
are never read (a converter skips discriminator and optimiser variables) are
not checked, which keeps conversions of large training checkpoints fast.
"""

import os
import re
import struct
from collections import OrderedDict, namedtuple

from .tensor import DTYPES, RawTensor, numel


class BundleError(ValueError):
    """A missing, malformed or corrupted checkpoint."""


# ----------------------------------------------------------------------------
# crc32c (Castagnoli), slicing-by-8 tables: pure Python, ~15 MB/s.

def _make_tables():
    t0 = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t0.append(c)
    tables = [t0]
    for _ in range(7):
        prev = tables[-1]
        tables.append([(prev[i] >> 8) ^ t0[prev[i] & 0xFF] for i in range(256)])
    return tables


_CRC_TABLES = _make_tables()
_MASK_DELTA = 0xA282EAD8


def crc32c(data, crc=0):
    """crc32c of `data`, continuing from a previous (unmasked) value `crc`."""
    t0, t1, t2, t3, t4, t5, t6, t7 = _CRC_TABLES
    crc ^= 0xFFFFFFFF
    n8 = len(data) // 8 * 8
    for lo, hi in struct.iter_unpack("<II", memoryview(data)[:n8]):
        crc ^= lo
        crc = (t7[crc & 0xFF] ^ t6[(crc >> 8) & 0xFF] ^ t5[(crc >> 16) & 0xFF]
               ^ t4[crc >> 24] ^ t3[hi & 0xFF] ^ t2[(hi >> 8) & 0xFF]
               ^ t1[(hi >> 16) & 0xFF] ^ t0[hi >> 24])
    for b in bytes(data[n8:]):
        crc = t0[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def mask_crc(crc):
    """LevelDB/TF crc masking: rotate right by 15 and add a constant."""
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def unmask_crc(masked):
    rot = (masked - _MASK_DELTA) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF


# ----------------------------------------------------------------------------
# Varints, protobuf, Snappy

def _varint(buf, pos, what="varint"):
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise BundleError("truncated or overlong %s" % what)
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _int64(v):
    """Protobuf int64 from its unsigned varint value (two's complement)."""
    return v - (1 << 64) if v >= 1 << 63 else v


def _proto_fields(buf, what):
    """Yield (field number, wire type, value) of a serialized message."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos, what)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos, what)
        elif wire in (1, 5):
            n = 8 if wire == 1 else 4
            if pos + n > len(buf):
                raise BundleError("truncated %s" % what)
            value = int.from_bytes(buf[pos:pos + n], "little")
            pos += n
        elif wire == 2:
            n, pos = _varint(buf, pos, what)
            if pos + n > len(buf):
                raise BundleError("truncated %s" % what)
            value = bytes(buf[pos:pos + n])
            pos += n
        else:
            raise BundleError("unsupported protobuf wire type %d in %s" % (wire, what))
        yield field, wire, value


def snappy_decompress(data):
    """Decompress a raw Snappy block (not the framed format)."""
    size, pos = _varint(data, 0, "Snappy length")
    out = bytearray()
    end = len(data)
    while pos < end:
        tag = data[pos]
        pos += 1
        kind = tag & 3
        if kind == 0:  # literal; lengths >= 61 are stored in 1-4 extra bytes
            n = tag >> 2
            if n >= 60:
                nb = n - 59
                if pos + nb > end:
                    raise BundleError("corrupt Snappy data: truncated literal length")
                n = int.from_bytes(data[pos:pos + nb], "little")
                pos += nb
            n += 1
            if pos + n > end:
                raise BundleError("corrupt Snappy data: literal runs past the input")
            out += data[pos:pos + n]
            pos += n
            continue
        if kind == 1:
            if pos + 1 > end:
                raise BundleError("corrupt Snappy data: truncated copy")
            n = 4 + ((tag >> 2) & 7)
            off = ((tag >> 5) << 8) | data[pos]
            pos += 1
        else:
            nb = 2 if kind == 2 else 4
            if pos + nb > end:
                raise BundleError("corrupt Snappy data: truncated copy")
            n = (tag >> 2) + 1
            off = int.from_bytes(data[pos:pos + nb], "little")
            pos += nb
        if off == 0 or off > len(out):
            raise BundleError("corrupt Snappy data: copy offset %d with %d bytes output"
                              % (off, len(out)))
        start = len(out) - off
        if off >= n:
            out += out[start:start + n]
        else:  # overlapping copy: the last `off` bytes repeat
            out += (out[start:] * (n // off + 1))[:n]
        if len(out) > size:
            raise BundleError("corrupt Snappy data: output exceeds the stated %d bytes" % size)
    if len(out) != size:
        raise BundleError("corrupt Snappy data: %d bytes decoded, %d stated" % (len(out), size))
    return bytes(out)


# ----------------------------------------------------------------------------
# The LevelDB-style table of the .index file

_TABLE_MAGIC = 0xDB4775248B80FB57
_FOOTER_SIZE = 48
_NO_COMPRESSION, _SNAPPY = 0, 1


def _block_handle(buf, pos, what):
    offset, pos = _varint(buf, pos, what)
    size, pos = _varint(buf, pos, what)
    return offset, size, pos


def _read_block(index, offset, size, path):
    """(contents, compression type) of a block, its trailer crc checked and
    the contents decompressed."""
    if offset + size + 5 > len(index):
        raise BundleError("%s: block at %d (+%d) runs past the end of the file"
                          % (path, offset, size))
    contents = index[offset:offset + size]
    ctype = index[offset + size]
    (stored,) = struct.unpack_from("<I", index, offset + size + 1)
    if crc32c(index[offset:offset + size + 1]) != unmask_crc(stored):
        raise BundleError("%s: crc32c mismatch in the index block at offset %d "
                          "(the file is corrupted)" % (path, offset))
    if ctype == _SNAPPY:
        return snappy_decompress(contents), ctype
    if ctype != _NO_COMPRESSION:
        raise BundleError("%s: unknown block compression type %d" % (path, ctype))
    return contents, ctype


def _block_entries(block, path):
    """Yield (key bytes, value bytes) of a table block."""
    if len(block) < 4:
        raise BundleError("%s: block too short" % path)
    (n_restarts,) = struct.unpack_from("<I", block, len(block) - 4)
    limit = len(block) - 4 * (n_restarts + 1)
    if limit < 0:
        raise BundleError("%s: bad restart count %d" % (path, n_restarts))
    pos, key = 0, b""
    while pos < limit:
        shared, pos = _varint(block, pos, "block entry")
        unshared, pos = _varint(block, pos, "block entry")
        vlen, pos = _varint(block, pos, "block entry")
        if shared > len(key) or pos + unshared + vlen > limit:
            raise BundleError("%s: corrupt block entry at %d" % (path, pos))
        key = key[:shared] + bytes(block[pos:pos + unshared])
        pos += unshared
        yield key, bytes(block[pos:pos + vlen])
        pos += vlen


def _table_entries(index, path, block_types):
    """Yield the (key, value) pairs of the table; append each block's
    compression type (index block first) to `block_types`."""
    if len(index) < _FOOTER_SIZE:
        raise BundleError("%s: too short to be a checkpoint index" % path)
    footer = index[-_FOOTER_SIZE:]
    (magic,) = struct.unpack_from("<Q", footer, _FOOTER_SIZE - 8)
    if magic != _TABLE_MAGIC:
        raise BundleError("%s: not a TensorFlow checkpoint index (bad table magic)" % path)
    _, _, pos = _block_handle(footer, 0, "footer")  # metaindex: unused by bundles
    off, size, _ = _block_handle(footer, pos, "footer")
    prev = None
    index_block, ctype = _read_block(index, off, size, path)
    block_types.append(ctype)
    for _, handle in _block_entries(index_block, path):
        d_off, d_size, _ = _block_handle(handle, 0, "block handle")
        block, ctype = _read_block(index, d_off, d_size, path)
        block_types.append(ctype)
        for key, value in _block_entries(block, path):
            if prev is not None and key <= prev:
                raise BundleError("%s: keys out of order (%r after %r)" % (path, key, prev))
            prev = key
            yield key, value


# ----------------------------------------------------------------------------
# Bundle protos

# DataType enum -> (name, our dtype or None when we cannot decode its elements)
_DTYPES = {
    1: ("DT_FLOAT", "f32"), 2: ("DT_DOUBLE", "f64"), 3: ("DT_INT32", "i32"),
    4: ("DT_UINT8", "u8"), 5: ("DT_INT16", "i16"), 6: ("DT_INT8", "i8"),
    7: ("DT_STRING", None), 8: ("DT_COMPLEX64", None), 9: ("DT_INT64", "i64"),
    10: ("DT_BOOL", "bool"), 14: ("DT_BFLOAT16", "bf16"), 17: ("DT_UINT16", "u16"),
    18: ("DT_COMPLEX128", None), 19: ("DT_HALF", "f16"), 20: ("DT_RESOURCE", None),
    21: ("DT_VARIANT", None), 22: ("DT_UINT32", "u32"), 23: ("DT_UINT64", "u64"),
}
DT_STRING = 7

Entry = namedtuple("Entry", "key dtype dtype_name shape shard_id offset size crc32c sliced")
Header = namedtuple("Header", "num_shards endianness version")


def _parse_header(value):
    num_shards, endianness, version = 0, 0, {}
    for field, _, v in _proto_fields(value, "BundleHeaderProto"):
        if field == 1:
            num_shards = v
        elif field == 2:
            endianness = v
        elif field == 3:
            version = {f: x for f, _, x in _proto_fields(v, "VersionDef") if f in (1, 2)}
    return Header(num_shards, endianness, version)


def _parse_shape(value):
    dims = []
    for field, _, v in _proto_fields(value, "TensorShapeProto"):
        if field == 2:
            size = 0
            for f, _, x in _proto_fields(v, "TensorShapeProto.Dim"):
                if f == 1:
                    size = _int64(x)
            dims.append(size)
        elif field == 3 and v:
            return None  # unknown rank
    return tuple(dims)


def _parse_entry(key, value):
    dtype = shard = offset = size = crc = 0
    shape, sliced = (), False
    for field, _, v in _proto_fields(value, "BundleEntryProto of " + key):
        if field == 1:
            dtype = v
        elif field == 2:
            shape = _parse_shape(v)
        elif field == 3:
            shard = v
        elif field == 4:
            offset = _int64(v)
        elif field == 5:
            size = _int64(v)
        elif field == 6:
            crc = v
        elif field == 7:
            sliced = True
    name = _DTYPES.get(dtype, ("DT_<%d>" % dtype, None))[0]
    return Entry(key, dtype, name, shape, shard, offset, size, crc, sliced)


# ----------------------------------------------------------------------------
# Opening a checkpoint

class Bundle:
    """An opened checkpoint: `entries` maps key -> Entry in key order;
    `block_compression` lists the index file's block compression types
    (0 none, 1 Snappy; the index block first)."""

    def __init__(self, prefix):
        self.prefix = prefix
        path = prefix + ".index"
        try:
            with open(path, "rb") as f:
                index = f.read()
        except OSError as e:
            raise BundleError("cannot read %s: %s" % (path, e.strerror)) from None
        self.header = None
        self.entries = OrderedDict()
        self.block_compression = []
        for key, value in _table_entries(index, path, self.block_compression):
            if key == b"":
                self.header = _parse_header(value)
                continue
            try:
                skey = key.decode("utf-8")
            except UnicodeDecodeError:  # slice keys of partitioned variables
                skey = key.decode("latin-1")
            self.entries[skey] = _parse_entry(skey, value)
        if self.header is None:
            raise BundleError("%s: no bundle header (not a tensor-bundle checkpoint?)" % path)
        if self.header.endianness != 0:
            raise BundleError("%s: big-endian checkpoints are not supported" % path)
        if self.header.num_shards < 1:
            raise BundleError("%s: header says %d shards" % (path, self.header.num_shards))
        for e in self.entries.values():
            if not 0 <= e.shard_id < self.header.num_shards:
                raise BundleError("%s: tensor %s is in shard %d of %d"
                                  % (path, e.key, e.shard_id, self.header.num_shards))

    def shard_path(self, shard_id):
        return "%s.data-%05d-of-%05d" % (self.prefix, shard_id, self.header.num_shards)

    def _raw(self, e):
        if e.sliced:
            raise BundleError("tensor %s is a partitioned variable; not supported" % e.key)
        path = self.shard_path(e.shard_id)
        try:
            with open(path, "rb") as f:
                f.seek(0, os.SEEK_END)
                if e.offset < 0 or e.size < 0 or e.offset + e.size > f.tell():
                    raise BundleError("tensor %s: bytes [%d, %d) lie outside %s (%d bytes)"
                                      % (e.key, e.offset, e.offset + e.size, path, f.tell()))
                f.seek(e.offset)
                return f.read(e.size)
        except OSError as err:
            raise BundleError("cannot read %s: %s" % (path, err.strerror)) from None

    def _check_crc(self, e, crc):
        if crc != unmask_crc(e.crc32c):
            raise BundleError("tensor %s: crc32c mismatch in %s (stored %08x, computed "
                              "%08x): the checkpoint is corrupted"
                              % (e.key, self.shard_path(e.shard_id),
                                 unmask_crc(e.crc32c), crc))

    def read(self, key):
        """The tensor `key` after checking its crc32c.

        Numeric tensors come back as RawTensor; DT_STRING tensors as a flat
        list of bytes objects.
        """
        e = self.entries.get(key)
        if e is None:
            raise BundleError("%s: no tensor %s" % (self.prefix, key))
        if e.shape is None or any(d < 0 for d in e.shape):
            raise BundleError("tensor %s has an unknown shape" % key)
        raw = self._raw(e)
        if e.dtype == DT_STRING:
            return self._strings(e, raw)
        self._check_crc(e, crc32c(raw))
        dtype = _DTYPES.get(e.dtype, (None, None))[1]
        if dtype is None:
            raise BundleError("tensor %s: dtype %s is not supported" % (key, e.dtype_name))
        if len(raw) != numel(e.shape) * DTYPES[dtype][1]:
            raise BundleError("tensor %s: %d bytes do not fit %s of shape %s"
                              % (key, len(raw), e.dtype_name, list(e.shape)))
        return RawTensor(dtype, e.shape, raw)

    def _strings(self, e, raw):
        # Layout: varint64 lengths, masked crc32c of the lengths, string bytes.
        # The checksum covers each length as uint32 (uint64 if it does not
        # fit), then the stored length checksum, then the bytes.
        pos, crc, lengths = 0, 0, []
        for _ in range(numel(e.shape)):
            n, pos = _varint(raw, pos, "string length of " + e.key)
            lengths.append(n)
            crc = crc32c(struct.pack("<I" if n <= 0xFFFFFFFF else "<Q", n), crc)
        if pos + 4 > len(raw):
            raise BundleError("tensor %s: truncated string data" % e.key)
        (stored,) = struct.unpack_from("<I", raw, pos)
        if stored != mask_crc(crc):
            raise BundleError("tensor %s: crc32c mismatch in its string lengths: the "
                              "checkpoint is corrupted" % e.key)
        crc = crc32c(raw[pos:pos + 4], crc)
        pos = start = pos + 4
        out = []
        for n in lengths:
            if pos + n > len(raw):
                raise BundleError("tensor %s: truncated string data" % e.key)
            out.append(raw[pos:pos + n])
            pos += n
        crc = crc32c(raw[start:pos], crc)
        self._check_crc(e, crc)
        return out

    def verify(self, key):
        """Check the crc32c of one tensor (raises BundleError on mismatch)."""
        e = self.entries[key]
        if e.dtype == DT_STRING:
            self.read(key)
        else:
            self._check_crc(e, crc32c(self._raw(e)))

    def verify_all(self):
        for key in self.entries:
            self.verify(key)


_CKPT_PATH_RE = re.compile(r'^\s*model_checkpoint_path\s*:\s*"((?:[^"\\]|\\.)*)"', re.M)


def resolve_prefix(path):
    """The checkpoint prefix for a prefix, a `.index` file, or a directory with a
    `checkpoint` (or `checkpoint.txt`, as Google Drive renames it) state file."""
    if os.path.isdir(path):
        for state in ("checkpoint", "checkpoint.txt"):
            state_path = os.path.join(path, state)
            if os.path.isfile(state_path):
                return _prefix_from_state(path, state_path)
        indexes = sorted(f for f in os.listdir(path) if f.endswith(".index"))
        if len(indexes) == 1:
            return os.path.join(path, indexes[0][:-len(".index")])
        raise BundleError("%s: no 'checkpoint' file and %d .index files; name the "
                          "checkpoint prefix or its .index file" % (path, len(indexes)))
    if path.endswith(".index") and os.path.isfile(path):
        return path[:-len(".index")]
    if os.path.isfile(path + ".index"):
        return path
    raise BundleError("%s: not a TensorFlow checkpoint (no %s.index)" % (path, path))


def _prefix_from_state(directory, state_path):
    with open(state_path, encoding="utf-8", errors="replace") as f:
        m = _CKPT_PATH_RE.search(f.read())
    if not m:
        raise BundleError("%s: no model_checkpoint_path line" % state_path)
    name = re.sub(r"\\(.)", r"\1", m.group(1))
    # The state file may hold the trainer's absolute path: fall back to the
    # same file name next to the state file.
    for candidate in (os.path.join(directory, name),
                      os.path.join(directory, os.path.basename(name))):
        if os.path.isfile(candidate + ".index"):
            return candidate
    raise BundleError("%s names checkpoint %r, but %s.index does not exist"
                      % (state_path, name, os.path.join(directory, os.path.basename(name))))
