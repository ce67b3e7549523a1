#!/usr/bin/env bash
# On the GPU machine: the CUDA op tests (every op against the CPU op), then
# the same tests under compute-sanitizer memcheck. Expects device/bin/
# cuda_ops_test (scripts/build_cuda_tests.sh). Logs go to $OUT.
set -uo pipefail
out="${OUT:-/tmp}"
nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv | tee "$out/gpu.txt"
device/bin/cuda_ops_test --gtest_brief=0 2>&1 | tee "$out/cuda_ops_test.log" | tail -n 40
echo "cuda_ops_test exit ${PIPESTATUS[0]}"
sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
if [ -x "$sanitizer" ]; then
  "$sanitizer" --tool memcheck --leak-check full --error-exitcode 3 device/bin/cuda_ops_test --gtest_brief=1 \
    > "$out/memcheck.log" 2>&1
  echo "memcheck exit $?"
  tail -n 15 "$out/memcheck.log"
else
  echo "compute-sanitizer not found"
fi
echo "== cuBLASLt bf16 GEMM rate"
device/bin/cuda_gemm_bench 2>&1 | tee "$out/gemm.txt"
