#!/usr/bin/env bash
# Builds the CUDA op tests and arle for the GPU machine (sm_90 only, to keep
# compiles short here; the cuda preset builds sm_80/89/90) and stages them in
# device/bin (git-ignored), ready to carry.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build/cuda-dev -G Ninja -DCMAKE_BUILD_TYPE=Release -DARLE_CUDA=ON -DARLE_BUILD_TESTS=ON \
  -DCMAKE_CUDA_ARCHITECTURES=90 "$@"
cmake --build build/cuda-dev --target arle cuda_ops_test cuda_gemm_bench
mkdir -p device/bin
cp build/cuda-dev/bin/arle build/cuda-dev/tests/cuda_ops_test build/cuda-dev/bench/cuda_gemm_bench device/bin/
ls -lh device/bin
