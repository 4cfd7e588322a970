#!/usr/bin/env bash
# Real programs under LD_PRELOAD: each workload runs plainly (glibc malloc), then with
# LD_PRELOAD=librayalloc.so and with librayalloc-debug.so, and its output must be identical.
# Workloads (inputs in tests/robust/programs/): python3 (allocation-heavy script), sqlite3
# (300k rows built, indexed, queried), redis-server on 127.0.0.1 driven by redis-benchmark plus
# a deterministic check of stored values, lua5.4, perl, g++ compiling a template-heavy file,
# git (fast-import of thousands of commits, gc, log, fsck), xz -T2 and zstd -T2 (compress and
# decompress). The programs come from Debian (scripts/install-deps.sh).
#   RAYALLOC_BUILD_DIR   build tree holding src/librayalloc*.so (default: build)
#   REAL_PROGRAMS        space-separated subset to run (default: all)
#   REAL_PROGRAM_DEADLINE seconds one workload may take before its stacks are printed and it is
#                        killed (default: 600)
set -euo pipefail
cd "${RAYALLOC_ROOT:-$(dirname "$0")/../..}"
ROOT=$PWD
BUILD=${RAYALLOC_BUILD_DIR:-$ROOT/build}
PROGS=$ROOT/tests/robust/programs
ALL="python3 sqlite3 redis lua perl gxx git xz zstd"
SELECTED=${REAL_PROGRAMS:-$ALL}

variants=(plain "$BUILD/src/librayalloc.so")
[ -f "$BUILD/src/librayalloc-debug.so" ] && variants+=("$BUILD/src/librayalloc-debug.so")
[ -f "$BUILD/src/librayalloc.so" ] || { echo "real-programs: $BUILD/src/librayalloc.so missing"; exit 1; }

WORK=$(mktemp -d)
REDIS_PID=""
cleanup() {
  if [ -n "$REDIS_PID" ]; then kill "$REDIS_PID" 2>/dev/null || true; wait "$REDIS_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# The preload really replaces malloc: rayalloc owns what malloc returns in a preloaded process.
check_preload() {
  local lib=$1
  LD_PRELOAD=$lib /usr/bin/python3 -c '
import ctypes
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
p = libc.malloc(100)
assert ctypes.CDLL(None).ray_owns(ctypes.c_void_p(p)) == 1, "malloc is not rayalloc"
libc.free(ctypes.c_void_p(p))
' 2>/dev/null || { echo "real-programs: LD_PRELOAD=$lib does not route malloc to rayalloc"; exit 1; }
}

# run_case NAME VARIANT DIR: the workload's stdout goes to $DIR/out (compared across variants).
preload_env() { [ "$1" = plain ] && echo "" || echo "$1"; }

case_python3() { /usr/bin/python3 "$PROGS/alloc_heavy.py"; }
case_sqlite3() { sqlite3 "$1/db.sqlite" <"$PROGS/sqlite_300k.sql"; }
case_lua() { lua5.4 "$PROGS/alloc_heavy.lua"; }
case_perl() { perl "$PROGS/alloc_heavy.pl"; }
case_gxx() {
  g++ -std=c++20 -O2 -o "$1/tpl" "$PROGS/templates.cpp"
  g++ -std=c++20 -O0 -g -c -o "$1/tpl0.o" "$PROGS/templates.cpp"
  "$1/tpl"
  nm -C --defined-only "$1/tpl0.o" | awk '{print $2, $3, $4, $5}' | sort | sha256sum
}
case_git() {
  local repo=$1/repo
  git init -q "$repo"
  /usr/bin/python3 "$PROGS/git_history.py" 4000 >"$1/stream"
  (
    cd "$repo"
    git fast-import --quiet --done <"$1/stream"
    git gc -q --aggressive
    git fsck --no-progress --no-dangling && echo "fsck: ok"
    git rev-list --count main side
    git log --stat --format='%H %an %ad %s' --date=unix main | sha256sum
    git log -p --format='%H' -n 300 main | sha256sum
    git diff main~500 main --stat | tail -1
  )
}
make_data() {  # ~24 MiB of compressible, deterministic data
  [ -f "$WORK/data" ] && return
  /usr/bin/python3 -c '
import sys, random
r = random.Random(7)
words = [bytes(r.choice(b"abcdefghij klmnopqrstuvwxyz") for _ in range(r.randrange(2, 12))) for _ in range(5000)]
out = sys.stdout.buffer
for i in range(300000):
    out.write(b" ".join(r.choice(words) for _ in range(8)) + b"%d\n" % i)
' >"$WORK/data"
}
case_xz() {
  # 1 MiB blocks, so both threads compress (xz -T2 gives one block to each thread).
  xz -T2 -1 --block-size=1MiB -c "$WORK/data" >"$1/data.xz"
  sha256sum <"$1/data.xz"
  xz -T2 -d -c "$1/data.xz" | sha256sum
}
case_zstd() {
  zstd -q -T2 -B1MiB -9 -c "$WORK/data" >"$1/data.zst"
  sha256sum <"$1/data.zst"
  zstd -q -T2 -d -c "$1/data.zst" | sha256sum
}

# A port below the kernel's ephemeral range: a port that a client socket holds as its local end
# refuses connections (so it looks free) yet cannot be bound, and the benchmark's own clients
# take ephemeral ports. Found by a hang: the server could not bind, the checks after it were
# skipped, and redis-benchmark spun forever against no server.
free_port() {
  local lo port
  read -r lo _ </proc/sys/net/ipv4/ip_local_port_range
  for _ in $(seq 50); do
    port=$((10000 + RANDOM % (lo - 10000)))
    if ! (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then echo "$port"; return; fi
  done
  return 1
}
# Starts redis-server (preloaded with $2) in $1 and sets REDIS_PID and REDIS_PORT; a port another
# process took in between makes it try another.
start_redis() {
  local dir=$1 lib=$2
  for _ in 1 2 3 4 5; do
    REDIS_PORT=$(free_port) || return 1
    env ${lib:+LD_PRELOAD=$lib} redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" \
      --appendonly no --dir "$dir" --daemonize no --protected-mode yes --loglevel warning \
      >>"$dir/server.log" 2>&1 &
    REDIS_PID=$!
    for _ in $(seq 100); do
      kill -0 "$REDIS_PID" 2>/dev/null || break
      timeout 5 redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0
      sleep 0.1
    done
    kill "$REDIS_PID" 2>/dev/null || true
    wait "$REDIS_PID" 2>/dev/null || true
    REDIS_PID=""
  done
  echo "redis-server did not start:" >&2
  cat "$dir/server.log" >&2
  return 1
}
# redis-server is the program under test (preloaded); the clients run plainly. Called under
# `||`, where bash ignores set -e, so every step checks its own status; every client has a
# deadline, and a server that dies fails the case with its log.
case_redis() {
  local dir=$1 lib=$2 cli
  start_redis "$dir" "$lib" || return 1
  cli="timeout 120 redis-cli -p $REDIS_PORT"
  timeout 300 redis-benchmark -h 127.0.0.1 -p "$REDIS_PORT" -n 50000 -c 20 -P 8 -r 50000 -d 200 \
    -q -t set,get,incr,lpush,rpop,sadd,hset,zadd,lrange_100,mset >"$dir/bench.log" 2>&1 ||
    { echo "redis-benchmark failed or timed out" >&2; tail -5 "$dir/bench.log" >&2; return 1; }
  kill -0 "$REDIS_PID" 2>/dev/null || { echo "redis-server died:" >&2; cat "$dir/server.log" >&2; return 1; }
  # Deterministic data (strings of growing sizes, lists, hashes) replaces the benchmark's keys,
  # then is read back and compared, by digest and value by value on the server (Lua).
  $cli FLUSHDB >/dev/null || return 1
  /usr/bin/python3 -c '
for i in range(20000):
    v = ("v%d-" % i) * (1 + i % 97)
    print("SET key:%d %s" % (i, v))
    if i % 10 == 0:
        print("RPUSH list:%d %s" % (i % 100, v[:50]))
        print("HSET hash:%d f%d %s" % (i % 50, i, v[:30]))
' | $cli --pipe >/dev/null || return 1
  $cli DBSIZE || return 1
  for i in $(seq 0 997 19999); do echo "GET key:$i"; done | $cli | sha256sum
  for i in $(seq 0 7 99); do echo "LRANGE list:$i 0 -1"; done | $cli | sha256sum
  for i in $(seq 0 49); do echo "HGETALL hash:$i"; done | $cli | sort | sha256sum
  local bad
  bad=$($cli EVAL "local bad = 0
    for i = 0, 19999 do
      local v = string.rep('v' .. i .. '-', 1 + i % 97)
      if redis.call('GET', 'key:' .. i) ~= v then bad = bad + 1 end
    end
    return bad" 0) || return 1
  echo "values differing from what was written: $bad"
  kill -0 "$REDIS_PID" 2>/dev/null || { echo "redis-server died:" >&2; cat "$dir/server.log" >&2; return 1; }
  $cli shutdown nosave >/dev/null 2>&1 || true
  # A server that does not exit after SHUTDOWN is a failure of the program under test.
  for _ in $(seq 300); do kill -0 "$REDIS_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$REDIS_PID" 2>/dev/null; then
    echo "redis-server did not exit after SHUTDOWN" >&2
    return 1
  fi
  wait "$REDIS_PID" 2>/dev/null || true
  REDIS_PID=""
  grep -q "requests per second" "$dir/bench.log" || { cat "$dir/bench.log"; return 1; }
  [ "$bad" = 0 ]
}

# with_deadline SECONDS CMD...: runs CMD; past the deadline, prints every thread's stack of each
# process CMD started (a hang is a bug to diagnose, not just a timeout) and kills them all.
DEADLINE=${REAL_PROGRAM_DEADLINE:-600}
descendants() {
  local c
  for c in $(pgrep -P "$1"); do echo "$c"; descendants "$c"; done
}
with_deadline() {
  local secs=$1 pid waited=0 p
  shift
  "$@" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$waited" -ge $((secs * 10)) ]; then
      echo "real-programs: no end after ${secs}s; stacks of the processes left:" >&2
      for p in $(descendants "$pid"); do
        echo "-- pid $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-200)" >&2
        timeout 60 gdb -p "$p" -batch -ex "thread apply all bt 20" 2>&1 | grep '^#\|^Thread' >&2
      done
      for p in $(descendants "$pid") "$pid"; do kill -9 "$p" 2>/dev/null; done
      wait "$pid" 2>/dev/null
      return 124
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  wait "$pid"
}

status=0
for v in "${variants[@]}"; do [ "$v" = plain ] || check_preload "$v"; done
for prog in $SELECTED; do
  if [ "$prog" = xz ] || [ "$prog" = zstd ]; then make_data; fi
  line="real-programs: $prog:"
  ref=""
  failed=0
  for v in "${variants[@]}"; do
    name=$([ "$v" = plain ] && echo plain || basename "$v" .so)
    dir=$WORK/$prog-$name
    mkdir -p "$dir"
    lib=$(preload_env "$v")
    start=$(date +%s%N)
    if [ "$prog" = redis ]; then
      with_deadline "$DEADLINE" case_redis "$dir" "$lib" >"$dir/out" 2>"$dir/err" ||
        { echo "$line $name FAILED (exit $?)"; cat "$dir/err" "$dir/out"; status=1; failed=1; continue; }
    else
      (cd "$dir" && with_deadline "$DEADLINE" env ${lib:+LD_PRELOAD=$lib} bash -c "set -eo pipefail; $(declare -f case_$prog); PROGS=$PROGS WORK=$WORK case_$prog $dir") \
        >"$dir/out" 2>"$dir/err" || { echo "$line $name FAILED (exit $?)"; tail -40 "$dir/err"; status=1; failed=1; continue; }
    fi
    ms=$((($(date +%s%N) - start) / 1000000))
    line+=" $name $((ms / 1000)).$((ms % 1000 / 100))s"
    if [ -z "$ref" ]; then
      ref=$dir/out
    elif ! cmp -s "$ref" "$dir/out"; then
      echo "$line: OUTPUT DIFFERS from the plain run"
      diff "$ref" "$dir/out" | head -20
      status=1
      continue 2
    fi
  done
  [ $failed -eq 0 ] && echo "$line, outputs identical ($(wc -l <"$ref") lines)"
done
[ $status -eq 0 ] && echo "real-programs: all passed" || echo "real-programs: FAILED"
exit $status
