#!/usr/bin/env bash
# cmake --install, then build and run a consumer project with find_package(rayalloc CONFIG)
# (override, prefixed and static targets) and check the pkg-config files.
set -euo pipefail
cd "$RAYALLOC_ROOT"
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install build --prefix "$prefix" >/dev/null
cmake -S tests/install/consumer -B "$prefix/consumer-build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix/consumer-build" -j"${JOBS:-2}" >/dev/null
for exe in uses_override uses_prefixed uses_static; do
  LD_LIBRARY_PATH="$prefix/lib" "$prefix/consumer-build/$exe" >/dev/null || { echo "install: $exe failed"; exit 1; }
done
PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --libs rayalloc | grep -q -- -lrayalloc
PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --libs rayalloc-prefixed | grep -q -- -lrayalloc-prefixed
test -f "$prefix/lib/librayalloc-debug.so" && test -f "$prefix/lib/librayalloc-stats.a"
echo "install: 3 consumers passed, 0 failed"
