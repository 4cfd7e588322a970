#!/usr/bin/env bash
# Fuzzing: builds the libFuzzer harness (fuzz/, clang, ASan + UBSan, coverage-instrumented
# library) in build-fuzz, replays the kept corpus fuzz/corpus, then fuzzes for FUZZ_SECONDS
# (default 120) and prints how many inputs were executed. A crash fails the stage; its input
# is kept in build-fuzz/crashes/ (replay: build-fuzz/fuzz/ray_fuzz <file>).
#   FUZZ_SECONDS=3600       fuzz longer
#   FUZZ_MERGE=1            merge the inputs that found new coverage into fuzz/corpus
set -euo pipefail
cd "${RAYALLOC_ROOT:-$(dirname "$0")/../..}"
JOBS=${JOBS:-$(nproc)}
FUZZ_SECONDS=${FUZZ_SECONDS:-120}
CC_FUZZ=${CC_FUZZ:-clang}
CXX_FUZZ=${CXX_FUZZ:-clang++}

echo "-- fuzz: build build-fuzz ($CXX_FUZZ)"
CC=$CC_FUZZ CXX=$CXX_FUZZ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DRAYALLOC_BUILD_FUZZ=ON -DRAYALLOC_SANITIZE=address -DRAYALLOC_BUILD_TESTS=OFF \
  -DRAYALLOC_BUILD_BENCH=OFF -DRAYALLOC_BUILD_DEBUG_VARIANT=OFF \
  -DRAYALLOC_BUILD_STATS_VARIANT=OFF >/dev/null
cmake --build build-fuzz -j"$JOBS" --target ray_fuzz >/dev/null

FUZZER=$PWD/build-fuzz/fuzz/ray_fuzz
CRASHES=$PWD/build-fuzz/crashes
mkdir -p "$CRASHES"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/new"
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
flags=(-print_final_stats=1 -max_len=4096 -timeout=60 -rss_limit_mb=3072 -artifact_prefix="$CRASHES/")

echo "-- fuzz: replay $(ls fuzz/corpus | wc -l) kept inputs, then fuzz ${FUZZ_SECONDS}s"
set +e
"$FUZZER" "${flags[@]}" -max_total_time="$FUZZ_SECONDS" "$work/new" fuzz/corpus >"$work/log" 2>&1
rc=$?
set -e
execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$work/log" | tail -1)
rate=$(awk '/stat::average_exec_per_sec/ {print $2}' "$work/log" | tail -1)
cov=$(grep -oE 'cov: [0-9]+' "$work/log" | tail -1)
if [ $rc -ne 0 ]; then
  grep -E -A30 'ERROR|runtime error|ray_fuzz:|deadly signal' "$work/log" | head -60
  echo "fuzz: FAILED after ${execs:-?} executions; input kept in $CRASHES/"
  ls -1 "$CRASHES"
  exit 1
fi
echo "fuzz: ${execs} executions in ${FUZZ_SECONDS}s (${rate}/s), ${cov}, $(ls "$work/new" | wc -l) new inputs, no failure"
if [ "${FUZZ_MERGE:-0}" = 1 ]; then
  "$FUZZER" -merge=1 fuzz/corpus "$work/new" >"$work/merge.log" 2>&1
  echo "fuzz: corpus now $(ls fuzz/corpus | wc -l) inputs"
fi
