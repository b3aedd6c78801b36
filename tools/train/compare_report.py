#!/usr/bin/python3
"""The gated-vs-partial tables (docs/GATED_VS_PARTIAL.md) from a comparison's folder.

    tools/train/compare_report.py runs/gpu-session/compare > tables.md

Reads what tools/train/compare_gated_partial.sh leaves (each run's log.tsv and summary.json,
and eval-{paper,l1}-{strokes,objects}/results.json from its evaluation, or from
`gpu_session.sh eval`) and prints, in Markdown: the training table (minutes and their clock,
steps, crops seen, the validation measures first -> last) and the evaluation table (in-hole
L1, PSNR, SSIM, detail ratio, colour noise ratio per mask kind: each gated model, each PConv
U-Net, the gated model with the oracle sketch, OpenCV Telea). A part that is missing is
named, not invented.
"""
import csv
import json
import os
import sys

RUNS = ("gated-paper", "gated-l1", "pconv-paper", "pconv-l1")


def training_table(folder):
    lines = ["| run | minutes | steps | crops seen | val hole L1 | val PSNR dB "
             "| val detail ratio |",
             "|---|---:|---:|---:|---|---|---|"]
    for name in RUNS:
        log, summ = (os.path.join(folder, name, f) for f in ("log.tsv", "summary.json"))
        if not (os.path.exists(log) and os.path.exists(summ)):
            lines.append(f"| {name} | missing | | | | | |")
            continue
        with open(log) as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
        with open(summ) as f:
            s = json.load(f)
        first, last = rows[0], rows[-1]

        def span(key, fmt):
            if key not in first or first[key] in ("", "nan"):
                return "n/a"
            return f"{float(first[key]):{fmt}} -> {float(last[key]):{fmt}}"
        clock = "CPU" if s["args"].get("clock") == "cpu" else "wall"  # train.py --clock
        lines.append(f"| {name} | {s['minutes']:.1f} {clock} | {s['step']:,} | "
                     f"{s['step'] * s['args']['batch']:,} | "
                     f"{span('val_hole_l1', '.3f')} | {span('val_psnr', '.2f')} | "
                     f"{span('val_detail', '.2f')} |")
    return lines


def eval_table(folder):
    lines = ["| masks | model | L1 | PSNR dB | SSIM | detail ratio | colour noise ratio |",
             "|---|---|---|---|---|---|---|"]
    for kind in ("strokes", "objects"):
        first = True
        for pair in ("paper", "l1"):
            path = os.path.join(folder, f"eval-{pair}-{kind}", "results.json")
            if not os.path.exists(path):
                lines.append(f"| {kind} | {pair}: missing ({path}) | | | | | |")
                continue
            with open(path) as f:
                doc = json.load(f)
            m, s = doc["meta"], doc["summary"]
            head = f"{kind} ({m['cases']} cases, {100 * m['mean_hole']:.1f} %)" if first else ""
            first = False
            rows = [(f"gated-{pair}", "ours"), (f"pconv-{pair}", "compare"),
                    (f"gated-{pair} + oracle sketch", "ours_guide")]
            if pair == "paper":
                rows.append(("OpenCV Telea", "telea"))
            for label, key in rows:
                if key not in s:
                    continue
                v = s[key]
                lead = f"| {head} |" if head else "| |"
                colour = v.get("colour_noise")  # not in evaluations made before it existed
                lines.append(f"{lead} {label} | {v['l1']:.4f} | {v['psnr']:.2f} | "
                             f"{v['ssim']:.3f} | {v['detail']:.2f} | "
                             + ("n/a" if colour is None else f"{colour:.2f}") + " |")
                head = ""
    return lines


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    folder = argv[0]
    print("\n".join(training_table(folder) + [""] + eval_table(folder)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
