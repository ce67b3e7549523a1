#!/usr/bin/env bash
# Tokenizer load time and encode throughput on MMLU + GSM8K text.
#   bash scripts/bench_tokenizer.sh [EVAL_DATA_DIR]   (default: the team's shared eval data)
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:-../shared/data/eval}"
cmake --preset release >/dev/null
cmake --build --preset release --target tokenizer_bench
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
for t in tests/fixtures/models/qwen3-tiny tests/fixtures/tokenizers/gpt2 tests/fixtures/tokenizers/llama2; do
  ./build/release/bench/tokenizer_bench --tokenizer "$t" --data "$data"
  echo
done
