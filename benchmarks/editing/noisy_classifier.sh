#!/usr/bin/env bash
# Trains the shipped noise-aware MNIST classifier p(y | x_t, t) used by classifier guidance.
set -euo pipefail
cd "$(dirname "$0")/../.."
./difflab classifier train --noisy --dataset mnist --epochs 12 --seed 0 --out models/mnist-noisy-classifier
