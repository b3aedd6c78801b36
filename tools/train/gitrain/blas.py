"""Which BLAS torch's matrix products run on in this process (Debian's python3-torch links
libblas.so.3, which the alternatives system points at the reference BLAS or at OpenBLAS).
The reference BLAS made 256x256 training steps 2-4 times slower (tools/train/README.md,
"CPU speed"); train.py warns on it, bench/train_step.py prints what is mapped."""
import os


def mapped_blas(maps_text):
    """The BLAS and LAPACK files mapped in a process, from its /proc/PID/maps text."""
    libs = {line.split()[-1] for line in maps_text.splitlines()
            if "blas" in line.lower() and line.split()}
    return sorted(os.path.realpath(p) for p in libs)


def reference_blas(maps_text):
    """The path of Debian's reference BLAS (libblas.so.* in a folder named blas) if it is
    among the mapped files, else None."""
    for path in mapped_blas(maps_text):
        if os.path.basename(path).startswith("libblas.so") and \
                os.path.basename(os.path.dirname(path)) == "blas":
            return path
    return None
