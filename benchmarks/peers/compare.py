#!/usr/bin/env python3
"""Reads the JSON files of benchmarks/peers/run.sh (difflab-R.json, difflab-glibc-R.json, difflab-aten-R.json,
difflab-aten-glibc-R.json, torch-R.json)
and prints a Markdown table: per case the median over rounds of each run's median, and DiffusionLab's speed-up over the
PyTorch peer (a rate ratio, or the inverse ratio for times)."""
import glob
import json
import os
import statistics
import sys

VARIANTS = [("difflab", "DiffusionLab"), ("difflab-glibc", "DiffusionLab, glibc malloc"), ("difflab-aten", "DiffusionLab, oneDNN off"),
            ("difflab-aten-glibc", "DiffusionLab, oneDNN off, glibc malloc"), ("torch", "PyTorch peer"),
            ("torch-cl", "PyTorch peer, channels-last")]


def load(folder, prefix):
    runs = []
    for path in sorted(glob.glob(os.path.join(folder, f"{prefix}-[0-9]*.json"))):
        with open(path) as f:
            runs.append(json.load(f))
    return runs


def main(folder):
    data = {key: load(folder, key) for key, _ in VARIANTS}
    if not data["difflab"] or not data["torch"]:
        sys.exit(f"no difflab-N.json / torch-N.json in {folder}")
    cases = [r["name"] for r in data["difflab"][0]["results"]]
    precisions = {run.get("precision", "fp32") for key in ("difflab", "torch") for run in data[key]}
    if len(precisions) > 1:
        sys.exit(f"the runs in {folder} mix precisions ({', '.join(sorted(precisions))}): compare like with like")

    def figure(key, case, field="median"):
        values = [r[field] for run in data[key] for r in run["results"] if r["name"] == case and r.get(field) is not None]
        return statistics.median(values) if values else None

    def note(name):
        path = os.path.join(folder, name)
        return open(path).read().strip() if os.path.exists(path) else "not recorded"

    ours = data["difflab"][0]
    print(f"CPU: {ours.get('cpu', note('cpu.txt'))}; DiffusionLab: {ours.get('onednn', '')}")
    print(f"allocator: DiffusionLab {ours['allocator']}; PyTorch {note('peer-allocator.txt')}")
    print(f"rounds: {len(data['difflab'])}; precision: {precisions.pop()}; threads: DiffusionLab {ours['threads']}, PyTorch {data['torch'][0]['threads']} "
          f"({data['torch'][0]['implementation']}, mkldnn {'on' if data['torch'][0].get('mkldnn') else 'off'})\n")
    print("| case | unit | " + " | ".join(name for _, name in VARIANTS) + " | DiffusionLab ÷ faster PyTorch | DiffusionLab % of its matmul peak | PyTorch % of its matmul peak |")
    print("|---|---|" + "---|" * len(VARIANTS) + "---|---|---|")
    for case in cases:
        unit = next(r["unit"] for r in data["difflab"][0]["results"] if r["name"] == case)
        lower = next(r["lower_is_better"] for r in data["difflab"][0]["results"] if r["name"] == case)
        cells = []
        for key, _ in VARIANTS:
            v = figure(key, case)
            cells.append("—" if v is None else f"{v:.4g}")
        ours = figure("difflab", case)
        peers = [v for v in (figure("torch", case), figure("torch-cl", case)) if v is not None]
        theirs = (min(peers) if lower else max(peers)) if peers else None  # the faster peer configuration
        ratio = "—" if ours is None or theirs is None else f"**{(theirs / ours if lower else ours / theirs):.2f}×**"
        pct = [figure(k, case, "percent_of_peak") for k in ("difflab", "torch")]
        pcts = ["—" if p is None else f"{p:.0f} %" for p in pct]
        print(f"| {case} | {unit} | " + " | ".join(cells) + f" | {ratio} | {pcts[0]} | {pcts[1]} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "out/bench")
