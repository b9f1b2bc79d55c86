#!/usr/bin/env bash
# The README's editing pictures (docs/images/edit-*.png), each on the shipped MNIST model in well under a minute.
# Needs `./difflab data fetch mnist` once (for --from mnist:heldout). DIFFLAB may point at a prebuilt binary.
set -euo pipefail
cd "$(dirname "$0")/../.."
DL=${DIFFLAB:-./difflab}
O=${OUT:-out/readme-edit}
t() { local TIMEFORMAT='  (%R s wall, %U s user + %S s system CPU)'; time "$@"; }
t $DL inpaint --from docs/examples/mnist-heldout --mask centre --class data --guidance-scale 2 --compare --seed 0 --out "$O/inpaint"
t $DL sdedit --from docs/examples/mnist-heldout --n 4 --seed 0 --out "$O/sdedit"
t $DL sdedit --image docs/examples/hand-drawn-3.png --class 3 --seed 0 --out "$O/sdedit-drawing"
t $DL sdedit --image docs/examples/hand-drawn-3.png --seed 0 --out "$O/sdedit-drawing-uncond"
t $DL anagram --class 6 --view-class 9 --view rot180 --n 8 --steps 50 --seed 0 --out "$O/anagram"
t $DL hybrid --far 0 --near 1 --sigma 2 --n 8 --steps 50 --seed 0 --out "$O/hybrid"
t $DL sample --overwrite --class all --n 40 --sampler ddim --steps 50 --guidance-scale 1 --classifier models/mnist-noisy-classifier --classifier-scale 3 --grid-only --seed 0 --out "$O/cg"
mkdir -p docs/images
cp "$O/inpaint/grid.png" docs/images/edit-inpaint.png
cp "$O/sdedit/strip.png" docs/images/edit-sdedit.png
cp "$O/sdedit-drawing/strip.png" docs/images/edit-sdedit-drawing.png
cp "$O/anagram/grid.png" docs/images/edit-anagram.png
cp "$O/hybrid/grid.png" docs/images/edit-hybrid.png
cp "$O/cg/grid.png" docs/images/edit-classifier-guidance.png
