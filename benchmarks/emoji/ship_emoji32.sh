#!/usr/bin/env bash
# Exports a finished emoji run (train_emoji32.sh) as a shipped model folder: float16 weights and config, the loss curve
# and table, and the training log without its progress lines; a few epoch grids go to docs/images/.
# Usage: benchmarks/emoji/ship_emoji32.sh [RUN] [MODEL] [LOG]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
run="${1:-$here/runs/emoji32-class}"
model="${2:-$here/models/emoji32-class}"
log="${3:-$run.log}"
name="$(basename "$model")"
cd "$here"
./difflab export --run "$run" --out "$model" --half
cp "$run/loss.csv" "$run/loss.png" "$model/"
grep -v '^training: ' "$log" > "$model/training.log"
for e in 001 005 010 020 040; do
  [ -f "$run/samples/epoch-$e.png" ] && cp "$run/samples/epoch-$e.png" "docs/images/$name-epoch-$e.png"
done
ls -la "$model"
