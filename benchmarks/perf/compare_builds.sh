#!/usr/bin/env bash
# Checks that a change moves no number: builds REV (default: HEAD~1) in a temporary worktree and this checkout, runs the
# same deterministic commands with both (every discrete sampler, an anagram with its judge, SDEdit of a drawing,
# RePaint and MCG inpainting, a 2-D
# training with two samplers, the forward-process study, a 2-step MNIST training) and compares every PNG and CSV byte
# for byte. Usage: benchmarks/perf/compare_builds.sh [REV]    (needs data/mnist: ./difflab data fetch mnist)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rev="${1:-HEAD~1}"
work="$(mktemp -d)"
trap 'git -C "$here" worktree remove --force "$work/old" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git -C "$here" worktree add -q "$work/old" "$rev"
dotnet build "$work/old/src/DiffusionLab.Cli" -c Release -v q --nologo >/dev/null
dotnet build "$here/src/DiffusionLab.Cli" -c Release -v q --nologo >/dev/null
export DIFFLAB_DATA="$here/data"
run() { # run DLL OUT
  local D="dotnet $1" O="$2"; mkdir -p "$O"; cd "$here"
  for s in ddpm ddim dpm++2m dpm++2s dpm++2m-sde unipc heun-karras; do
    $D sample --class 3,8 --n 4 --sampler "$s" --steps 10 --seed 7 --out "$O/$s" >/dev/null
  done
  $D anagram --class 6 --view-class 9 --n 2 --steps 10 --seed 3 --out "$O/anagram" | grep judge > "$O/judge.txt"
  $D sdedit --image docs/examples/hand-drawn-3.png --class 3 --seed 2 --out "$O/sdedit" >/dev/null
  $D inpaint --from docs/examples/mnist-heldout --n 2 --mask centre --steps 10 --resample 2 --jump 2 --compare --seed 6 --out "$O/inpaint" >/dev/null
  $D toy train --steps 300 --seed 1 --out "$O/toy" >/dev/null
  for s in ddpm ddim; do $D toy sample --run "$O/toy" --sampler "$s" --n 256 --steps 20 --seed 4 --out "$O/toy-$s.csv" >/dev/null; done
  $D forward --out "$O/forward" >/dev/null
  $D train --dataset mnist --model cs180-class --limit 256 --epochs 1 --grid-every 0 --seed 5 --out "$O/train" >/dev/null
}
run "$work/old/src/DiffusionLab.Cli/bin/Release/net10.0/difflab.dll" "$work/a"
run "$here/src/DiffusionLab.Cli/bin/Release/net10.0/difflab.dll" "$work/b"
sums() { (cd "$1" && find . -type f \( -name '*.png' -o -name '*.csv' -o -name 'judge.txt' \) | sort | xargs md5sum); }
if diff <(sums "$work/a") <(sums "$work/b"); then
  echo "identical: $(sums "$work/b" | wc -l) files from $rev and from this checkout"
else
  echo "outputs differ between $rev and this checkout (above)"; exit 1
fi
