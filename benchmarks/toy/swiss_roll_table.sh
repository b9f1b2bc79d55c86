#!/usr/bin/env bash
# Reproduces the swiss-roll table of docs/RESULTS.md: trains a DDPM and a VP-SDE score model (10,000 steps each),
# samples 10,000 points with every sampler, and scores them with both Chamfer protocols and EMD.
# Usage: benchmarks/toy/swiss_roll_table.sh [OUT_DIR]   (about 10 minutes on the 2-core CI machine)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out="${1:-out/swiss-roll-table}"
mkdir -p "$out"
dotnet build src/DiffusionLab.Cli -c Release -v q -nologo >/dev/null
difflab() { dotnet src/DiffusionLab.Cli/bin/Release/net10.0/difflab.dll "$@"; }

# WIDTH (default 128) sets the MLP width of both models; an existing finished run is reused, not retrained.
width="${WIDTH:-128}"
train() { # name args...
  local name=$1; shift
  if [[ -f "$out/$name/checkpoint.bin" ]]; then echo "reusing $out/$name"; return; fi
  difflab toy train --dataset swiss-roll "$@" --width "$width" --steps 10000 --seed 0 --out "$out/$name" | tail -2
}
train ddpm --ddpm
train vp --sde vp --loss dsm

echo "| model | sampler | steps | NFE | wall s (10,000 pts) | CD sum2048 | EMD (2048) | CD group100 | EMD (group mean) |"
echo "|---|---|---|---|---|---|---|---|---|"
row() { # run sampler steps extra...
  local run=$1 sampler=$2 steps=$3; shift 3
  local label=$sampler
  if [[ $sampler == ddim ]]; then label="ddim η=${2:-0}"; fi
  local csv="$out/$(basename "$run")-$sampler-$steps${2:+-eta$2}.csv"
  local line; line=$(difflab toy sample --run "$run" --sampler "$sampler" --steps "$steps" --n 10000 --seed 1 --out "$csv" "$@" | grep "network evaluations" | tail -1)
  local nfe; nfe=$(echo "$line" | sed -E 's/.* ([0-9]+) network evaluations.*/\1/')
  local secs; secs=$(echo "$line" | sed -E 's/.*evaluations, ([0-9.]+) s.*/\1/')
  local a b
  a=$(difflab toy eval --samples "$csv" --protocol sum2048 --json)
  b=$(difflab toy eval --samples "$csv" --protocol group100 --json)
  python3 - "$a" "$b" "$(basename "$run")" "$label" "$steps" "$nfe" "$secs" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"| {sys.argv[3]} | {sys.argv[4]} | {sys.argv[5]} | {sys.argv[6]} | {sys.argv[7]} | {a['chamfer']:.3f} | {a['emd']:.4f} | {b['chamfer']:.4f} | {b['emd']:.4f} |")
PY
}
row "$out/ddpm" ddpm 1000
row "$out/ddpm" ddim 50
row "$out/ddpm" ddim 50 --eta 1
row "$out/vp" em 1000
row "$out/vp" pc 500
row "$out/vp" ode-euler 1000
row "$out/vp" ode-heun 500
row "$out/vp" ode-rk45 1000
