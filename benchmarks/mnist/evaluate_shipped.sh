#!/usr/bin/env bash
# Re-measures every table of docs/RESULTS.md that depends on the shipped MNIST model (models/mnist-cs180-class), and the
# goals of the full-budget retraining: the unconditional pass draws digits (the shipped classifier reads ≥ 80 % of γ = 0
# samples with probability ≥ 0.9, against what real held-out digits score), DDIM-50 within 1.5× DDPM-50's FID, and FID
# at the best γ within 3× the real-vs-real floor at the same n. Scored on the shipped classifier's features
# (models/mnist-classifier). Each step is skipped when its output exists and each study resumed, so an interrupted run
# is simply started again. Runs from a private copy of the program.
# Usage: benchmarks/mnist/evaluate_shipped.sh [OUT]   (needs ./difflab data fetch mnist; about 45 min on 2 cores)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-$here/out/mnist-eval}"
model="$here/models/mnist-cs180-class"
source "$here/benchmarks/lib/private_difflab.sh"
cd "$here"
mkdir -p "$out"
timed() { local start=$SECONDS; "$@"; echo "  ($((SECONDS - start)) s: $*)" >&2; }

# What real digits score: the held-out digits read by the same classifier (accuracy and the confident fraction)
json_once "$out/real-heldout.json" difflab eval accuracy --fake mnist:heldout --json

# The DDIM/CFG assignment's protocol (w = 0 and 7.5: γ = 1 and 8.5) and γ = 0 against 7.5, 500 samples each, one study
timed difflab study guidance --model "$model" --gammas 0,1,7.5,8.5 --n 500 --sampler ddim --steps 50 --seed 0 --resume --out "$out/study-cfg"
# its figure: two samples per class at w = 0 and w = 7.5
for w in 0 7.5; do
  once "$out/mnist-w$w" difflab sample --model "$model" --class all --n 20 --guidance-w "$w" --sampler ddim --steps 50 --seed 0 --grid-only --out "$out/mnist-w$w"
done

# The guidance sweep: γ = 0 … 15, 300 samples each, DDIM-20
timed difflab study guidance --model "$model" --n 300 --sampler ddim --steps 20 --seed 0 --resume --out "$out/study-guidance"

# Sampler and step count: ancestral DDPM, DDIM and DPM-Solver++(2M) at 10, 20 and 50 steps, γ = 2, 200 samples each
timed difflab study samplers --model "$model" --samplers ddpm,ddim,dpm++2m --n 200 --steps-list 10,20,50 --guidance-scale 2 --seed 0 --resume --out "$out/study-samplers"

# The evaluation table: 1,000 samples per row (100 per class) against all 2,000 held-out digits
sample() { local name=$1; shift; once "$out/$name" timed difflab sample --model "$model" --n 1000 --seed 0 "$@" --out "$out/$name"; }
sample eval-g0 --sampler ddim --steps 50 --guidance-scale 0
sample eval-g5 --sampler ddim --steps 50 --guidance-scale 5
sample eval-g5-clip --sampler ddim --steps 50 --guidance-scale 5 --clip-x0 1
sample eval-g5-ddpm50 --sampler ddpm --steps 50 --guidance-scale 5
for name in eval-g0 eval-g5 eval-g5-clip eval-g5-ddpm50; do
  json_once "$out/$name-fid.json" difflab eval fid --real mnist:heldout --fake "$out/$name/images" --json
  json_once "$out/$name-kid.json" difflab eval kid --real mnist:heldout --fake "$out/$name/images" --json
  json_once "$out/$name-pr.json" difflab eval pr --real mnist:heldout --fake "$out/$name/images" --json
  json_once "$out/$name-accuracy.json" difflab eval accuracy --fake "$out/$name/images" --json
done
echo "done: $out"
