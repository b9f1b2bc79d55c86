#!/usr/bin/env bash
# Side by side on this machine, alternating for ROUNDS rounds: DiffusionLab as shipped, DiffusionLab with glibc's default
# allocator, with ATen's kernels only (oneDNN off), and with both — the native settings it chooses at start-up — and the PyTorch
# peer (benchmarks/peers/torch_bench.py) on the same workloads and thread count. Prints and writes OUT/comparison.md.
# Needs: apt-get install python3-torch libopenblas0-openmp (Debian's PyTorch 1.13, CPU, OpenBLAS' OpenMP build).
# Usage: benchmarks/peers/run.sh            (ROUNDS=2 REPEATS=5 THREADS=$(nproc) ONLY=case,case PRECISION=fp32|bf16 VARIANTS=1|0 PEER_MALLOC=tuned|default OUT=out/bench)
# VARIANTS=0 skips DiffusionLab's allocator/oneDNN variants (rows 2–4), leaving only the DiffusionLab-vs-peer rounds; they run
# the U-Net cases (train-d64, guided-step-d64, train-unet32, guided-step-unet32), or those of them ONLY names.
# The peer runs twice per round: as PyTorch users run it (NCHW) and in channels-last memory format, the layout DiffusionLab's
# convolutions use (PEER_CHANNELS_LAST=0 skips the second); the speed-up is stated against the faster of the two.
# PRECISION=bf16 runs the U-Net cases in bfloat16 mixed precision on both sides (DiffusionLab's MixedPrecision, the peer's
# torch.autocast) and measures the matmul peak in bf16.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
rounds="${ROUNDS:-2}"; repeats="${REPEATS:-5}"; threads="${THREADS:-$(nproc)}"; only="${ONLY:-}"; precision="${PRECISION:-fp32}"
out="${OUT:-$root/out/bench}"
py=/usr/bin/python3
if ! "$py" -c "import torch" 2>/dev/null; then
  echo "the PyTorch peer needs Debian's python3-torch: apt-get install python3-torch libopenblas0-openmp" >&2; exit 1
fi
# The same allocator setting for the peer that DiffusionLab applies to itself at start-up (NativeRuntime: mallopt
# M_MMAP_MAX = 0, M_TRIM_THRESHOLD = 2^31 - 1): a fair comparison gives both sides the same settings. PEER_MALLOC=default
# runs the peer with glibc's defaults instead (how the comparison was run before 2026-11-29, evening).
peer_tunables="glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=2147483647"
[ "${PEER_MALLOC:-tuned}" = default ] && peer_tunables=""
cpu="$(awk -F': ' '/^vendor_id/{v=$2} /^cpu family/{f=$2} /^model\t/{m=$2} /^model name/{n=$2} /^$/{exit} END{print v" family "f" model "m" ("n")"}' /proc/cpuinfo)"
# Debian's OpenBLAS (the peer's BLAS) picks its kernels by CPU model and falls back to "Prescott" (SSE3) on a model it does
# not know — Intel family 6 model 207 here, 66 instead of 135–175 GFLOP/s for a 1024² matmul. Then name the core that
# matches the CPU's vector instructions, so the peer's matrix products run at its CPU's speed (PEER_OPENBLAS_CORETYPE
# overrides; "none" keeps OpenBLAS' own choice).
openblas_core="$(OPENBLAS_VERBOSE=2 "$py" -c "import torch" 2>&1 | sed -n 's/^Core: //p' | head -n 1)"
coretype="${PEER_OPENBLAS_CORETYPE:-}"
if [ -z "$coretype" ] && [ "$openblas_core" = Prescott ]; then
  flags="$(grep -m1 '^flags' /proc/cpuinfo)"
  case "$flags" in
    *avx512_bf16*) coretype=Cooperlake ;;
    *avx512f*) coretype=SkylakeX ;;
    *avx2*) coretype=Haswell ;;
  esac
fi
[ "$coretype" = none ] && coretype=""
echo "CPU: $cpu; $(nproc) cores; threads $threads on both sides; peer allocator: ${peer_tunables:-glibc default}; peer OpenBLAS core: ${coretype:-$openblas_core (its own choice)}"
mkdir -p "$out"
echo "$cpu" > "$out/cpu.txt"
echo "${peer_tunables:-glibc default}; OpenBLAS core ${coretype:-$openblas_core}" > "$out/peer-allocator.txt"
rm -f "$out"/*.json
dotnet build "$root/src/DiffusionLab.Cli" -c Release -o "$out/bin" > "$out/build.log"
difflab() { dotnet "$out/bin/difflab.dll" bench --threads "$threads" --repeats "$repeats" --precision "$precision" "$@"; }
unet="train-d64,guided-step-d64,train-unet32,guided-step-unet32"
if [ -n "$only" ]; then  # the variants run the U-Net cases among those asked for
  unet="$(tr ',' '\n' <<< "$only" | grep -Fx -f <(tr ',' '\n' <<< "$unet") | paste -sd, || true)"
fi
for r in $(seq 1 "$rounds"); do
  echo "== round $r/$rounds: DiffusionLab"
  difflab ${only:+--only "$only"} --json "$out/difflab-$r.json"
  if [ "${VARIANTS:-1}" = 1 ] && [ -n "$unet" ]; then
    echo "== round $r/$rounds: DiffusionLab, glibc's default allocator"
    DIFFLAB_MALLOC=default difflab --only "$unet" --json "$out/difflab-glibc-$r.json"
    echo "== round $r/$rounds: DiffusionLab, oneDNN off"
    DIFFLAB_MKLDNN=0 difflab --only "$unet" --json "$out/difflab-aten-$r.json"
    echo "== round $r/$rounds: DiffusionLab, oneDNN off and glibc's default allocator"
    DIFFLAB_MKLDNN=0 DIFFLAB_MALLOC=default difflab --only "$unet" --json "$out/difflab-aten-glibc-$r.json"
  fi
  echo "== round $r/$rounds: PyTorch peer"
  peer() { env GLIBC_TUNABLES="$peer_tunables" ${coretype:+OPENBLAS_CORETYPE=$coretype} OMP_NUM_THREADS="$threads" "$py" "$here/torch_bench.py" --threads "$threads" --repeats "$repeats" --precision "$precision" ${only:+--only "$only"} "$@"; }
  peer --json "$out/torch-$r.json"
  if [ "${PEER_CHANNELS_LAST:-1}" = 1 ]; then
    echo "== round $r/$rounds: PyTorch peer, channels-last (the layout DiffusionLab's convolutions use)"
    peer --channels-last --json "$out/torch-cl-$r.json"
  fi
done
"$py" "$here/compare.py" "$out" | tee "$out/comparison.md"
