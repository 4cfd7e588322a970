"""Shared by the valgrind checks: run a program under memcheck with rayalloc serving malloc,
then judge the report against a list of (condition, description) checks.

valgrind substitutes its own malloc for any library's by default; with
--soname-synonyms=somalloc=nouserintercepts rayalloc-debug serves the program and its client
requests tell memcheck where the blocks are. Exit 77 (skipped) without valgrind."""
import shutil
import subprocess
import sys


def run(prog):
    """The completed memcheck run of `prog`, and its output for failure messages."""
    if not shutil.which("valgrind"):
        print("valgrind not installed: skipped")
        sys.exit(77)
    cmd = ["valgrind", "--leak-check=full", "--error-exitcode=1",
           "--soname-synonyms=somalloc=nouserintercepts", prog]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    shown = f"--- stdout\n{r.stdout}--- stderr\n{r.stderr}--- exit status {r.returncode}"
    return r, shown


def verdict(checks, shown, ok_message):
    """Exit with the failed checks and the output, or print `ok_message`."""
    failed = [what for ok, what in checks if not ok]
    if failed:
        sys.exit("FAIL: " + "; ".join(failed) + "\n" + shown)
    print(ok_message)
