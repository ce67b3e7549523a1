#!/usr/bin/env bash
# Builds the CUDA preset (sm_80, sm_89, sm_90) and stages the binary with the
# files it needs in device/ (git-ignored), ready to send to the GPU machine.
set -euo pipefail
cd "$(dirname "$0")/.."

cmake --preset cuda -DARLE_BUILD_TESTS=OFF "$@"
cmake --build --preset cuda
mkdir -p device/bin
cp build/cuda/bin/arle device/bin/arle
echo "staged device/bin/arle ($(du -h device/bin/arle | cut -f1))"
