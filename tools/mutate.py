#!/usr/bin/python3
"""Mutation testing of libgatedinpaint (docs/RELIABILITY.md, "Mutation testing").

    tools/mutate.py [--ci] [--only ID,ID...] [--list] [--table FILE] [--timeout S]

Each mutant below is one small, deliberate bug: a file, an exact snippet of
it, its replacement, and the fast meson tests that should notice. For each
mutant the tool writes the mutated file into a scratch copy of the source tree
(build-mutation/src: the files `git ls-files` lists, as they are in the
working tree), rebuilds it incrementally with ninja (build-mutation/build),
runs the chosen tests with a time limit, and puts the file back. A mutant is
caught (killed) when a test fails, crashes or times out, or the build fails
with a test-relevant error; it survived when every chosen test passes. The
working tree itself is never modified, so an interrupted run (Ctrl-C, kill)
cannot leave a bug behind in it; the scratch copy is re-synced at the start
of every run.

Survivors are listed with their reason in EQUIVALENT (a mutant that cannot
change any observable result, so no test can kill it) or get a test that
kills them. The score is killed / (mutants - equivalent).

--ci runs the subset marked ci=True (bounded: about 3 minutes on 2 cores
after the first build; the full list about 6). --table writes the Markdown table of the run.
Exit status: 0 when every non-equivalent mutant was killed, 1 otherwise,
2 for a mutant whose snippet is no longer in its file (update the list).
"""
import argparse
import hashlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "build-mutation")
SRC = os.path.join(WORK, "src")
BUILD = os.path.join(WORK, "build")

# Test groups (meson test names; all run in seconds).
KERN = ["kernels", "ops-reference"]
CONV = ["kernels", "ops-reference", "api"]
ATT = ["ops-reference", "parity-avx2", "api"]
RUN = ["api", "regions", "bad", "fuzz-replay-inpaint"]
NET = ["parity-avx2", "api"]
FILL = ["kernels", "api", "train"]
IO = ["io", "mask-ops", "bad", "fuzz-replay-image"]
GGUF = ["model", "bad", "alloc-fail", "fuzz-replay-inpaint"]
PY = ["python"]
ARGS = ["api", "bad"]


def M(id, file, find, replace, tests, what, ci=False):
    return dict(id=id, file=file, find=find, replace=replace, tests=tests, what=what, ci=ci)


MUTANTS = [
    # --- kernels: the scalar reference tier and the SIMD template
    M("k-elu-gate", "lib/kernels/ref/conv_scalar.c",
      "out[j] = f * sigmoidf(acc[half + j]);\n        }\n        break;\n    case GI_ACT_RELU",
      "out[j] = f * sigmoidf(acc[j]);\n        }\n        break;\n    case GI_ACT_RELU",
      KERN, "scalar ELU gate reads the feature half", ci=True),
    M("k-relu-leaky", "lib/kernels/ref/conv_scalar.c",
      "float f = acc[j] > 0.0f ? acc[j] : 0.0f;",
      "float f = acc[j] > 0.0f ? acc[j] : 0.01f * acc[j];", KERN, "scalar ReLU leaks"),
    M("k-tanh-none", "lib/kernels/ref/conv_scalar.c",
      "for (int32_t j = 0; j < half; j++) out[j] = tanhf(acc[j]);",
      "for (int32_t j = 0; j < half; j++) out[j] = acc[j];", KERN, "scalar tanh dropped"),
    M("k-dil-x", "lib/kernels/ref/conv_scalar.c",
      "int32_t ix = (ox0 + b) * sh->stride - sh->pad_left + kx * sh->dil;",
      "int32_t ix = (ox0 + b) * sh->stride - sh->pad_left + kx;", KERN,
      "scalar conv ignores dilation along x", ci=True),
    M("k-row-bound", "lib/kernels/ref/conv_scalar.c",
      "int row_ok = iy >= 0 && iy < up_h;", "int row_ok = iy >= 0 && iy < up_h - 1;", KERN,
      "scalar conv drops the last input row"),
    M("k-pack-transpose", "lib/kernels/ref/conv_scalar.c",
      "*dst++ = w[(((size_t)co * cin + ci) * k + ky) * k + kx];",
      "*dst++ = w[(((size_t)co * cin + ci) * k + kx) * k + ky];", KERN,
      "scalar packing transposes the kernel (invisible at 1x1)", ci=True),
    M("k-gemm-row3", "lib/kernels/ref/gemm_scalar.c",
      "const float x2 = a0[2 * lda + kk], x3 = a0[3 * lda + kk];",
      "const float x2 = a0[2 * lda + kk], x3 = a0[2 * lda + kk];", ["kernels"] + ATT,
      "scalar GEMM: 4th row of a block reads the 3rd"),
    M("k-gemm-tail", "lib/kernels/ref/gemm_scalar.c",
      "for (int32_t j = 0; j < nj; j++) ci[j] += x * br[j];",
      "for (int32_t j = 0; j < nj; j++) ci[j] = x * br[j];", ["kernels"] + ATT,
      "scalar GEMM tail rows overwrite instead of accumulating"),
    M("s-dil-x", "lib/kernels/conv_direct_simd.h",
      "int32_t ix = ix0 + b * sh->stride + kx * sh->dil;",
      "int32_t ix = ix0 + b * sh->stride + kx;", KERN,
      "SIMD conv ignores dilation along x", ci=True),
    M("s-contig-bound", "lib/kernels/conv_direct_simd.h",
      "ix0 + (nx - 1) * sh->stride + k <= sh->in_w;",
      "ix0 + (nx - 1) * sh->stride + k <= sh->in_w + 1;", KERN,
      "SIMD conv's contiguous fast path runs one pixel past the row"),
    M("s-sigmoid", "lib/kernels/vec_math.h",
      "return vf_div(one, vf_add(one, vf_exp(vf_sub(vf_zero(), x))));",
      "return vf_div(one, vf_add(one, vf_exp(x)));", KERN, "SIMD sigmoid of -x"),
    M("s-tanh-clamp", "lib/kernels/vec_math.h",
      "gi_vf ax = vf_min(vf_abs(x), vf_set1(9.0f));",
      "gi_vf ax = vf_min(vf_abs(x), vf_set1(0.9f));", KERN, "SIMD tanh clamps at 0.9"),
    # --- convolution geometry
    M("g-pad-top", "lib/graph/conv.c",
      "sh->pad_top = ph > 0 ? (int32_t)(ph / 2) : 0;",
      "sh->pad_top = ph > 0 ? (int32_t)((ph + 1) / 2) : 0;", CONV,
      "SAME padding puts the larger half on top", ci=True),
    M("g-keff", "lib/graph/conv.c",
      "int64_t keff = (int64_t)(k - 1) * dil + 1;",
      "int64_t keff = (int64_t)k * dil;", CONV, "effective kernel size wrong for dilation > 1"),
    # --- contextual attention
    M("a-softmax-scale", "lib/graph/attention.c",
      "float zv = z[s->valid[v]] * a->softmax_scale;",
      "float zv = z[s->valid[v]] * a->softmax_scale * 1.2f;", ATT,
      "softmax scale 20 % too large (issue 19)", ci=True),
    M("a-softmax-e2e", "lib/graph/attention.c",
      "float zv = z[s->valid[v]] * a->softmax_scale;",
      "float zv = z[s->valid[v]] * a->softmax_scale * 1.2f;", ["e2e"],
      "the same, caught by the official-width end-to-end test alone (issue 19)"),
    M("a-fuse-flag", "lib/api/ops.c",
      "mask ? (const float *)mask->data : NULL, fuse ? 1 : 0,",
      "mask ? (const float *)mask->data : NULL, fuse ? 0 : 1,", ATT,
      "gi_op_contextual_attention's fusion flag inverted (issue 19)", ci=True),
    M("a-fuse-taps", "lib/graph/attention.c",
      "for (int d = -1; d <= 1; d++) {", "for (int d = 0; d <= 1; d++) {", ATT,
      "score fusion drops its upper-left tap"),
    M("a-denominator", "lib/graph/attention.c",
      "denom += (float)ninvalid * expf(-mx);", "denom += 0.0f * expf(-mx);", ATT,
      "hole patches leave the softmax denominator"),
    M("a-paste-scale", "lib/graph/attention.c",
      "for (size_t i = 0; i < n; i++) a->y[i] *= 0.25f;",
      "for (size_t i = 0; i < n; i++) a->y[i] *= 0.2f;", ATT, "paste normalisation"),
    M("a-nn-round", "lib/graph/attention.c",
      "long s = (long)roundf((float)i * scale);", "long s = (long)((float)i * scale);", ATT,
      "TF nearest resize truncates instead of rounding", ci=True),
    M("a-fold-crop", "lib/graph/attention.c",
      "int32_t ox = 2 * fx - 1 + kx;", "int32_t ox = 2 * fx + kx;", ATT,
      "transposed-conv paste without its crop along x"),
    # --- pre-fills
    M("f-push-mean", "lib/graph/fill.c",
      "dst->c[i * 3 + ch] = n ? s[ch] / (float)n : 0.0f;",
      "dst->c[i * 3 + ch] = n ? s[ch] / 4.0f : 0.0f;", FILL,
      "push-pull averages over 4, not over the valid pixels", ci=True),
    M("f-pull-phase", "lib/graph/fill.c",
      "float s = (float)o * 0.5f - 0.25f;", "float s = (float)o * 0.5f;", FILL,
      "push-pull upsampling without the half-pixel offset"),
    M("f-guide-ring", "lib/graph/fill.c",
      "#define GUIDE_RING 2 /*", "#define GUIDE_RING 1 /*", FILL,
      "guided push-pull reads a 1 px ring"),
    M("f-warp-snap", "lib/graph/ring_warp.c",
      "return own <= WARP_REACH ? own : other <= WARP_REACH ? other : 0;",
      "return own <= WARP_REACH ? own : 0;", FILL,
      "ring warp never moves a line's end onto another outline"),
    M("f-warp-fade", "lib/graph/ring_warp.c",
      "double fade = 1.0 - (double)d / WARP_REACH;",
      "double fade = 1.0 - (double)d / (2 * WARP_REACH);", FILL,
      "ring warp's shift fades over twice the reach"),
    # --- training penalties (tools/train/gitrain/recipe.py; the train suite)
    M("t-periodic-twosided", "tools/train/gitrain/recipe.py",
      "diff = F.relu(peak(fill) - peak(truth)).mean(1)",
      "diff = (peak(fill) - peak(truth)).abs().mean(1)", ["train"],
      "periodic penalty also asks for the photo's own waves", ci=True),
    M("t-coherence-own", "tools/train/gitrain/recipe.py",
      "total = total + (share[hole] * F.relu(gap(spectra(fill, b, hole), ctx) - own)).sum()",
      "total = total + (share[hole] * gap(spectra(fill, b, hole), ctx)).sum()", ["train"],
      "coherence penalty charges content the photo has only in the hole"),
    M("t-texture-rgb", "tools/train/gitrain/recipe.py",
      "fill, truth = to_opponent(fill), to_opponent(truth)", "pass", ["train"],
      "opponent texture space compares R, G, B"),
    M("t-copy-unaligned", "tools/train/gitrain/data.py",
      "        sy = by % step + step * int(rng.integers(0, (c - bh - by % step) // step + 1))",
      "        sy = int(rng.integers(0, c - bh + 1))", ["train"],
      "copy scenes' twins off contextual attention's grid"),
    M("t-teacher-off", "tools/train/gitrain/recipe.py",
      "            return teacher_weights(a, target, rows) if teach else a",
      "            return a", ["train"],
      "teacher forcing leaves the attention's own weights"),
    M("t-targets-any-cell", "tools/train/gitrain/recipe.py",
      "        d2 = d2.masked_fill(~known[:, None, :], float(\"inf\"))", "        pass", ["train"],
      "the teacher may borrow from hole cells"),
    # --- runner and compositing
    M("r-threshold", "lib/runner/runner.h",
      "#define GI_HOLE_THRESHOLD 127 ", "#define GI_HOLE_THRESHOLD 126 ", RUN,
      "mask value 127 is a hole (issue 19)", ci=True),
    M("r-threshold-up", "lib/runner/runner.h",
      "#define GI_HOLE_THRESHOLD 127 ", "#define GI_HOLE_THRESHOLD 128 ", RUN,
      "mask value 128 is known"),
    M("r-round", "lib/runner/runner.c",
      "float v = floorf(px[ch] + 0.5f);", "float v = floorf(px[ch]);", RUN + ["parity-avx2"],
      "hole pixels truncated, not rounded"),
    M("r-right-of-hole", "lib/runner/runner.c",
      "            if (mrow[x] <= GI_HOLE_THRESHOLD) {\n                if (orow != irow)",
      "            if (mrow[x] <= GI_HOLE_THRESHOLD && !(x > 0 && mrow[x - 1] > "
      "GI_HOLE_THRESHOLD)) {\n                if (orow != irow)", RUN,
      "the known pixel right of a hole is overwritten (issue 19)", ci=True),
    M("r-aggregates-alloc", "lib/runner/runner.c",
      "size_t f = sizeof(float), agg = m->info.aggregates != 0;",
      "size_t f = sizeof(float), agg = 1;", RUN + ["model"],
      "regions: residual buffers allocated for a family that does not aggregate"),
    M("r-aggregates-off", "lib/runner/runner.c",
      "NULL, m->info.aggregates ? &aux : NULL};", "NULL, NULL};", RUN + ["parity-avx2"],
      "regions: DeepFill's residual aggregation never asked for"),
    M("r-mirror", "lib/runner/runner.c",
      "return i < n ? i : 2 * (n - 1) - i;", "return i < n ? i : 2 * n - 1 - i;",
      RUN + ["parity-avx2"], "padding repeats the edge pixel"),
    M("r-region-margin", "lib/runner/regions.c",
      "int32_t margin = max32(2 * g->r, 32 * k);", "int32_t margin = max32(g->r, 32 * k);",
      RUN, "regions: the window's margin is r, not 2r"),
    M("n-input-scale", "lib/families/deepfill_v2.c",
      "float v = (float)io->rgb[i * 3 + src] / 127.5f - 1.0f;",
      "float v = (float)io->rgb[i * 3 + src] / 128.0f - 1.0f;", NET,
      "network input scaled by 1/128", ci=True),
    M("n-output-scale", "lib/families/deepfill_v2.c",
      "px[ch] = (px[ch] + 1.0f) * 127.5f;", "px[ch] = (px[ch] + 1.0f) * 127.0f;", NET,
      "network output scaled by 127"),
    # --- masks and image I/O
    M("i-mask-max", "lib/io/mask.c",
      "if (p[k] > v) v = p[k];", "if (p[k] < v) v = p[k];", IO,
      "colour masks take the darkest channel", ci=True),
    M("i-mask-gray-alpha", "lib/io/mask.c",
      "const bool use_alpha = (c == 2 || c == 4) &&", "const bool use_alpha = (c == 4) &&", IO,
      "gray+alpha masks ignore their alpha"),
    M("i-normalize", "lib/io/mask_ops.c",
      "line[i] = p[(size_t)i * step] > threshold;", "line[i] = p[(size_t)i * step] >= threshold;",
      IO, "mask dilation: the threshold value itself counts as a hole"),
    M("i-exif-6", "lib/io/exif.c",
      "case 6: start = h1 * s;         dx = -s; dy = c;", "case 6: start = h1 * s;         dx = s; dy = c;",
      IO, "EXIF orientation 6 mirrored", ci=True),
    M("i-png-16", "lib/io/image_io.c",
      "        png_set_scale_16(png); /* rounds, where strip_16 truncates */",
      "        png_set_strip_16(png); /* rounds, where strip_16 truncates */",
      IO, "16-bit PNGs truncated to 8 bits, not rounded"),
    M("i-jpeg-quality", "lib/io/image_io.c",
      "if (quality < 0 || quality > 100)", "if (quality < 0 || quality > 101)", IO,
      "JPEG quality 101 accepted"),
    # --- the GGUF loader
    M("m-half-bias", "lib/common/gguf.c",
      "bits = sign | (exp + 112) << 23 | mant << 13;", "bits = sign | (exp + 111) << 23 | mant << 13;",
      GGUF, "F16 exponent rebias off by one", ci=True),
    M("m-need", "lib/common/gguf.c",
      "    if (n > c->size - c->pos)\n        return gi_fail(GI_E_BAD_MODEL,\n                       \"truncated file",
      "    if (n > c->size - c->pos + 1)\n        return gi_fail(GI_E_BAD_MODEL,\n                       \"truncated file",
      GGUF, "reader accepts a read one byte past the end"),
    M("m-alignment", "lib/common/gguf.c",
      "if (t->offset % g->alignment != 0)", "if (t->offset % g->alignment > 1)", GGUF,
      "tensor offsets off the alignment by one accepted"),
    M("m-dim-zero", "lib/common/gguf.c",
      "if (t->dims[d] == 0)", "if (t->dims[d] == 0 && d > 0)", GGUF,
      "a first dimension of size 0 accepted"),
    # --- argument handling: C API and the Python binding
    M("p-bool-mask", "bindings/python/gatedinpaint/__init__.py",
      "array = array.astype(np.uint8) * 255", "array = array.astype(np.uint8) * 127", PY,
      "Python: a boolean mask becomes 0/127 (no hole; 0/1 is a hole under the mask rule)",
      ci=True),
    M("p-radius", "bindings/python/gatedinpaint/__init__.py",
      "    if radius < 0:\n", "    if radius < -1:\n", PY, "Python: radius -1 accepted"),
    M("p-radius-bool", "bindings/python/gatedinpaint/__init__.py",
      "if isinstance(radius, bool) or not isinstance(radius, (int, np.integer)):",
      "if not isinstance(radius, (int, np.integer)):", PY, "Python: radius True taken as 1"),
    M("p-strides", "bindings/python/gatedinpaint/__init__.py",
      "and array.strides[1] == c * size\n",
      "\n", PY, "Python: pixel-strided arrays passed uncopied"),
    M("p-meta-save", "bindings/python/gatedinpaint/__init__.py",
      "gi_image_save_ex(_path_bytes(path), t, quality, handle)",
      "gi_image_save_ex(_path_bytes(path), t, quality, None)", PY,
      "Python: save_image drops the EXIF and ICC profile it was given"),
    M("c-min-side", "lib/api/inpaint.c",
      "if (image->h < MIN_SIDE || image->w < MIN_SIDE)",
      "if (image->h < MIN_SIDE - 1 || image->w < MIN_SIDE)", ARGS, "15-row images accepted"),
    M("c-threads", "lib/api/session.c",
      "if (value < 0 || value > 4096)", "if (value < 0 || value > 4097)", ARGS,
      "GI_OPT_NUM_THREADS 4097 accepted"),
    M("c-odd-cconv", "lib/api/ops.c",
      "if (gated && cconv % 2)", "if (gated && cconv % 2 && cconv > 3)", ARGS,
      "gated conv with cconv 3 accepted", ci=True),
    M("c-stride", "lib/common/tensor.c",
      "if (row_stride < row)", "if (row_stride + 1 < row)", ARGS,
      "gi_tensor_wrap accepts a row stride one byte short"),
    # --- the PConv U-Net family (lib/families/pconv_unet*.c, graph/conv.c, kernels)
    M("pc-count", "lib/graph/conv.c",
      "scale[q] = sum ? 1.0f / (float)sum : 0.0f;",
      "scale[q] = sum ? 1.0f / (float)(sum + 1) : 0.0f;", ["parity-pconv"],
      "partial convolution: the valid count off by one"),
    M("pc-rows", "lib/families/pconv_unet.c",
      "int32_t ia = a > 0 ? a - 1 : 0, ib = b + 1 < (H >> l) ? b + 1 : H >> l;",
      "int32_t ia = a, ib = b;", ["parity-pconv"],
      "PConv decoder: the rows one layer reads around the needed ones left out"),
    M("pc-bn-fold", "lib/families/pconv_unet_load.c",
      "b[o] = (float)(((double)b[o] - mean[o]) * s + beta[o]);",
      "b[o] = (float)(((double)b[o] - mean[o]) + beta[o]);", ["parity-pconv", "model"],
      "BatchNorm folding: the bias not scaled"),
    M("pc-pad", "lib/runner/runner.c",
      "            if (pad_is_hole && x >= image->w) {",
      "            if (0 && pad_is_hole && x >= image->w) {", ["parity-pconv"],
      "padding on the right reflected instead of a hole (PConv)"),
]

# Survivors judged equivalent: id -> why no test can tell the mutant from the
# original. Every other survivor of a run got a test that kills it.
EQUIVALENT = {
    "p-radius": "the library refuses radius -1 itself (gi_mask_dilate, gi_blend_feather: "
                "GI_E_INVALID_ARG), which the binding raises as InvalidArgumentError, a "
                "ValueError, with the same words 'radius is -1, must be >= 0'; the Python "
                "check only avoids copying the mask first",
}


def log(msg):
    print(msg, flush=True)


def tracked_files():
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=ROOT, capture_output=True, check=True).stdout
    return [f for f in out.decode().split("\0") if f]


def digest(path):
    h = hashlib.sha1()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.digest()


def sync():
    """The scratch copy := the working tree (changed files only, so ninja
    rebuilds only what changed)."""
    n = 0
    files = tracked_files()
    for rel in files:
        src, dst = os.path.join(ROOT, rel), os.path.join(SRC, rel)
        if os.path.islink(src) or not os.path.isfile(src):
            continue
        if os.path.exists(dst) and os.path.getsize(src) == os.path.getsize(dst) and \
                digest(src) == digest(dst):
            continue
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst)
        n += 1
    return n


def configure():
    if not os.path.exists(os.path.join(BUILD, "build.ninja")):
        subprocess.run(["meson", "setup", BUILD, SRC, "--buildtype=release"], check=True,
                       stdout=subprocess.DEVNULL)


def build(timeout):
    r = subprocess.run(["nice", "ninja", "-C", BUILD], capture_output=True, text=True,
                       timeout=timeout)
    return r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


def run_tests(tests, timeout):
    """(all passed, failing tests, seconds)."""
    t0 = time.time()
    cmd = ["nice", "meson", "test", "-C", BUILD, "--no-rebuild", "--num-processes", "1",
           "-t", "1"] + tests
    env = dict(os.environ, GI_STRESS_CALLS="20")
    try:
        subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return False, ["(timeout)"], time.time() - t0
    failed = []
    logf = os.path.join(BUILD, "meson-logs", "testlog.json")
    seen = set()
    for line in open(logf):
        if line.strip():
            j = json.loads(line)
            name = j["name"].split(" / ")[-1]  # "project:suite / name"
            seen.add(name)
            if j["result"] not in ("OK", "EXPECTEDFAIL"):
                failed.append("%s:%s" % (name, j["result"]))
    failed += ["%s:MISSING" % t for t in tests if t not in seen]
    return not failed, failed, time.time() - t0


def machine():
    """'AMD EPYC (family 25, model 17), 2 cores' from /proc/cpuinfo where it exists."""
    info = {}
    try:
        for line in open("/proc/cpuinfo"):
            k, _, v = line.partition(":")
            info.setdefault(k.strip(), v.strip())
    except OSError:
        pass
    name = info.get("model name") or platform.processor() or platform.machine()
    if "cpu family" in info:
        name += " (family %s, model %s)" % (info["cpu family"], info.get("model", "?"))
    return "%s, %d cores" % (name, os.cpu_count())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ci", action="store_true", help="only the mutants marked ci")
    ap.add_argument("--only", help="comma-separated mutant ids")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    ap.add_argument("--table", help="write the Markdown table of this run here")
    ap.add_argument("--timeout", type=int, default=300, help="seconds per mutant's tests")
    a = ap.parse_args()

    chosen = MUTANTS
    if a.ci:
        chosen = [m for m in MUTANTS if m["ci"]]
    if a.only:
        ids = a.only.split(",")
        chosen = [m for m in MUTANTS if m["id"] in ids]
        if len(chosen) != len(ids):
            sys.exit("unknown mutant id in %s" % a.only)
    if a.list:
        for m in chosen:
            log("%-18s %-40s %s" % (m["id"], m["file"], m["what"]))
        return 0

    # Every mutant's snippet must be in its file exactly once before anything runs.
    stale = []
    for m in chosen:
        text = open(os.path.join(ROOT, m["file"])).read()
        if text.count(m["find"]) != 1:
            stale.append("%s: snippet found %d times in %s" % (m["id"], text.count(m["find"]),
                                                               m["file"]))
    if stale:
        log("\n".join(stale))
        log("the mutant list is out of date with the sources: update tools/mutate.py")
        return 2

    os.makedirs(SRC, exist_ok=True)
    log("mutate: syncing %s" % SRC)
    sync()
    configure()
    t0 = time.time()
    ok, out = build(3600)
    if not ok:
        log(out)
        sys.exit("mutate: the unmutated copy does not build")
    all_tests = sorted({t for m in chosen for t in m["tests"]})
    passed, failed, secs = run_tests(all_tests, 1800)
    if not passed:
        sys.exit("mutate: the unmutated copy fails %s: fix that first" % ", ".join(failed))
    log("mutate: baseline built and %d tests passed (%.0f s)" % (len(all_tests), time.time() - t0))

    # Ctrl-C or SIGTERM: restore the scratch file, then stop.
    current = {}

    def restore():
        if current:
            with open(current["path"], "w") as f:
                f.write(current["text"])
            current.clear()

    def on_signal(signum, frame):
        restore()
        sys.exit("mutate: interrupted; the scratch copy is restored, the working tree "
                 "was never modified")
    signal.signal(signal.SIGTERM, on_signal)

    rows = []
    try:
        for i, m in enumerate(chosen, 1):
            path = os.path.join(SRC, m["file"])
            text = open(path).read()
            current.update(path=path, text=text)
            with open(path, "w") as f:
                f.write(text.replace(m["find"], m["replace"], 1))
            t1 = time.time()
            try:
                built, out = build(1200)
                if built:
                    passed, failed, _ = run_tests(m["tests"], a.timeout)
                    status = "survived" if passed else "killed"
                else:
                    status, failed = "killed", ["(build failed)"]
            finally:
                restore()
            if status == "survived" and m["id"] in EQUIVALENT:
                status = "equivalent"
            rows.append(dict(m, status=status, failed=failed, secs=time.time() - t1))
            log("[%2d/%d] %-18s %-10s %5.0f s  %s" % (i, len(chosen), m["id"], status,
                                                    time.time() - t1, " ".join(failed)))
    except KeyboardInterrupt:
        restore()
        sys.exit("mutate: interrupted; the scratch copy is restored, the working tree "
                 "was never modified")
    # Leave the scratch build matching the tree again.
    build(3600)

    killed = sum(r["status"] == "killed" for r in rows)
    equiv = sum(r["status"] == "equivalent" for r in rows)
    survived = [r for r in rows if r["status"] == "survived"]
    scored = len(rows) - equiv
    score = 100.0 * killed / scored if scored else 100.0
    total = time.time() - t0
    summary = ("mutation score: %d of %d killed (%.1f %%), %d equivalent, %d survived; %.0f s"
               % (killed, scored, score, equiv, len(survived), total))
    log(summary)
    for r in survived:
        log("SURVIVED: %s (%s): %s" % (r["id"], r["file"], r["what"]))
    if a.table:
        with open(a.table, "w") as f:
            f.write("Command: `tools/mutate.py%s`; %s; %s UTC; %s.\n\n" % (
                " --ci" if a.ci else "", summary,
                time.strftime("%Y-%m-%d %H:%M", time.gmtime()), machine()))
            f.write("| mutant | file | bug | tests run | result | failed tests |\n")
            f.write("|---|---|---|---|---|---|\n")
            for r in rows:
                f.write("| %s | `%s` | %s | %s | %s | %s |\n" % (
                    r["id"], r["file"], r["what"], ", ".join(r["tests"]), r["status"],
                    ", ".join(r["failed"]) if r["status"] == "killed" else
                    EQUIVALENT.get(r["id"], "")))
    return 0 if not survived else 1


if __name__ == "__main__":
    sys.exit(main())
