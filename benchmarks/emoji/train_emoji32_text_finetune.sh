#!/usr/bin/env bash
# The shipped prompt-conditioned emoji model, models/emoji32-text (docs/RESULTS.md, "Text-to-image"): fine-tuned from a
# trained class model (docs/IMAGES.md, "Fine-tuning"). The class model's U-Net (its convolutions, normalisations,
# self-attention and time embedding) starts the text model, whose prompt encoder, pooled-prompt projection and
# cross-attention start fresh (`difflab train --init-from`); its class embedding is not used. The recipe is
# train_emoji32_text.sh's — captions, the empty prompt 10 % of the time, bf16, clip 1, EMA 0.9999 with warm-up, flips
# except Symbols and Flags, a grid of the fixed prompts every epoch at γ = 5 — on the source's width and diffusion (its
# linear schedule), at the preset's Adam rate of 2e-4 (half the from-scratch recipe's, as the trunk is trained already)
# on a cosine decay, for EPOCHS (default 26, the shipped model's) epochs of 107 steps of 64: about 54 min on two Zen 5
# cores in bf16.
# Why: trained from scratch for 40 epochs at 32 channels, the text model learned two visual words (RESULTS); the class
# model's U-Net already draws the categories, so the text model's steps go to reading the prompts.
# TEXT_ENCODER picks what reads the prompts (train --text-encoder): 'learned' (the default: GPT-2 tokens of the
# captions, embedded by layers trained here) or 'all-MiniLM-L6-v2' (frozen pretrained sentence-encoder features with
# the same two trained layers on top) — the shipped model's, where a held-out name still means something (RESULTS).
# PROMPT_PRIOR=1 adds a prompt-category prior (train --prompt-prior, frozen encoder only): fitted to the captions before
# training, it picks the source's class embedding from the prompt, so the trunk is told the category as it was trained.
# Rerun to resume. Shipped with `./difflab export --run OUT --out models/emoji32-text --half` and the run's loss and
# log.
# Usage: [EPOCHS=26] [TEXT_ENCODER=learned|all-MiniLM-L6-v2] [PROMPT_PRIOR=1] benchmarks/emoji/train_emoji32_text_finetune.sh
#   [SOURCE] [OUT]   (SOURCE: a class model folder, default models/emoji32-class, the shipped 64-channel one; OUT
#   default runs/emoji32-text-ft64; needs ./difflab data fetch emoji)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source_model="${1:-models/emoji32-class}" # relative to the repository root (recorded as given in the run's config.json)
out="${2:-$here/runs/emoji32-text-ft64}"
config="$here/$source_model/config.json"; [ "${source_model:0:1}" = / ] && config="$source_model/config.json"
[ -f "$config" ] || { echo "no $config: give a trained class model folder" >&2; exit 1; }
ch="$(jq -r '.UNet.Ch' "$config")"
# the source's diffusion (train --init-from refuses another): schedule, number of steps, prediction target
schedule="$(jq -r '.Schedule' "$config")"
steps="$(jq -r '.DiffusionSteps' "$config")"
prediction="$(jq -r '.Prediction' "$config")"
source "$here/benchmarks/lib/private_difflab.sh"
cd "$here"
train_or_resume "$out" --dataset emoji --model unet --text --text-encoder "${TEXT_ENCODER:-learned}" ${PROMPT_PRIOR:+--prompt-prior} --ch "$ch" --schedule "$schedule" \
  --diffusion-steps "$steps" --prediction "$prediction" --precision bf16 --init-from "$source_model" --lr 2e-4 \
  --lr-schedule cosine --grad-clip 1 --epochs "${EPOCHS:-26}" --grid-every 1 --grid-guidance-scale 5 --seed 0
