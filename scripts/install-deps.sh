#!/usr/bin/env bash
# Installs, by Debian package name, everything rayalloc's build, tests and benchmarks use.
# Safe to run repeatedly; does nothing for packages already present.
set -euo pipefail
PKGS=(build-essential cmake g++ clang libclang-rt-14-dev libgtest-dev libgmock-dev libbenchmark-dev
      valgrind gdb python3 sqlite3 perl git xz-utils zstd lua5.4 redis-server redis-tools
      libjemalloc2 libmimalloc2.0 libtcmalloc-minimal4 gnuplot-nox pkg-config)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
