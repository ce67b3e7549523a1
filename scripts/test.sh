#!/usr/bin/env bash
# The README's second command: install dependencies, build with Address and
# UndefinedBehavior sanitizers, and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install_deps.sh
npm ci --prefix tests/api --no-audit --no-fund --loglevel=error
cmake --preset asan
cmake --build --preset asan
ctest --preset asan -j "$(nproc)"
