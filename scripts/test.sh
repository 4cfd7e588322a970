#!/usr/bin/env bash
# The README's test command: installs what the tests need (Debian packages by name), builds
# rayalloc and its tests, runs them with ctest, then runs every stage in scripts/test.d/ in
# order (sanitizer builds, fuzzing, real programs, ...). Exits non-zero if anything fails.
#   scripts/test.sh            everything
#   scripts/test.sh --quick    only the main ctest run
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=${JOBS:-$(nproc)}
export RAYALLOC_ROOT=$ROOT JOBS

bash scripts/install-deps.sh

echo "== build (release, all variants, tests)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DRAYALLOC_BUILD_BENCH=OFF >/dev/null
cmake --build build -j"$JOBS"

echo "== ctest"
(cd build && ctest --output-on-failure -j"$JOBS" --timeout 600)

if [ "${1:-}" = "--quick" ]; then exit 0; fi
for stage in scripts/test.d/*.sh; do
  [ -e "$stage" ] || continue
  echo "== stage $(basename "$stage")"
  # A stage that hangs fails here, in bounded time, instead of running into CI's own limit.
  rc=0
  timeout --kill-after=30 "${STAGE_TIMEOUT:-1500}" bash "$stage" || rc=$?
  if [ $rc -ne 0 ]; then
    [ $rc -eq 124 ] && echo "== stage $(basename "$stage") did not end within ${STAGE_TIMEOUT:-1500}s"
    exit $rc
  fi
done
echo "== all tests passed"
