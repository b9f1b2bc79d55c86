"""Peak RSS of four training steps of the CS180 class U-Net in PyTorch (batch 128, 2 threads): the peer of
`difflab train --dataset mnist --model cs180-class --limit 512 --epochs 1` in docs/RESULTS.md, "memory of small runs".
Run with Debian's PyTorch and the allocator settings difflab uses:
  GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=2147483647 /usr/bin/python3 peer_memory.py
"""
import os
import resource
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_bench import Cs180ClassUNet, Schedule, ddpm_loss  # noqa: E402

torch.set_num_threads(2)
torch.manual_seed(0)
net = Cs180ClassUNet(64)
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
sched = Schedule(300)
g = torch.Generator().manual_seed(0)
x = torch.randn(128, 1, 28, 28)
y = torch.randint(0, 10, (128,))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for _ in range(4):
    opt.zero_grad()
    loss = ddpm_loss(net, sched, x, g, y, 0.1)
    loss.backward()
    opt.step()
print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB (before the steps {before / 1024:.0f} MiB)")
