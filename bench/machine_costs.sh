#!/bin/sh
# Prints one line: what a cheap syscall, a cross-thread wake-up and a small
# durable append cost on this machine (bench/machine_costs.c says how).
# Usage: bench/machine_costs.sh [DIR]   (DIR: where the fdatasync file goes,
#   default the current directory: use the disk the data dirs are on)
set -eu
dir=${1:-.}
[ -d "$dir" ] || { echo "machine_costs.sh: $dir is not a directory" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -pthread -o "$tmp/machine_costs" "$(dirname "$0")/machine_costs.c"
"$tmp/machine_costs" "$dir/machine_costs.$$.tmp"
