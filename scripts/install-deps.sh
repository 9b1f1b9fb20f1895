#!/usr/bin/env bash
# Installs everything llmetrics needs to build, test and demo on Debian 12.
set -euo pipefail
packages=(
  build-essential cmake g++ g++-12 clang-14 libclang-rt-14-dev
  libboost-dev libfmt-dev nlohmann-json3-dev catch2 libbenchmark-dev zlib1g-dev
  prometheus prometheus-pushgateway prometheus-alertmanager python3 python3-prometheus-client
  protobuf-compiler python3-protobuf libsnappy-dev libssl-dev openssl
  wrk curl ca-certificates
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo=()
  ((EUID == 0)) || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  ${sudo[@]+"${sudo[@]}"} apt-get update -qq
  ${sudo[@]+"${sudo[@]}"} apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
