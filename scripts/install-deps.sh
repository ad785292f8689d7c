#!/usr/bin/env bash
# Installs corral's build and test dependencies from Debian's packages, only
# when one is missing, so that a warm machine pays nothing.
set -euo pipefail
packages=(
  cmake g++ make pkg-config
  catch2 libcli11-dev
  libzmq3-dev cppzmq-dev
  capnproto libcapnp-dev
  librocksdb-dev
  nlohmann-json3-dev
  libspdlog-dev
  clang libclang-rt-14-dev llvm   # make sanitize, make fuzz (llvm: llvm-symbolizer for stacks)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q "${missing[@]}"
fi
