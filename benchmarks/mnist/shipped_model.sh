#!/usr/bin/env bash
# Reproduces the MNIST rows of docs/RESULTS.md: trains the shipped class-conditional model, exports it, draws the
# guidance grids and measures training throughput and sampling time.
# Usage: benchmarks/mnist/shipped_model.sh [OUT_DIR]   (about 50 minutes on the 2-core CI machine; needs 'difflab data fetch mnist')
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out="${1:-out/mnist}"
mkdir -p "$out"
dotnet build src/DiffusionLab.Cli -c Release -v q -nologo >/dev/null
difflab() { dotnet src/DiffusionLab.Cli/bin/Release/net10.0/difflab.dll "$@"; }

if [[ "${SKIP_TRAIN:-0}" != 1 ]]; then
  # The shipped model: CS180 project 5's class-conditioned recipe with batch 64 and 16 epochs (2,000 steps; see RESULTS.md)
  difflab train --dataset mnist --model cs180-class --batch-size 64 --epochs 16 --seed 0 --out runs/mnist-cs180-class
  difflab export --run runs/mnist-cs180-class --half --out models/mnist-cs180-class
fi

# Guidance study: one grid per γ, ten samples per class, DDIM-50, the same seed (same initial noise) for every γ
for g in 0 1 3 5 10; do
  difflab sample --overwrite --model models/mnist-cs180-class --sampler ddim --steps 50 --guidance-scale "$g" --n 100 --grid-only --seed 0 --out "$out/guidance-$g" | head -1
done

# Training throughput of the class-conditioned U-Net, D = 64, batch 128 (20 steps after model build; includes the checkpoint)
difflab train --dataset mnist --model cs180-class --epochs 1 --limit 2560 --grid-every 0 --seed 0 --out "$out/throughput-$$" | grep epoch
rm -rf "$out/throughput-$$"

# Sampling time for 100 guided images (cond + uncond batched): 300 DDPM steps and 50 DDIM steps
difflab sample --overwrite --model models/mnist-cs180-class --sampler ddpm --guidance-scale 5 --n 100 --grid-only --seed 0 --out "$out/ddpm300" | head -1
difflab sample --overwrite --model models/mnist-cs180-class --sampler ddim --steps 50 --guidance-scale 5 --n 100 --grid-only --seed 0 --out "$out/ddim50" | head -1
