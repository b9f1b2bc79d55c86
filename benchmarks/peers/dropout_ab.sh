#!/usr/bin/env bash
# The counter-hash dropout against nn.Dropout in the 32 px attention U-Net's training step (docs/RESULTS.md, "RGB speed"):
# `difflab bench --only phases-unet32,train-unet32` from two builds — BASE (a commit with nn.Dropout) and the working
# tree — alternating for ROUNDS rounds, same threads and precision. Prints each round's timings and writes them as
# JSON to OUT/SIDE-ROUND.json.
# Usage: benchmarks/peers/dropout_ab.sh BASE_COMMIT   (ROUNDS=2 REPEATS=3 PRECISION=bf16 OUT=out/dropout-ab)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
base="${1:?usage: dropout_ab.sh BASE_COMMIT}"
rounds="${ROUNDS:-2}"; repeats="${REPEATS:-3}"; precision="${PRECISION:-bf16}"; out="${OUT:-$root/out/dropout-ab}"
mkdir -p "$out"
tree="$(mktemp -d)"; trap 'git -C "$root" worktree remove --force "$tree" >/dev/null 2>&1 || true; rm -rf "$tree"' EXIT
git -C "$root" worktree add -q --detach "$tree" "$base"
dotnet build "$tree/src/DiffusionLab.Cli" -c Release -o "$out/bin-base" > "$out/build-base.log"
dotnet build "$root/src/DiffusionLab.Cli" -c Release -o "$out/bin-new" > "$out/build-new.log"
for r in $(seq 1 "$rounds"); do
  for side in base new; do
    echo "== round $r/$rounds: $side"
    dotnet "$out/bin-$side/difflab.dll" bench --only phases-unet32,train-unet32 --repeats "$repeats" --precision "$precision" \
      --json "$out/$side-$r.json" | grep -v '^ *$'
  done
done
