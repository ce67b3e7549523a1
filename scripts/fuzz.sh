#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for SECONDS (default
# 60) from seeds made of the committed corpora and fixtures. With SECONDS=0 it
# only replays the seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
targets=(safetensors_fuzz model_config_fuzz tokenizer_json_fuzz tokenizer_encode_fuzz chat_template_fuzz api_request_fuzz)

cmake --preset fuzz
cmake --build --preset fuzz --target "${targets[@]}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{safetensors_fuzz,model_config_fuzz,tokenizer_json_fuzz,tokenizer_encode_fuzz,chat_template_fuzz,api_request_fuzz}
cp tests/fixtures/chat_templates/*.jinja "$work/chat_template_fuzz/"
cp tests/fuzz/api_request_seeds/* "$work/api_request_fuzz/"
cp tests/fixtures/safetensors_corpus/*.safetensors "$work/safetensors_fuzz/"
for m in tests/fixtures/models/*/; do
  name=$(basename "$m")
  cp "$m/model.safetensors" "$work/safetensors_fuzz/$name.safetensors"
  cp "$m/config.json" "$work/model_config_fuzz/$name.json"
done
for c in tests/fixtures/configs/*/config.json; do cp "$c" "$work/model_config_fuzz/$(basename "$(dirname "$c")").json"; done
cp tests/fixtures/config_corpus/*.json "$work/model_config_fuzz/"
cp tests/fixtures/models/stories260K/tokenizer.json "$work/tokenizer_json_fuzz/stories.json"
head -c 3000 tests/fixtures/tokenizers/vectors/qwen3_text_ids.jsonl > "$work/tokenizer_encode_fuzz/texts"
printf '\x00<|im_start|>user\nhi\xff\xfe<|im_end|>' > "$work/tokenizer_encode_fuzz/special"
printf '\x01\xe4\xb8\xad <s> 12 \xf0\x9f\x98' > "$work/tokenizer_encode_fuzz/bytes"

for target in "${targets[@]}"; do
  bin=build/fuzz/tests/fuzz/$target
  echo "== $target"
  if [ "$seconds" = 0 ]; then
    "$bin" -runs=0 "$work/$target"
  else
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -artifact_prefix="$work/" "$work/$target"
  fi
done
