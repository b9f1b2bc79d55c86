#!/usr/bin/env bash
# MCG's step α on the shipped emoji model (docs/RESULTS.md, "The shipped emoji model", inpainting): the protocols'
# inpainting of 500 held-out emoji (centre hole, 50 steps, seed 0) with MCG at each α in ALPHAS, each scored by FID on
# both feature sets against emoji:train, and the number of holes that collapsed to black (mean of the centre 16×16
# below 0.05 of white; counted with Debian's python3-pil when present).
# Usage: benchmarks/emoji/mcg_step.sh [MODEL] [OUT]   (ALPHAS="0.1 0.3 1"; needs ./difflab data fetch emoji)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
model="${1:-$here/models/emoji32-class}"
out="${2:-$here/runs/emoji-mcg-step}"
source "$here/benchmarks/lib/private_difflab.sh"
cd "$here"
mkdir -p "$out"
for alpha in ${ALPHAS:-0.1 0.3 1}; do
  dir="$out/mcg-$alpha"
  once "$dir" difflab inpaint --model "$model" --from emoji:heldout --n 500 --mask centre --mcg "$alpha" --seed 0 --out "$dir"
  for features in resnet18 domain; do
    json_once "$dir/fid-$features.json" difflab eval fid --real emoji:train --fake "$dir/images" --features "$features" --json
  done
  black="?"
  if /usr/bin/python3 -c "import PIL, numpy" 2>/dev/null; then
    black="$(/usr/bin/python3 - "$dir/images" <<'PY'
import glob, sys
import numpy as np
from PIL import Image
holes = [np.asarray(Image.open(f).convert("RGB"), dtype=float)[8:24, 8:24] / 255 for f in sorted(glob.glob(sys.argv[1] + "/*.png"))]
print(sum(h.mean() < 0.05 for h in holes))
PY
)"
  fi
  echo "alpha=$alpha: $(cat "$dir/fid-resnet18.json"); $(cat "$dir/fid-domain.json"); black holes: $black of 500"
done
