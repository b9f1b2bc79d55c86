#!/usr/bin/env bash
# Reproduces the editing figures in docs/RESULTS.md: inpainting FID (replacement vs MCG), classifier guidance vs
# class-free guidance, anagram and hybrid judge rates. Needs `./difflab data fetch mnist` once and the shipped
# models. DIFFLAB may point at a prebuilt binary (e.g. "dotnet /tmp/dl/difflab.dll"). About 25 min on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
DL=${DIFFLAB:-./difflab}
O=${OUT:-out/editing}
mkdir -p "$O"
t() { local s=$(date +%s); "$@"; echo "  ($(( $(date +%s) - s )) s)"; }
PARTS=${PARTS:-"inpaint cg anagram hybrid"}
on() { [[ " $PARTS " == *" $1 "* ]]; }

on inpaint && {
echo "== inpainting: 500 held-out digits, centre hole (half of each side), unconditional, 50 steps, same noise"
t $DL inpaint --from mnist:heldout --n 500 --mask centre --compare --mcg 1 --seed 0 --out "$O/inpaint-500"
for d in images images-mcg; do
  echo "-- $d"; $DL eval fid --real mnist:train --fake "$O/inpaint-500/$d" --json; $DL eval accuracy --fake "$O/inpaint-500/$d" --json
done
}

on cg && {
echo "== classifier guidance: 300 samples (30 per class), DDIM-20 — compare with the guidance sweep in RESULTS.md (same n, steps, seed)"
for s in 1 3 10; do
  t $DL sample --overwrite --sampler ddim --steps 20 --n 300 --classifier models/mnist-noisy-classifier --classifier-scale $s --seed 0 --out "$O/cg-$s" | sed -n 1p
  echo "-- classifier guidance s = $s"; $DL eval fid --real mnist:heldout --fake "$O/cg-$s/images" --json; $DL eval pr --real mnist:heldout --fake "$O/cg-$s/images" --json; $DL eval accuracy --fake "$O/cg-$s/images" --json
done
echo "-- classifier guidance s = 3 on the conditional pass (γ = 1)"
t $DL sample --overwrite --sampler ddim --steps 20 --n 300 --guidance-scale 1 --classifier models/mnist-noisy-classifier --classifier-scale 3 --seed 0 --out "$O/cg-cond-3" | sed -n 1p
$DL eval fid --real mnist:heldout --fake "$O/cg-cond-3/images" --json; $DL eval pr --real mnist:heldout --fake "$O/cg-cond-3/images" --json; $DL eval accuracy --fake "$O/cg-cond-3/images" --json
}

on anagram && {
echo "== visual anagrams: 50 each, DDPM-50, γ = 5"
for spec in "6 9 rot180" "6 9 flip" "3 8 transpose"; do
  set -- $spec
  t $DL anagram --class $1 --view-class $2 --view $3 --n 50 --steps 50 --seed 0 --out "$O/anagram-$1-$2-$3" | grep -v '^sampling'
done
}

on hybrid && {
echo "== hybrid images: 50 each, DDPM-50, γ = 5"
for spec in "0 1 0.875" "0 1 2" "1 0 2"; do
  set -- $spec
  t $DL hybrid --far $1 --near $2 --sigma $3 --n 50 --steps 50 --seed 0 --out "$O/hybrid-$1-$2-$3" | grep -v '^sampling'
done
}
