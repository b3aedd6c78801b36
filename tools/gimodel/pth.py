"""Read PyTorch checkpoints (torch.save) without importing torch.

Both formats are handled: the zip archive written since PyTorch 1.6
(`<name>/data.pkl` + `<name>/data/<key>` storages) and the older "legacy"
stream (magic, protocol, sys info, pickle, storage keys, raw storages).

Pickles can run arbitrary code, so the unpickler only resolves the few
globals that tensor rebuilding needs and refuses everything else.
Tensors come back as RawTensor (C-contiguous, little-endian).
"""

import pickle
import struct
import zipfile
from collections import OrderedDict

from .tensor import DTYPES, RawTensor, strided_bytes


class CheckpointError(ValueError):
    """The file is not a PyTorch checkpoint we can read safely."""


class _StorageType:
    """Stands in for torch.FloatStorage and friends: just the element type."""

    def __init__(self, dtype):
        self.dtype = dtype


_STORAGE_TYPES = {name: _StorageType(dtype) for name, dtype in (
    ("FloatStorage", "f32"), ("HalfStorage", "f16"), ("DoubleStorage", "f64"),
    ("BFloat16Storage", "bf16"), ("LongStorage", "i64"), ("IntStorage", "i32"),
    ("ShortStorage", "i16"), ("CharStorage", "i8"), ("ByteStorage", "u8"),
    ("BoolStorage", "bool"))}

_LEGACY_MAGIC = 0x1950a86a20f9469cfc6c
_LEGACY_PROTOCOL = 1001


class _Storage:
    __slots__ = ("dtype", "data")

    def __init__(self, dtype, data):
        self.dtype, self.data = dtype, data


def _rebuild_tensor(storage, storage_offset, size, stride, *_ignored):
    # _ignored: requires_grad, backward_hooks and metadata of _rebuild_tensor_v2.
    if not isinstance(storage, _Storage):
        raise CheckpointError("tensor rebuilt from %r, not a storage" % (storage,))
    shape = tuple(int(d) for d in size)
    stride = tuple(int(s) for s in stride)
    try:
        data = strided_bytes(storage.data, DTYPES[storage.dtype][1], int(storage_offset),
                             shape, stride)
    except ValueError as e:
        raise CheckpointError("bad tensor in the checkpoint: %s" % e) from None
    return RawTensor(storage.dtype, shape, data)


def _rebuild_parameter(data, *_ignored):
    return data  # an nn.Parameter is its tensor plus requires_grad


_REBUILD_NAMES = (("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor"))


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, f, load_storage, rebuild=_rebuild_tensor):
        super().__init__(f)
        self._load_storage = load_storage
        self._rebuild = rebuild

    def find_class(self, module, name):
        if (module, name) in _REBUILD_NAMES:
            return self._rebuild
        if (module, name) == ("torch._utils", "_rebuild_parameter"):
            return _rebuild_parameter
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if module == "torch" and name in _STORAGE_TYPES:
            return _STORAGE_TYPES[name]
        raise CheckpointError(
            "refusing to load %s.%s from the checkpoint: only tensors and plain "
            "containers are allowed (a checkpoint that calls other code is either not a "
            "plain state dict or malicious)" % (module, name))

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType)):
            raise CheckpointError("unexpected persistent id %r in the checkpoint" % (pid,))
        return self._load_storage(pid)


def _unpickle(f, load_storage, rebuild=_rebuild_tensor):
    try:
        return _RestrictedUnpickler(f, load_storage, rebuild).load()
    except CheckpointError:
        raise
    except Exception as e:  # pickle raises many types on corrupt input
        raise CheckpointError("corrupt pickle in the checkpoint: %s: %s"
                              % (type(e).__name__, e)) from None


def _load_zip(path):
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        pkls = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pkls) != 1:
            raise CheckpointError("%s: a torch.save archive has one <name>/data.pkl; found %d"
                                  % (path, len(pkls)))
        root = pkls[0][:-len("data.pkl")]
        if root + "byteorder" in names and z.read(root + "byteorder") != b"little":
            raise CheckpointError("%s: big-endian checkpoints are not supported" % path)
        cache = {}

        def load_storage(pid):
            stype, key, count = pid[1], str(pid[2]), int(pid[4])
            if key not in cache:
                entry = root + "data/" + key
                if entry not in names:
                    raise CheckpointError("%s: storage %s is missing (%s)" % (path, key, entry))
                cache[key] = _Storage(stype.dtype, z.read(entry))
            st = cache[key]
            if len(st.data) < count * DTYPES[st.dtype][1]:
                raise CheckpointError("%s: storage %s holds %d bytes, fewer than %d %s "
                                      "elements" % (path, key, len(st.data), count, st.dtype))
            return st

        with z.open(pkls[0]) as f:
            return _unpickle(f, load_storage)


def _load_legacy(path):
    with open(path, "rb") as f:
        def plain():
            return _unpickle(f, _refuse_storage)

        if plain() != _LEGACY_MAGIC:
            raise CheckpointError("%s: not a PyTorch checkpoint" % path)
        if plain() != _LEGACY_PROTOCOL:
            raise CheckpointError("%s: unsupported legacy torch.save protocol" % path)
        sys_info = plain()
        if not isinstance(sys_info, dict) or not sys_info.get("little_endian", False):
            raise CheckpointError("%s: big-endian checkpoints are not supported" % path)
        # Storages are read after the main pickle; record what it refers to first.
        wanted = {}

        def load_storage(pid):
            stype, key = pid[1], str(pid[2])
            st = wanted.setdefault(key, _Storage(stype.dtype, None))
            view = pid[5] if len(pid) > 5 else None
            if view is not None:  # (view key, element offset, element count)
                return _LegacyView(st, int(view[1]), int(view[2]))
            return st

        # Storage bytes follow the main pickle: defer building its tensors.
        obj = _unpickle(f, load_storage, lambda *args: _PendingTensor(args))
        keys = plain()
        for key in keys:
            (count,) = struct.unpack("<q", _read_exact(f, 8, path))
            st = wanted.get(str(key))
            if st is None:
                raise CheckpointError("%s: stray storage %s" % (path, key))
            st.data = _read_exact(f, count * DTYPES[st.dtype][1], path)
    if any(st.data is None for st in wanted.values()):
        raise CheckpointError("%s: a storage referenced by the pickle is missing" % path)
    return _resolve_legacy(obj)


class _LegacyView:
    """A legacy storage view, resolved once the storage bytes have been read."""

    def __init__(self, storage, offset, count):
        self.storage, self.offset, self.count = storage, offset, count


class _PendingTensor:
    def __init__(self, args):
        self.args = args


def _refuse_storage(pid):
    raise CheckpointError("unexpected storage reference in a legacy header pickle")


def _read_exact(f, n, path):
    if n < 0:
        raise CheckpointError("%s: negative storage size" % path)
    b = f.read(n)
    if len(b) != n:
        raise CheckpointError("%s: truncated storage data" % path)
    return b


def _resolve_legacy(obj):
    if isinstance(obj, _PendingTensor):
        storage, offset, size, stride = obj.args[:4]
        if isinstance(storage, _LegacyView):
            itemsize = DTYPES[storage.storage.dtype][1]
            base = storage.storage.data
            storage = _Storage(storage.storage.dtype,
                               base[storage.offset * itemsize:
                                    (storage.offset + storage.count) * itemsize])
        return _rebuild_tensor(storage, offset, size, stride)
    if isinstance(obj, dict):
        for k in list(obj):
            obj[k] = _resolve_legacy(obj[k])
    elif isinstance(obj, list):
        obj[:] = [_resolve_legacy(v) for v in obj]
    elif isinstance(obj, tuple):
        return tuple(_resolve_legacy(v) for v in obj)
    return obj


def load(path):
    """Unpickle a torch.save file; tensors become RawTensor objects."""
    if zipfile.is_zipfile(path):
        try:
            return _load_zip(path)
        except (zipfile.BadZipFile, EOFError) as e:  # e.g. a zip member's crc
            raise CheckpointError("%s: corrupt archive: %s" % (path, e)) from None
    with open(path, "rb") as f:
        head = f.read(2)
    if head != b"\x80\x02":
        raise CheckpointError("%s: not a PyTorch checkpoint (neither a torch.save zip "
                              "archive nor a legacy pickle stream)" % path)
    return _load_legacy(path)


def load_state_dict(path):
    """The generator state dict of a checkpoint: `{'G': state_dict}` (the DeepFill v2
    port), `{'model': state_dict, 'n_iter': ..., 'optimizer': ...}` (the PConv
    reimplementation's training script) or a bare one.

    Returns an OrderedDict name -> RawTensor.
    """
    obj = load(path)
    for key in ("G", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
            break
    if not isinstance(obj, dict) or not obj:
        raise CheckpointError("%s: expected a state dict, {'G': state_dict} or "
                              "{'model': state_dict}, found %s"
                              % (path, type(obj).__name__))
    bad = [k for k, v in obj.items() if not isinstance(v, RawTensor)]
    if bad:
        raise CheckpointError("%s: expected a state dict, {'G': ...} or {'model': ...}; entry %r is "
                              "a %s, not a tensor (top-level keys: %s)"
                              % (path, bad[0], type(obj[bad[0]]).__name__,
                                 ", ".join(repr(k) for k in list(obj)[:8])))
    return OrderedDict(obj)
