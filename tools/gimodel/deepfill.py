"""The DeepFill v2 generator's layer table, read from lib/families/deepfill_v2_layers.def.

That file is the one description of the architecture: the C library includes it as an
X-macro, and this module parses its LAYER lines. Channel counts are multiples of
q = width / 4, so that every width divisible by 4 works; width 48 gives the table of
docs/DEEPFILL_V2.md section 2.3.
"""

import os
import re
from collections import OrderedDict, namedtuple

FAMILY = "deepfill_v2"
ARCH_VERSION = 1  # the official network; 2 = 1 + gatedinpaint.input_fill (lib/families/deepfill_v2.h)
INPUT_FILLS = ("zeros", "pushpull", "guided_pushpull", "ring_warp")
NUM_LAYERS = 42

# Activation names (the C enum is GI_ACT_*; only the gating matters here).
ELU, RELU, TANH = "elu_gated", "relu_gated", "tanh"
IMG = -1   # conv1 input: 3 colour channels + guide + ones + mask
RGB3 = -2  # exactly 3 colour channels

DEF_NAME = "deepfill_v2_layers.def"
_HERE = os.path.dirname(os.path.abspath(__file__))
# Installed, the file sits in this folder (tools/meson.build); in the source tree it is
# lib/families/. The first that exists is read.
DEF_PATHS = (os.path.join(_HERE, DEF_NAME),
             os.path.normpath(os.path.join(_HERE, "..", "..", "lib", "families", DEF_NAME)))

_SYMBOLS = {"IMG": IMG, "RGB3": RGB3, "ELU": ELU, "RELU": RELU, "TANH": TANH}
# LAYER(name, cin_q, cconv_q, k, stride, dilation, act, upsample), one per line
_LAYER_RE = re.compile(r"LAYER\(\s*(\w+)\s*,\s*(IMG|RGB3|\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,"
                       r"\s*(\d+)\s*,\s*(\d+)\s*,\s*(ELU|RELU|TANH)\s*,\s*([01])\s*\)")


class LayerTableError(RuntimeError):
    """deepfill_v2_layers.def is missing or not the 42 well-formed LAYER lines."""


def parse_layer_table(text, path=DEF_NAME):
    """The rows (name, cin_q, cconv_q, k, stride, dilation, act, upsample) of a .def
    text, with IMG/RGB3 as the negative constants above and act as ELU/RELU/TANH.
    Comments and preprocessor lines are skipped; any other line must be one LAYER."""
    # Blank the /* */ comments but keep their newlines, so line numbers stay right.
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group().count("\n"), text, flags=re.S)
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = _LAYER_RE.fullmatch(line)
        if not m:
            raise LayerTableError("%s:%d: not a LAYER(name, cin_q, cconv_q, k, stride, "
                                  "dilation, ELU|RELU|TANH, 0|1) line: %s"
                                  % (path, number, line))
        name, cin_q, cconv_q, k, stride, dil, act, up = m.groups()
        rows.append((name, _SYMBOLS[cin_q] if cin_q in _SYMBOLS else int(cin_q),
                     int(cconv_q), int(k), int(stride), int(dil), _SYMBOLS[act], int(up)))
    names = [row[0] for row in rows]
    if len(rows) != NUM_LAYERS or len(set(names)) != len(names):
        raise LayerTableError("%s: %d LAYER lines (%d distinct names), expected %d"
                              % (path, len(rows), len(set(names)), NUM_LAYERS))
    return tuple(rows)


def load_layer_table(paths=DEF_PATHS):
    """(path, rows) of the first of `paths` that exists; LayerTableError if none does."""
    for path in paths:
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                return path, parse_layer_table(f.read(), path)
    raise LayerTableError("the DeepFill v2 layer table %s is missing (looked for %s)"
                          % (DEF_NAME, ", ".join(paths)))


# name, cin_q, cconv_q (0: the 3 colour outputs), k, stride, dilation, act, upsample
DEF_PATH, _TABLE = load_layer_table()

Layer = namedtuple("Layer", "name cin cconv cout k stride dilation act upsample")

LAYER_NAMES = tuple(row[0] for row in _TABLE)


class ArchError(ValueError):
    """The parameters or the tensor set do not fit the architecture."""


def check_params(width, guide_channels):
    """Raise ArchError unless (width, guide_channels) is supported."""
    if isinstance(width, bool) or not isinstance(width, int):
        raise ArchError("width must be an int, got %r" % (width,))
    if width <= 0 or width % 4 or width > 4096:
        raise ArchError("width must be a positive multiple of 4 (at most 4096), got %d"
                        % width)
    if guide_channels not in (0, 1) or isinstance(guide_channels, bool):
        raise ArchError("guide_channels must be 0 or 1, got %r" % (guide_channels,))


def layers(width, guide_channels=0):
    """The 42 layers for this width (cnum) and number of guide channels."""
    check_params(width, guide_channels)
    q = width // 4
    out = []
    for name, cin_q, cconv_q, k, stride, dil, act, up in _TABLE:
        if cin_q == IMG:
            cin = 3 + guide_channels + 2  # colour, guide, ones, mask
        elif cin_q == RGB3:
            cin = 3
        else:
            cin = cin_q * q
        cconv = cconv_q * q if cconv_q else 3  # output layers: colour
        cout = cconv // 2 if act in (ELU, RELU) else cconv
        out.append(Layer(name, cin, cconv, cout, k, stride, dil, act, up))
    return out


# the first layer of each part of the graph, and the size (a fraction of the input) it reads
_PART_STARTS = {"conv1": ("stage 1", 1), "xconv1": ("conv branch", 1),
                "pmconv1": ("attention branch", 1), "pmconv9": ("attention branch", 4),
                "allconv11": ("merge and decoder", 4)}


def _by_part(width, guide_channels):
    """(part, input size divisor at the part's first layer or None, layer) for the 42 layers."""
    part = None
    for l in layers(width, guide_channels):
        part, div = _PART_STARTS.get(l.name, (part, None))
        yield part, div, l


def macs(width, guide_channels, h, w):
    """Multiply-adds of one h x w forward pass (h, w multiples of 8), by part: the 42
    convolutions (all cconv channels, feature and gate) per part of the graph, and the
    contextual attention's (CA's) matching (3x3 patches) and paste (4x4 transposed)
    products and its fuse (two 3x3 identity convolutions over the P x P score map, 9 taps
    each). Elementwise work is not counted. lib/families/deepfill_v2.c counts the same
    convolutions and the matching and paste products (its progress and gi_bench's GMAC)."""
    out, hs, ws = OrderedDict(), h, w
    for part, div, l in _by_part(width, guide_channels):
        if div:
            hs, ws = h // div, w // div
        hs, ws = (hs * (2 if l.upsample else 1) // l.stride,
                  ws * (2 if l.upsample else 1) // l.stride)
        out[part] = out.get(part, 0) + hs * ws * l.cconv * l.cin * l.k * l.k
    p = (h // 8) * (w // 8)  # background patches = query positions at h/4 with rate 2
    out["CA matching"] = p * p * 9 * 2 * width
    out["CA fuse"] = p * p * 9 * 2
    out["CA paste"] = p * p * 16 * 2 * width
    return out


def parameters(width, guide_channels=0):
    """Weights and biases by part of the graph (the parts of macs)."""
    out = OrderedDict()
    for part, _, l in _by_part(width, guide_channels):
        out[part] = out.get(part, 0) + l.cconv * (l.cin * l.k * l.k + 1)
    return out


def expected_shapes(width, guide_channels=0):
    """Ordered dict tensor name -> PyTorch shape: (O, I, kh, kw) weights, (O,) biases."""
    shapes = OrderedDict()
    for layer in layers(width, guide_channels):
        shapes[layer.name + ".weight"] = (layer.cconv, layer.cin, layer.k, layer.k)
        shapes[layer.name + ".bias"] = (layer.cconv,)
    return shapes


def infer_params(conv1_weight_shape):
    """(width, guide_channels) from conv1's OIHW weight shape."""
    shape = tuple(conv1_weight_shape)
    if len(shape) != 4 or shape[2:] != (5, 5):
        raise ArchError("conv1.weight must have shape (width, 5 or 6, 5, 5), got %s"
                        % (shape,))
    width, cin = shape[0], shape[1]
    if cin not in (5, 6):
        raise ArchError("conv1.weight has %d input channels; expected 5 (colour, ones, "
                        "mask) or 6 (with a guide)" % cin)
    guide = cin - 5
    check_params(width, guide)
    return width, guide


def check_tensor_shapes(shapes, width, guide_channels=0, source_names=None):
    """Raise ArchError naming the first missing, extra or mis-shaped tensor.

    `shapes` maps tensor names (as in expected_shapes) to shapes;
    `source_names` optionally maps those names to the names in the source
    checkpoint so that the message points at what the user has.
    """
    expected = expected_shapes(width, guide_channels)
    source_names = source_names or {}

    def label(name):
        src = source_names.get(name)
        return "%s (%s)" % (name, src) if src and src != name else name

    for name, want in expected.items():
        if name not in shapes:
            raise ArchError("missing tensor %s (expected shape %s)"
                            % (source_names.get(name, name), _fmt(want)))
        got = tuple(shapes[name])
        if got != want:
            raise ArchError("tensor %s has shape %s, expected %s for width %d, "
                            "%d guide channel(s)"
                            % (label(name), _fmt(got), _fmt(want), width, guide_channels))
    for name in shapes:
        if name not in expected:
            raise ArchError("unexpected tensor %s: not part of %s" % (label(name), FAMILY))


def _fmt(shape):
    return str(tuple(shape))
