# Writes a `git fast-import` stream of a deterministic history (fixed authors and dates) for
# the real-program test: N commits over a tree of a few hundred files, with merges of a side
# branch, so `git gc` has deltas to compute and `git log` has work to do.
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
out = sys.stdout.buffer
mark = 0
blob_text = {}


def data(payload):
    out.write(b"data %d\n" % len(payload) + payload + b"\n")


def commit(ref, i, files, parents):
    global mark
    mark += 1
    out.write(b"commit %s\nmark :%d\n" % (ref, mark))
    when = 1600000000 + i * 3600
    out.write(b"author Dev %d <dev%d@example.com> %d +0000\n" % (i % 7, i % 7, when))
    out.write(b"committer Dev %d <dev%d@example.com> %d +0000\n" % (i % 7, i % 7, when))
    data(b"change %d\n\nTouches %d files.\n" % (i, len(files)))
    for k, p in enumerate(parents):
        out.write(b"%s :%d\n" % (b"from" if k == 0 else b"merge", p))
    for path, text in files:
        out.write(b"M 100644 inline %s\n" % path)
        data(text)
    return mark


main_head = side_head = None
for i in range(n):
    files = []
    for k in range(1 + i % 3):
        f = (i * 37 + k * 101) % 300
        path = b"src/dir%d/file%d.txt" % (f % 12, f)
        old = blob_text.get(path, b"")
        line = b"line %d of change %d: %s\n" % (k, i, b"x" * (i % 60))
        text = (old + line)[-6000:]
        blob_text[path] = text
        files.append((path, text))
    if i % 50 == 25:
        side_head = commit(b"refs/heads/side", i, files, [main_head] if main_head else [])
    elif i % 50 == 40 and side_head:
        main_head = commit(b"refs/heads/main", i, files, [main_head, side_head])
    else:
        main_head = commit(b"refs/heads/main", i, files, [main_head] if main_head else [])
out.write(b"done\n")
