#!/usr/bin/env bash
# CPU generation speed: prefill and decode tokens/s at 1 and 2 threads with
# resident memory (bench/generate_bench.cpp), then one request through the
# `arle generate` binary on the bundled model, and the peer, llama2.c's run.c,
# on the same model and workload when LLAMA2C_RUN names a built run.c:
#   gcc -O3 -march=native -ffast-math -o run run.c -lm
#   LLAMA2C_RUN=./run LLAMA2C_MODEL_DIR=<dir with stories260K.bin, tok512.bin> bash scripts/bench_generate.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset release >/dev/null
cmake --build --preset release --target generate_bench arle >/dev/null
repeats="${REPEATS:-7}"

./build/release/bench/generate_bench --model-path assets/models/stories260K \
  --model-path tests/fixtures/models/qwen3-small-vocab --threads 1,2 --prompt-tokens 256 --decode-tokens 200 \
  --repeats "$repeats" 2>/dev/null

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo
echo "one request through arle generate (bundled stories260K, --prompt-ids 1 --max-tokens 200 --temperature 0):"
for threads in 1 2; do
  rates=$(for _ in $(seq "$repeats"); do
    ./build/release/bin/arle generate --prompt-ids 1 --max-tokens 200 --temperature 0 --threads "$threads" 2>&1 >/dev/null |
      grep -o 'decode [0-9]* tok/s' | awk '{print $2}'
  done | median)
  echo "  arle generate, $threads thread(s): decode $rates tok/s (median of $repeats)"
done
if [[ -n "${LLAMA2C_RUN:-}" ]]; then
  dir="${LLAMA2C_MODEL_DIR:-../shared/data/models/stories260K-llama2c}"
  rates=$(for _ in $(seq "$repeats"); do
    "$LLAMA2C_RUN" "$dir/stories260K.bin" -z "$dir/tok512.bin" -t 0.0 -n 200 2>&1 >/dev/null |
      grep -o 'achieved tok/s: [0-9.]*' | awk '{printf "%d\n", $3}'
  done | median)
  echo "  llama2.c run.c, 1 thread:        decode $rates tok/s (median of $repeats; its timer has 1 ms resolution)"
fi
