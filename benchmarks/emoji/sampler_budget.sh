#!/usr/bin/env bash
# Is the shipped emoji model's FID limited by the sampler? (docs/RESULTS.md, "The shipped emoji model"): the guidance
# sweep's setting at its best γ (5; 500 class-balanced samples, ResNet-18 features against emoji:train, seed 0, and the
# study's unconditional pass) with DPM-Solver++(2M) at 50 steps against the sweep's 20; DDPM=1 adds ancestral DDPM at
# 250 steps (about 25 minutes of two cores).
# Usage: benchmarks/emoji/sampler_budget.sh [MODEL] [OUT]   (needs ./difflab data fetch emoji)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
model="${1:-$here/models/emoji32-class}"
out="${2:-$here/runs/emoji-sampler-budget}"
source "$here/benchmarks/lib/private_difflab.sh"
cd "$here"
common=(--model "$model" --real emoji:train --classifier "$here/models/emoji-classifier" --features resnet18 --n 500
  --gammas 5 --seed 0 --resume)
difflab study guidance "${common[@]}" --sampler dpm++2m --steps 50 --out "$out/dpm++2m-50"
if [ "${DDPM:-0}" = 1 ]; then
  difflab study guidance "${common[@]}" --sampler ddpm --steps 250 --out "$out/ddpm-250"
fi
