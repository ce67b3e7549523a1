# Sourced by the GPU-machine scripts: unpacks the carried binaries, names
# the log folder, prints the card, and makes (once per machine) the
# random-weight Qwen3-0.6B with the real Qwen3 tokenizer and chat template.
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out="${OUT:-/tmp}"
for f in device/bin/*.gz; do [ -f "${f%.gz}" ] || gunzip -kf "$f"; done
chmod +x device/bin/* 2>/dev/null
arle=device/bin/arle
model=/tmp/qwen3-0.6b
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$out/gpu.txt"
[ -d $model ] || python3 scripts/device/random_model.py tests/fixtures/configs/Qwen3-0.6B tests/fixtures/models/qwen3-tiny \
  $model 2>&1 | grep -v -i warn | tail -1
