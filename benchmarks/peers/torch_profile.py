#!/usr/bin/env python3
"""Where the PyTorch peer's train-d64 step spends its time, operator by operator (torch.profiler, self CPU time).

Runs 2 untimed and 3 profiled training steps (forward + backward) of torch_bench.py's CS180 class U-Net, D = 64,
batch 128, and prints the 15 most expensive operators. Shows, for example, that PyTorch 1.13 computes the transposed
convolutions with ATen's slow_conv_transpose2d, not oneDNN.
Usage: /usr/bin/python3 benchmarks/peers/torch_profile.py [--threads 2] [--precision fp32|bf16]
"""
import argparse
import os
import sys

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_bench import Cs180ClassUNet, Schedule, ddpm_loss  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    o = p.parse_args()
    torch.set_num_threads(o.threads)
    torch.manual_seed(0)
    net, sched = Cs180ClassUNet(64), Schedule(300)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(128, 1, 28, 28, generator=g) * 2 - 1
    labels = torch.randint(0, 10, (128,), generator=g)

    def step(s):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=o.precision == "bf16"):
            loss = ddpm_loss(net, sched, x, torch.Generator().manual_seed(s), labels, 0.1)
        loss.backward()

    for s in range(2):
        step(s)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for s in range(3):
            step(s)
    print(f"torch {torch.__version__}, {o.threads} threads, {o.precision}: 3 training steps")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))


if __name__ == "__main__":
    main()
