#!/usr/bin/env python3
"""rayalloc benchmark runner (python3 standard library only).

Runs every bench_* workload in a build dir under each allocator (glibc, and rayalloc, jemalloc,
mimalloc, tcmalloc swapped in with LD_PRELOAD), interleaved in rounds, and reports median wall
time and median peak RSS per workload and allocator, the subject's (rayalloc's) ratio to the best
peer and to each peer, and a geometric-mean row. Writes results/bench.csv, bench_runs.csv,
bench.md, bench_time.png and bench_rss.png. Then counts fast-path instructions per malloc+free
with callgrind, and runs any face_bench_* programs found in the build dir.

    bench/runner.py BUILD_DIR [--rounds N] [--only W[,W..]] [--quick] [--callgrind] ...
"""
import argparse
import collections
import csv
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

LIBDIR = "/usr/lib/x86_64-linux-gnu"
PEERS = [  # name, library, Debian package
    ("jemalloc", f"{LIBDIR}/libjemalloc.so.2", "libjemalloc2"),
    ("mimalloc", f"{LIBDIR}/libmimalloc.so.2", "libmimalloc2.0"),
    ("tcmalloc", f"{LIBDIR}/libtcmalloc_minimal.so.4", "libtcmalloc-minimal4"),
]
CG_SIZES = [16, 32, 64, 128, 256, 512, 1024, 4096, 16384]
BAR = 1.5  # a workload misses the bar when the subject is > 1.5x the best peer (time or RSS)
RSS_SLACK_KB = 4096  # ...and, for RSS, > 4 MiB above it: less than that is start-up footprint
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

Run = collections.namedtuple("Run", "ok time rss checksum extras sizeclass error")


def say(*a):
    print(*a, flush=True)


# ----------------------------------------------------------------------------------- discovery
def find_programs(build, prefix):
    """Executables under the build dir (CMakeFiles skipped) whose name starts with prefix."""
    found = {}
    for root, dirs, files in os.walk(build):
        dirs[:] = [d for d in dirs if d != "CMakeFiles"]
        for f in files:
            p = os.path.join(root, f)
            if f.startswith(prefix) and os.access(p, os.X_OK) and os.path.isfile(p):
                found.setdefault(f, p)
    return dict(sorted(found.items()))


def preload_works(lib, probe):
    """True if a program runs with lib preloaded and ld.so does not reject it."""
    if probe is None:
        return True, ""
    try:
        r = subprocess.run([probe, "16", "10"], env=dict(os.environ, LD_PRELOAD=lib),
                           capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return False, "a 10-iteration probe hung"
    if r.returncode != 0 or "cannot be preloaded" in r.stderr:
        return False, (r.stderr.strip().splitlines() or [f"exit {r.returncode}"])[-1]
    return True, ""


def find_allocators(args, probe):
    """Ordered {name: library or None (glibc)}; prints why any allocator is skipped."""
    allocs = {"glibc": None}
    ray = args.rayalloc or os.path.join(args.build, "src", "librayalloc.so")
    if not os.path.exists(ray):
        hits = [p for p in find_programs(args.build, "librayalloc.so").values()
                if os.path.basename(p) == "librayalloc.so"]
        ray = hits[0] if hits else ray
    cands = [("rayalloc", ray, None)] + PEERS
    for name, lib, pkg in cands:
        if not os.path.exists(lib):
            how = f" (Debian package {pkg}: scripts/install-deps.sh installs it)" if pkg else \
                " (not built yet?)"
            say(f"note: skipping {name}: {lib} not found{how}")
            continue
        ok, why = preload_works(lib, probe)
        if not ok and name != args.subject:
            say(f"note: skipping {name}: LD_PRELOAD={lib} does not work: {why}")
            continue
        if not ok:  # the allocator under test is kept: its failures belong in the tables
            say(f"WARNING: {name} fails a trivial malloc/free probe under LD_PRELOAD: {why}")
        allocs[name] = os.path.abspath(lib)
    if args.alloc:
        keep = args.alloc.split(",")
        allocs = {k: v for k, v in allocs.items() if k in keep}
    return allocs


# ------------------------------------------------------------------------------------- running
def run_once(launcher, exe, lib, scale, timeout):
    """Runs one workload through measure_exec; returns a Run with wall time (s) and peak RSS
    (KiB) of the workload process alone."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    argv = [exe] + ([str(scale)] if scale != 1.0 else [])
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err, \
            tempfile.NamedTemporaryFile("r") as meas:
        p = subprocess.Popen([launcher, meas.name, lib or "-"] + argv, stdout=out, stderr=err,
                             env=env, start_new_session=True)
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, 9)
            p.wait()
        out.seek(0)
        err.seek(0)
        text, errtext = out.read(), err.read()
        m = meas.read().split()
    elapsed, rss, code = (float(m[0]), int(m[1]), int(m[2])) if len(m) == 3 else (0.0, 0, -9)
    checksum, extras, sizeclass = None, {}, {}
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 3 and f[0] == "RESULT":
            checksum = f[2]
        elif len(f) == 2 and f[0] in ("RSS_AFTER_TEARDOWN_KB", "LIVE_BYTES",
                                           "SURVIVOR_PAGES_KB"):
            extras[f[0]] = float(f[1])
        elif len(f) == 4 and f[0] == "SIZECLASS":
            sizeclass[int(f[1])] = (float(f[2]), float(f[3]))
    error = None
    if code != 0:
        error = "timeout" if code == -9 else f"exit {code}"
    elif "cannot be preloaded" in errtext:
        error = "preload failed"
    elif checksum is None:
        error = "no RESULT line"
    if error and errtext.strip():
        error += ": " + errtext.strip().splitlines()[-1][:120]
    return Run(error is None, elapsed, rss, checksum, extras, sizeclass, error)


def run_all(launcher, workloads, allocs, rounds, scale, timeout):
    """Interleaved rounds: every round runs each workload under every allocator, rotating the
    allocator order so drift of the machine hits all of them alike."""
    runs = collections.defaultdict(list)  # (workload, alloc) -> [Run]
    names = list(allocs)
    for r in range(rounds):
        t0 = time.time()
        order = names[r % len(names):] + names[:r % len(names)]
        for w, exe in workloads.items():
            for a in order:
                run = run_once(launcher, exe, allocs[a], scale, timeout)
                runs[(w, a)].append(run)
                if not run.ok:
                    say(f"  FAILED {w} under {a}: {run.error}")
        say(f"round {r + 1}/{rounds} done in {time.time() - t0:.0f} s")
    return runs


# ----------------------------------------------------------------------------------- summarise
def summarise(workloads, allocs, runs):
    """{(w, a): dict(time, rss, extras, status)}, medians over the successful runs; a run whose
    checksum differs from the reference (glibc's, else the commonest) counts as failed."""
    res = {}
    for w in workloads:
        sums = [r.checksum for a in allocs for r in runs[(w, a)] if r.ok]
        ref = None
        if sums:
            glibc = [r.checksum for r in runs[(w, "glibc")] if r.ok] if "glibc" in allocs else []
            ref = glibc[0] if glibc else collections.Counter(sums).most_common(1)[0][0]
        for a in allocs:
            rs = runs[(w, a)]
            good = [r for r in rs if r.ok and r.checksum == ref]
            bad = [r for r in rs if r.ok and r.checksum != ref]
            status = "ok" if len(good) == len(rs) else (
                "BAD checksum" if bad else "FAIL: " + next(r.error for r in rs if not r.ok))
            if not good:
                res[(w, a)] = dict(time=None, rss=None, extras={}, sizeclass={}, status=status)
                continue
            extras = {k: statistics.median(r.extras[k] for r in good if k in r.extras)
                      for k in good[0].extras}
            sc = {s: tuple(statistics.median(r.sizeclass[s][i] for r in good) for i in (0, 1))
                  for s in good[0].sizeclass}
            res[(w, a)] = dict(time=statistics.median(r.time for r in good),
                               rss=statistics.median(r.rss for r in good), extras=extras,
                               sizeclass=sc, status=status, n=len(good))
    return res


def geomean(xs):
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def ratio(a, b):
    return a / b if a and b else None


def build_table(workloads, allocs, res, key, subject):
    """Rows of [workload, value per allocator..., subject/best peer, subject/each peer..., miss]."""
    peers = [a for a in allocs if a != subject]
    has_subject = subject in allocs and peers
    header = ["workload"] + list(allocs)
    if has_subject:
        header += [f"{subject}/best"] + [f"/{p}" for p in peers] + ["bar"]
    rows, cols = [], collections.defaultdict(list)
    for w in workloads:
        vals = [res[(w, a)][key] for a in allocs]
        row = [w] + vals
        if has_subject:
            s = res[(w, subject)][key]
            pv = [res[(w, p)][key] for p in peers]
            best = min([v for v in pv if v], default=None)
            rb = ratio(s, best)
            rp = [ratio(s, v) for v in pv]
            over = rb and rb > BAR and (key != "rss" or s - best > RSS_SLACK_KB)
            miss = "MISS" if over else ("FAIL" if s is None else "")
            row += [rb] + rp + [miss]
        if all(v for v in vals):  # geomean over workloads every allocator completed
            for i, v in enumerate(row[1:]):
                if isinstance(v, float) or isinstance(v, int):
                    cols[i].append(v)
        rows.append(row)
    gm = ["geomean"] + [geomean(cols[i]) for i in range(len(header) - 1)]
    if has_subject:
        gm[-1] = ""
    rows.append(gm)
    return header, rows


def fmt(v, kind):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if kind == "ratio":
        return f"{v:.2f}x"
    if kind == "time":
        return f"{v:.3f}"
    return f"{v / 1024:.1f}"  # KiB -> MiB


def render(header, rows, nalloc, unit, md=False):
    """Fixed-width text (or markdown) table; columns 1..nalloc are values, the rest ratios."""
    cells = [[r[0]] + [fmt(v, unit if i < nalloc else "ratio") for i, v in enumerate(r[1:])]
             for r in rows]
    if md:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return "\n".join(lines + ["| " + " | ".join(c) + " |" for c in cells])
    widths = [max(len(str(x)) for x in col) for col in zip(header, *cells)]
    line = lambda c: "  ".join(s.ljust(widths[0]) if i == 0 else s.rjust(widths[i])
                                for i, s in enumerate(c))
    out = [line(header), "-" * len(line(header))]
    out += [line(c) for c in cells[:-1]] + ["-" * len(line(header)), line(cells[-1])]
    return "\n".join(out)


# ------------------------------------------------------------------------------------- outputs
def write_csv(path, workloads, allocs, res, subject):
    """The time and RSS tables side by side (geomean row included), then the teardown extras
    and each allocator's status. Times in s, RSS in KiB, ratios as plain numbers."""
    (th, trows), (rh, rrows) = (build_table(workloads, allocs, res, k, subject)
                                for k in ("time", "rss"))
    with open(path, "w", newline="") as f:
        wr = csv.writer(f)
        name = lambda c: (subject + c if c.startswith("/") else c).replace("/", "_vs_")
        wr.writerow(["workload"] + [f"time_{name(c)}" for c in th[1:]] +
                    [f"rss_kb_{name(c)}" for c in rh[1:]] +
                    [f"rss_after_teardown_kb_{a}" for a in allocs] + ["live_bytes"] +
                    [f"status_{a}" for a in allocs])
        for i, (tr, rr) in enumerate(zip(trows, rrows)):
            w = tr[0]
            extras = [res[(w, a)]["extras"] if w in workloads else {} for a in allocs]
            live = next((e["LIVE_BYTES"] for e in extras if "LIVE_BYTES" in e), None)
            row = tr + rr[1:] + [e.get("RSS_AFTER_TEARDOWN_KB") for e in extras] + [live]
            row += [res[(w, a)]["status"] if w in workloads else "" for a in allocs]
            wr.writerow(["" if v is None else (f"{v:.6g}" if isinstance(v, float) and v < 1e6
                                               else v if isinstance(v, str) else round(v))
                         for v in row])


def write_runs_csv(path, runs):
    with open(path, "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["workload", "allocator", "round", "ok", "time_s", "peak_rss_kb", "checksum",
                     "error"])
        for (w, a), rs in runs.items():
            for i, r in enumerate(rs):
                wr.writerow([w, a, i + 1, int(r.ok), f"{r.time:.4f}", r.rss, r.checksum, r.error])


def plot(outdir, workloads, allocs, res, key, fname, title):
    """Log-scale clustered bars: each allocator's median divided by glibc's, per workload."""
    if not shutil.which("gnuplot"):
        say("note: gnuplot not found (Debian package gnuplot-nox): no chart " + fname)
        return
    others = [a for a in allocs if a != "glibc"]
    if "glibc" not in allocs or not others:
        return
    dat = os.path.join(outdir, fname.replace(".png", ".dat"))
    seen = [1.0]
    with open(dat, "w") as f:
        f.write("workload " + " ".join(others) + "\n")
        for w in workloads:
            base = res[(w, "glibc")][key]
            vals = [ratio(res[(w, a)][key], base) for a in others]
            seen += [v for v in vals if v]
            f.write(w + " " + " ".join(f"{v:.4f}" if v else "NaN" for v in vals) + "\n")
    lo = 2.0 ** min(-2, math.floor(math.log2(min(seen))))  # whole powers of 2 around the data
    hi = 2.0 ** max(2, math.ceil(math.log2(max(seen))))
    plots = ", ".join(f"'{dat}' using {i + 2}:xtic(1) title '{a}'" for i, a in enumerate(others))
    script = f"""
set terminal pngcairo size 1400,600 font ',10' noenhanced
set output '{os.path.join(outdir, fname)}'
set title '{title} (ratio to glibc, log scale; below 1 is better than glibc)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set logscale y 2
set yrange [{lo}:{hi}]
set grid ytics
set xtics rotate by -30
set key top left
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2
set key autotitle columnhead
plot {plots}
"""
    r = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True)
    if r.returncode != 0:
        say(f"note: gnuplot failed for {fname}: {r.stderr.strip()[:300]}")


# ----------------------------------------------------------------------------------- callgrind
def loop_self_cost(outfile):
    """Instructions spent in fastpath_loop itself (the loop, not malloc/free), from
    callgrind_annotate; 0 if it cannot be read."""
    r = subprocess.run(["callgrind_annotate", outfile], capture_output=True, text=True)
    m = re.search(r"^\s*([\d,]+)\s.*:fastpath_loop\b", r.stdout, re.M)
    return int(m.group(1).replace(",", "")) if m else 0


def callgrind(build, allocs, count):
    """Instructions per malloc+free pair: everything counted inside fastpath_loop (malloc, free,
    PLT stubs) less the loop's own instructions."""
    exe = find_programs(build, "bench_fastpath_cg").get("bench_fastpath_cg")
    if not exe:
        return "callgrind: bench_fastpath_cg not built", None
    if not shutil.which("valgrind"):
        return "callgrind: valgrind not found (Debian package valgrind)", None
    names = [a for a in ("glibc", "rayalloc", "mimalloc") if a in allocs]
    table = {}
    with tempfile.TemporaryDirectory() as tmp:
        for a in names:
            for s in CG_SIZES:
                out = os.path.join(tmp, f"cg.{a}.{s}")
                env = dict(os.environ)
                env.pop("LD_PRELOAD", None)
                if allocs[a]:
                    env["LD_PRELOAD"] = allocs[a]
                cmd = ["valgrind", "--tool=callgrind", "--trace-children=no",
                       "--toggle-collect=fastpath_loop", f"--callgrind-out-file={out}",
                       exe, str(s), str(count)]
                r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
                total = None
                if r.returncode == 0 and os.path.exists(out):
                    m = re.search(r"^(?:totals|summary):\s*(\d+)", open(out).read(), re.M)
                    total = int(m.group(1)) - loop_self_cost(out) if m else None
                table[(a, s)] = total / count if total else None
    header = ["size"] + names
    rows = [[str(s)] + [f"{table[(a, s)]:.1f}" if table[(a, s)] else "fail" for a in names]
            for s in CG_SIZES]
    if "rayalloc" in names and "mimalloc" in names:
        header.append("rayalloc/mimalloc")
        for row, s in zip(rows, CG_SIZES):
            row.append(fmt(ratio(table[("rayalloc", s)], table[("mimalloc", s)]), "ratio"))
    return header, rows


def text_table(header, rows):
    widths = [max(len(x) for x in col) for col in zip(header, *rows)]
    line = lambda c: "  ".join(x.rjust(widths[i]) for i, x in enumerate(c))
    return "\n".join([line(header), "-" * len(line(header))] + [line(r) for r in rows])


def md_table(header, rows):
    return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] +
                     ["| " + " | ".join(r) + " |" for r in rows])


# --------------------------------------------------------------------------------------- faces
def face_benchmarks(build, timeout):
    progs = find_programs(build, "face_bench_")
    if not progs:
        return "no face_bench_* programs in the build dir yet"
    parts = []
    for name, exe in progs.items():
        try:
            r = subprocess.run([exe], capture_output=True, text=True, timeout=timeout)
            body = r.stdout + (f"\n[{name} exited {r.returncode}: {r.stderr.strip()[-300:]}]"
                               if r.returncode else "")
        except subprocess.TimeoutExpired:
            body = f"[{name} timed out after {timeout} s]"
        parts.append(f"### {name}\n\n```\n{body.rstrip()}\n```")
    return "\n\n".join(parts)


# ---------------------------------------------------------------------------------------- main
def machine_info():
    cpu = "?"
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                   if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    vers = []
    for name, _, pkg in PEERS:
        r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", pkg], capture_output=True,
                           text=True)
        vers.append(f"{name} {r.stdout.strip() or '?'}")
    return f"{os.cpu_count()} cpus, {cpu}; " + ", ".join(vers)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("build", help="build dir holding bench_* (searched recursively)")
    ap.add_argument("--rounds", type=int, help="runs per workload and allocator (default 3)")
    ap.add_argument("--only", action="append", help="workload(s) to run, comma-separated")
    ap.add_argument("--quick", action="store_true", help="1 round, 1/4 of the work, fewer counts")
    ap.add_argument("--callgrind", action="store_true", help="only the callgrind fast-path check")
    ap.add_argument("--no-callgrind", action="store_true", help="skip the callgrind check")
    ap.add_argument("--no-face", action="store_true", help="skip the face_bench_* programs")
    ap.add_argument("--alloc", help="comma-separated allocators to use (default: all found)")
    ap.add_argument("--rayalloc", help="path of librayalloc.so (default BUILD/src/librayalloc.so)")
    ap.add_argument("--subject", default="rayalloc", help="allocator compared with the others")
    ap.add_argument("--results", default=os.path.join(REPO, "results"), help="output folder")
    ap.add_argument("--timeout", type=float, default=120, help="seconds per workload run")
    args = ap.parse_args()
    args.rounds = args.rounds or (1 if args.quick else 3)
    scale = 0.25 if args.quick else 1.0
    start = time.time()

    workloads = find_programs(args.build, "bench_")
    probe = workloads.pop("bench_fastpath_cg", None)
    launcher = find_programs(args.build, "measure_exec").get("measure_exec")
    if not launcher:
        sys.exit(f"measure_exec not found under {args.build}: build the suite first")
    workloads = {k[len("bench_"):]: v for k, v in workloads.items()}
    if args.only:
        want = [w for o in args.only for w in o.split(",") if w]
        unknown = [w for w in want if w not in workloads]
        if unknown:
            sys.exit(f"unknown workload(s) {unknown}; have: {' '.join(workloads)}")
        workloads = {w: workloads[w] for w in want}
    if not workloads and not args.callgrind:
        sys.exit(f"no bench_* programs under {args.build}: build the suite first")
    allocs = find_allocators(args, probe)
    say("allocators: " + ", ".join(f"{k} ({v or 'no preload'})" for k, v in allocs.items()))
    if args.subject not in allocs:
        say(f"note: {args.subject} is not available: no ratio columns")
    os.makedirs(args.results, exist_ok=True)
    load = os.getloadavg()[0]
    md = [f"# rayalloc benchmarks\n\n{time.strftime('%Y-%m-%d %H:%M')}; {machine_info()}; "
          f"load average {load:.2f} at start"]
    if load > 0.5:
        say(f"WARNING: load average {load:.2f}: other work is running (or just ran), so times "
            "(above all of the threaded workloads) will be noisy")

    if not args.callgrind:
        say(f"{len(workloads)} workloads x {len(allocs)} allocators x {args.rounds} rounds")
        runs = run_all(launcher, workloads, allocs, args.rounds, scale, args.timeout)
        res = summarise(workloads, allocs, runs)
        n = len(allocs)
        intro = f"Median of {args.rounds} round(s)."
        if args.subject in allocs:
            intro += (f" Ratios: {args.subject} / peer, where 'best' is the best of the others;"
                      f" bar: MISS where {args.subject} is > {BAR}x the best peer"
                      f" (for RSS also > {RSS_SLACK_KB // 1024} MiB above it).")
        say("\n" + intro)
        for key, title in (("time", "Wall time (s)"), ("rss", "Peak RSS (MiB)")):
            h, rows = build_table(workloads, allocs, res, key, args.subject)
            say(f"\n{title}\n" + render(h, rows, n, key))
            md.append(f"## {title}\n\n{intro}\n\n" + render(h, rows, n, key, md=True))
            if args.subject in allocs:
                missed = [r[0] for r in rows if r[-1] in ("MISS", "FAIL")]
                line = f"{key} bars missed by {args.subject}: {', '.join(missed) or 'none'}"
                say(line)
                md.append(line)
        extra_rows = [[w] + [fmt(res[(w, a)]["extras"].get("RSS_AFTER_TEARDOWN_KB"), "rss")
                             for a in allocs] +
                      [fmt(next((res[(w, a)]["extras"]["LIVE_BYTES"] / 1024 for a in allocs
                                 if "LIVE_BYTES" in res[(w, a)]["extras"]), None), "rss"),
                       fmt(min((res[(w, a)]["extras"]["SURVIVOR_PAGES_KB"] for a in allocs
                                if "SURVIVOR_PAGES_KB" in res[(w, a)]["extras"]),
                               default=None), "rss")]
                      for w in workloads if any(res[(w, a)]["extras"] for a in allocs)]
        if extra_rows:
            # "pinned": the pages the surviving blocks touch (the least over the allocators),
            # a floor for any allocator that cannot move live blocks.
            h = ["workload"] + [f"{a} after" for a in allocs] + ["live", "pinned"]
            t = "RSS after teardown and live data (MiB)"
            say(f"\n{t}\n" + text_table(h, extra_rows))
            md.append(f"## {t}\n\n" + md_table(h, extra_rows))
        sc = {a: res[(w, a)]["sizeclass"] for w in workloads for a in allocs
              if res[(w, a)]["sizeclass"]}
        if sc:
            sizes = sorted(next(iter(sc.values())))
            h = ["size"] + list(sc)
            rows = [[str(s)] + [f"{sc[a][s][0]:.1f} / {sc[a][s][1]:.1f}" if s in sc[a] else "-"
                                for a in sc] for s in sizes]
            t = "Per size class: ns per malloc+free, pair / batch of 64"
            say(f"\n{t}\n" + text_table(h, rows))
            md.append(f"## {t}\n\n" + md_table(h, rows))
        problems = [f"{w} under {a}: {res[(w, a)]['status']}" for w in workloads for a in allocs
                    if res[(w, a)]["status"] != "ok"]
        if problems:
            say("\nPROBLEMS (excluded from medians):\n  " + "\n  ".join(problems))
            md.append("## Problems\n\n" + "\n".join(f"- {p}" for p in problems))
        write_csv(os.path.join(args.results, "bench.csv"), workloads, allocs, res, args.subject)
        write_runs_csv(os.path.join(args.results, "bench_runs.csv"), runs)
        plot(args.results, workloads, allocs, res, "time", "bench_time.png", "Median wall time")
        plot(args.results, workloads, allocs, res, "rss", "bench_rss.png", "Median peak RSS")
        md.append("![time](bench_time.png)\n\n![rss](bench_rss.png)")

    if not args.no_callgrind or args.callgrind:
        count = 20000 if args.quick else 100000
        say(f"\ncallgrind fast path: instructions per malloc+free pair ({count} pairs after "
            "warm-up, loop overhead excluded)")
        cg = callgrind(args.build, allocs, count)
        if cg[1] is None:
            say(cg[0])
            md.append(f"## Fast path (callgrind)\n\n{cg[0]}")
        else:
            say(text_table(*cg))
            md.append("## Fast path (callgrind): instructions per malloc+free pair\n\n" +
                      md_table(*cg))

    if not args.no_face and not args.callgrind:
        say("\narray/pool face benchmarks")
        face = face_benchmarks(args.build, 600)
        say(face)
        md.append("## array/pool face benchmarks\n\n" + face)

    # --callgrind alone writes its own page and leaves a full run's bench.md alone.
    page = "callgrind.md" if args.callgrind else "bench.md"
    with open(os.path.join(args.results, page), "w") as f:
        f.write("\n\n".join(md) + "\n")
    files = page if args.callgrind else "bench.csv, bench_runs.csv, bench.md, charts"
    say(f"\nresults in {args.results} ({files}); took {time.time() - start:.0f} s")
    failed = any(res[k]["status"] != "ok" for k in res) if not args.callgrind else False
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
