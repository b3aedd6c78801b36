"""The training photo list (tools/data/photos.tsv) and the parts of its collector that need no
network: list format, output names, the held-out split, Qt .rcc and SciPy face.dat reading.

Fast, no torch. `meson test train` runs it with the other training tests.
"""
import bz2
import os
import struct
import sys
import zlib

import pytest

_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(_ROOT, "tools", "data"))

import collect_photos as cp  # noqa: E402

GOOD = "pkg\tusr/share/a.jpg\ttrain\tCC0-1.0\tSomeone\n"


def _write(tmp_path, text):
    p = tmp_path / "photos.tsv"
    p.write_text("# comment\n\n" + text, encoding="utf-8")
    return str(p)


def test_photo_list_rows_are_well_formed_and_names_unique():
    rows = cp.read_list()  # raises on any malformed row
    assert len(rows) >= 200
    names = cp.out_names(rows)
    assert len(set(names)) == len(names)
    assert all(n.endswith(".jpg") and " " not in n and "/" not in n for n in names)


def test_original_held_out_photos_stay_held_out():
    by_name = dict(zip(cp.out_names(cp.read_list()), cp.read_list()))
    held_out = ["mate-backgrounds--LadyBird.jpg", "mate-backgrounds--Storm.jpg",
                "plasma-workspace-wallpapers--EveningGlow.jpg",
                "plasma-workspace-wallpapers--Path.jpg",
                "lomiri-wallpapers-16.04--Wine_by_Jakkub_Mede.jpg",
                "lomiri-wallpapers-16.04--picosdeeuropa_by_Aitzol_Berasategi.jpg",
                "lomiri-wallpapers-20.04--Kleiber_by_Lukas_Baubkus.jpg"]
    assert [by_name[n]["split"] for n in held_out] == ["val"] * 7
    assert by_name["mate-backgrounds--Dune.jpg"]["split"] == "example"


def test_val_share_and_spread():
    rows = cp.read_list()
    val = [r for r in rows if r["split"] == "val"]
    assert 0.10 <= len(val) / len(rows) <= 0.20
    assert len({r["package"] for r in val}) >= 8


@pytest.mark.parametrize("bad, message", [
    ("pkg\tusr/share/b.jpg\ttest\tCC0-1.0\tSomeone\n", "unknown split"),
    ("pkg\tusr/share/b.jpg\ttrain\t\tSomeone\n", "non-empty"),
    ("pkg\tusr/share/b.jpg\ttrain\tCC0-1.0\n", "5 non-empty"),
    ("pkg\tusr/share/b.jpg\ttrain\tCC-BY-NC-4.0\tSomeone\n", "not in LICENCES"),
    (GOOD, "already on line"),
])
def test_malformed_rows_are_refused(tmp_path, bad, message):
    path = _write(tmp_path, GOOD + bad)
    with pytest.raises(ValueError, match=message):
        cp.read_list(path)
    assert len(cp.read_list(_write(tmp_path, GOOD))) == 1


def test_out_names():
    rows = [dict(package="plasma-workspace-wallpapers",
                 path="usr/share/wallpapers/Path/contents/images/2560x1600.jpg"),
            dict(package="scribus-template", path="usr/share/scribus/templates/br2/moon.jpg"),
            dict(package="scribus-template", path="usr/share/scribus/templates/cal2/moon.jpg"),
            dict(package="renpy-demo", path="usr/share/games/renpy/demo/game/images/bg cave.jpg"),
            dict(package="gcompris-qt-data",
                 path="usr/share/gcompris-qt/rcc/erase.rcc!"
                      "gcompris/src/activities/erase/resource/bee.webp")]
    assert cp.out_names(rows) == [
        "plasma-workspace-wallpapers--Path.jpg", "scribus-template--br2-moon.jpg",
        "scribus-template--cal2-moon.jpg", "renpy-demo--bg_cave.jpg",
        "gcompris-qt-data--erase-bee.jpg"]


def _rcc(files):
    """A version-3 Qt resource file holding folder "a" with the given (name, bytes, zlib) files."""
    names, name_off = b"", {}
    for n in ["a"] + [f[0] for f in files]:
        name_off[n] = len(names)
        names += struct.pack(">HI", len(n), 0) + n.encode("utf-16-be")
    data, data_off = b"", []
    for _, raw, compress in files:
        payload = struct.pack(">I", len(raw)) + zlib.compress(raw) if compress else raw
        data_off.append(len(data))
        data += struct.pack(">I", len(payload)) + payload
    tree = struct.pack(">IHIIQ", 0, 2, 1, 1, 0)                       # root: 1 child at 1
    tree += struct.pack(">IHIIQ", name_off["a"], 2, len(files), 2, 0)  # a/: children from 2
    for (n, _, compress), off in zip(files, data_off):
        tree += struct.pack(">IHHHIQ", name_off[n], 1 if compress else 0, 0, 0, off, 0)
    head = 24
    offsets = (head, head + len(tree), head + len(tree) + len(data))
    return b"qres" + struct.pack(">IIIII", 3, *offsets, 0) + tree + data + names


def test_read_rcc_and_read_source(tmp_path):
    cv2 = pytest.importorskip("cv2")
    import numpy as np
    img = np.zeros((8, 12, 3), np.uint8)
    img[:, :, 2] = 200
    png = cv2.imencode(".png", img)[1].tobytes()
    (tmp_path / "t.rcc").write_bytes(_rcc([("x.txt", b"hello", False), ("p.png", png, True)]))
    cp.read_rcc.cache_clear()
    assert cp.read_rcc(str(tmp_path / "t.rcc")) == {"a/x.txt": b"hello", "a/p.png": png}
    raw, got = cp.read_source(str(tmp_path), "t.rcc!a/p.png")
    assert raw == png and got.shape == (8, 12, 3) and (got == img).all()

    rgb = np.zeros((768, 1024, 3), np.uint8)
    rgb[..., 0] = 255  # red
    face = tmp_path / "usr/lib/python3/dist-packages/scipy/misc/face.dat"
    face.parent.mkdir(parents=True)
    face.write_bytes(bz2.compress(rgb.tobytes()))
    _, bgr = cp.read_source(str(tmp_path), "usr/lib/python3/dist-packages/scipy/misc/face.dat")
    assert bgr.shape == (768, 1024, 3) and bgr[0, 0].tolist() == [0, 0, 255]
