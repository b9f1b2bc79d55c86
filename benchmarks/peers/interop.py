#!/usr/bin/env python3
"""PyTorch side of the weights interchange test (tests/DiffusionLab.Tests/Interop/PyTorchInteropTests.cs, docs/SCALING.md).

Builds the network a DiffusionLab config.json describes from torch_bench.py's modules — DdpmUNet for `unet`,
Cs180ClassUNet for `cs180-class` — whose fields, and so whose state_dict names, are DiffusionLab's.

  interop.py checkpoint --config CONFIG.json --out DIR [--seed S]
      a randomly initialised PyTorch model: DIR/peer.pt (its state_dict) and DIR/io.pt (fixed inputs x, t, labels and
      the model's output `out` on them, in evaluation mode)
  interop.py check --config CONFIG.json --weights FILE.pt|FILE.safetensors --io IO.pt [--tolerance 1e-5]
      loads the weights with load_state_dict (strict), runs the model on io's inputs and compares with io's `out`;
      prints the largest difference and exits 1 above the tolerance

Safetensors files are read with the format's published layout (an 8-byte header length, a JSON header, raw
little-endian data), since Debian packages no safetensors module. Needs /usr/bin/python3 with python3-torch.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_bench import Cs180ClassUNet, DdpmUNet  # noqa: E402


def build(config_path):
    with open(config_path) as f:
        c = json.load(f)
    classes = len(c.get("ClassNames") or [])
    if c["Model"] == "unet":
        u = c["UNet"]
        return DdpmUNet(in_channels=c["Channels"], image_size=c["ImageSize"], ch=u["Ch"], ch_mult=tuple(u["ChMult"]),
                        num_res_blocks=u["NumResBlocks"], attn_resolutions=tuple(u["AttnResolutions"]), dropout=u["Dropout"],
                        num_classes=classes if c.get("ClassConditional", True) else 0), c, classes
    if c["Model"] == "cs180-class":
        return Cs180ClassUNet(c["Hidden"], channels=c["Channels"], size=c["ImageSize"], classes=classes), c, classes
    sys.exit(f"interop.py: no PyTorch peer for model '{c['Model']}' (unet and cs180-class have one)")


SAFETENSORS_TYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32, "U8": np.uint8}


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        array = np.frombuffer(body[begin:end], dtype=SAFETENSORS_TYPES[info["dtype"]]).reshape(info["shape"])
        out[name] = torch.from_numpy(array.copy())
    return out


def inputs(c, classes, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(4, c["Channels"], c["ImageSize"], c["ImageSize"], generator=g)
    t = torch.rand(4, generator=g)
    labels = torch.tensor([0, min(1, max(classes - 1, 0)), -1, max(classes - 1, 0)], dtype=torch.long)  # −1: the null class
    return x, t, labels


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="verb", required=True)
    a = sub.add_parser("checkpoint")
    a.add_argument("--config", required=True)
    a.add_argument("--out", required=True)
    a.add_argument("--seed", type=int, default=0)
    b = sub.add_parser("check")
    b.add_argument("--config", required=True)
    b.add_argument("--weights", required=True)
    b.add_argument("--io", required=True)
    b.add_argument("--tolerance", type=float, default=1e-5)
    o = p.parse_args()
    torch.set_num_threads(1)
    if o.verb == "checkpoint":
        torch.manual_seed(o.seed)
        net, c, classes = build(o.config)
        with torch.no_grad():  # GroupNorm's γ, β and BatchNorm's statistics away from their initial values, so they are checked too
            for name, t in net.state_dict().items():
                if t.is_floating_point():
                    t.add_(0.05 * torch.randn(t.shape))
        net.eval()
        x, t, labels = inputs(c, classes, o.seed + 1)
        with torch.no_grad():
            out = net(x, t, labels)
        os.makedirs(o.out, exist_ok=True)
        torch.save(net.state_dict(), os.path.join(o.out, "peer.pt"))
        torch.save({"x": x, "t": t, "labels": labels, "out": out}, os.path.join(o.out, "io.pt"))
        print(f"wrote {o.out}/peer.pt and io.pt ({sum(p.numel() for p in net.parameters()):,} parameters)")
        return
    net, c, classes = build(o.config)
    state = load_safetensors(o.weights) if o.weights.endswith(".safetensors") else torch.load(o.weights)
    net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()}, strict=True)
    net.eval()
    io = torch.load(o.io)
    with torch.no_grad():
        out = net(io["x"].float(), io["t"].float(), io["labels"].long())
    diff = (out - io["out"].float()).abs().max().item()
    print(f"largest difference {diff:.3g} (tolerance {o.tolerance:g}) over {out.numel()} outputs")
    sys.exit(0 if diff <= o.tolerance else 1)


if __name__ == "__main__":
    main()
