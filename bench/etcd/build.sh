#!/bin/sh
# Builds etcd-bench (bench/etcd/main.go) with Debian's Go and etcd's own Go
# client packages, installing them (and etcd 3.4 itself) from apt if missing.
# Usage: bench/etcd/build.sh OUTPUT_BINARY
set -eu
out=${1:?usage: build.sh OUTPUT_BINARY}
if ! { command -v go >/dev/null && command -v etcd >/dev/null && command -v etcdctl >/dev/null &&
       [ -d /usr/share/gocode/src/go.etcd.io/etcd/clientv3 ]; }; then
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  echo "installing: golang-go golang-etcd-server-dev etcd-server etcd-client" >&2
  $sudo_cmd apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get -o DPkg::Lock::Timeout=600 install -y -qq golang-go golang-etcd-server-dev etcd-server etcd-client >/dev/null
fi
here=$(cd "$(dirname "$0")" && pwd)
gp=$(mktemp -d); trap 'rm -rf "$gp"' EXIT
mkdir -p "$gp/src/etcd-bench"; cp "$here/main.go" "$gp/src/etcd-bench/"
GO111MODULE=off GOPATH="$gp:/usr/share/gocode" GOCACHE="$gp/cache" go build -o "$out" etcd-bench
echo "built $out" >&2
