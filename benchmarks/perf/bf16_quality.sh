#!/usr/bin/env bash
# Does bf16 mixed precision cost quality? (1) Sampling: the shipped model, 1,000 images with 10-step SDE-DPM-Solver++(2M)
# at γ = 5, in fp32 and in bf16, same seed. (2) Training: one epoch of the CS180 class U-Net on MNIST (the cs180-class
# recipe) in fp32 and in bf16 from the same seed, each sampled the same way. Each set is scored with domain FID against
# the held-out digits and with the shipped classifier's class accuracy. Prints a Markdown table (OUT/quality.md).
# Usage: benchmarks/perf/bf16_quality.sh      (EPOCHS=1 N=1000 SEED=0 SHIPPED=1 DIFFLAB=./difflab OUT=out/bf16)
# SEED is the training seed (run it for two seeds to see how far two fp32 trainings differ); SHIPPED=0 skips part (1).
# Needs: ./difflab data fetch mnist. About 30 minutes on a 2-core VM.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
difflab="${DIFFLAB:-$root/difflab}"
out="${OUT:-$root/out/bf16}"
epochs="${EPOCHS:-1}"; n="${N:-1000}"; seed="${SEED:-0}"
mkdir -p "$out"
score() { # name, sample options...
  local name="$1"; shift
  local start=$SECONDS
  $difflab sample --overwrite "$@" --sampler dpm++2m-sde --steps 10 --guidance-scale 5 --n "$n" --seed 0 --out "$out/$name" > "$out/$name.log"
  local took=$((SECONDS - start))
  local fid acc
  fid=$($difflab eval fid --real mnist:heldout --fake "$out/$name/images" --json | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["fid"], 1))')
  acc=$($difflab eval accuracy --fake "$out/$name/images" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(round(100 * d["accuracy"], 1))')
  echo "| $name | $fid | $acc % | ${took} s |" | tee -a "$out/quality.md"
}
if [ ! -f "$out/quality.md" ]; then
  echo "| set | FID vs mnist:heldout | class accuracy | sampling time |" > "$out/quality.md"
  echo "|---|---|---|---|" >> "$out/quality.md"
fi
if [ "${SHIPPED:-1}" = 1 ]; then
  score shipped-fp32 --precision fp32
  score shipped-bf16 --precision bf16
fi
for p in fp32 bf16; do
  start=$SECONDS
  $difflab train --dataset mnist --model cs180-class --epochs "$epochs" --grid-every 0 --seed "$seed" --precision "$p" --out "$out/train-$p-seed$seed" | tee "$out/train-$p-seed$seed.log"
  echo "trained $p (seed $seed) in $((SECONDS - start)) s" | tee -a "$out/train-times.txt"
  score "trained-$p-seed$seed" --run "$out/train-$p-seed$seed" --precision "$p"
done
cat "$out/quality.md" "$out/train-times.txt"
