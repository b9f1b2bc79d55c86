#!/usr/bin/env bash
# The provisional 32 px emoji training (see docs/RESULTS.md, "RGB"): 64 base channels, cosine schedule, bf16, 100
# epochs, a grid every 5. It runs from a private copy of the built program, so rebuilding the clone (any ./difflab
# call after a source change) cannot pull the assemblies from under a run that lasts hours. Rerun to resume.
# Usage: benchmarks/emoji/train_provisional.sh [OUT]    (needs ./difflab data fetch emoji)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-$here/runs/emoji32-provisional}"
dotnet build "$here/src/DiffusionLab.Cli" -c Release -v q --nologo >/dev/null
bin="$(mktemp -d)"; trap 'rm -rf "$bin"' EXIT
cp -r "$here/src/DiffusionLab.Cli/bin/Release/net10.0/." "$bin/"
resume=(); [ -f "$out/checkpoint.bin" ] && resume=(--resume)
export DIFFLAB_DATA="${DIFFLAB_DATA:-$here/data}"
cd "$here"
nice -n 10 dotnet "$bin/difflab.dll" train --dataset emoji --model unet --ch 64 --schedule cosine --precision bf16 \
  --epochs 100 --grid-every 5 --seed 0 --out "$out" "${resume[@]}"
