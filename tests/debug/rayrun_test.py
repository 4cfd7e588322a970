#!/usr/bin/env python3
"""rayrun end to end: its errors and help, --stats on python3 (a plausible table; JSON that
parses and adds up), --stats=json on a program that also calls ray_stats_get (the JSON equals
it), --debug on a program with a double free, and --option validation.

  rayrun_test.py RAYRUN LIB_DIR STATS_JSON_PROGRAM DOUBLE_FREE_PROGRAM
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile

rayrun, lib_dir, stats_prog, double_free_prog = sys.argv[1:5]
python = sys.executable  # the interpreter itself, not a wrapper script
failures = []


def run(*args, env=None):
    e = dict(os.environ)
    e.pop("LD_PRELOAD", None)
    e.update(env or {})
    return subprocess.run([rayrun, "--lib-dir", lib_dir, *args], capture_output=True, text=True,
                          env=e, timeout=300)


def check(ok, what, r=None):
    if ok:
        print(f"ok: {what}")
        return
    shown = f"\n--- stdout\n{r.stdout}--- stderr\n{r.stderr}--- exit {r.returncode}" if r else ""
    failures.append(f"{what}{shown}")
    print(f"FAIL: {what}{shown}")


def stats_invariants(s, what):
    check(s["reserved"] >= s["committed"] >= s["allocated"] > 0,
          f"{what}: reserved >= committed >= allocated > 0 ({s['reserved']}, {s['committed']}, "
          f"{s['allocated']})")
    check(s["peak_allocated"] >= s["allocated"], f"{what}: peak_allocated >= allocated")
    classes = sum(c["bytes_used"] for c in s["size_classes"])
    check(classes + s["large"]["bytes"] - s["remote_pending_bytes"] - s["quarantined_bytes"]
          == s["allocated"], f"{what}: size classes + large blocks add up to allocated")


# -- the launcher itself
r = run("--help")
check(r.returncode == 0 and "usage: rayrun" in r.stdout and "--stats=json:PATH" in r.stdout,
      "--help prints the usage", r)
r = run()
check(r.returncode == 2 and "no program to run" in r.stderr, "no program: exit 2", r)
r = run("--frobnicate", "true")
check(r.returncode == 2 and "unknown flag '--frobnicate'" in r.stderr, "unknown flag: exit 2", r)
r = run("--option", "NOPE=1", "true")
check(r.returncode == 2 and "unknown option 'NOPE'" in r.stderr, "unknown option: exit 2", r)
r = run("--option", "RESERVE", "true")
check(r.returncode == 2 and "NAME=VALUE" in r.stderr, "option without a value: exit 2", r)
r = run("no-such-program-xyz")
check(r.returncode == 127 and "command not found" in r.stderr, "missing program: exit 127", r)
r = subprocess.run([rayrun, "--lib-dir", "/nonexistent", "true"], capture_output=True, text=True)
check(r.returncode == 1 and "cannot find librayalloc.so" in r.stderr, "missing library: exit 1", r)
r = run("--print-library")
check(r.returncode == 0 and r.stdout.strip().endswith("/librayalloc.so"), "release library", r)
r = run("--debug", "--print-library")
check(r.stdout.strip().endswith("/librayalloc-debug.so"), "--debug picks the debug library", r)
r = run("--stats", "--print-library")
check(r.stdout.strip().endswith("/librayalloc-stats.so"), "--stats picks the stats library", r)

# -- options reach the library, and a bad value is one warning, never a failure
r = run("--option", "RESERVE=garbage", "ls", "/")
check(r.returncode == 0 and r.stderr.count("rayalloc: warning:") == 1 and
      "RAYALLOC_RESERVE=\"garbage\"" in r.stderr, "a bad option value: one warning, runs", r)
r = run("--verbose", "--option", "DECOMMIT_DELAY_MS=250", "ls", "/")
check(r.returncode == 0 and "RAYALLOC_DECOMMIT_DELAY_MS 250" in r.stderr and
      "release variant" in r.stderr, "--verbose prints the configuration", r)

# -- --stats on python3: a plausible table at exit
script = "d = {i: str(i) * 20 for i in range(200000)}; l = [bytearray(5000) for _ in range(300)]"
r = run("--stats", python, "-c", script)
table = r.stderr
m = re.search(r"^  mallocs +(\d+) +frees (\d+)", table, re.M)
check(r.returncode == 0 and "rayalloc statistics (stats variant" in table and m and
      int(m.group(1)) > 1000 and int(m.group(2)) > 100, "--stats python3: the table, with counts", r)
rows = re.findall(r"^ +(\d+) +(\d+) +\d+ +(\d+) / (\d+)", table, re.M)
check(len(rows) >= 5 and all(int(u) <= int(b) for _, _, u, b in rows),
      f"--stats python3: {len(rows)} size-class rows, used <= built", r)

with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "py-%p.json")
    r = run(f"--stats=json:{path}", python, "-c", script)
    files = [f for f in os.listdir(tmp) if f.startswith("py-")]
    check(r.returncode == 0 and len(files) == 1, "--stats=json: one file, %p = pid", r)
    if files:
        s = json.load(open(os.path.join(tmp, files[0])))
        check(s["variant"] == "stats" and str(s["pid"]) in files[0], "JSON: variant and pid")
        check(s["mallocs"] > 1000 and s["frees"] > 100, "JSON: python's operation counts")
        stats_invariants(s, "python3 JSON")

    # -- a program that calls ray_stats_get: its JSON equals what ray_stats_get returned
    own = os.path.join(tmp, "own.json")
    at_exit = os.path.join(tmp, "exit.json")
    r = run(f"--stats=json:{at_exit}", stats_prog, own)
    check(r.returncode == 0, "stats program ran", r)
    if r.returncode == 0:
        got = json.loads(r.stdout)
        printed = json.load(open(own))
        for k in got:
            check(printed[k] == got[k], f"JSON {k} == ray_stats_get ({printed[k]} vs {got[k]})")
        stats_invariants(printed, "program JSON")
        check(printed["mallocs"] >= 1001 and printed["frees"] >= 1000,
              "program JSON: its 1001 mallocs and 1000 frees (one thread freeing another's)")
        last = json.load(open(at_exit))
        stats_invariants(last, "exit JSON")
        check(last["mallocs"] >= printed["mallocs"] and last["frees"] > printed["frees"],
              "exit JSON: later than the program's own, counts only grow")

# -- --debug finds a double free in a program that knows nothing of rayalloc
r = run("--debug", double_free_prog)
m = re.search(r"^PTR (0x[0-9a-f]+)$", r.stdout, re.M)
check(m and r.returncode == -signal.SIGABRT and
      re.search(r"rayalloc: error 22: double free in free\(\): .*: " + re.escape(m.group(1)),
                r.stderr), "--debug reports the double free with its pointer", r)

if failures:
    sys.exit(f"{len(failures)} check(s) failed")
print("all rayrun checks passed")
