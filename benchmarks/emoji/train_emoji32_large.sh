#!/usr/bin/env bash
# The larger, longer emoji run that FID needs (docs/RESULTS.md, "The shipped emoji model", against the goals): the shipped
# recipe (train_emoji32.sh: linear schedule, ε-prediction, bf16, Adam at 4e-4 on a cosine decay, gradient clip 1, flips
# except Symbols and Flags, EMA 0.9999 with warm-up, seed 0) at the unet preset's full 64 base channels (6.5 M parameters,
# four times the shipped model's) for 100 epochs of 107 steps of 64 (10,700 steps, 2.5 times the shipped budget).
# It takes about three hours of two cores on AMD family 26, so it spans sessions: rerun to resume from the last checkpoint
# (written at every epoch's end); the result equals an uninterrupted run's.
# Usage: benchmarks/emoji/train_emoji32_large.sh [OUT]    (needs ./difflab data fetch emoji)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CH=64 EPOCHS=100 exec "$here/benchmarks/emoji/train_emoji32.sh" "${1:-$here/runs/emoji32-large}"
