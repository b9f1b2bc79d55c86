#!/usr/bin/env python3
"""Reads the JSON files of benchmarks/peers/run.sh (difflab-R.json, difflab-glibc-R.json, difflab-aten-R.json,
difflab-aten-glibc-R.json, torch-R.json)
and prints a Markdown table: per case the median over rounds of each run's median, and DiffusionLab's speed-up over the
PyTorch peer (a rate ratio, or the inverse ratio for times). Where the peer reports a network's parameter count, it must
equal the count in DiffusionLab's detail ("…, 6,474,755 parameters, …"): a mismatch means the two sides ran different
networks, and the script exits non-zero after the table."""
import glob
import json
import os
import re
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
    mismatches = parameter_mismatches(data)
    if mismatches:
        print()
        for m in mismatches:
            print(f"**parameter counts differ**: {m}")
        sys.exit(1)


def parameter_mismatches(data):
    """Cases whose peer network has a different parameter count from DiffusionLab's (as printed in its detail)."""
    ours = {}
    for run in data["difflab"]:
        for r in run["results"]:
            m = re.search(r"([\d,]+) parameters", r.get("detail", ""))
            if m:
                ours[r["name"]] = int(m.group(1).replace(",", ""))
    out = []
    for key in ("torch", "torch-cl"):
        for run in data[key]:
            for r in run["results"]:
                if r.get("parameters") is not None and r["name"] in ours and r["parameters"] != ours[r["name"]]:
                    out.append(f"{r['name']}: DiffusionLab {ours[r['name']]:,}, PyTorch ({key}) {r['parameters']:,}")
    return sorted(set(out))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "out/bench")
