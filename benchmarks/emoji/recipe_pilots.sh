#!/usr/bin/env bash
# Short pilot trainings that choose the emoji recipe by measured FID (docs/RESULTS.md, "RGB: choosing the recipe"):
# the same 32 px U-Net (32 base channels, bf16, 10 epochs ≈ 1,070 steps of 64, seed 0) with a linear or cosine schedule and
# ε- or v-prediction, each then scored by the guidance study (500 samples, DDIM 50, γ = 3 and the unconditional pass) on
# ResNet-18 ImageNet features against emoji:train, with class accuracy read by the emoji classifier.
# A ranking at a tenth of the final budget is a pilot, not a proof; the report says so.
# Runs from a private copy of the program (a rebuild of the clone cannot break it); rerun to resume.
# Usage: benchmarks/emoji/recipe_pilots.sh [OUT] [CLASSIFIER]   (needs ./difflab data fetch emoji and an emoji classifier)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-$here/runs/emoji-pilots}"
classifier="${2:-$here/models/emoji-classifier}"
source "$here/benchmarks/lib/private_difflab.sh"
cd "$here"
for variant in linear-eps cosine-eps cosine-v; do
  schedule="${variant%-*}"; prediction="${variant#*-}"
  run="$out/$variant"
  if [ ! -f "$run/study/study.csv" ]; then # a resumed finished training returns at once
    train_or_resume "$run" --dataset emoji --model unet --ch 32 --schedule "$schedule" --prediction "$prediction" \
      --precision bf16 --epochs 10 --grid-every 10 --seed 0
  fi
  difflab study guidance --run "$run" --real emoji:train --features resnet18 --classifier "$classifier" \
    --gammas 3 --n 500 --sampler ddim --steps 50 --seed 0 --out "$run/study" --resume
done
