#!/usr/bin/env bash
# Installs corral's build and test dependencies from Debian's packages, only
# when one is missing, so that a warm machine pays nothing.
#   scripts/install-deps.sh              what `make test` and `make demo` need
#   scripts/install-deps.sh --sanitize   that and clang's sanitizers and libFuzzer
#                                        (make sanitize, tsan, fuzz, ci-sanitize)
set -euo pipefail
packages=(
  cmake g++ make pkg-config
  catch2 libcli11-dev
  libzmq3-dev cppzmq-dev
  capnproto libcapnp-dev
  librocksdb-dev
  libabsl-dev               # abseil's B-tree: the key index (coordinator/kv/key_tree.h)
  libgoogle-perftools-dev   # tcmalloc, corrald's allocator
  nlohmann-json3-dev
  libspdlog-dev
  iproute2
  libboost-dev libssl-dev   # the HTTP API: Beast/Asio and TLS
  curl                      # tests of the HTTP API
  prometheus                # promtool: tests check the /metrics text with it
)
if [ "${1:-}" = "--sanitize" ]; then
  # clang for ASan+UBSan+libFuzzer (gcc's TSan comes with g++); llvm:
  # llvm-symbolizer, so that sanitizer stacks name functions and lines.
  packages+=(clang libclang-rt-14-dev llvm)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing from Debian: ${missing[*]}"
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then
    # Never ask for a password: a user without password-less sudo installs
    # the packages once by hand; after that this script installs nothing.
    if ! sudo -n true 2>/dev/null; then
      echo "corral needs these packages, and this user cannot install them without a password:" >&2
      echo "  sudo apt-get install ${missing[*]}" >&2
      echo "run that once, then the make command again (it installs nothing when they are there)" >&2
      exit 1
    fi
    sudo_cmd="sudo -n"
  fi
  $sudo_cmd apt-get -o DPkg::Lock::Timeout=600 update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get -o DPkg::Lock::Timeout=600 install -y -q "${missing[@]}"
fi
