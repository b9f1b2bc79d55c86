#!/usr/bin/env bash
# Data-parallel scaling on this machine (docs/RESULTS.md, "Data-parallel training over MPI"): the emoji U-Net's training
# (the unet preset as benchmarks/emoji/train_emoji32.sh trains it, bf16) for STEPS steps of 64: one process with one
# thread, two MPI ranks with one thread each (32 images of each batch per rank), and for reference one process with two
# threads, alternating for ROUNDS rounds. Prints each run's training time and the gradient all-reduce's cost per step.
# Stop other CPU jobs first. Threads are set with DIFFLAB_THREADS (libtorch ignores OMP_NUM_THREADS once DiffusionLab
# sets its count); mpirun binds each rank to a core.
# Usage: benchmarks/mpi/scaling.sh   (ROUNDS=2 STEPS=20; needs openmpi-bin and ./difflab data fetch emoji)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$here/benchmarks/lib/private_difflab.sh"
rounds="${ROUNDS:-2}"; steps="${STEPS:-20}"
out="$(mktemp -d)"
args=(train --dataset emoji --model unet --ch 64 --schedule cosine --prediction eps --precision bf16 --limit $((64 * steps))
      --epochs 1 --grid-every 0 --seed 0)
grep -m1 'model name' /proc/cpuinfo; awk -F': ' '/^cpu family/{f=$2} /^model\t/{m=$2} END{print "family " f " model " m}' /proc/cpuinfo
for r in $(seq 1 "$rounds"); do
  for setting in "1 1" "2 1" "1 2"; do
    read -r ranks threads <<< "$setting"
    rm -rf "$out/run"
    if [ "$ranks" = 1 ]; then
      log="$(DIFFLAB_THREADS=$threads dotnet "$difflab_bin/difflab.dll" "${args[@]}" --distributed none --out "$out/run" 2>&1)"
    else
      log="$(mpirun --allow-run-as-root --oversubscribe -np 2 -x DIFFLAB_THREADS=$threads -x DIFFLAB_DATA dotnet "$difflab_bin/difflab.dll" "${args[@]}" --out "$out/run" 2>&1)"
    fi
    echo "round $r, $ranks rank(s) × $threads thread(s): $(echo "$log" | grep -E '^(epoch 1/1|trained in|gradient all-reduce)' | tr '\n' ' ')"
  done
done
rm -rf "$out"
