#!/usr/bin/env bash
# CS180 project 5 part A's prompt-driven edits with the shipped text model (docs/IMAGES.md, "Text-to-image"), each step
# skipped when its output exists: SDEdit of photos toward a prompt ("text-conditional image-to-image", §1.7.3), held-out
# emoji inpainted under a prompt (§1.7.2), a visual anagram of two prompts (§1.8: "cat face" upright, "dog face" upside
# down) and a hybrid of two prompts (§1.9: "red apple" up close, "grinning face" from afar). Runs from a private copy.
# Usage: benchmarks/emoji/text_editing.sh [MODEL] [OUT]   (needs ./difflab data fetch emoji and ./difflab data fetch photos)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
model="${1:-$here/models/emoji32-text}"
out="${2:-$here/runs/emoji-text-editing}"
photos="$here/data/photos"
source "$here/benchmarks/lib/private_difflab.sh"
cd "$here"
mkdir -p "$out"
once "$out/sdedit-cat" difflab sdedit --model "$model" --image "$photos/chelsea.png" --prompt "cat face" --seed 0 --out "$out/sdedit-cat"
once "$out/sdedit-coffee" difflab sdedit --model "$model" --image "$photos/coffee.png" --prompt "hot beverage" --seed 0 --out "$out/sdedit-coffee"
once "$out/inpaint" difflab inpaint --model "$model" --from emoji:heldout --n 8 --prompt "grinning face" --seed 0 --out "$out/inpaint"
once "$out/anagram" difflab anagram --model "$model" --prompt "cat face" --view-prompt "dog face" --view flip --n 8 --steps 50 --seed 0 --out "$out/anagram"
once "$out/hybrid" difflab hybrid --model "$model" --near-prompt "red apple" --far-prompt "grinning face" --n 8 --steps 50 --seed 0 --out "$out/hybrid"
echo "done: $out"
