#!/usr/bin/env bash
# Builds the CUDA op tests and arle for the GPU machine (sm_90 only, to keep
# compiles short here; the cuda preset builds sm_80/89/90) and stages them in
# device/bin (git-ignored, gzipped), ready to carry; scripts/device/check_cuda.sh
# unpacks and runs them.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build/cuda-dev -G Ninja -DCMAKE_BUILD_TYPE=Release -DARLE_CUDA=ON -DARLE_BUILD_TESTS=ON \
  -DCMAKE_CUDA_ARCHITECTURES=90 "$@"
cmake --build build/cuda-dev --target arle cuda_ops_test cuda_model_test cuda_gemm_bench
# Stripped and gzipped: the working tree that travels is capped at 64 MiB.
rm -rf device/bin && mkdir -p device/bin
cp build/cuda-dev/bin/arle build/cuda-dev/tests/cuda_ops_test build/cuda-dev/tests/cuda_model_test \
  build/cuda-dev/bench/cuda_gemm_bench device/bin/
strip device/bin/*
gzip -9 device/bin/*
ls -lh device/bin
