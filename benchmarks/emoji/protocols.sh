#!/usr/bin/env bash
# The course assignments' RGB protocols on the trained emoji model (docs/RESULTS.md, "RGB"), each step skipped when its
# output exists, so a rerun resumes:
#   1. the guidance sweep — FID, KID, precision, recall on ResNet-18 ImageNet features against emoji:train, and class
#      accuracy read by the emoji classifier — at γ = 1 (w = 0: the conditional model, the KAIST assignment's "CFG 0.0"),
#      2, 3, 5 and 8.5 (w = 7.5, its default), plus the unconditional pass, 500 samples each (DPM-Solver++(2M), 20 steps);
#   2. the same at w = 0 and w = 7.5 on the emoji classifier's own features (domain FID);
#   3. the assignment's figures: two samples per class at w = 0 and at w = 7.5;
#   4. inpainting of 500 held-out emoji (centre hole), RePaint replacement against MCG on the same masks and noise, each
#      scored by FID on both feature sets against emoji:train.
# Runs from a private copy of the program (a rebuild of the clone cannot break it). PRECISION=bf16 samples and inpaints
# in bf16 mixed precision (about twice as fast on a CPU with bf16 arithmetic; the samples differ slightly from fp32's).
# Usage: [PRECISION=fp32|bf16] benchmarks/emoji/protocols.sh [MODEL] [OUT]   (needs ./difflab data fetch emoji and models/emoji-classifier)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
model="${1:-$here/models/emoji32-class}"
out="${2:-$here/runs/emoji-protocols}"
classifier="$here/models/emoji-classifier"
source "$here/benchmarks/lib/private_difflab.sh"
cd "$here"
mkdir -p "$out"
precision="${PRECISION:-fp32}"
common=(--model "$model" --real emoji:train --classifier "$classifier" --n 500 --sampler dpm++2m --steps 20 --seed 0 --resume --precision "$precision")
difflab study guidance "${common[@]}" --features resnet18 --gammas 1,2,3,5,8.5 --out "$out/guidance-resnet18"
difflab study guidance "${common[@]}" --features domain --gammas 1,8.5 --out "$out/guidance-domain"
for w in 0 7.5; do
  [ -f "$out/samples-w$w/grid.png" ] || difflab sample --model "$model" --class all --n 18 --guidance-w "$w" --seed 0 --precision "$precision" --out "$out/samples-w$w"
done
if [ ! -f "$out/inpaint/fid.json" ]; then
  difflab inpaint --model "$model" --from emoji:heldout --n 500 --mask centre --compare --mcg 1 --seed 0 --precision "$precision" --overwrite --out "$out/inpaint"
  for features in resnet18 domain; do
    for images in images images-mcg; do
      difflab eval fid --real emoji:train --fake "$out/inpaint/$images" --features "$features" --json | tail -n 1 > "$out/inpaint/fid-$images-$features.json"
    done
  done
  cat "$out"/inpaint/fid-*.json > "$out/inpaint/fid.json"
fi
echo "done: $out"
