#!/usr/bin/env bash
# Real programs on rayalloc: python3 and sqlite3 run a deterministic, allocation-heavy workload
# under LD_PRELOAD=librayalloc.so and must print exactly what they print on the system malloc.
# Each program is also checked to really have rayalloc mapped, so a silently ignored preload
# cannot pass. RAYALLOC_BUILD_DIR picks the build (default: build).
set -euo pipefail
cd "${RAYALLOC_ROOT:-$(dirname "$0")/../..}"
lib="$PWD/${RAYALLOC_BUILD_DIR:-build}/src/librayalloc.so"
[ -f "$lib" ] || { echo "programs: $lib not built"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0 passed=0

# The Debian interpreter when there is one (a pyenv shim is a shell script around another).
python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3)

cat >"$work/workload.py" <<'EOF'
# Deterministic allocation churn: dicts, lists, strings, bytes, big ints, json, sorting.
import collections, hashlib, json, random, re

random.seed(20240611)
h = hashlib.sha256()
table = {}
for i in range(200000):
    key = "k%07d" % random.randrange(10**7)
    table.setdefault(key, []).append(i)
h.update(str(len(table)).encode())
words = ["".join(random.choice("abcdefghij") for _ in range(random.randrange(1, 40)))
         for _ in range(60000)]
words.sort()
h.update("|".join(words[::97]).encode())
counts = collections.Counter(w[:3] for w in words)
h.update(repr(sorted(counts.most_common(20))).encode())
blob = json.dumps({w: [len(w), w[::-1]] for w in words[:20000]}, sort_keys=True)
h.update(hashlib.sha256(json.loads(json.dumps(json.loads(blob))).__repr__().encode()).digest())
s = ""
for i in range(30000):
    s += str(i * i)
    if len(s) > 50000:
        s = s[len(s) // 3:]
h.update(s.encode())
b = bytearray()
for i in range(20000):
    b.extend(bytes([i & 255]) * (i % 300))
    if i % 1000 == 0:
        b = bytearray(b[len(b) // 2:])
h.update(bytes(b))
n = 1
for i in range(1, 3000):
    n *= i
h.update(str(n % (10**50 + 151)).encode())
found = re.findall(r"a[b-d]+e", " ".join(words))
h.update(str(len(found)).encode())
nested = [[{"i": i, "s": str(i) * (i % 17)} for i in range(j, j + 50)] for j in range(4000)]
del nested[::2]
h.update(str(sum(len(x) for x in nested)).encode())
print("entries", len(table), "words", len(words), "matches", len(found))
print("digest", h.hexdigest())
EOF

cat >"$work/workload.sql" <<'EOF'
CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT, v BLOB, n REAL);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000)
INSERT INTO t SELECT x, printf('key-%08d', (x * 7919) % 200003), zeroblob(x % 700), x * 0.5 FROM c;
CREATE INDEX ik ON t(k);
SELECT count(*), sum(length(v)), sum(n) FROM t;
SELECT k FROM t ORDER BY k LIMIT 5;
SELECT substr(k, 1, 7), count(*), avg(n) FROM t GROUP BY substr(k, 1, 7) ORDER BY 1 LIMIT 10;
UPDATE t SET k = k || '-' || id, v = zeroblob(id % 1500) WHERE id % 3 = 0;
DELETE FROM t WHERE id % 5 = 0;
SELECT count(*), max(k), sum(length(v)) FROM t;
SELECT group_concat(k, ',') FROM (SELECT k FROM t ORDER BY id DESC LIMIT 20);
SELECT json_group_array(json_object('id', id, 'k', k)) FROM (SELECT id, k FROM t WHERE id < 40);
CREATE TABLE u AS SELECT k, upper(k) || lower(k) AS kk FROM t ORDER BY random();
SELECT count(DISTINCT kk), min(kk), max(kk) FROM u;
DROP TABLE u;
VACUUM;
SELECT count(*), total(n) FROM t;
EOF

# compare NAME EXPECTED_FILE COMMAND...: the command's output under rayalloc must equal the file.
compare() {
  local name=$1 plain=$2
  shift 2
  local out="$work/$name.ray" status=0
  env LD_PRELOAD="$lib" "$@" >"$out" 2>"$work/$name.err" || status=$?
  if [ "$status" -ne 0 ]; then
    echo "programs: $name FAILED under rayalloc (exit status $status):"
    head -20 "$work/$name.err"
    failed=$((failed + 1))
  elif ! cmp -s "$plain" "$out"; then
    echo "programs: $name output differs under rayalloc:"
    diff "$plain" "$out" | head -20
    failed=$((failed + 1))
  else
    passed=$((passed + 1))
  fi
}

# Is rayalloc in the process? Each tool reads its own /proc/PID/maps.
mapped_python=$(env LD_PRELOAD="$lib" "$python" -c \
  "print(any('librayalloc' in l for l in open('/proc/self/maps')))")
[ "$mapped_python" = "True" ] || { echo "programs: rayalloc not mapped in python3"; failed=$((failed + 1)); }

PYTHONMALLOC=malloc "$python" "$work/workload.py" >"$work/python.plain"
compare python-malloc "$work/python.plain" env PYTHONMALLOC=malloc "$python" "$work/workload.py"
# The default pymalloc: small objects from its own arenas, the rest from malloc.
"$python" "$work/workload.py" >"$work/python-default.plain"
compare python-pymalloc "$work/python-default.plain" "$python" "$work/workload.py"

if command -v sqlite3 >/dev/null; then
  mapped_sqlite=$(env LD_PRELOAD="$lib" sqlite3 :memory: '.shell grep -c librayalloc /proc/$PPID/maps')
  [ "${mapped_sqlite:-0}" -gt 0 ] || { echo "programs: rayalloc not mapped in sqlite3"; failed=$((failed + 1)); }
  # random() only feeds ORDER BY of a table whose order is never printed: output is fixed.
  sqlite3 :memory: <"$work/workload.sql" >"$work/sqlite.plain"
  compare sqlite3 "$work/sqlite.plain" sqlite3 :memory: <"$work/workload.sql"
  # A file database: the page cache and journal paths.
  sqlite3 "$work/plain.db" <"$work/workload.sql" >"$work/sqlite-file.plain"
  compare sqlite3-file "$work/sqlite-file.plain" sqlite3 "$work/ray.db" <"$work/workload.sql"
else
  echo "programs: sqlite3 not installed"
  failed=$((failed + 1))
fi

echo "programs: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
