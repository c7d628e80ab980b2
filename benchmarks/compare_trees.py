#!/usr/bin/env python3
"""Time ``braindyn bench`` of two (or more) source trees side by side, in one round-robin.

Each (benchmark, round, tree) is a fresh process ``python -m braindyn.cli bench NAME --json`` run
with the tree first on ``PYTHONPATH`` (and as the working directory, so that nothing else shadows
it), one process at a time, the trees interleaved inside every round so that background load
hits them alike. A tree is a checkout of braindyn, e.g. the previous commit's::

    git worktree add /tmp/oldbd acc0ca7
    python benchmarks/compare_trees.py --tree new=. --tree old=/tmp/oldbd --benches coba,cuba,cobahh --rounds 4

Every process appends one JSON line to ``--out``; the table gives, per benchmark and tree, the
compile time and the run time (wall and CPU seconds of the timed runs: minimum and median over
all runs of all processes) and the ratios of every tree to the first one, with the range of the
per-round ratios (each round's medians compared with each other). A first unrecorded warm-up
process per tree builds its event kernel and any other cache, so no timed process pays for it.
Timings are never asserted by tests.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics as st
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_peers import busy_cores  # noqa: E402  (one definition of the load probe)


def run_tree(path, bench, n, duration, repeats, extra=()):
    env = dict(os.environ, PYTHONPATH=str(path))
    cmd = [sys.executable, "-m", "braindyn.cli", "bench", bench, "--n", str(n), "--duration", str(duration),
           "--repeats", str(repeats), "--json", *extra]
    p = subprocess.run(cmd, cwd=path, env=env, capture_output=True, text=True, timeout=1800)
    if p.returncode != 0:
        return dict(rc=p.returncode, error_tail=p.stderr[-1500:])
    d = json.loads(p.stdout.strip().splitlines()[-1])
    d["rc"] = 0
    return d


def summarize(records, trees):
    lines = []
    for bench in sorted({r["bench"] for r in records}):
        rs = [r for r in records if r["bench"] == bench and r.get("rc") == 0]
        if not rs:
            continue
        agg, per_round = {}, {}
        for name in trees:
            g = [r for r in rs if r["tree"] == name]
            if not g:
                continue
            runs = [x for r in g for x in r["run_s_all"]]
            cpus = [x for r in g for x in r.get("run_cpu_s_all") or []]
            agg[name] = dict(run_min=min(runs), run_med=st.median(runs), cpu_min=min(cpus) if cpus else float("nan"),
                             cpu_med=st.median(cpus) if cpus else float("nan"),
                             comp_med=st.median(r["compile_s"] for r in g), comp_max=max(r["compile_s"] for r in g),
                             rate=st.mean(r["rate_hz"] for r in g), procs=len(g), nruns=len(runs))
            for r in g:
                per_round.setdefault(r["round"], {})[name] = r
        ref = trees[0]
        lines.append(f"\n### {bench}, N = {rs[0]['n']}, {rs[0]['duration_ms'] / 1000:g} s\n")
        lines.append("| tree | run s min | run s median | CPU s min | CPU s median | compile s median (max) | rate Hz "
                     "| x run min | x run median | x CPU median | x compile | per-round x run median | procs/runs |")
        lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for name, a in agg.items():
            b = agg.get(ref)
            ratios = []
            for rnd in per_round.values():
                if name in rnd and ref in rnd:
                    ratios.append(st.median(rnd[name]["run_s_all"]) / st.median(rnd[ref]["run_s_all"]))
            rr = f"{min(ratios):.2f}-{max(ratios):.2f}" if ratios else "-"
            lines.append(f"| {name} | {a['run_min']:.3f} | {a['run_med']:.3f} | {a['cpu_min']:.3f} | {a['cpu_med']:.3f} "
                         f"| {a['comp_med']:.2f} ({a['comp_max']:.2f}) | {a['rate']:.2f} | {a['run_min'] / b['run_min']:.2f} "
                         f"| {a['run_med'] / b['run_med']:.2f} | {a['cpu_med'] / b['cpu_med']:.2f} "
                         f"| {a['comp_med'] / b['comp_med']:.2f} | {rr} | {a['procs']}/{a['nruns']} |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tree", action="append", required=True, metavar="NAME=PATH",
                    help="a braindyn source tree (repeatable; the first is the reference of the ratios)")
    ap.add_argument("--benches", default="coba,cuba,cobahh")
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--duration", type=float, default=1000.0, help="ms")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per process")
    ap.add_argument("--out", default="/tmp/braindyn_compare.jsonl")
    ap.add_argument("--table-only", action="store_true")
    a = ap.parse_args(argv)
    trees = {}
    for t in a.tree:
        name, _, path = t.partition("=")
        trees[name] = Path(path).resolve()
    if not a.table_only:
        for name, path in trees.items():  # warm-up: kernel builds and caches, not recorded
            run_tree(path, "cuba", 200, 10.0, 1)
        for bench in a.benches.split(","):
            for rnd in range(a.rounds):
                order = list(trees.items())
                if rnd % 2:
                    order.reverse()  # alternate who goes first
                for name, path in order:
                    bg = busy_cores()
                    rec = run_tree(path, bench, a.n, a.duration, a.repeats)
                    rec.update(bench=bench, tree=name, path=str(path), round=rnd, bg_busy_cores=bg,
                               loadavg=open("/proc/loadavg").read().split()[:3],
                               stamp=time.strftime("%Y-%m-%d %H:%M:%S"))
                    with open(a.out, "a") as f:
                        f.write(json.dumps(rec) + "\n")
                    print(json.dumps({k: rec.get(k) for k in ("bench", "tree", "round", "rc", "compile_s", "run_s",
                                                              "rate_hz", "bg_busy_cores")}), flush=True)
    records = [json.loads(line) for line in open(a.out) if line.strip()]
    records = [r for r in records if r.get("tree") in trees and r.get("n") in (None, a.n)]
    print(summarize(records, list(trees)))


if __name__ == "__main__":
    main()
