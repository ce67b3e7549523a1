#!/usr/bin/env bash
# Installs the Debian 12 packages ARLE needs to build and test. Idempotent; run as root.
set -euo pipefail

packages=(
  build-essential g++ cmake ninja-build ccache mold pkg-config git python3
  libboost1.81-dev nlohmann-json3-dev libcli11-dev libfmt-dev libspdlog-dev
  libpcre2-dev libutf8proc-dev libedit-dev libzstd-dev liblz4-dev libxxhash-dev
  libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev
  bubblewrap  # the agent's tool sandbox (tests/agent/sandbox_test.cpp)
  tmux        # drives the REPL in tests/agent/repl_tmux_test.sh
  clang
  prometheus  # promtool checks /metrics in the API tests
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "arle: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "arle: all build dependencies present"
fi

# The API tests run the official openai SDK under Node (18 or newer).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "arle: installing nodejs and npm"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends nodejs npm
fi
