#!/usr/bin/env bash
# Schrödinger bridges in the 2-D lab (docs/RESULTS.md, "2-D lab: Schrödinger bridges"), the score-SDE assignment's
# optional task: the residual MLP (width 128, 4 blocks) trained by `difflab toy train --bridge-from` for 10,000 Adam steps
# of 256 pairs drawn from each minibatch's entropic plan (seed 0), then sampled with 10,000 points (seed 1):
#   1. N(0, I) → swiss roll at σ = 1, scored like the diffusion models of the SDE table (Chamfer by both protocols, EMD);
#   2. 8 Gaussians ↔ moons at σ = 1, forward and backward, with pictures of the paths;
#   3. the same pair at σ = 0.3 and 3: the transport cost E|x_1 − x_0|² against σ (it falls toward W₂² as σ → 0);
#   4. the floor of each score: a fresh draw of each data set (10,000 points, seed 1) scored the same way.
# Every run is reused when its checkpoint exists, so the script can simply be run again.
# Usage: benchmarks/toy/bridge.sh [OUT_DIR]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$here"
out="${1:-out/bridge}"
mkdir -p "$out"
source "$here/benchmarks/lib/private_difflab.sh"
train() { # name args...
  local name=$1; shift
  if [[ -f "$out/$name/checkpoint.bin" ]]; then return; fi
  difflab toy train "$@" --steps 10000 --seed 0 --out "$out/$name" | grep "^trained" >&2
}
row() { # run sampler steps dataset [--backward]
  local run=$1 sampler=$2 steps=$3 dataset=$4; shift 4
  local csv="$out/$run-$sampler${1:+-back}.csv"
  local log; log=$(difflab toy sample --run "$out/$run" --sampler "$sampler" --steps "$steps" --n 10000 --seed 1 --paths "$@" --out "$csv")
  local nfe; nfe=$(echo "$log" | grep "network evaluations" | sed -E 's/.* ([0-9]+) network evaluations.*/\1/')
  local cost; cost=$(echo "$log" | grep "displacement" | sed -E 's/.*= //')
  local a b
  a=$(difflab toy eval --samples "$csv" --dataset "$dataset" --protocol sum2048 --json)
  b=$(difflab toy eval --samples "$csv" --dataset "$dataset" --protocol group100 --json)
  python3 - "$a" "$b" "$run${1:+ (backward)}" "$sampler" "$nfe" "$cost" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"| {sys.argv[3]} | {sys.argv[4]} | {sys.argv[5]} | {a['chamfer']:.3f} | {a['emd']:.4f} | {b['chamfer']:.4f} | {b['emd']:.4f} | {float(sys.argv[6]):.3f} |", flush=True)
PY
}
echo "| bridge | sampler | NFE | CD sum2048 | EMD (2048) | CD group100 | EMD (group mean) | E\|x_1 − x_0\|² |"
echo "|---|---|---|---|---|---|---|---|"
train gauss-swissroll-s1 --bridge-from gaussian --dataset swiss-roll --sigma 1
row gauss-swissroll-s1 bridge-sde 1000 swiss-roll
row gauss-swissroll-s1 bridge-ode 100 swiss-roll
for sigma in 1 0.3 3; do
  train "8g-moons-s$sigma" --bridge-from 8gaussians --dataset moons --sigma "$sigma"
  row "8g-moons-s$sigma" bridge-sde 1000 moons
  row "8g-moons-s$sigma" bridge-ode 100 moons
  row "8g-moons-s$sigma" bridge-sde 1000 8gaussians --backward
  row "8g-moons-s$sigma" bridge-ode 100 8gaussians --backward
done
floor() { # dataset
  local csv="$out/floor-$1/data.csv"
  [ -f "$csv" ] || difflab toy data --dataset "$1" --n 10000 --seed 1 --out "$out/floor-$1" >/dev/null
  local a b
  a=$(difflab toy eval --samples "$csv" --dataset "$1" --protocol sum2048 --json)
  b=$(difflab toy eval --samples "$csv" --dataset "$1" --protocol group100 --json)
  python3 - "$a" "$b" "$1" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"| a fresh draw of {sys.argv[3]} (floor) | — | — | {a['chamfer']:.3f} | {a['emd']:.4f} | {b['chamfer']:.4f} | {b['emd']:.4f} | — |", flush=True)
PY
}
for dataset in swiss-roll moons 8gaussians; do floor "$dataset"; done
