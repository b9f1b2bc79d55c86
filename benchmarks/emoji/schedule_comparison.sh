#!/usr/bin/env bash
# Cosine against linear on the emoji data (docs/RESULTS.md, "Cosine against linear on emoji"): the shipped model's
# recipe (benchmarks/emoji/train_emoji32.sh: the unet preset at 32 base channels, ε-prediction, bf16, Adam at 4e-4 on a
# cosine decay, gradient clip 1, 40 epochs of 107 steps of 64, seed 0) with the linear schedule of Ho et al. (2020) in
# place of the cosine one of Nichol & Dhariwal (2021), then both scored the same way as the shipped sweep: 500
# class-balanced samples per γ, DPM-Solver++(2M) in 20 steps, x̂_0 clipped, FID/KID/precision/recall on ResNet-18
# ImageNet features against emoji:train, class accuracy by the shipped emoji classifier.
# Both sides are scored as shipped models: the linear run is exported like models/emoji32-class (`difflab export --half`,
# the EMA weights in float16), and the cosine side is models/emoji32-class itself.
# Every step resumes or is skipped when its output exists, so the script can simply be run again.
# Usage: benchmarks/emoji/schedule_comparison.sh [OUT]   (needs ./difflab data fetch emoji)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-$here/runs/emoji-schedules}"
source "$here/benchmarks/lib/private_difflab.sh"
cd "$here"
mkdir -p "$out"
train_or_resume "$out/linear" --dataset emoji --model unet --ch 32 --schedule linear --prediction eps --precision bf16 \
  --lr 4e-4 --lr-schedule cosine --grad-clip 1 \
  --epochs 40 --grid-every 1 --grid-guidance-scale 8.5 --seed 0
common=(--real emoji:train --classifier "$here/models/emoji-classifier" --features resnet18 --n 500 --sampler dpm++2m
  --steps 20 --seed 0 --gammas 1,5,8.5 --resume)
[ -f "$out/linear-model/config.json" ] || difflab export --run "$out/linear" --out "$out/linear-model" --half
difflab study guidance --model "$out/linear-model" "${common[@]}" --out "$out/study-linear"
difflab study guidance --model "$here/models/emoji32-class" "${common[@]}" --out "$out/study-cosine"
echo "done: $out"
