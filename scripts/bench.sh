#!/usr/bin/env bash
# The benchmark suite's main command: installs what it needs (Debian packages), builds rayalloc
# and the workloads in build-bench (Release), then runs bench/runner.py, which times every
# workload under glibc, rayalloc, jemalloc, mimalloc and tcmalloc and writes results/.
# Arguments go to the runner: e.g. scripts/bench.sh --quick, --only churn,larson, --rounds 5,
# --callgrind (only the fast-path instruction counts). A default run takes 6-9 minutes here
# (2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DRAYALLOC_BUILD_TESTS=OFF
cmake --build build-bench -j2
exec python3 bench/runner.py build-bench "$@"
