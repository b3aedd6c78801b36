"""Minimal ctypes access to libgatedinpaint for the evaluation and the training tests
(numpy uint8 arrays in, numpy uint8 out). The full binding lives in bindings/python."""
import ctypes
import os

import numpy as np

GI_DTYPE_U8 = 1
GI_OPT_NUM_THREADS = 1
GI_OPT_STRATEGY = 6
STRATEGIES = {"regions": 0, "exact": 1}
_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def find_library(path=None):
    cands = [path] if path else []
    cands += [os.environ.get("GI_LIBRARY", ""),
              os.path.join(_ROOT, "build", "libgatedinpaint.so")]
    for c in cands:
        if c and os.path.exists(c):
            return os.path.abspath(c)
    raise FileNotFoundError("libgatedinpaint.so not found (build it, or set GI_LIBRARY)")


class GILib:
    def __init__(self, path=None):
        self.path = find_library(path)
        lib = ctypes.CDLL(self.path)
        vp, i32 = ctypes.c_void_p, ctypes.c_int32
        lib.gi_last_error.restype = ctypes.c_char_p
        lib.gi_model_load_file.argtypes = [ctypes.c_char_p, ctypes.POINTER(vp)]
        lib.gi_model_load_default.argtypes = [ctypes.POINTER(vp)]
        lib.gi_model_release.argtypes = [vp]
        lib.gi_session_create.argtypes = [vp, ctypes.POINTER(vp)]
        lib.gi_session_destroy.argtypes = [vp]
        lib.gi_session_set_int.argtypes = [vp, i32, ctypes.c_int64]
        lib.gi_tensor_wrap.argtypes = [i32, i32, i32, i32, vp, ctypes.c_size_t,
                                       ctypes.POINTER(vp)]
        lib.gi_tensor_destroy.argtypes = [vp]
        lib.gi_inpaint.argtypes = [vp, vp, vp, vp, vp]
        self.lib = lib

    def check(self, st, what):
        if st != 0:
            raise RuntimeError(f"{what}: {self.lib.gi_last_error().decode()}")


class Inpainter:
    """A model + session. model=None loads the library's embedded default model;
    strategy: "regions" or "exact" (None: the library's default, regions)."""

    def __init__(self, model=None, threads=1, lib=None, strategy=None):
        self.g = lib if isinstance(lib, GILib) else GILib(lib)
        L = self.g.lib
        self.model, self.session = ctypes.c_void_p(), ctypes.c_void_p()
        if model is None:
            self.g.check(L.gi_model_load_default(ctypes.byref(self.model)), "default model")
        else:
            self.g.check(L.gi_model_load_file(os.fsencode(model), ctypes.byref(self.model)),
                         str(model))
        self.g.check(L.gi_session_create(self.model, ctypes.byref(self.session)), "session")
        self.g.check(L.gi_session_set_int(self.session, GI_OPT_NUM_THREADS, threads),
                     "threads")
        if strategy is not None:
            self.g.check(L.gi_session_set_int(self.session, GI_OPT_STRATEGY,
                                              STRATEGIES[strategy]), "strategy")

    def _wrap(self, a):
        a = np.ascontiguousarray(a, dtype=np.uint8)
        h, w = a.shape[:2]
        c = a.shape[2] if a.ndim == 3 else 1
        t = ctypes.c_void_p()
        self.g.check(self.g.lib.gi_tensor_wrap(GI_DTYPE_U8, h, w, c, a.ctypes.data, w * c,
                                               ctypes.byref(t)), "tensor")
        return a, t

    def __call__(self, image, mask, guide=None):
        """image HxWx3|4 uint8 RGB(A), mask HxW uint8 (> 127 hole), guide HxW or None."""
        keep, tensors = [], []
        try:
            for arr in (image, mask, guide):
                if arr is None:
                    tensors.append(None)
                    continue
                a, t = self._wrap(arr)
                keep.append(a)
                tensors.append(t)
            out = np.empty_like(keep[0])
            o, to = self._wrap(out)
            tensors.append(to)
            self.g.check(self.g.lib.gi_inpaint(self.session, *tensors), "gi_inpaint")
            return o
        finally:
            for t in tensors:
                if t is not None:
                    self.g.lib.gi_tensor_destroy(t)

    def close(self):
        if self.session:
            self.g.lib.gi_session_destroy(self.session)
            self.session = ctypes.c_void_p()
        if self.model:
            self.g.lib.gi_model_release(self.model)
            self.model = ctypes.c_void_p()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass
