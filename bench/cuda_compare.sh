#!/usr/bin/env bash
# On the GPU machine: the issue's four workloads on random-weight Qwen3-0.6B
# and Qwen3-4B (bf16), arle and transformers in the same session:
#   (a) batch-1 decode after a 512-token prompt     (bench latency)
#   (b) 256 prompts, input/output uniform 100..1024 (bench throughput)
#   (c) time to first token at 1k and 4k tokens     (bench latency)
#   (d) output tokens/s through `arle serve` at concurrency 1, 16, 64
# usage: bench/cuda_compare.sh [arle|peers|all] [MODELS...]   (default: all 0.6B 4B)
# A model is a Qwen3 size (0.6B) or a config folder's name (Qwen3.5-0.8B).
# $HF_WORKLOADS limits the transformers runs (default "latency ttft throughput").
# Expects device/bin/arle(.gz) from scripts/build_cuda_tests.sh. Logs go to $OUT.
set -uo pipefail
cd "$(dirname "$0")/.."
part="${1:-all}"
shift || true
models=("$@")
[ ${#models[@]} -eq 0 ] && models=(0.6B 4B)
out="${OUT:-/tmp}"
for f in device/bin/*.gz; do [ -f "${f%.gz}" ] || gunzip -kf "$f"; done
chmod +x device/bin/* 2>/dev/null
arle=device/bin/arle
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"
for m in "${models[@]}"; do
  config="Qwen3-$m"
  [[ $m == Qwen* ]] && config="$m"
  dir="/tmp/${config,,}"
  [ -d "$dir" ] || python3 scripts/device/random_model.py "tests/fixtures/configs/$config" tests/fixtures/models/qwen3-tiny \
    "$dir" 2>&1 | grep -v -i warn
  if [ "$part" != peers ]; then
    echo "== arle, $config"
    "$arle" --log-level warn bench latency --backend cuda --model-path "$dir" --input-len 512 --output-len 256 \
      2>/dev/null | tee "$out/arle_${m}_latency.txt" | grep -E "machine|TTFT|TPOT"
    for n in 1024 4096; do
      "$arle" --log-level warn bench latency --backend cuda --model-path "$dir" --input-len $n --output-len 2 \
        --iterations 3 2>/dev/null | tee "$out/arle_${m}_ttft_$n.txt" | grep -E "TTFT" | sed "s/^/prompt $n: /"
    done
    "$arle" --log-level warn bench throughput --backend cuda --model-path "$dir" --num-prompts 256 \
      --input-len 100,1024 --output-len 100,1024 --max-num-seqs 256 --max-batched-tokens 8192 \
      --kv-cache-memory 40GiB 2>/dev/null | tee "$out/arle_${m}_throughput.txt" | grep -E "wall|output|step time"
    python3 bench/serve_concurrency.py "$arle" "$dir" --serve-args "--backend cuda --max-num-seqs 256 \
      --max-batched-tokens 8192 --kv-cache-memory 40GiB" 2>/dev/null | tee "$out/arle_${m}_serve.txt"
  fi
  if [ "$part" != arle ]; then
    echo "== transformers, $config"
    for w in ${HF_WORKLOADS:-latency ttft throughput}; do
      python3 bench/transformers_peer.py "$dir" "$w" 2>/dev/null | tee "$out/hf_${m}_$w.json"
    done
  fi
done
