#!/usr/bin/env bash
# Builds berth, creates busybox:latest offline from Debian's busybox-static and runs a
# container from it. The daemon starts by itself on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/berth-target}"
cargo build --release -p berth
install -m 0755 "$CARGO_TARGET_DIR/release/berth" /usr/local/bin/berth
if ! berth image inspect busybox:latest >/dev/null 2>&1; then
  tar=$(mktemp --suffix=.tar)
  scripts/busybox-rootfs.sh "$tar"
  berth import "$tar" busybox:latest
  rm -f "$tar"
fi
berth run --rm busybox echo "hello from a berth container"
