#!/usr/bin/env bash
# Sanitizer builds of the test suite, as two more ctest configurations:
#   build-asan  RAYALLOC_SANITIZE=address: ASan + UBSan on the library and the tests. ASan keeps
#               its own malloc, so the tests that need rayalloc as the process's malloc (label
#               "override", set by rayalloc_add_test for the malloc-replacing libraries) are
#               skipped; the others reach rayalloc through the prefixed library, whose freed
#               blocks are ASan-poisoned (src/debug/asan_poison.hpp), so a use after free of a
#               rayalloc block is reported.
#   build-tsan  RAYALLOC_SANITIZE=thread: the multithreaded tests (label "threads"), except
#               the fork test (TSan cannot start threads in the child of a threaded fork). Known
#               benign engine races are listed, with the reason, in tests/robust/tsan.supp.
# Tests that exec helpers under RLIMIT_AS (label "nosan") run only in the normal build.
# Stress sizes are scaled down here (sanitizers run 5-20x slower); the normal ctest run keeps
# the full sizes.
#   SANITIZERS="address thread"  which configurations to run
set -euo pipefail
cd "${RAYALLOC_ROOT:-$(dirname "$0")/../..}"
JOBS=${JOBS:-$(nproc)}
SANITIZERS=${SANITIZERS:-address thread}

export RAYALLOC_STRESS_OPS=${RAYALLOC_STRESS_OPS:-1e6}
export RAYALLOC_FORK_COUNT=${RAYALLOC_FORK_COUNT:-200}
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=0
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:history_size=4:suppressions=$PWD/tests/robust/tsan.supp

status=0
for san in $SANITIZERS; do
  case $san in
    address) dir=build-asan select=(-LE 'override|nosan') ;;
    thread) dir=build-tsan select=(-L threads -LE 'override|nosan|fork') ;;
    *) echo "sanitizers: unknown $san"; exit 1 ;;
  esac
  echo "-- $san: configure and build $dir"
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRAYALLOC_SANITIZE="$san" \
    -DRAYALLOC_BUILD_BENCH=OFF >/dev/null
  cmake --build "$dir" -j"$JOBS" >/dev/null
  echo "-- $san: ctest ${select[*]}"
  log=$dir/ctest.log
  if (cd "$dir" && ctest "${select[@]}" -j"$JOBS" --timeout 600 --output-on-failure) >"$log" 2>&1; then
    grep -E 'tests passed|Total Test time' "$log"
  else
    grep -E '(Failed|Timeout|Exception)' "$log" | head -40
    echo "sanitizers: $san FAILED; first failures' output:"
    grep -B2 -A40 -m3 -E 'ERROR: (Address|Thread|Leak)Sanitizer|WARNING: ThreadSanitizer|runtime error|\[  FAILED  \]' "$log" | head -150
    status=1
  fi
done
exit $status
