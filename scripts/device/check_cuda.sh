#!/usr/bin/env bash
# On the GPU machine: every CUDA op against the CPU op (then again under
# compute-sanitizer memcheck), the CUDA backend on every fixture against the
# transformers references, `arle generate` on CPU and CUDA side by side, and
# the cuBLASLt GEMM rate, and random-weight models of real shapes against
# transformers (ARLE_BF16_BASELINE=1 adds transformers' own bf16 on the fixtures).
# Expects device/bin/*.gz from
# scripts/build_cuda_tests.sh. Logs go to $OUT; a summary prints last.
set -uo pipefail
out="${OUT:-/tmp}"
for f in device/bin/*.gz; do gunzip -kf "$f"; done
chmod +x device/bin/*
export ARLE_TEST_FIXTURES="$PWD/tests/fixtures"
nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv | tee "$out/gpu.txt"
summary=()

device/bin/cuda_ops_test > "$out/cuda_ops_test.log" 2>&1
summary+=("cuda_ops_test exit $? ($(grep -c '^\[       OK' "$out/cuda_ops_test.log") ok, $(grep -c '^\[  FAILED' "$out/cuda_ops_test.log") failed)")
sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
"$sanitizer" --tool memcheck --leak-check full --error-exitcode 3 device/bin/cuda_ops_test --gtest_brief=1 \
  > "$out/memcheck.log" 2>&1
summary+=("memcheck exit $? ($(grep 'ERROR SUMMARY' "$out/memcheck.log"))")

device/bin/cuda_model_test > "$out/cuda_model_test.log" 2>&1
summary+=("cuda_model_test exit $?")
grep -E "relative L2|top-1 compared|FAILED|Failure|error" "$out/cuda_model_test.log" | head -40

for m in stories260K qwen3-tiny qwen2-tiny; do
  for b in cpu cuda; do
    device/bin/arle --log-level warn generate --model-path "tests/fixtures/models/$m" --backend "$b" \
      --prompt "Once upon a time" --max-tokens 40 --temperature 0 > "$out/generate_${m}_$b.txt" 2>&1
  done
  if cmp -s "$out/generate_${m}_cpu.txt" "$out/generate_${m}_cuda.txt"; then same=same; else same=DIFFERENT; fi
  summary+=("generate $m cpu vs cuda: $same")
done
head -c 300 "$out/generate_stories260K_cuda.txt"; echo

if [ -x device/bin/cuda_gemm_bench ]; then device/bin/cuda_gemm_bench > "$out/gemm.txt" 2>&1; fi
echo "== summary"
printf '%s\n' "${summary[@]}"
if [ "${ARLE_BF16_BASELINE:-0}" = 1 ]; then
echo "== transformers bf16 on the same fixtures (the criteria's baseline)"
python3 scripts/device/bf16_baseline.py tests/fixtures stories260K qwen3-tiny qwen3-small-vocab qwen2-tiny \
  llama-yarn-tiny llama-llama3-tiny llama-linear-tiny 2>&1 | grep -v -i warn | tee "$out/bf16_baseline.txt"
fi
echo "== real shapes (random bf16 weights) on CUDA against transformers float32"
mkdir -p /tmp/real
PYTHONUNBUFFERED=1 python3 scripts/device/compare_real_shapes.py device/bin/cuda_model_test tests/fixtures/configs \
  tests/fixtures/models/qwen3-tiny /tmp/real 2>&1 | grep -v -i warn > "$out/real_shapes.txt"
real=${PIPESTATUS[0]}
tail -8 "$out/real_shapes.txt"
echo "real shapes exit $real"
