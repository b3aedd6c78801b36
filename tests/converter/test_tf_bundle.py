"""TF tensor-bundle reader against real checkpoints written by TensorFlow
(../shared/data/tf_checkpoints: TF1 and TF2 writers, a Snappy block, two
shards, a DT_STRING entry), plus Snappy, crc32c and corruption checks."""

import glob
import os
import re
import shutil

import pytest

from convert_testlib import need_shared
from gimodel import tfbundle

FOLDERS = ["serving_saved_model_half_plus_two_mkl", "tfexamples_fake_effdet_lite0_hub",
           "keras_gpt2_toy", "t2t_transformer_test_ckpt"]

_LINE = re.compile(r"^(\S+)\s+(DT_\w+)\s+\[([^\]]*)\]\s+shard=(\d+) off=(\d+) size=(\d+) "
                   r"crc=(\S+)")


def parse_listing(folder):
    """(compression types, {key: (dtype, shape, shard, offset, size, first values)})."""
    entries, ctypes, last = {}, None, None
    with open(os.path.join(folder, "listing.txt")) as f:
        for line in f:
            if line.startswith("index:"):
                assert "block crcs ok: True" in line
                ctypes = [int(x) for x in re.search(r"\[([\d, ]+)\]\s*$", line)
                          .group(1).split(",")]
            elif line.lstrip().startswith("first:"):
                entries[last][5].extend(float(v) for v in line.split(":", 1)[1].split(","))
            elif _LINE.match(line):
                m = _LINE.match(line)
                assert m.group(7) == "OK"
                shape = tuple(int(d) for d in m.group(3).split(",") if d.strip())
                last = m.group(1)
                entries[last] = (m.group(2), shape, int(m.group(4)), int(m.group(5)),
                                 int(m.group(6)), [])
    return ctypes, entries


def prefix_of(folder):
    (index,) = glob.glob(os.path.join(folder, "*.index"))
    return index[:-len(".index")]


@pytest.mark.tf_fixtures
@pytest.mark.parametrize("name", FOLDERS)
def test_matches_listing(name):
    folder = os.path.join(need_shared(), name)
    ctypes, want = parse_listing(folder)
    b = tfbundle.Bundle(prefix_of(folder))
    assert b.block_compression == ctypes
    assert list(b.entries) == list(want)  # every key, in key order
    for key, (dtype, shape, shard, offset, size, first) in want.items():
        e = b.entries[key]
        assert (e.dtype_name, e.shape, e.shard_id, e.offset, e.size) == \
            (dtype, shape, shard, offset, size), key
        value = b.read(key)  # checks the crc32c
        if first:
            got = value.values()[:len(first)]
            assert got == pytest.approx(first, rel=2e-7, abs=1e-30), key
    b.verify_all()


@pytest.mark.tf_fixtures
def test_known_values():
    root = need_shared()
    b = tfbundle.Bundle(prefix_of(os.path.join(root, "serving_saved_model_half_plus_two_mkl")))
    assert b.header.num_shards == 1 and b.block_compression == [0, 0]
    assert [b.read(k).values() for k in "abc"] == [(0.5,), (2.0,), (3.0,)]
    assert b.read("conv2d/kernel").shape == (1, 1, 1, 1)

    b = tfbundle.Bundle(prefix_of(os.path.join(root, "tfexamples_fake_effdet_lite0_hub")))
    assert tfbundle._SNAPPY in b.block_compression  # this index has a Snappy block
    biases = [k for k in b.entries if "/bias/" in k]
    assert len(biases) == 10
    for k in biases:
        t = b.read(k)
        assert t.dtype == "f32" and t.shape == (64,) and set(t.values()) == {0.0}
    for k in b.entries:
        if "/kernel/" in k:
            assert b.read(k).shape == (1, 1, 3, 64)
    graph = b.read("_CHECKPOINTABLE_OBJECT_GRAPH")  # DT_STRING, its own checksum layout
    assert len(graph) == 1 and b"layer_with_weights-0" in graph[0]

    b = tfbundle.Bundle(prefix_of(os.path.join(root, "keras_gpt2_toy")))
    assert len(b.entries) == 40
    for k in b.entries:
        leaf = k.rsplit("/", 1)[1]
        if leaf == "b":
            assert set(b.read(k).values()) == {0.0}, k
        elif leaf == "g" and "/ln" in k:
            assert set(b.read(k).values()) == {1.0}, k
    assert b.read("model/h0/attn/c_attn/w").shape == (1, 15, 45)

    b = tfbundle.Bundle(prefix_of(os.path.join(root, "t2t_transformer_test_ckpt")))
    assert b.header.num_shards == 2 and len(b.entries) == 250
    assert {e.shard_id for e in b.entries.values()} == {0, 1}
    assert b.read("global_step").dtype == "i64"
    assert b.shard_path(1).endswith("model.ckpt-1.data-00001-of-00002")


@pytest.mark.tf_fixtures
def test_resolve_prefix(tmp_path):
    root = need_shared()
    t2t = os.path.join(root, "t2t_transformer_test_ckpt")
    want = os.path.join(t2t, "model.ckpt-1")
    assert tfbundle.resolve_prefix(t2t) == want  # via the 'checkpoint' file
    assert tfbundle.resolve_prefix(want + ".index") == want
    assert tfbundle.resolve_prefix(want) == want
    gpt = os.path.join(root, "keras_gpt2_toy")  # no state file, one .index
    assert tfbundle.resolve_prefix(gpt) == os.path.join(gpt, "model.ckpt")
    # A state file with the trainer's absolute path, renamed by Google Drive.
    copy = tmp_path / "release"
    shutil.copytree(t2t, copy)
    os.remove(copy / "checkpoint")
    (copy / "checkpoint.txt").write_text(
        'model_checkpoint_path: "/home/someone/train/model.ckpt-1"\n')
    assert tfbundle.resolve_prefix(str(copy)) == str(copy / "model.ckpt-1")
    with pytest.raises(tfbundle.BundleError, match="no .*nothing.index"):
        tfbundle.resolve_prefix(str(tmp_path / "nothing"))


def _corrupt_copy(tmp_path, name, filename, position):
    src = os.path.join(need_shared(), name)
    dst = tmp_path / name
    shutil.copytree(src, dst)
    path = dst / filename
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[position] ^= 0x01
    path.write_bytes(bytes(data))
    return prefix_of(str(dst))


@pytest.mark.tf_fixtures
def test_corrupted_data_fails_crc(tmp_path):
    prefix = _corrupt_copy(tmp_path, "keras_gpt2_toy", "model.ckpt.data-00000-of-00001",
                           180 + 1000)  # inside model/h0/attn/c_attn/w
    b = tfbundle.Bundle(prefix)
    b.read("model/h0/attn/c_attn/b")  # untouched neighbour still reads
    with pytest.raises(tfbundle.BundleError,
                       match=r"model/h0/attn/c_attn/w: crc32c mismatch"):
        b.read("model/h0/attn/c_attn/w")
    with pytest.raises(tfbundle.BundleError, match="crc32c mismatch"):
        b.verify_all()


@pytest.mark.tf_fixtures
def test_corrupted_second_shard_fails_crc(tmp_path):
    prefix = _corrupt_copy(tmp_path, "t2t_transformer_test_ckpt",
                           "model.ckpt-1.data-00001-of-00002", 5000)
    with pytest.raises(tfbundle.BundleError, match=r"data-00001-of-00002.*corrupted"):
        tfbundle.Bundle(prefix).verify_all()


@pytest.mark.tf_fixtures
def test_corrupted_string_tensor_fails_crc(tmp_path):
    prefix = _corrupt_copy(tmp_path, "tfexamples_fake_effdet_lite0_hub",
                           "variables.data-00000-of-00001", 10240 + 100)
    with pytest.raises(tfbundle.BundleError, match="_CHECKPOINTABLE_OBJECT_GRAPH: crc32c"):
        tfbundle.Bundle(prefix).read("_CHECKPOINTABLE_OBJECT_GRAPH")


@pytest.mark.tf_fixtures
@pytest.mark.parametrize("name", ["keras_gpt2_toy", "tfexamples_fake_effdet_lite0_hub"])
def test_corrupted_index_fails_block_crc(tmp_path, name):
    index = os.path.basename(prefix_of(os.path.join(need_shared(), name))) + ".index"
    prefix = _corrupt_copy(tmp_path, name, index, 20)  # inside the first data block
    with pytest.raises(tfbundle.BundleError, match="crc32c mismatch in the index block"):
        tfbundle.Bundle(prefix)


def test_not_a_checkpoint(tmp_path):
    (tmp_path / "x.index").write_bytes(b"\0" * 100)
    with pytest.raises(tfbundle.BundleError, match="bad table magic"):
        tfbundle.Bundle(str(tmp_path / "x"))
    with pytest.raises(tfbundle.BundleError, match="cannot read"):
        tfbundle.Bundle(str(tmp_path / "missing"))


def test_crc32c_vectors():
    # RFC 3720 B.4 test vectors and the classic check value.
    assert tfbundle.crc32c(b"123456789") == 0xE3069283
    assert tfbundle.crc32c(bytes(32)) == 0x8A9136AA
    assert tfbundle.crc32c(b"\xff" * 32) == 0x62A8AB43
    assert tfbundle.crc32c(bytes(range(32))) == 0x46DD794E
    data = bytes(range(256)) * 3 + b"tail"
    for cut in (0, 1, 7, 8, 9, 500, len(data)):
        assert tfbundle.crc32c(data[cut:], tfbundle.crc32c(data[:cut])) == \
            tfbundle.crc32c(data)
    for v in (0, 1, 0xE3069283, 0xFFFFFFFF):
        assert tfbundle.unmask_crc(tfbundle.mask_crc(v)) == v


def test_snappy():
    d = tfbundle.snappy_decompress
    assert d(b"\x00") == b""
    assert d(b"\x05\x10hello") == b"hello"                      # short literal
    long_lit = bytes(range(200))
    assert d(b"\xc8\x01" + bytes([60 << 2, 199]) + long_lit) == long_lit  # 1-byte length
    # "ab" then an overlapping 1-byte-offset copy of length 6 at offset 2.
    assert d(b"\x08\x04ab" + bytes([0x01 | ((6 - 4) << 2), 2])) == b"abababab"
    # 2-byte-offset copy (kind 2) and 4-byte-offset copy (kind 3), offset 3.
    assert d(b"\x08\x08abc" + bytes([0x02 | (4 << 2)]) + b"\x03\x00") == b"abcabcab"
    assert d(b"\x07\x08abc" + bytes([0x03 | (3 << 2)]) + b"\x03\x00\x00\x00") == b"abcabca"
    with pytest.raises(tfbundle.BundleError, match="copy offset"):
        d(b"\x05\x04ab" + bytes([0x01 | (0 << 2), 3]))
    with pytest.raises(tfbundle.BundleError, match="stated"):
        d(b"\x09\x10hello")
    with pytest.raises(tfbundle.BundleError, match="literal runs past"):
        d(b"\x05\x10hel")
