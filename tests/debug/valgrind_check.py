#!/usr/bin/env python3
"""valgrind --leak-check=full --error-exitcode=1 over valgrind_program (linked against
librayalloc-debug) must report exactly its deliberate leak and its invalid read.

valgrind substitutes its own malloc for any library's by default; with
--soname-synonyms=somalloc=nouserintercepts rayalloc-debug serves the program and its client
requests tell memcheck where the blocks are. Exit 77 (skipped) without valgrind."""
import re
import sys

import memcheck

r, shown = memcheck.run(sys.argv[1])
checks = [
    (r.returncode == 1, "exit status 1 (errors found)"),
    ("owner: rayalloc" in r.stdout, "the program ran on rayalloc"),
    (len(re.findall(r"Invalid read of size 1", r.stderr)) == 1, "exactly one invalid read"),
    ("0 bytes after a block of size 10 alloc'd" in r.stderr, "the read is past the 10-byte block"),
    (re.search(r"definitely lost: 40 bytes in 1 blocks", r.stderr), "the 40-byte leak"),
    (not re.search(r"possibly lost: [1-9]", r.stderr), "nothing possibly lost"),
    (not re.search(r"Invalid (write|free)|uninitialised|Mismatched", r.stderr),
     "no other kind of error"),
    (re.search(r"ERROR SUMMARY: 2 errors from 2 contexts", r.stderr), "exactly 2 errors"),
]
memcheck.verdict(checks, shown, "ok: memcheck reports exactly the leak (40 bytes in 1 block) and the invalid read")
