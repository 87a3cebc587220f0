#!/bin/bash
# deps.sh - install what building and testing Cistern needs, from Debian 12's
# packages.  Installs only what is missing; safe to run again.
set -euo pipefail
PKGS=(build-essential cmake ninja-build pkg-config
      libsqlite3-dev liblz4-dev libzstd-dev libjansson-dev libmbedtls-dev libssl-dev
      libmicrohttpd-dev libcurl4-openssl-dev libavahi-client-dev libzim-dev g++ sqlite3 clang clang-tidy cppcheck curl wrk libxml2-utils nginx-light)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing: ${missing[*]}"
    SUDO=
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
