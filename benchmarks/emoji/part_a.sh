#!/usr/bin/env bash
# CS180 project 5 part A (§1.1–1.9) on photographs and held-out emoji with the shipped RGB emoji model
# (docs/EDITING.md, "Part A on photos and emoji"), each step skipped when its output exists:
#   §1.1–1.4 the forward process at t = 250, 500, 750, Gaussian blur, one-step and iterative denoising from
#            i_start = 10, on a photo (china.jpg, the tower standing in for the Campanile), a cat photo and held-out emoji;
#   §1.7     SDEdit of the photos at i_start 1, 3, 5, 7, 10, 20 (unconditional, and toward a chosen class: the
#            class-conditional stand-in for "text-conditional image-to-image");
#   §1.7.2   inpainting the top of the tower photo;
#   §1.8     visual anagrams (a face that reads as an animal upside down);
#   §1.9     hybrid images (a face from afar, an animal up close).
# The model learned 32 px emoji, so on photos it projects onto *its* manifold: what comes back is an emoji-like picture
# with the photo's layout and colours. Runs from a private copy of the program.
# Usage: benchmarks/emoji/part_a.sh [MODEL] [OUT]   (needs ./difflab data fetch emoji and ./difflab data fetch photos)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
model="${1:-$here/models/emoji32-class}"
out="${2:-$here/runs/part-a}"
photos="$here/data/photos"
source "$here/benchmarks/lib/private_difflab.sh"
cd "$here"
mkdir -p "$out"
json_once "$out/denoise-photos.json" difflab denoise --model "$model" --image "$photos/china.jpg,$photos/chelsea.png" --t 250,500,750 --i-start 10 --seed 0 --json --out "$out/denoise-photos"
json_once "$out/denoise-emoji.json" difflab denoise --model "$model" --dataset emoji --split heldout --n 4 --t 250,500,750 --i-start 10 --seed 0 --json --out "$out/denoise-emoji"
once "$out/sdedit-photos" difflab sdedit --model "$model" --image "$photos/china.jpg,$photos/chelsea.png,$photos/coffee.png,$photos/rocket.jpg" --seed 0 --out "$out/sdedit-photos"
once "$out/sdedit-toward-class" difflab sdedit --model "$model" --image "$photos/china.jpg,$photos/chelsea.png,$photos/coffee.png,$photos/rocket.jpg" --class travel,animals,food,travel --seed 0 --out "$out/sdedit-toward-class"
once "$out/sdedit-heldout" difflab sdedit --model "$model" --from emoji:heldout --n 6 --class smileys --seed 0 --out "$out/sdedit-heldout"
once "$out/inpaint-photo" difflab inpaint --model "$model" --image "$photos/china.jpg,$photos/chelsea.png" --mask top --compare --seed 0 --out "$out/inpaint-photo"
once "$out/anagram" difflab anagram --model "$model" --class smileys --view-class animals --view flip --n 8 --steps 50 --seed 0 --out "$out/anagram"
once "$out/hybrid" difflab hybrid --model "$model" --far smileys --near animals --n 8 --steps 50 --seed 0 --out "$out/hybrid"
echo "done: $out"
