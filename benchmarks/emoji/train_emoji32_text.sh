#!/usr/bin/env bash
# The prompt-conditioned 32 px emoji model (models/emoji32-text; docs/IMAGES.md, "Text-to-image"): the unet preset of
# benchmarks/emoji/train_emoji32.sh — 32 base channels, multipliers 1,2,2, attention at 8 px, dropout 0.1, EMA 0.9999,
# Adam 4e-4 on a cosine decay with the gradient norm clipped at 1, cosine schedule, ε-prediction, bf16, random flips
# except Symbols and Flags — conditioned on the images' captions instead of their class: a two-layer prompt encoder
# (width 128, 4 heads) trained with the U-Net, cross-attention at 8 px and in the middle, the empty prompt in place of
# the caption 10 % of the time; 40 epochs of 107 steps of 64 (sized, like the class model, to train within one session's
# CPU time, since a run folder does not outlive its session here), a grid of the fixed prompts every epoch at γ = 5.
# Rerun to resume.
# Usage: benchmarks/emoji/train_emoji32_text.sh [OUT]    (needs ./difflab data fetch emoji, with captions: since 2026-12-04)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-$here/runs/emoji32-text}"
source "$here/benchmarks/lib/private_difflab.sh"
cd "$here"
train_or_resume "$out" --dataset emoji --model unet --text --ch 32 --schedule cosine --prediction eps --precision bf16 \
  --lr 4e-4 --lr-schedule cosine --grad-clip 1 --epochs 40 --grid-every 1 --grid-guidance-scale 5 --seed 0
