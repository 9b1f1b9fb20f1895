#!/usr/bin/env bash
# Builds (Release) and runs the llmetrics demo, apps/llmetrics-demo/main.cpp.
# Arguments are passed on to the demo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ ! -f apps/llmetrics-demo/main.cpp ]]; then
    echo "demo.sh: apps/llmetrics-demo/main.cpp does not exist (yet); nothing to run" >&2
    exit 1
fi

bash scripts/install-deps.sh

cmake -S . -B build/release -DCMAKE_CXX_COMPILER=g++-12 -DCMAKE_BUILD_TYPE=Release \
    -DLLMETRICS_BUILD_EXAMPLES=ON -DLLMETRICS_BUILD_TESTS=OFF -DLLMETRICS_BUILD_BENCHMARKS=OFF
cmake --build build/release -j "${LLMETRICS_JOBS:-2}" --target llmetrics-demo
exec build/release/bin/llmetrics-demo "$@"
