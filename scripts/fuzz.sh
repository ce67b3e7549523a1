#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for SECONDS (default
# 60) from the committed corpus. With SECONDS=0 it only replays the corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"

cmake --preset fuzz
cmake --build --preset fuzz --target safetensors_fuzz model_config_fuzz
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/safetensors" "$work/config"
cp tests/fixtures/safetensors_corpus/*.safetensors "$work/safetensors/"
cp tests/fixtures/models/*/model.safetensors "$work/safetensors/" 2>/dev/null || true
find tests/fixtures -name config.json | while read -r f; do cp "$f" "$work/config/$(echo "$f" | tr / _)"; done
cp tests/fixtures/config_corpus/*.json "$work/config/"

for target in safetensors config; do
  bin=build/fuzz/tests/fuzz/${target/config/model_config}_fuzz
  if [ "$seconds" = 0 ]; then
    "$bin" -runs=0 "$work/$target"
  else
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -artifact_prefix="$work/" "$work/$target"
  fi
done
