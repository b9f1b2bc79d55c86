#!/usr/bin/env bash
# Memory stays flat: trains the CS180 class U-Net for 20 epochs (a sample grid and a checkpoint every epoch) and compares
# the process's peak resident memory (VmHWM, printed in every epoch line) after epoch 20 with its value after epoch 1.
# Usage: benchmarks/perf/memory_flat.sh     (LIMIT=1280 images per epoch; DIFFLAB=./difflab; OUT=out/memory)
# Needs: ./difflab data fetch mnist
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
difflab="${DIFFLAB:-$root/difflab}"
out="${OUT:-$root/out/memory}"
limit="${LIMIT:-1280}"
rm -rf "$out"; mkdir -p "$out"
$difflab train --dataset mnist --model cs180-class --epochs 20 --limit "$limit" --grid-every 1 --seed 0 --out "$out/run" | tee "$out/log.txt"
awk '/^epoch [0-9]+\/20:/ { split($2, e, "/"); for (i = 1; i <= NF; i++) if ($i == "(peak") { p = $(i + 1); peak[e[1]] = p } }
     END { printf "peak RSS after epoch 1: %d MiB; after epoch 20: %d MiB; growth %.1f %%\n", peak[1], peak[20], 100 * (peak[20] - peak[1]) / peak[1];
           exit (peak[20] <= 1.10 * peak[1]) ? 0 : 1 }' "$out/log.txt"
