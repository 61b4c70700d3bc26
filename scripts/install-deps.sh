#!/usr/bin/env bash
# Install the Debian packages strata needs to build, test and benchmark (idempotent).
# Runs apt-get update only when a package is missing. Needs root (or sudo).
set -euo pipefail
pkgs=(build-essential cmake pkg-config git libzstd-dev liblz4-dev libsnappy-dev libxxhash-dev libdeflate-dev
      libleveldb-dev librocksdb-dev gnuplot-nox clang nodejs npm
      python3 man-db groff-base dpkg-dev file)  # python binding tests, man page check, .deb
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node/npm may come from outside Debian's packages on some images: accept working commands.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]:-}"
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
