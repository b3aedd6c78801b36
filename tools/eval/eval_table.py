#!/usr/bin/python3
"""One row per eval_quality.py run on a training snapshot, for learning curves of the
held-out measures (tools/train/curves.py draws them from this table).

  tools/eval/eval_table.py runs/eval/s15/run37-*/results.json -o run37.tsv
  tools/train/curves.py run37.tsv run38.tsv --labels "run 37,run 38" -o curves.png

The step is the last number in the evaluated model's file name (snap-0001200-raw.gguf,
raw-859.gguf); the columns are the network's unguided measures (eval_quality's "ours" row:
psnr, detail, colour_noise, invented, periodic, incoherence, l1, ssim) and OpenCV Telea's on the same cases
(telea_psnr, telea_detail), rows in order of step.
"""
import argparse
import json
import os
import re
import sys

COLUMNS = ("l1", "psnr", "ssim", "detail", "colour_noise", "invented", "periodic",
           "incoherence")


def step_of(model):
    """The step a snapshot's file name carries: its last run of digits."""
    found = re.findall(r"\d+", os.path.basename(model))
    if not found:
        raise ValueError(f"eval_table: no step in the model name {model!r}")
    return int(found[-1])


def measured(path):
    """The network's measures (COLUMNS) and Telea's PSNR and detail in an eval_quality.py
    results.json, with its model, case count and mask kind."""
    with open(path) as f:
        r = json.load(f)
    ours, telea = r["summary"]["ours"], r["summary"]["telea"]
    # periodic: since session 15, incoherence since session 16
    out = {k: ours.get(k, float("nan")) for k in COLUMNS}
    out.update({"telea_psnr": telea["psnr"], "telea_detail": telea["detail"],
                "model": r["meta"]["model"], "cases": r["meta"]["cases"],
                "mask_kind": r["meta"]["mask_kind"]})
    return out


def same_cases(rows, tool):
    """True if every row measured the same cases; else says so on stderr."""
    if len({(r["cases"], r["mask_kind"]) for r in rows}) > 1:
        print(f"{tool}: the runs measured different cases", file=sys.stderr)
        return False
    return True


def row(path):
    m = measured(path)
    return {"step": step_of(m.pop("model")), **m}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("results", nargs="+", help="eval_quality.py results.json files")
    p.add_argument("-o", "--output", required=True, help="the table (TSV)")
    a = p.parse_args(argv)
    rows = sorted((row(x) for x in a.results), key=lambda r: r["step"])
    if not same_cases(rows, "eval_table"):
        return 1
    keys = list(rows[0])
    with open(a.output, "w") as f:
        f.write("\t".join(keys) + "\n")
        for r in rows:
            f.write("\t".join(f"{r[k]:.5g}" if isinstance(r[k], float) else str(r[k])
                              for k in keys) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
