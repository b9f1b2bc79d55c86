#!/usr/bin/env bash
# The text-to-image model's evaluation (docs/IMAGES.md, "Text-to-image"), each step skipped when its output exists:
#   1. 500 samples prompted with captions of held-out emoji (names the model never trained on), DPM-Solver++(2M) in 20
#      steps at γ = 1, 3 and 5: category accuracy read by the shipped emoji classifier, FID on ResNet-18 ImageNet
#      features against emoji:train (with its floor) and against the held-out images themselves, and the near-copy
#      check against the training images;
#   2. 500 samples of the class-conditional model spread evenly over the categories at γ = 3 (within 1 % of its best FID,
#      RESULTS), for comparison (category accuracy, FID);
#   3. a prompt × γ grid of everyday prompts and one composition no caption has.
# PRECISION=bf16 samples both models in bf16 mixed precision (about twice as fast where the CPU has bf16 arithmetic; the
# samples differ slightly from fp32's), the same for both sides of the comparison.
# Usage: [PRECISION=fp32|bf16] benchmarks/emoji/text_protocols.sh [TEXT_MODEL] [CLASS_MODEL] [OUT]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
model="${1:-$here/models/emoji32-text}"
classes="${2:-$here/models/emoji32-class}"
out="${3:-$here/runs/emoji-text-protocols}"
classifier="$here/models/emoji-classifier"
precision="${PRECISION:-fp32}"
source "$here/benchmarks/lib/private_difflab.sh"
cd "$here"
mkdir -p "$out"
for g in 1 3 5; do
  dir="$out/heldout-g$g"
  once "$dir" difflab sample --model "$model" --prompts-from emoji:heldout --n 500 --guidance-scale "$g" --seed 0 --precision "$precision" --out "$dir"
  json_once "$dir/accuracy.json" difflab eval accuracy --fake "$dir/images" --features "$classifier" --json
  json_once "$dir/fid.json" difflab eval fid --real emoji:train --fake "$dir/images" --features resnet18 --json
  # against the held-out designs the prompts name (702 images: too few for a real-vs-real floor at n = 500)
  json_once "$dir/fid-heldout.json" difflab eval fid --real emoji:heldout --fake "$dir/images" --features resnet18 --json
  json_once "$dir/nearcopies.json" difflab eval nearcopies --fake "$dir/images" --train emoji:train --heldout emoji:heldout --features resnet18 --out "$dir" --json
done
# the class model for comparison: 500 samples spread evenly over the 9 categories at γ = 3
once "$out/class" difflab sample --model "$classes" --class all --n 500 --guidance-scale 3 --seed 0 --precision "$precision" --out "$out/class"
json_once "$out/class/accuracy.json" difflab eval accuracy --fake "$out/class/images" --features "$classifier" --json
json_once "$out/class/fid.json" difflab eval fid --real emoji:train --fake "$out/class/images" --features resnet18 --json
[ -f "$out/grid/guidance-grid.png" ] || difflab sample --model "$model" --prompt "grinning face" --prompt "cat face" --prompt "red apple" \
  --prompt "rocket" --prompt "red heart" --prompt "blue cat face" --guidance-scales 1,3,5,7.5 --seed 0 --precision "$precision" --out "$out/grid"
echo "done: $out"
