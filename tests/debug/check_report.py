#!/usr/bin/env python3
"""Runs a bug-class program and checks rayalloc's report of it.

  check_report.py --expect REGEX [--exit abort|zero] [--env NAME=VALUE]... -- PROGRAM ARGS...

The program prints "PTR 0x..." (the pointer its bug is about) before committing the bug.
REGEX is searched for in its stderr, with {ptr} replaced by that pointer (escaped), so the
check is that the report names both the kind of error and the right pointer. --exit says how
the program must end: killed by SIGABRT (the default error handler) or exit status 0.
"""
import argparse
import os
import re
import signal
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--expect", required=True)
    ap.add_argument("--exit", choices=["abort", "zero"], default="abort")
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("command", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
    env = dict(os.environ)
    for kv in args.env:
        k, _, v = kv.partition("=")
        env[k] = v
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    shown = f"--- stdout\n{r.stdout}--- stderr\n{r.stderr}--- exit status {r.returncode}"
    m = re.search(r"^PTR (0x[0-9a-f]+)$", r.stdout, re.M)
    if not m:
        sys.exit(f"FAIL: the program did not print its pointer\n{shown}")
    ptr = m.group(1)
    pattern = args.expect.replace("{ptr}", re.escape(ptr))
    if not re.search(pattern, r.stderr, re.M):
        sys.exit(f"FAIL: no report matching /{pattern}/\n{shown}")
    if args.exit == "abort" and r.returncode != -signal.SIGABRT:
        sys.exit(f"FAIL: expected the default handler's abort\n{shown}")
    if args.exit == "zero" and r.returncode != 0:
        sys.exit(f"FAIL: expected exit status 0\n{shown}")
    print(f"ok: {os.path.basename(cmd[0])}: report names {ptr}: "
          f"{re.search(pattern, r.stderr, re.M).group(0)}")


if __name__ == "__main__":
    main()
