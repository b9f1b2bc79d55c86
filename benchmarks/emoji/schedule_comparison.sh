#!/usr/bin/env bash
# Cosine against linear on the emoji data (docs/RESULTS.md, "Cosine against linear at the shipped budget"): the shipped
# model's recipe (benchmarks/emoji/train_emoji32.sh: the unet preset at 32 base channels, ε-prediction, bf16, Adam at 4e-4
# on a cosine decay, gradient clip 1, 40 epochs of 107 steps of 64, seed 0) with the cosine schedule of Nichol & Dhariwal
# (2021) and with the linear one of Ho et al. (2020), both scored the same way as the shipped sweep: 500 class-balanced
# samples per γ, DPM-Solver++(2M) in 20 steps, x̂_0 clipped, FID/KID/precision/recall on ResNet-18 ImageNet features
# against emoji:train, class accuracy by the shipped emoji classifier.
# Both sides are scored as shipped models: each run is exported like models/emoji32-class (`difflab export --half`, the
# EMA weights in float16). The linear side is the shipped model's own run; the cosine side is the first shipped model
# (models/emoji32-class until this comparison replaced it).
# Every step resumes or is skipped when its output exists, so the script can simply be run again.
# Usage: benchmarks/emoji/schedule_comparison.sh [OUT]   (needs ./difflab data fetch emoji)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-$here/runs/emoji-schedules}"
source "$here/benchmarks/lib/private_difflab.sh"
cd "$here"
mkdir -p "$out"
common=(--real emoji:train --classifier "$here/models/emoji-classifier" --features resnet18 --n 500 --sampler dpm++2m
  --steps 20 --seed 0 --gammas 1,5,8.5 --resume)
for schedule in linear cosine; do
  train_or_resume "$out/$schedule" --dataset emoji --model unet --ch 32 --schedule "$schedule" --prediction eps \
    --precision bf16 --lr 4e-4 --lr-schedule cosine --grad-clip 1 \
    --epochs 40 --grid-every 1 --grid-guidance-scale 8.5 --seed 0
  [ -f "$out/$schedule-model/config.json" ] || difflab export --run "$out/$schedule" --out "$out/$schedule-model" --half
  difflab study guidance --model "$out/$schedule-model" "${common[@]}" --out "$out/study-$schedule"
done
echo "done: $out"
