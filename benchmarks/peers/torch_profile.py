#!/usr/bin/env python3
"""Where the PyTorch peer's train-d64 (or train-unet32) step spends its time, operator by operator (torch.profiler, self CPU time).

Runs 2 untimed and 3 profiled training steps (forward + backward) of torch_bench.py's CS180 class U-Net, D = 64,
batch 128 — or, with --model unet32, of the unet preset's attention U-Net, batch 64 — and prints the 15 most expensive
operators. Shows, for example, that PyTorch 1.13 computes the transposed convolutions with ATen's slow_conv_transpose2d,
not oneDNN, and how much of the attention U-Net's step goes to GroupNorm and the attention products.
Usage: /usr/bin/python3 benchmarks/peers/torch_profile.py [--threads 2] [--precision fp32|bf16] [--model d64|unet32] [--batch N]
"""
import argparse
import os
import sys

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_bench import UNET32, Cs180ClassUNet, DdpmUNet, Schedule, ddpm_loss  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    p.add_argument("--model", choices=["d64", "unet32"], default="d64")
    p.add_argument("--batch", type=int, default=None, help="default: the bench's (128 for d64, 64 for unet32)")
    o = p.parse_args()
    torch.set_num_threads(o.threads)
    torch.manual_seed(0)
    if o.model == "d64":
        net, sched, shape, classes, batch = Cs180ClassUNet(64), Schedule(300), (1, 28, 28), 10, o.batch or 128
    else:
        net, sched, shape, classes, batch = DdpmUNet(**UNET32), Schedule(1000), (3, 32, 32), UNET32["num_classes"], o.batch or 64
    g = torch.Generator().manual_seed(0)
    x = torch.rand(batch, *shape, generator=g) * 2 - 1
    labels = torch.randint(0, classes, (batch,), generator=g)

    def step(s):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=o.precision == "bf16"):
            loss = ddpm_loss(net, sched, x, torch.Generator().manual_seed(s), labels, 0.1)
        loss.backward()

    for s in range(2):
        step(s)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for s in range(3):
            step(s)
    print(f"torch {torch.__version__}, {o.threads} threads, {o.precision}: 3 training steps of {o.model}, batch {batch}")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))


if __name__ == "__main__":
    main()
