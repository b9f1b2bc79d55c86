#!/usr/bin/env bash
# The score-SDE assignment's swiss roll across SDEs and losses (docs/RESULTS.md, "2-D lab: every SDE and loss"): the
# same residual MLP and recipe as benchmarks/toy/swiss_roll_table.sh (width 128, 10,000 Adam steps of 1,024, seed 0),
# trained with DSM on the VP, sub-VP, VE and OU SDEs and with ISM and SSM on the VP SDE, each sampled (10,000 points,
# seed 1) by Euler–Maruyama (1,000 steps) and the probability-flow ODE (adaptive RK45) and scored by both Chamfer
# protocols and EMD. An existing finished run is reused. Threads: DIFFLAB_THREADS (default: all cores).
# Usage: benchmarks/toy/sde_table.sh [OUT_DIR]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$here"
out="${1:-out/sde-table}"
mkdir -p "$out"
source "$here/benchmarks/lib/private_difflab.sh"
train() { # name args...
  local name=$1; shift
  if [[ -f "$out/$name/checkpoint.bin" ]]; then return; fi
  difflab toy train --dataset swiss-roll "$@" --width 128 --steps 10000 --seed 0 --out "$out/$name" | tail -1 >&2
}
row() { # run sampler steps
  local run=$1 sampler=$2 steps=$3
  local csv="$out/$run-$sampler.csv"
  local line; line=$(difflab toy sample --run "$out/$run" --sampler "$sampler" --steps "$steps" --n 10000 --seed 1 --out "$csv" | grep "network evaluations" | tail -1)
  local nfe; nfe=$(echo "$line" | sed -E 's/.* ([0-9]+) network evaluations.*/\1/')
  local a b
  a=$(difflab toy eval --samples "$csv" --protocol sum2048 --json)
  b=$(difflab toy eval --samples "$csv" --protocol group100 --json)
  python3 - "$a" "$b" "$run" "$sampler" "$nfe" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"| {sys.argv[3]} | {sys.argv[4]} | {sys.argv[5]} | {a['chamfer']:.3f} | {a['emd']:.4f} | {b['chamfer']:.4f} | {b['emd']:.4f} |", flush=True)
PY
}
echo "| SDE, loss | sampler | NFE | CD sum2048 | EMD (2048) | CD group100 | EMD (group mean) |"
echo "|---|---|---|---|---|---|---|"
for spec in "vp-dsm vp dsm" "subvp-dsm subvp dsm" "ve-dsm ve dsm" "ou-dsm ou dsm" "vp-ism vp ism" "vp-ssm vp ssm"; do
  set -- $spec
  train "$1" --sde "$2" --loss "$3"
  row "$1" em 1000
  row "$1" ode-rk45 1000
done
