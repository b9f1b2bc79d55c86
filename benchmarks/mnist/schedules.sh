#!/usr/bin/env bash
# The noise-schedule assignment's "train with the new schedules and compare" (docs/RESULTS.md, "Schedules trained and
# compared"): CS180's class-conditioned U-Net (cs180-class: D = 64, T = 300, Adam 1e-3 with exponential decay,
# p_uncond 0.1, EMA 0.999, bf16) trained three times with the same seed and the same 1,240 steps (20 epochs of npm's
# 8,000 digits at batch 128, part B's budget), once per schedule:
#   linear            β from 1e-4 to 0.02 (Ho et al. 2020), the CS180 recipe's;
#   cosine            ᾱ(t) = cos²((t + s)/(1 + s)·π/2) (Nichol & Dhariwal 2021);
#   alphabar=1-t^2    our own: ᾱ falls like 1 − t², the schedule that keeps a digit structured longest in the forward study.
# Each is then sampled at γ = 1 (the conditional model) and γ = 5 with DDIM-50, 500 samples each, and scored with the
# shipped MNIST classifier's features (FID, KID, precision, recall, class accuracy) against the held-out digits.
# Each step is skipped when its output exists and each training resumed when interrupted.
# Usage: benchmarks/mnist/schedules.sh [OUT]   (needs ./difflab data fetch mnist; about 50 min on 2 cores in bf16)
#        SCHEDULES="alphabar=1-t^2" benchmarks/mnist/schedules.sh   runs only the schedules named (space-separated)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-$here/runs/schedules}"
source "$here/benchmarks/lib/private_difflab.sh"
cd "$here"
mkdir -p "$out"
read -r -a specs <<< "${SCHEDULES:-linear cosine alphabar=1-t^2}"
for spec in "${specs[@]}"; do
  name="${spec//[^a-z0-9]/_}"
  run="$out/$name"
  if [ ! -f "$run/samples/epoch-020.png" ]; then   # the last epoch's grid: written when the training has finished
    train_or_resume "$run" --dataset mnist --model cs180-class --schedule "$spec" --precision bf16 --seed 0 2>&1 | grep --line-buffered -v '^training: ' | tee -a "$run.log"
  fi
  difflab study guidance --run "$run" --gammas 1,5 --n 500 --sampler ddim --steps 50 --seed 0 --resume --out "$out/study-$name"
done
echo "done: $out"
