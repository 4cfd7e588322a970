#!/usr/bin/env python3
"""valgrind --leak-check=full over valgrind_faces_program (debug variant): memcheck sees the
array and pool faces' blocks, and reports exactly the three deliberate errors: the leaked
array (its whole capacity), the read past an array's length, the read of a freed pool object.
Exit 77 (skipped) without valgrind."""
import re
import sys

import memcheck

r, shown = memcheck.run(sys.argv[1])
m = re.search(r"leaked array bytes: (\d+)", r.stdout)
leaked = m.group(1) if m else "?"
reads = len(re.findall(r"Invalid read of size", r.stderr))
checks = [
    (r.returncode == 1, "exit status 1 (errors found)"),
    (m is not None, "the program ran to the end"),
    (reads == 2, f"exactly two invalid reads (saw {reads})"),
    ("inside a block of size 48 free'd" in r.stderr, "the read of the freed pool object"),
    (re.search(rf"definitely lost: {leaked} bytes in 1 blocks", r.stderr),
     f"the leaked array ({leaked} bytes)"),
    (not re.search(r"possibly lost: [1-9]", r.stderr), "nothing possibly lost"),
    (not re.search(r"Invalid (write|free)|uninitialised|Mismatched", r.stderr),
     "no other kind of error"),
    (re.search(r"ERROR SUMMARY: 3 errors from 3 contexts", r.stderr), "exactly 3 errors"),
]
memcheck.verdict(checks, shown, "ok: memcheck reports the leaked array, the read past its "
                 "length and the pool use after free, and nothing else")
