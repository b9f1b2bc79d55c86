#!/usr/bin/env bash
# Same seed, same numbers, in every process: trains the CS180 class U-Net (the shipped model's recipe, 20 steps on 640
# MNIST images) with --seed 1 in N fresh processes in a row (default 10) and compares their loss.csv files byte for byte.
# Each process decides oneDNN, the allocator fill, the layout and bf16 at start-up; a decision that depended on chance
# (what freed memory held, a timing) would show here as different losses. Prints the CPU and the native settings.
# Usage: benchmarks/perf/same_seed.sh        (N=10 PRECISION=fp32|bf16 OUT=out/same-seed)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
n="${N:-10}"; precision="${PRECISION:-fp32}"; out="${OUT:-$root/out/same-seed}"
cd "$root"
[ -f data/mnist/train.dlds ] || ./difflab data fetch mnist
rm -rf "$out"; mkdir -p "$out"
for i in $(seq 1 "$n"); do
  ./difflab train --dataset mnist --model cs180-class --epochs 2 --limit 640 --batch-size 64 --grid-every 0 \
    --precision "$precision" --seed 1 --out "$out/run-$i" > "$out/run-$i.log" 2>&1
  [ "$i" = 1 ] && grep -m1 "parameters" "$out/run-1.log"
  echo "process $i: loss.csv $(sha256sum < "$out/run-$i/loss.csv" | cut -c1-16)  final $(tail -n 1 "$out/run-$i/loss.csv")"
done
distinct="$(for i in $(seq 1 "$n"); do sha256sum < "$out/run-$i/loss.csv"; done | sort -u | wc -l)"
echo "CPU: $(./difflab doctor | head -n 1 | sed 's/^CPU: //')"
if [ "$distinct" = 1 ]; then echo "the same losses in all $n processes"; else echo "DIFFERENT losses: $distinct distinct loss.csv files in $n processes" >&2; exit 1; fi
