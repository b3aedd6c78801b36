"""The PConv U-Net's layer table (lib/families/pconv_unet_load.c, gi_pconv_layer_specs).

The partial-convolution U-Net of Liu et al. 2018 as the public PyTorch reimplementation
naoto0804/pytorch-inpainting-with-partial-conv (net.py) builds it: `depth` (its
layer_size) encoder layers enc_1 ... enc_L, 7x7 then 5x5, 5x5, 3x3 ..., stride 2, with
width, 2 width, 4 width, then 8 width channels (width 64 in net.py); decoder layers
dec_L ... dec_1: nearest x2 upsampling of the layer below, concatenated with the
encoder's map of that size (features and masks), then a 3x3 partial convolution.
BatchNorm everywhere but enc_1 and dec_1; ReLU in the encoder, LeakyReLU 0.2 in the
decoder, nothing after dec_1. The C loader computes the same table; a model written
from this one and loaded by the library is the test that they agree.
"""

from collections import OrderedDict, namedtuple

FAMILY = "pconv_unet"
ARCH_VERSION = 1
MIN_DEPTH, MAX_DEPTH = 4, 9
MIN_WIDTH, MAX_WIDTH = 1, 512
RELU, LEAKY, NONE = "relu", "leaky_relu", "none"
BN_SUFFIXES = ("bn.weight", "bn.bias", "bn.running_mean", "bn.running_var")

# cin_up: decoder only, the channels of the upsampled source (first in the concat).
Layer = namedtuple("Layer", "name cin cin_up cout k stride bn act")


class ArchError(ValueError):
    """The parameters or the tensor set do not fit the architecture."""


def check_params(width, depth):
    for label, v, lo, hi in (("width", width, MIN_WIDTH, MAX_WIDTH),
                             ("depth (layer_size)", depth, MIN_DEPTH, MAX_DEPTH)):
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise ArchError("%s must be an int from %d to %d, got %r" % (label, lo, hi, v))


def channels(width, depth):
    """Channels of h_0 (the image) ... h_depth (enc_depth's output)."""
    return [3] + [width << min(i - 1, 3) for i in range(1, depth + 1)]


def layers(width, depth):
    """Layers in run order: enc_1 ... enc_depth, dec_depth ... dec_1."""
    check_params(width, depth)
    ch = channels(width, depth)
    out = [Layer("enc_%d" % i, ch[i - 1], 0, ch[i], 7 if i == 1 else 5 if i <= 3 else 3, 2,
                 i > 1, RELU) for i in range(1, depth + 1)]
    out += [Layer("dec_%d" % i, ch[i] + ch[i - 1], ch[i], ch[i - 1], 3, 1, i > 1,
                  LEAKY if i > 1 else NONE) for i in range(depth, 0, -1)]
    return out


def expected_shapes(width, depth):
    """(required, optional): ordered dicts tensor name -> PyTorch shape. The conv biases
    are optional: net.py gives only dec_1 one."""
    required, optional = OrderedDict(), OrderedDict()
    for l in layers(width, depth):
        required[l.name + ".conv.weight"] = (l.cout, l.cin, l.k, l.k)
        optional[l.name + ".conv.bias"] = (l.cout,)
        if l.bn:
            for s in BN_SUFFIXES:
                required["%s.%s" % (l.name, s)] = (l.cout,)
    return required, optional


def infer_params(shapes):
    """(width, depth) from a tensor name -> shape mapping in our names."""
    w = shapes.get("enc_1.conv.weight")
    if w is None or len(w) != 4 or tuple(w[1:]) != (3, 7, 7):
        raise ArchError("enc_1.conv.weight must have shape (width, 3, 7, 7), got %s"
                        % (tuple(w) if w is not None else "nothing"))
    depth = 0
    while "enc_%d.conv.weight" % (depth + 1) in shapes:
        depth += 1
    check_params(int(w[0]), depth)
    return int(w[0]), depth


def check_tensor_shapes(shapes, width, depth, source_names=None):
    """Raise ArchError naming the first missing, extra or mis-shaped tensor."""
    required, optional = expected_shapes(width, depth)
    source_names = source_names or {}
    for name, want in list(required.items()) + list(optional.items()):
        if name not in shapes:
            if name in optional:
                continue
            raise ArchError("missing tensor %s (expected shape %s)"
                            % (source_names.get(name, name), tuple(want)))
        if tuple(shapes[name]) != tuple(want):
            raise ArchError("tensor %s has shape %s, expected %s for width %d, layer_size %d"
                            % (source_names.get(name, name), tuple(shapes[name]), tuple(want),
                               width, depth))
    for name in shapes:
        if name not in required and name not in optional:
            raise ArchError("unexpected tensor %s: not part of %s with layer_size %d"
                            % (source_names.get(name, name), FAMILY, depth))
