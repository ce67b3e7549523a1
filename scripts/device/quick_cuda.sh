#!/usr/bin/env bash
# On the GPU machine, the short loop: the op tests (sampling included) and
# memcheck over them, the model and engine tests on CUDA, then batch-1 decode
# and throughput of random Qwen3-0.6B. check_cuda.sh is the full run.
set -uo pipefail
out="${OUT:-/tmp}"
for f in device/bin/*.gz; do gunzip -kf "$f"; done
chmod +x device/bin/*
export ARLE_TEST_FIXTURES="$PWD/tests/fixtures"
nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv,noheader | tee "$out/gpu.txt"
summary=()
device/bin/cuda_ops_test > "$out/cuda_ops_test.log" 2>&1
summary+=("cuda_ops_test exit $? ($(grep -c '^\[       OK' "$out/cuda_ops_test.log") ok, $(grep -c '^\[  FAILED' "$out/cuda_ops_test.log") failed)")
grep -E "Failure|FAILED|error" -A6 "$out/cuda_ops_test.log" | head -60
sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
"$sanitizer" --tool memcheck --error-exitcode 3 device/bin/cuda_ops_test --gtest_brief=1 \
  --gtest_filter="${MEMCHECK_FILTER:-*}" > "$out/memcheck.log" 2>&1
summary+=("memcheck exit $? ($(grep 'ERROR SUMMARY' "$out/memcheck.log"))")
device/bin/cuda_model_test > "$out/cuda_model_test.log" 2>&1
summary+=("cuda_model_test exit $?")
grep -E "engine on CUDA|graphs:|FAILED|Failure" -A4 "$out/cuda_model_test.log" | head -30
python3 scripts/device/random_model.py tests/fixtures/configs/Qwen3-0.6B tests/fixtures/models/qwen3-tiny \
  /tmp/qwen3-0.6b 2>&1 | grep -v -i warn
for graphs in "" --no-cuda-graph; do
  echo "== batch-1 decode ${graphs:-with CUDA graphs}"
  device/bin/arle --log-level warn bench latency --backend cuda $graphs --model-path /tmp/qwen3-0.6b --input-len 512 \
    --output-len 256 2>&1 | tee "$out/latency_0.6b$graphs.txt" | tail -3
done
device/bin/arle --log-level warn bench throughput --backend cuda --model-path /tmp/qwen3-0.6b \
  --num-prompts "${PROMPTS:-256}" --input-len 100,1024 --output-len 100,1024 --kv-cache-memory 40GiB 2>&1 | \
  tee "$out/throughput_0.6b.txt" | tail -8
echo "== summary"
printf '%s\n' "${summary[@]}"
