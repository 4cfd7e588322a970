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

free_port() {
  local port
  for _ in $(seq 50); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then echo "$port"; return; fi
  done
  return 1
}
# redis-server is the program under test (preloaded); the clients run plainly.
case_redis() {
  local dir=$1 lib=$2 port
  port=$(free_port)
  env ${lib:+LD_PRELOAD=$lib} redis-server --bind 127.0.0.1 --port "$port" --save "" \
    --appendonly no --dir "$dir" --daemonize no --protected-mode yes --loglevel warning \
    >"$dir/server.log" 2>&1 &
  REDIS_PID=$!
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli -p "$port" ping >/dev/null
  redis-benchmark -h 127.0.0.1 -p "$port" -n 50000 -c 20 -P 8 -r 50000 -d 200 -q \
    -t set,get,incr,lpush,rpop,sadd,hset,zadd,lrange_100,mset >"$dir/bench.log" 2>&1
  # Deterministic data (strings of growing sizes, lists, hashes) replaces the benchmark's keys,
  # then is read back and compared, by digest and value by value on the server (Lua).
  redis-cli -p "$port" FLUSHDB >/dev/null
  /usr/bin/python3 -c '
for i in range(20000):
    v = ("v%d-" % i) * (1 + i % 97)
    print("SET key:%d %s" % (i, v))
    if i % 10 == 0:
        print("RPUSH list:%d %s" % (i % 100, v[:50]))
        print("HSET hash:%d f%d %s" % (i % 50, i, v[:30]))
' | redis-cli -p "$port" --pipe >/dev/null
  redis-cli -p "$port" DBSIZE
  for i in $(seq 0 997 19999); do echo "GET key:$i"; done | redis-cli -p "$port" | sha256sum
  for i in $(seq 0 7 99); do echo "LRANGE list:$i 0 -1"; done | redis-cli -p "$port" | sha256sum
  for i in $(seq 0 49); do echo "HGETALL hash:$i"; done | redis-cli -p "$port" | sort | sha256sum
  local bad
  bad=$(redis-cli -p "$port" EVAL "local bad = 0
    for i = 0, 19999 do
      local v = string.rep('v' .. i .. '-', 1 + i % 97)
      if redis.call('GET', 'key:' .. i) ~= v then bad = bad + 1 end
    end
    return bad" 0)
  echo "values differing from what was written: $bad"
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  wait "$REDIS_PID" 2>/dev/null || true
  REDIS_PID=""
  grep -q "requests per second" "$dir/bench.log" || { cat "$dir/bench.log"; return 1; }
  [ "$bad" = 0 ]
}

status=0
for v in "${variants[@]}"; do [ "$v" = plain ] || check_preload "$v"; done
for prog in $SELECTED; do
  if [ "$prog" = xz ] || [ "$prog" = zstd ]; then make_data; fi
  line="real-programs: $prog:"
  ref=""
  for v in "${variants[@]}"; do
    name=$([ "$v" = plain ] && echo plain || basename "$v" .so)
    dir=$WORK/$prog-$name
    mkdir -p "$dir"
    lib=$(preload_env "$v")
    start=$(date +%s%N)
    if [ "$prog" = redis ]; then
      case_redis "$dir" "$lib" >"$dir/out" 2>"$dir/err" || { echo "$line $name FAILED"; cat "$dir/err" "$dir/out"; status=1; continue; }
    else
      (cd "$dir" && env ${lib:+LD_PRELOAD=$lib} bash -c "set -eo pipefail; $(declare -f case_$prog); PROGS=$PROGS WORK=$WORK case_$prog $dir") \
        >"$dir/out" 2>"$dir/err" || { echo "$line $name FAILED (exit $?)"; tail -20 "$dir/err"; status=1; continue; }
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
  echo "$line, outputs identical ($(wc -l <"$ref") lines)"
done
[ $status -eq 0 ] && echo "real-programs: all passed" || echo "real-programs: FAILED"
exit $status
