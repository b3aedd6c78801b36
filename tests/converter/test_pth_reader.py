"""PyTorch checkpoint reader: files written by torch.save, read back in a
subprocess where torch cannot be imported; the restricted unpickler refuses
anything but tensor rebuilding."""

import io
import json
import os
import pickle
import zipfile
from collections import OrderedDict

import pytest

torch = pytest.importorskip("torch", reason="torch is needed to write the test checkpoints")

from gimodel import pth  # noqa: E402

# Reads a checkpoint without torch and prints {key: [dtype, shape, values]}.
_READER = """
import json, sys
from gimodel import pth
sd = pth.load_state_dict(sys.argv[1])
assert 'torch' not in sys.modules
print(json.dumps({k: [t.dtype, list(t.shape), list(t.values())] for k, t in sd.items()}))
"""

_DTYPE_NAMES = {torch.float32: "f32", torch.float16: "f16", torch.float64: "f64",
                torch.bfloat16: "bf16", torch.int64: "i64"}


def tricky_state_dict():
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 4, 3)
    sd = conv.state_dict()  # carries _metadata, like a real module's
    big = torch.randn(10, 6)
    sd["offset_rows"] = big[3:5]                 # storage offset 18, shared storage
    sd["same_storage"] = big[7]                  # the same storage again, offset 42
    sd["transposed"] = torch.randn(3, 5).t()     # strides (1, 5)
    sd["permuted"] = torch.randn(2, 3, 4, 5).permute(3, 2, 0, 1)
    sd["every_other"] = torch.randn(4, 9)[:, ::2]
    sd["half"] = torch.randn(2, 7).half()
    sd["half_view"] = torch.randn(6, 4).half()[1:, 1:3]
    sd["double"] = torch.randn(5, dtype=torch.float64)
    sd["bfloat"] = torch.randn(3, 3).bfloat16()
    sd["int64"] = torch.tensor([1, -2, 3 ** 30])
    sd["scalar"] = torch.tensor(2.5)
    sd["empty"] = torch.zeros(0, 3)
    return sd


def expected(sd):
    """What _READER prints, computed with torch (bfloat16 compared as float32)."""
    return {k: [_DTYPE_NAMES[t.dtype], list(t.shape),
                (t.float() if t.dtype == torch.bfloat16 else t).flatten().tolist()]
            for k, t in sd.items()}


def read_without_torch(run_blocked, path):
    proc = run_blocked(["-c", _READER, str(path)])
    return json.loads(proc.stdout)


@pytest.mark.parametrize("layout", ["wrapped", "bare", "legacy"])
def test_read_without_torch(tmp_path, run_blocked, layout):
    sd = tricky_state_dict()
    path = tmp_path / ("ckpt_%s.pth" % layout)
    if layout == "wrapped":
        torch.save({"G": sd}, path)
    elif layout == "bare":
        torch.save(sd, path)
    else:
        torch.save(sd, path, _use_new_zipfile_serialization=False)
        assert not zipfile.is_zipfile(path)
    got = read_without_torch(run_blocked, path)
    assert list(got) == list(sd)
    assert got == expected(sd)


def test_parameters_and_nested_dict(tmp_path):
    model = torch.nn.Linear(2, 3)
    path = tmp_path / "p.pth"
    torch.save({"G": OrderedDict(model.named_parameters()), "D": {"step": 3}}, path)
    sd = pth.load_state_dict(str(path))
    assert list(sd) == ["weight", "bias"]
    assert sd["weight"].values() == tuple(model.weight.detach().flatten().tolist())


def test_not_a_state_dict(tmp_path):
    path = tmp_path / "x.pth"
    torch.save({"G": {"a": torch.zeros(1)}, "epoch": 3}, path)
    assert list(pth.load_state_dict(str(path))) == ["a"]
    torch.save({"model": {"b": torch.zeros(1)}, "n_iter": 3}, path)  # the PConv script's
    assert list(pth.load_state_dict(str(path))) == ["b"]
    torch.save({"net": {"a": torch.zeros(1)}}, path)
    with pytest.raises(pth.CheckpointError, match="entry 'net' is a dict, not a tensor"):
        pth.load_state_dict(str(path))
    (tmp_path / "t.pth").write_bytes(b"hello")
    with pytest.raises(pth.CheckpointError, match="not a PyTorch checkpoint"):
        pth.load_state_dict(str(tmp_path / "t.pth"))


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, ("touch %s" % self.marker,))


def _zip_checkpoint(path, payload):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", payload)
        z.writestr("archive/version", "3\n")


@pytest.mark.parametrize("container", ["zip", "legacy"])
def test_refuses_malicious_pickle(tmp_path, container):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"G": OrderedDict(w=_Evil(marker))}, protocol=2)
    path = tmp_path / "evil.pth"
    if container == "zip":
        _zip_checkpoint(path, payload)
    else:
        path.write_bytes(payload)  # a legacy stream starts with a plain pickle
    with pytest.raises(pth.CheckpointError,
                       match=r"refusing to load (posix|os)\.system from the checkpoint"):
        pth.load(str(path))
    assert not marker.exists()


def test_refuses_other_globals(tmp_path):
    buf = io.BytesIO()
    pickle.dump({"a": io.BytesIO}, buf, protocol=2)  # a harmless but unlisted class
    path = tmp_path / "odd.pth"
    _zip_checkpoint(path, buf.getvalue())
    with pytest.raises(pth.CheckpointError, match=r"refusing to load _io\.BytesIO"):
        pth.load(str(path))


def test_storage_out_of_bounds(tmp_path):
    sd = {"w": torch.arange(6.0)}
    path = tmp_path / "ok.pth"
    torch.save(sd, path)
    bad = tmp_path / "bad.pth"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.namelist():
            data = src.read(item)
            if item.endswith("/data/0"):
                data = data[:8]  # the storage claims 6 floats, holds 2
            dst.writestr(item, data)
    with pytest.raises(pth.CheckpointError, match="storage 0 holds 8 bytes"):
        pth.load(str(bad))
