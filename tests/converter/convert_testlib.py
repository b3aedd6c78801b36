"""Paths shared by the converter tests (a uniquely named module, so that it
cannot collide with other test folders' helpers when pytest runs them all)."""

import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS = os.path.join(REPO, "tools")
GI_CONVERT = os.path.join(TOOLS, "gi-convert")
SHARED = os.path.normpath(os.path.join(REPO, "..", "shared"))
TF_CHECKPOINTS = os.path.join(SHARED, "data", "tf_checkpoints")

if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)


def need_shared():
    """The real TF checkpoint fixtures, or skip when the shared folder is absent."""
    if not os.path.isdir(TF_CHECKPOINTS):
        pytest.skip("%s is absent: the real TF checkpoint fixtures live in the shared "
                    "folder next to the repository" % TF_CHECKPOINTS)
    return TF_CHECKPOINTS
