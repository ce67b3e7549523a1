#!/usr/bin/env bash
# The README's first command: install dependencies, build the release preset,
# then run ARLE's main job on the bundled default model (stories260K).
# Today that is the self-check and a greedy TinyStories continuation;
# `arle serve` replaces it once the server lands.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install_deps.sh
cmake --preset release -DARLE_BUILD_TESTS=OFF
cmake --build --preset release

./build/release/bin/arle --doctor --strict
./build/release/bin/arle generate --prompt "Once upon a time" --max-tokens 120 --temperature 0 --stream
