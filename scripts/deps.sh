#!/usr/bin/env bash
# Installs the Debian packages berth's build and tests need, when missing.
set -euo pipefail
pkgs=(libseccomp-dev pkg-config busybox-static runc tini procps iproute2 jq python3-docker python3-yaml)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
