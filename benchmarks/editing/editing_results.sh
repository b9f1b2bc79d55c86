#!/usr/bin/env bash
# Reproduces issue 6's figures in docs/RESULTS.md: inpainting FID (replacement vs MCG), classifier guidance vs
# class-free guidance, anagram and hybrid judge rates. Needs `./difflab data fetch mnist` once and the shipped
# models. DIFFLAB may point at a prebuilt binary (e.g. "dotnet /tmp/dl/difflab.dll"). About 40 min on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
DL=${DIFFLAB:-./difflab}
O=${OUT:-out/editing}
mkdir -p "$O"
t() { local s=$(date +%s); "$@"; echo "  ($(( $(date +%s) - s )) s)"; }

echo "== inpainting: 500 held-out digits, centre hole (half of each side), unconditional, 50 steps, same noise"
t $DL inpaint --from mnist:heldout --n 500 --mask centre --compare --mcg 1 --seed 0 --out "$O/inpaint-500"
for d in images images-mcg; do
  echo "-- $d"; $DL eval fid --real mnist:train --fake "$O/inpaint-500/$d" --json; $DL eval accuracy --fake "$O/inpaint-500/$d" --json
done

echo "== classifier guidance vs class-free guidance: 500 samples (50 per class), DDIM-50"
for s in 1 3 10; do
  t $DL sample --sampler ddim --steps 50 --n 500 --classifier models/mnist-noisy-classifier --classifier-scale $s --seed 0 --out "$O/cg-$s" | sed -n 1p
  echo "-- classifier guidance s = $s"; $DL eval fid --real mnist:heldout --fake "$O/cg-$s/images" --json; $DL eval accuracy --fake "$O/cg-$s/images" --json
done
for g in 2 5; do
  t $DL sample --sampler ddim --steps 50 --n 500 --guidance-scale $g --seed 0 --out "$O/cfg-$g" | sed -n 1p
  echo "-- class-free guidance γ = $g"; $DL eval fid --real mnist:heldout --fake "$O/cfg-$g/images" --json; $DL eval accuracy --fake "$O/cfg-$g/images" --json
done

echo "== visual anagrams: 100 each, DDPM-50, γ = 5"
for spec in "6 9 rot180" "6 9 flip" "1 7 flip" "3 8 transpose"; do
  set -- $spec
  t $DL anagram --class $1 --view-class $2 --view $3 --n 100 --steps 50 --seed 0 --out "$O/anagram-$1-$2-$3" | grep -E "judge|anagrams"
done

echo "== hybrid images: 100 each, DDPM-50, γ = 5"
for spec in "0 1 0.875" "0 1 2" "1 0 2" "8 1 1.5"; do
  set -- $spec
  t $DL hybrid --far $1 --near $2 --sigma $3 --n 100 --steps 50 --seed 0 --out "$O/hybrid-$1-$2-$3" | grep -E "judge|hybrids"
done
