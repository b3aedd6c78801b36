"""Fixtures: the package under test, a small random model, the bundled example.

The library is found the package's usual way (bundled copy,
GATEDINPAINT_LIBRARY, system); meson's test sets GATEDINPAINT_LIBRARY to the built library.
GATEDINPAINT_TEST_MODEL names a model file; without it one is made with
tools/make_model.py (needs PyTorch).
"""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(HERE)
REPO = os.path.abspath(os.path.join(PACKAGE_ROOT, "..", ".."))
sys.path.insert(0, PACKAGE_ROOT)


@pytest.fixture(scope="session")
def model_path(tmp_path_factory):
    path = os.environ.get("GATEDINPAINT_TEST_MODEL")
    if path:
        return path
    path = str(tmp_path_factory.mktemp("model") / "w8.gguf")
    subprocess.run([sys.executable, os.path.join(REPO, "tools", "make_model.py"),
                    "-o", path, "--width", "8"], check=True)
    return path


@pytest.fixture(scope="session")
def example_paths():
    d = os.path.join(REPO, "examples")
    return os.path.join(d, "dune.jpg"), os.path.join(d, "dune_mask.png")


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
