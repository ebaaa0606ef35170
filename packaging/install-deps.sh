#!/usr/bin/env bash
# Installs every build and test dependency of kproxy from Debian packages. Idempotent.
# Runs as root (or through sudo when available). Nothing is downloaded from anywhere else.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
  libcli11-dev libcurl4-openssl-dev libwebsockets-dev libssl-dev openssl
  nlohmann-json3-dev doctest-dev libyaml-cpp-dev zlib1g-dev
  nginx-light tinyproxy-bin bash bash-completion zsh fish tmux procps time man-db rpm file dpkg-dev
  curl
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root (missing: ${missing[*]})" >&2; exit 1; }
  SUDO=sudo
fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
