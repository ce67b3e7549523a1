#!/usr/bin/env bash
# On the GPU machine: (1) make tiny reference models for Qwen2 and the rope
# scaling variants with transformers (they come back under $OUT/fixtures and
# become CI fixtures), (2) compare the CPU backend (device/bin/arle) against
# transformers on random-weight models of real Qwen/Llama shapes.
set -uo pipefail
arle=device/bin/arle
lscpu | grep -E 'Model name|^CPU\(s\)' | tee "$OUT/cpu.txt"
nvidia-smi --query-gpu=name --format=csv,noheader | tee -a "$OUT/cpu.txt"
mkdir -p "$OUT/fixtures"
PYTHONUNBUFFERED=1 python3 scripts/device/make_reference_models.py "$OUT/fixtures" \
  tests/fixtures/models/qwen3-small-vocab 2>&1 | grep -v Warning | tee "$OUT/make_reference_models.log" | tail -8
mkdir -p /tmp/real
PYTHONUNBUFFERED=1 python3 scripts/device/compare_generate_logprobs.py "$arle" tests/fixtures/configs \
  tests/fixtures/models/qwen3-tiny /tmp/real 2>&1 | grep -v Warning | tee "$OUT/real_shapes.txt" | tail -8
