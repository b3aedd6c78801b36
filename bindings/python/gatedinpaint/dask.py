"""Inpaint many files on a Dask cluster: one loaded model per worker process.

    python3 -m gatedinpaint.dask --image DIR --mask DIR|FILE --output DIR \\
        [--scheduler ADDRESS | --local N] [--model FILE] [--threads N] [--retries N]

Each task reads its image and mask from paths every worker can see (a shared
folder), fills the image and writes the result, returning a small record (no
arrays). Files are paired like gi-inpaint's folder mode (pair_files), masks
follow the same rule (normalize_mask), the default strategy is used, so the
output pixels are those of `gi-inpaint --image DIR --mask ... --output DIR`.

A file that fails (unreadable, no mask, sizes that differ) is reported and the
others go on; a worker that dies mid-task has its tasks run again elsewhere
(`retries`). Exit status: 0 all written, 2 usage error, 6 some files failed
(the others were written), as gi-inpaint.

Needs dask and distributed (Debian: python3-dask python3-distributed) on the
client and on every worker, with this package and its library, and the model
file at the same path on every worker (or no --model: the embedded default).
"""
import argparse
import os
import shutil
import sys
import threading
import time

import distributed
import numpy as np
from distributed import WorkerPlugin

import gatedinpaint as gi

__all__ = ["pair_files", "find_mask", "output_path", "ModelPlugin", "inpaint_file",
           "run", "main", "EXIT_OK", "EXIT_USAGE", "EXIT_FAILED"]

EXIT_OK, EXIT_USAGE, EXIT_FAILED = 0, 2, 6
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
PLUGIN_NAME = "gatedinpaint-model"


# --------------------------------------------------------------------------
# Pairing images with masks: gi-inpaint's folder rule (README "Command line")


def _split(name):
    """(stem, extension) as gi-inpaint cuts them: the last dot, not a leading one."""
    dot = name.rfind(".")
    if dot <= 0:
        return name, ""
    return name[:dot], name[dot:]


def _is_image_name(name):
    return _split(name)[1].lower() in IMAGE_EXTENSIONS


def _looks_like_mask(name):
    stem = _split(name)[0]
    return len(stem) > 5 and (stem.endswith("_mask") or stem.endswith(".mask"))


def _same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def find_mask(mask, image):
    """The mask for `image`: `mask` itself when it is a file, else in the folder
    `mask` the first of STEM, STEM_mask, STEM.mask with .png, .PNG, .jpg,
    .JPG, .jpeg, .JPEG that is a file and not the image. None if none is."""
    if not os.path.isdir(mask):
        return mask
    stem = _split(os.path.basename(image))[0]
    for suffix in ("", "_mask", ".mask"):
        for ext in (".png", ".PNG", ".jpg", ".JPG", ".jpeg", ".JPEG"):
            path = os.path.join(mask, stem + suffix + ext)
            if os.path.isfile(path) and not _same_file(path, image):
                return path
    return None


def output_path(output_dir, image):
    """The result's path: the image's name, .png unless it ends .png/.jpg/.jpeg."""
    name = os.path.basename(image)
    stem, ext = _split(name)
    return os.path.join(output_dir, name if ext.lower() in IMAGE_EXTENSIONS else stem + ".png")


def pair_files(image_dir, mask, output_dir):
    """gi-inpaint's folder mode as data: (jobs, problems). jobs: list of
    (image, mask, output) in name order for every .png/.jpg/.jpeg file of
    `image_dir` (no subfolders, no hidden files; NAME_mask / NAME.mask files
    skipped when the masks sit with the images). problems: list of
    (image, message) for images without a mask."""
    masks_here = os.path.isdir(mask) and _same_file(mask, image_dir)
    jobs, problems = [], []
    for name in sorted(os.listdir(image_dir), key=os.fsencode):
        if name.startswith("."):
            continue
        path = os.path.join(image_dir, name)
        if not os.path.isfile(path) or not _is_image_name(name):
            continue
        if masks_here and _looks_like_mask(name):
            continue
        m = find_mask(mask, path)
        if m is None:
            stem = _split(name)[0]
            problems.append((path, "no mask for '%s' in '%s' (looked for %s, %s_mask and "
                             "%s.mask with .png, .jpg or .jpeg)" % (path, mask, stem, stem, stem)))
            continue
        jobs.append((path, m, output_path(output_dir, path)))
    return jobs, problems


# --------------------------------------------------------------------------
# Workers: one model per process, one session per worker thread


class ModelPlugin(WorkerPlugin):
    """Loads the model once per worker process (`setup`) and hands out one
    Session per worker thread. threads: threads per session (None: the
    worker's cores shared out among its worker threads)."""

    name = PLUGIN_NAME

    def __init__(self, model=None, threads=None):
        self.model_path = model
        self.threads = threads
        self.model = None

    def setup(self, worker):
        self.model = gi.Model.from_file(self.model_path) if self.model_path else gi.Model.default()
        self._local = threading.local()
        state = getattr(worker, "state", None)  # distributed >= 2022.11; older: worker.nthreads
        nthreads = getattr(state, "nthreads", None) or getattr(worker, "nthreads", 1)
        self._per_session = self.threads or max(1, (os.cpu_count() or 1) // max(1, nthreads))

    def teardown(self, worker):
        self.model = None

    def session(self):
        s = getattr(self._local, "session", None)
        if s is None:
            s = self._local.session = gi.Session(self.model, threads=self._per_session)
        return s


def _plugin():
    worker = distributed.get_worker()
    plugin = worker.plugins.get(PLUGIN_NAME)
    if plugin is None or plugin.model is None:
        raise RuntimeError("the worker has no gatedinpaint model (ModelPlugin not registered)")
    return plugin


def _same_format(a, b):
    x, y = _split(a)[1].lower(), _split(b)[1].lower()
    return x in IMAGE_EXTENSIONS and y in IMAGE_EXTENSIONS and (x == ".png") == (y == ".png")


def _write(output, write):
    """Write through a hidden temporary file in the same folder, then rename:
    a worker killed mid-write leaves no partial result."""
    folder, name = os.path.split(output)
    os.makedirs(folder or ".", exist_ok=True)
    tmp = os.path.join(folder, ".%s.%d.tmp%s" % (_split(name)[0], os.getpid(), _split(name)[1]))
    try:
        write(tmp)
        os.replace(tmp, output)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def inpaint_file(image, mask, output):
    """The task: fill one file as gi-inpaint does and write the result. Returns
    a record {image, output, ok, error, empty, seconds, worker}; errors in
    the file are returned, not raised (so they are not retried)."""
    t0 = time.perf_counter()
    record = {"image": image, "output": output, "ok": False, "error": None, "empty": False,
              "seconds": 0.0, "worker": None}
    try:
        plugin = _plugin()
        record["worker"] = distributed.get_worker().address
        for what, path in (("image", image), ("mask", mask)):
            if _same_file(output, path):
                raise ValueError("refusing to overwrite the input %s '%s'" % (what, path))
        img = gi.load_image(image)
        if img.shape[2] <= 2:  # gray (+ alpha) widened to colour, as gi-inpaint
            img = np.concatenate([np.repeat(img[:, :, :1], 3, axis=2), img[:, :, 1:]],
                                    axis=2)
        m = gi.normalize_mask(gi.load_mask(mask))
        if img.shape[:2] != m.shape:
            raise ValueError("the image '%s' is %dx%d but the mask '%s' is %dx%d"
                             % (image, img.shape[1], img.shape[0], mask, m.shape[1], m.shape[0]))
        if not m.any():  # gi-inpaint: warn, write the input unchanged
            record["empty"] = True
            if _same_format(image, output):
                _write(output, lambda tmp: shutil.copyfile(image, tmp))
            else:
                _write(output, lambda tmp: gi.save_image(tmp, img))
        else:
            filled = plugin.session().inpaint(img, m)
            _write(output, lambda tmp: gi.save_image(tmp, filled))
        record["ok"] = True
    except Exception as e:  # reported per file, never fatal to the run
        record["error"] = "%s: %s" % (type(e).__name__, e)
    record["seconds"] = time.perf_counter() - t0
    return record


# --------------------------------------------------------------------------
# Client side


def register(client, model=None, threads=None):
    """Register the ModelPlugin on every worker, present and future."""
    plugin = ModelPlugin(model, threads)
    if hasattr(client, "register_plugin"):
        client.register_plugin(plugin)
    else:
        client.register_worker_plugin(plugin, name=PLUGIN_NAME)


def run(client, jobs, problems=(), retries=3, progress=sys.stderr):
    """Submit every job, collect the records as they finish (as_completed),
    printing a count line to `progress` (None: silent). Problems found while
    pairing are records with an error. Returns the records in job order."""
    records = {image: {"image": image, "output": None, "ok": False, "error": msg,
                       "empty": False, "seconds": 0.0, "worker": None}
               for image, msg in problems}
    futures = {}
    for image, mask, output in jobs:
        f = client.submit(inpaint_file, image, mask, output, retries=retries, pure=False,
                          key="gi-inpaint-%s" % os.path.basename(image) + "-" + os.urandom(4).hex())
        futures[f] = (image, output)
    total, done, failed = len(jobs) + len(problems), len(problems), len(problems)
    t0 = time.perf_counter()
    for f in distributed.as_completed(futures):
        image, output = futures[f]
        try:
            rec = f.result()
        except Exception as e:  # the task itself failed: retries exhausted (KilledWorker)
            rec = {"image": image, "output": output, "ok": False,
                   "error": "%s: %s" % (type(e).__name__, e), "empty": False,
                   "seconds": 0.0, "worker": None}
        records[image] = rec
        done += 1
        failed += not rec["ok"]
        if progress is not None:
            rate = done / max(time.perf_counter() - t0, 1e-9)
            status = "ok" if rec["ok"] else "FAILED: " + rec["error"]
            if rec["empty"]:
                status += " (the mask has no hole: written unchanged)"
            print("[%d/%d] %s %s (%.1f images/s, %d failed)"
                  % (done, total, os.path.basename(image), status, rate, failed),
                  file=progress, flush=True)
    order = [image for image, _ in problems] + [image for image, _, _ in jobs]
    return [records[image] for image in sorted(order, key=os.fsencode)]


def _parser():
    p = argparse.ArgumentParser(
        prog="python3 -m gatedinpaint.dask",
        description="Fill every image of a folder on a Dask cluster, like "
                    "gi-inpaint --image DIR --mask DIR|FILE --output DIR.",
        epilog="Exit status: 0 all written, 2 usage error, 6 some files failed "
               "(the others were written; a summary lists them).")
    p.add_argument("--image", required=True, help="folder of .png/.jpg/.jpeg images")
    p.add_argument("--mask", required=True,
                   help="folder of masks (NAME, NAME_mask or NAME.mask .png/.jpg/.jpeg) "
                        "or one mask file for every image")
    p.add_argument("--output", required=True, help="output folder (created if missing)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="address of a running scheduler (tcp://host:8786)")
    where.add_argument("--local", metavar="N", type=int,
                       help="start N local worker processes (default: 1)")
    p.add_argument("--model", metavar="FILE",
                   help="model file, at this path on every worker (default: embedded model)")
    p.add_argument("--threads", metavar="N", type=int,
                   help="threads per session (default: the worker's cores / its threads)")
    p.add_argument("--retries", metavar="N", type=int, default=3,
                   help="times a task is run again when its worker dies (default 3)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    return p


def main(argv=None):
    args = _parser().parse_args(argv)
    if not os.path.isdir(args.image):
        print("gatedinpaint.dask: --image must be a folder: '%s'" % args.image, file=sys.stderr)
        return EXIT_USAGE
    if not os.path.exists(args.mask):
        print("gatedinpaint.dask: no mask '%s'" % args.mask, file=sys.stderr)
        return EXIT_USAGE
    if os.path.isdir(args.output) and _same_file(args.output, args.image):
        print("gatedinpaint.dask: the output folder is the image folder", file=sys.stderr)
        return EXIT_USAGE
    os.makedirs(args.output, exist_ok=True)
    jobs, problems = pair_files(args.image, args.mask, args.output)
    cluster = None
    if args.scheduler:
        client = distributed.Client(args.scheduler)
    else:
        n = args.local or 1
        threads = args.threads or max(1, (os.cpu_count() or 1) // n)
        cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
        client = distributed.Client(cluster)
        args.threads = threads
    try:
        register(client, args.model, args.threads)
        t0 = time.perf_counter()
        records = run(client, jobs, problems, retries=args.retries,
                      progress=None if args.quiet else sys.stderr)
        seconds = time.perf_counter() - t0
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    bad = [r for r in records if not r["ok"]]
    for r in bad:
        print("failed: %s: %s" % (r["image"], r["error"]), file=sys.stderr)
    print("%d written, %d failed, %.2f s (%.2f images/s)"
          % (len(records) - len(bad), len(bad), seconds,
             (len(records) - len(bad)) / max(seconds, 1e-9)), file=sys.stderr)
    return EXIT_FAILED if bad else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
