#!/usr/bin/env bash
# On the GPU machine: time to first token of random-weight Qwen3.5 models
# with the chunked delta rule (the default) and with the recurrent one
# (ARLE_RECURRENT_DELTA_RULE=1, token by token), same binary and card, at
# prompts of 512 to 16k tokens. Expects device/bin/arle(.gz) from
# scripts/build_cuda_tests.sh.
# usage: bench/delta_rule_ab.sh [CONFIG...]   (default: Qwen3.5-0.8B Qwen3.5-4B)
set -uo pipefail
cd "$(dirname "$0")/.."
models=("$@")
[ ${#models[@]} -eq 0 ] && models=(Qwen3.5-0.8B Qwen3.5-4B)
for f in device/bin/*.gz; do [ -f "${f%.gz}" ] || gunzip -kf "$f"; done
chmod +x device/bin/* 2>/dev/null
nvidia-smi --query-gpu=name --format=csv,noheader
for m in "${models[@]}"; do
  dir="/tmp/${m,,}"
  [ -d "$dir" ] || python3 scripts/device/random_model.py "tests/fixtures/configs/$m" tests/fixtures/models/qwen3-tiny \
    "$dir" 2>&1 | grep -v -i warn | tail -1
  for form in chunked recurrent; do
    recurrent=0
    [ $form = recurrent ] && recurrent=1
    for n in 512 1024 4096 16384; do
      ARLE_RECURRENT_DELTA_RULE=$recurrent device/bin/arle --log-level error bench latency --backend cuda \
        --model-path "$dir" --input-len $n --output-len 2 --iterations 3 2>/dev/null | grep -E "TTFT" |
        sed "s/^/$m $form prompt $n: /"
    done
  done
done
