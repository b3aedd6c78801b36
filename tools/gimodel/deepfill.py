"""The DeepFill v2 generator's layer table, mirroring lib/graph/deepfill_arch.c.

Channel counts are multiples of q = width / 4, so that every width divisible
by 4 works; width 48 gives the table of deepfill_v2_reference.md section 2.3.
Keep this file and the C table in step: the C loader rejects any file whose
tensors do not match its own table.
"""

from collections import OrderedDict, namedtuple

FAMILY = "deepfill_v2"
ARCH_VERSION = 1  # the official network; 2 = 1 + gatedinpaint.input_fill (deepfill_arch.h)
INPUT_FILLS = ("zeros", "pushpull", "guided_pushpull")
NUM_LAYERS = 42

# Activation names (the C enum is GI_ACT_*; only the gating matters here).
ELU, RELU, TANH = "elu_gated", "relu_gated", "tanh"
IMG = -1   # conv1 input: 3 colour channels + guide + ones + mask
RGB3 = -2  # exactly 3 colour channels

# name, cin_q, cconv_q (0: the 3 colour outputs), k, stride, dilation, act, upsample
_TABLE = (
    # stage 1: coarse
    ("conv1", IMG, 4, 5, 1, 1, ELU, 0),
    ("conv2_downsample", 2, 8, 3, 2, 1, ELU, 0),
    ("conv3", 4, 8, 3, 1, 1, ELU, 0),
    ("conv4_downsample", 4, 16, 3, 2, 1, ELU, 0),
    ("conv5", 8, 16, 3, 1, 1, ELU, 0),
    ("conv6", 8, 16, 3, 1, 1, ELU, 0),
    ("conv7_atrous", 8, 16, 3, 1, 2, ELU, 0),
    ("conv8_atrous", 8, 16, 3, 1, 4, ELU, 0),
    ("conv9_atrous", 8, 16, 3, 1, 8, ELU, 0),
    ("conv10_atrous", 8, 16, 3, 1, 16, ELU, 0),
    ("conv11", 8, 16, 3, 1, 1, ELU, 0),
    ("conv12", 8, 16, 3, 1, 1, ELU, 0),
    ("conv13_upsample", 8, 8, 3, 1, 1, ELU, 1),
    ("conv14", 4, 8, 3, 1, 1, ELU, 0),
    ("conv15_upsample", 4, 4, 3, 1, 1, ELU, 1),
    ("conv16", 2, 2, 3, 1, 1, ELU, 0),
    ("conv17", 1, 0, 3, 1, 1, TANH, 0),
    # stage 2: convolution ("hallucination") branch
    ("xconv1", RGB3, 4, 5, 1, 1, ELU, 0),
    ("xconv2_downsample", 2, 4, 3, 2, 1, ELU, 0),
    ("xconv3", 2, 8, 3, 1, 1, ELU, 0),
    ("xconv4_downsample", 4, 8, 3, 2, 1, ELU, 0),
    ("xconv5", 4, 16, 3, 1, 1, ELU, 0),
    ("xconv6", 8, 16, 3, 1, 1, ELU, 0),
    ("xconv7_atrous", 8, 16, 3, 1, 2, ELU, 0),
    ("xconv8_atrous", 8, 16, 3, 1, 4, ELU, 0),
    ("xconv9_atrous", 8, 16, 3, 1, 8, ELU, 0),
    ("xconv10_atrous", 8, 16, 3, 1, 16, ELU, 0),
    # stage 2: attention branch (pmconv6 has ReLU features)
    ("pmconv1", RGB3, 4, 5, 1, 1, ELU, 0),
    ("pmconv2_downsample", 2, 4, 3, 2, 1, ELU, 0),
    ("pmconv3", 2, 8, 3, 1, 1, ELU, 0),
    ("pmconv4_downsample", 4, 16, 3, 2, 1, ELU, 0),
    ("pmconv5", 8, 16, 3, 1, 1, ELU, 0),
    ("pmconv6", 8, 16, 3, 1, 1, RELU, 0),
    ("pmconv9", 8, 16, 3, 1, 1, ELU, 0),
    ("pmconv10", 8, 16, 3, 1, 1, ELU, 0),
    # stage 2: merge and decoder
    ("allconv11", 16, 16, 3, 1, 1, ELU, 0),
    ("allconv12", 8, 16, 3, 1, 1, ELU, 0),
    ("allconv13_upsample", 8, 8, 3, 1, 1, ELU, 1),
    ("allconv14", 4, 8, 3, 1, 1, ELU, 0),
    ("allconv15_upsample", 4, 4, 3, 1, 1, ELU, 1),
    ("allconv16", 2, 2, 3, 1, 1, ELU, 0),
    ("allconv17", 1, 0, 3, 1, 1, TANH, 0),
)
assert len(_TABLE) == NUM_LAYERS

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
