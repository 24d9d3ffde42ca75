#!/usr/bin/env bash
# Installs the Debian packages muster needs to build and test, only those missing.
# Does nothing (and needs no network) when everything is present.
set -euo pipefail
pkgs=(gcc make cmake ninja-build pkg-config libcmocka-dev libjansson-dev libfyaml-dev libmicrohttpd-dev libcurl4-openssl-dev libsqlite3-dev libuv1-dev libjemalloc-dev etcd-server iproute2
      python3-kubernetes) # python3-kubernetes: tests/e2e/python_client.sh
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
