#!/usr/bin/env bash
# The StanfordCars-style unconditional DDPM on the emoji pictures (docs/RESULTS.md, "RGB"), next to the class-conditional
# model of train_emoji32.sh: the same network, schedule, precision and optimiser, without class conditioning, on a
# smaller budget (EPOCHS, default 10 of 107 steps of 64; the assignment allows a smaller one). Epoch grids are 18
# unconditional samples. Rerun to resume; from a private copy of the built program.
# Usage: benchmarks/emoji/train_emoji32_uncond.sh [OUT]    (needs ./difflab data fetch emoji)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-$here/runs/emoji32-uncond}"
epochs="${EPOCHS:-10}"
source "$here/benchmarks/lib/private_difflab.sh"
cd "$here"
train_or_resume "$out" --dataset emoji --model unet --ch 32 --unconditional --schedule linear --prediction eps --precision bf16 \
  --lr 4e-4 --lr-schedule cosine --grad-clip 1 \
  --epochs "$epochs" --grid-every 1 --seed 0
