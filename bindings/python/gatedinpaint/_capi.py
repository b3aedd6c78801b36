"""Finding libgatedinpaint and declaring its C functions (include/gatedinpaint.h)."""
import ctypes
import ctypes.util
import glob
import os
import sys

# This package calls functions that exist since 0.1.0; a library with another
# major version has another ABI (docs/ABI.md).
MIN_VERSION = (0, 1, 0)

if sys.platform == "darwin":
    _NAMES = ("libgatedinpaint.%d.dylib" % MIN_VERSION[0], "libgatedinpaint.dylib")
else:
    _NAMES = ("libgatedinpaint.so.%d" % MIN_VERSION[0],)


def _bundled(here):
    """Copies of the library inside this package folder: libgatedinpaint.so.0
    (copied in by hand) or libgatedinpaint.so.0.1.0 (what `pip install .` from
    the repository root, meson-python, puts there)."""
    found = [os.path.join(here, n) for n in _NAMES if os.path.exists(os.path.join(here, n))]
    if sys.platform != "darwin":
        found += sorted(glob.glob(os.path.join(here, _NAMES[0] + ".*")))
    return found


def _candidates():
    """Where to look, in order (docs/python.md): a copy bundled in this package
    (a wheel built from the repository root carries one), else
    $GATEDINPAINT_LIBRARY alone when it is set (an explicit choice must not
    silently fall back), else the system's dynamic loader path."""
    here = os.path.dirname(os.path.abspath(__file__))
    found = _bundled(here)
    explicit = os.environ.get("GATEDINPAINT_LIBRARY")
    if explicit:
        return found + [explicit]
    found += list(_NAMES)
    system = ctypes.util.find_library("gatedinpaint")
    if system and system not in found:
        found.append(system)
    return found


def _load():
    tried = []
    for candidate in _candidates():
        try:
            return ctypes.CDLL(candidate), candidate
        except OSError as e:
            tried.append("  %s: %s" % (candidate, e))
    raise ImportError(
        "gatedinpaint: cannot load the libgatedinpaint shared library. Tried:\n"
        + "\n".join(tried)
        + "\nInstall libgatedinpaint, or set GATEDINPAINT_LIBRARY to the path of "
        "libgatedinpaint.so.%d." % MIN_VERSION[0])


def decode_version(number):
    return (number // 10000, number // 100 % 100, number % 100)


def check_version(found, path):
    """Raise ImportError unless library version `found` can serve this package."""
    if found[0] != MIN_VERSION[0] or found < MIN_VERSION:
        raise ImportError(
            "gatedinpaint: %s is libgatedinpaint %d.%d.%d; this package needs %d.x, "
            "at least %d.%d.%d" % ((path,) + tuple(found) + (MIN_VERSION[0],) + MIN_VERSION))


lib, path = _load()

c_int32_p = ctypes.POINTER(ctypes.c_int32)
c_int64_p = ctypes.POINTER(ctypes.c_int64)
tensor_p = ctypes.c_void_p
model_p = ctypes.c_void_p
session_p = ctypes.c_void_p
progress_fn = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_float,
                               ctypes.c_char_p)


class map_info(ctypes.Structure):
    """gi_map_info (experimental section of gatedinpaint.h)."""
    _fields_ = [("layer", ctypes.c_char_p), ("kind", ctypes.c_char_p),
                ("index", ctypes.c_int32), ("pass_", ctypes.c_int32),
                ("h", ctypes.c_int32), ("w", ctypes.c_int32), ("c", ctypes.c_int32),
                ("net_h", ctypes.c_int32), ("net_w", ctypes.c_int32)]


map_observer_fn = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.POINTER(map_info),
                                   ctypes.POINTER(ctypes.c_float))


def _declare(name, restype, *argtypes):
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = argtypes


_status = ctypes.c_int32
_out = ctypes.POINTER(ctypes.c_void_p)
_declare("gi_version", ctypes.c_uint32)
_declare("gi_version_string", ctypes.c_char_p)
_declare("gi_status_string", ctypes.c_char_p, _status)
_declare("gi_last_error", ctypes.c_char_p)
_declare("gi_tensor_create", _status, ctypes.c_int32, ctypes.c_int32, ctypes.c_int32,
         ctypes.c_int32, _out)
_declare("gi_tensor_wrap", _status, ctypes.c_int32, ctypes.c_int32, ctypes.c_int32,
         ctypes.c_int32, ctypes.c_void_p, ctypes.c_size_t, _out)
_declare("gi_tensor_destroy", None, tensor_p)
_declare("gi_tensor_shape", _status, tensor_p, c_int32_p, c_int32_p, c_int32_p)
_declare("gi_tensor_data", ctypes.c_void_p, tensor_p)
_declare("gi_tensor_dtype", ctypes.c_int32, tensor_p)
_declare("gi_tensor_row_stride", ctypes.c_size_t, tensor_p)
_declare("gi_image_load", _status, ctypes.c_char_p, ctypes.c_int32, _out)
_declare("gi_image_save", _status, ctypes.c_char_p, tensor_p, ctypes.c_int32)
_declare("gi_image_load_ex", _status, ctypes.c_char_p, ctypes.c_int32, ctypes.c_int32, _out,
         _out)
_declare("gi_image_save_ex", _status, ctypes.c_char_p, tensor_p, ctypes.c_int32,
         ctypes.c_void_p)
_declare("gi_metadata_get", _status, ctypes.c_void_p, ctypes.c_int32, _out,
         ctypes.POINTER(ctypes.c_size_t))
_declare("gi_metadata_destroy", None, ctypes.c_void_p)
_declare("gi_image_to_mask", _status, tensor_p, _out)
_declare("gi_mask_normalize", _status, tensor_p, _out)
_declare("gi_mask_dilate", _status, tensor_p, ctypes.c_int32)
_declare("gi_blend_feather", _status, tensor_p, tensor_p, tensor_p, ctypes.c_int32, tensor_p)
_declare("gi_model_load_file", _status, ctypes.c_char_p, _out)
_declare("gi_model_load_memory", _status, ctypes.c_char_p, ctypes.c_size_t, _out)
_declare("gi_model_load_default", _status, _out)
_declare("gi_model_release", None, model_p)
_declare("gi_model_get_string", _status, model_p, ctypes.c_int32,
         ctypes.POINTER(ctypes.c_char_p))
_declare("gi_model_get_int", _status, model_p, ctypes.c_int32, c_int64_p)
_declare("gi_session_create", _status, model_p, _out)
_declare("gi_session_destroy", None, session_p)
_declare("gi_session_set_int", _status, session_p, ctypes.c_int32, ctypes.c_int64)
_declare("gi_session_get_int", _status, session_p, ctypes.c_int32, c_int64_p)
_declare("gi_session_set_progress", _status, session_p, progress_fn, ctypes.c_void_p)
_declare("gi_inpaint", _status, session_p, tensor_p, tensor_p, tensor_p, tensor_p)
# Experimental (docs/ABI.md): absent from libraries older than the binding's use of it.
if hasattr(lib, "gi_session_set_map_observer"):
    _declare("gi_session_set_map_observer", _status, session_p, map_observer_fn,
             ctypes.c_void_p)

version = decode_version(lib.gi_version())
check_version(version, path)

# Constants of gatedinpaint.h used by the package.
OK = 0
DTYPE_U8, DTYPE_U16 = 1, 3
LOAD_16BIT = 1
META_EXIF = 1
META_ICC = 2
MODEL_FAMILY, MODEL_NAME, MODEL_LICENSE, MODEL_SOURCE_URL, MODEL_CHANNEL_ORDER = 1, 2, 3, 4, 5
MODEL_WIDTH, MODEL_GUIDE_CHANNELS, MODEL_ARCH_VERSION, MODEL_PARAM_COUNT = 16, 17, 18, 19
MODEL_INPUT_FILL, MODEL_RESIDUAL, MODEL_WORKING_SIZE = 6, 20, 21
OPT_NUM_THREADS, OPT_MAX_ISA, OPT_ISA = 1, 2, 3
OPT_STRATEGY, OPT_LAST_REGIONS, OPT_LAST_SCALE = 6, 7, 8
STRATEGIES = {"regions": 0, "exact": 1}
