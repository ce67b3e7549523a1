#!/usr/bin/env bash
# The README's first command: install dependencies, build the release preset,
# check the machine, then serve the bundled default model (stories260K) with
# the OpenAI-compatible API on http://127.0.0.1:8000 (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install_deps.sh
cmake --preset release -DARLE_BUILD_TESTS=OFF
cmake --build --preset release

./build/release/bin/arle --doctor --strict
cat <<'HELP'

Try it from another terminal:
  curl http://127.0.0.1:8000/v1/completions -H 'Content-Type: application/json' \
    -d '{"model": "stories260K", "prompt": "Once upon a time", "max_tokens": 60, "temperature": 0}'

HELP
exec ./build/release/bin/arle serve --port "${PORT:-8000}"
