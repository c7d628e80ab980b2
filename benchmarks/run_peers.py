#!/usr/bin/env python3
"""Run braindyn and every installed peer (Brian2, BrainPy, NEST) on the same benchmark networks.

Each (benchmark, round, simulator) is a fresh process, one at a time (round-robin inside each
round, so background load hits all simulators alike), under ``/usr/bin/time -v`` for the peak
memory of the whole process. The firing rates are checked for agreement, and a table of run
time, build/compile time and peak memory is printed, with ratios to braindyn.

Peers are the scripts of ``../shared/bench`` (``brian2_*.py``, ``brainpy_*.py``, ``nest_*.py``)
run with the interpreters of the throwaway virtual environments ``/tmp/peers/{b2,bp,nest}``
(see ``../shared/bench/README.md``); a peer whose interpreter is missing is skipped.

usage::

    python benchmarks/run_peers.py [--benches coba,cuba,cobahh] [--n 4000] [--T 1.0] [--rounds 2]
                                   [--peers braindyn,brian2-cpp,brian2-cython,brainpy,nest]
                                   [--out benchmarks/results.jsonl] [--table-only]

Timings are never asserted by tests; they live here and in ``benchmarks/README.md``.
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

ROOT = Path(__file__).resolve().parents[1]
PEERS_ROOT = Path(os.environ.get("PEERS_ROOT", "/tmp/peers"))


def bench_dir() -> Path:
    for d in (PEERS_ROOT / "bench", ROOT.parent / "shared" / "bench"):
        if (d / "params.py").exists():
            return d
    raise SystemExit("peer benchmark scripts not found (expected /tmp/peers/bench or ../shared/bench)")


PASSIVE = {"OMP_WAIT_POLICY": "passive"}
PEERS = {
    # name: (python, script pattern, extra args, extra env)
    "brian2-cpp": ("b2", "brian2_{m}.py", ["--mode", "cpp"], dict(B2_THREADS="0")),
    "brian2-cpp-2t": ("b2", "brian2_{m}.py", ["--mode", "cpp"], dict(B2_THREADS="2", **PASSIVE)),
    "brian2-cython": ("b2", "brian2_{m}.py", ["--mode", "cython"], {}),
    "brainpy": ("bp", "brainpy_{m}.py", [], {}),
    # procedural ("just-in-time") connectivity, COBA only: statistically the same network
    "brainpy-jitconn": ("bp", "brainpy_{m}_jitconn.py", [], {}),
    "nest": ("nest", "nest_{m}.py", [], dict(NEST_THREADS="2", **PASSIVE)),
}


def busy_cores(interval=0.5):
    def snap():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v) - v[3] - v[4], sum(v)
    b0, t0 = snap()
    time.sleep(interval)
    b1, t1 = snap()
    return round(os.cpu_count() * (b1 - b0) / max(t1 - t0, 1), 2)


def _maxrss(tfile):
    try:
        for line in open(tfile):
            if "Maximum resident set size" in line:
                return round(int(line.split(":")[1]) / 1024, 1)
    except FileNotFoundError:
        pass
    return None


# XLA on the CPU may run parts of a step on a second thread (COBA: CPU time ~1.9x the wall time;
# XLA_FLAGS thread settings did not change it): the "-1t" rows pin the process to one core
# (taskset), for a thread-matched comparison with Brian2's 1-thread runs.
ONE_CORE = ["taskset", "-c", "0"]


def run_braindyn(model, n, T, nrep, tfile, tree=ROOT, storage="csr", one_thread=False):
    """``braindyn bench`` (the user-built network through ``bd.simulate``) from the source ``tree``
    (``storage="procedural"``: the synapses regenerated from their seed, none stored)."""
    cmd = [sys.executable, "-m", "braindyn.cli", "bench", model, "--n", str(n), "--duration", str(T * 1000.0),
           "--repeats", str(nrep), "--storage", storage, "--json"]
    env = dict(os.environ, PYTHONPATH=str(tree))
    pin = ONE_CORE if one_thread else []
    p = subprocess.run(["/usr/bin/time", "-v", "-o", tfile] + pin + cmd, cwd=tree, env=env, capture_output=True,
                       text=True, timeout=1800)
    if p.returncode != 0:
        return dict(rc=p.returncode, error_tail=p.stderr[-1500:])
    d = json.loads(p.stdout.strip().splitlines()[-1])
    return dict(rc=0, build_s=d["build_s"], compile_s=d["compile_s"], run_s=d["run_s_all"], run_min=d["run_s"],
                run_cpu_s=d.get("run_cpu_s_all"), rate_hz=[d["rate_hz"]], precision=d["precision"],
                nsyn=d["n_synapses"], kernel=d["kernel"], via=d.get("via", "simulate"))


def run_peer(peer, model, n, T, nrep, seed, tfile):
    venv, script, extra, xenv = PEERS[peer]
    py = PEERS_ROOT / venv / "bin" / "python"
    args = [str(py), script.format(m=model), "--N", str(n), "--T", str(T), "--nrep", str(nrep), "--seed", str(seed)]
    args += extra
    if peer.startswith("brian2-cpp"):
        args += ["--tag", f"T{T:g}_{peer}"]
    env = dict(os.environ, PEERS_ROOT=str(PEERS_ROOT), **xenv)
    try:
        p = subprocess.run(["/usr/bin/time", "-v", "-o", tfile] + args, cwd=bench_dir(), env=env, capture_output=True,
                           text=True, timeout=1800)
    except subprocess.TimeoutExpired:
        return dict(rc=-9, error_tail="TIMEOUT")
    rec = dict(rc=p.returncode)
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            rec.update(json.loads(line[7:]))
    if "run_s" not in rec:
        rec["error_tail"] = (p.stderr or "")[-1500:]
        return rec
    runs = rec["run_s"] or [rec["first_run_s"]]
    rec["run_min"] = min(runs)
    if peer.startswith("brian2-cpp"):
        rec["compile_s"] = rec.get("codegen_compile_s")
    elif peer == "nest":
        rec["compile_s"] = rec.get("prepare_s")
    elif rec.get("compile_s") is None:
        rec["compile_s"] = max(rec["first_run_s"] - min(runs), 0.0)
    if peer.startswith("brian2-cpp"):
        rec["binary_rss_mb"] = rec.get("binary_maxrss_mb")
    return rec


def available_peers(names):
    out = []
    for p in names:
        if p in ("braindyn", "braindyn-procedural", "braindyn-1t", "braindyn-procedural-1t"):
            out.append(p)
            continue
        if p not in PEERS:
            raise SystemExit(f"unknown peer {p!r}; known: braindyn, braindyn-1t, braindyn-procedural(-1t), "
                             f"{', '.join(PEERS)}")
        if (PEERS_ROOT / PEERS[p][0] / "bin" / "python").exists():
            out.append(p)
        else:
            print(f"# peer {p} not installed ({PEERS_ROOT / PEERS[p][0]}), skipped", flush=True)
    return out


def summarize(records, rate_tol=0.15):
    """Markdown table (ratios to braindyn) and the rate-agreement verdict per benchmark."""
    lines = []
    benches = sorted({(r["model"], r["n"], r["T"]) for r in records})
    for model, n, T in benches:
        rs = [r for r in records if (r["model"], r["n"], r["T"]) == (model, n, T) and r.get("rc") == 0
              and "run_min" in r]
        by = {}
        for r in rs:
            by.setdefault(r["sim"], []).append(r)
        if not by:
            continue
        agg = {}
        for sim, group in by.items():
            runs = [x for g in group for x in (g["run_s"] or [g["run_min"]])]
            rates = [x for g in group for x in g["rate_hz"]]
            comp = [g["compile_s"] for g in group if g.get("compile_s") is not None]
            rss = [g.get("binary_rss_mb") or g.get("maxrss_mb") for g in group]
            rss = [x for x in rss if x]
            cpus = [x for g in group for x in (g.get("run_cpu_s") or [])]
            agg[sim] = dict(cpu=min(cpus) if cpus else None,
                            run=min(runs), run_med=st.median(runs), build=st.median([g["build_s"] for g in group]),
                            compile=st.median(comp) if comp else float("nan"), rate=st.mean(rates),
                            rss=max(rss) if rss else float("nan"), procs=len(group), nruns=len(runs))
        med_rate = st.median([a["rate"] for a in agg.values()])
        ok = all(abs(a["rate"] - med_rate) <= rate_tol * med_rate for a in agg.values())
        ref = agg.get("braindyn")
        lines.append(f"\n### {model.upper()}, N = {n}, {T:g} s biological time "
                     f"(rates {'agree' if ok else 'DISAGREE'}: all within {int(rate_tol * 100)} % of the median "
                     f"{med_rate:.2f} Hz)\n")
        lines.append("| simulator | run s (min) | run s (median) | x braindyn run | CPU s (min) | build s | compile s | "
                     "peak RSS MB | x braindyn RSS | rate Hz | procs/runs |")
        lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
        order = ["braindyn"] + sorted(s for s in agg if s != "braindyn")
        for sim in order:
            if sim not in agg:
                continue
            a = agg[sim]
            xr = f"{a['run'] / ref['run']:.2f}" if ref else "-"
            xm = f"{a['rss'] / ref['rss']:.2f}" if ref and ref["rss"] == ref["rss"] else "-"
            cpu = "-" if a["cpu"] is None else f"{a['cpu']:.3f}"
            lines.append(f"| {sim} | {a['run']:.3f} | {a['run_med']:.3f} | {xr} | {cpu} | {a['build']:.2f} | "
                         f"{a['compile']:.2f} | {a['rss']:.0f} | {xm} | {a['rate']:.2f} | {a['procs']}/{a['nruns']} |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--benches", default="coba,cuba,cobahh")
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--T", type=float, default=1.0, help="biological seconds per run")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--nrep", type=int, default=2, help="timed runs per process after the first")
    ap.add_argument("--peers", default="braindyn,brian2-cpp,brian2-cython,brainpy,nest")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results.jsonl"))
    ap.add_argument("--table-only", action="store_true")
    ap.add_argument("--braindyn-tree", default=str(ROOT),
                    help="braindyn source tree to time (default: this checkout), e.g. a git worktree of a commit")
    a = ap.parse_args(argv)
    out = Path(a.out)
    if not a.table_only:
        sims = available_peers(a.peers.split(","))
        (PEERS_ROOT / "results").mkdir(parents=True, exist_ok=True)
        for model in a.benches.split(","):
            for rnd in range(a.rounds):
                for sim in sims:
                    bg = busy_cores()
                    tfile = str(PEERS_ROOT / "results" / f"time_{model}_{a.n}_{sim}_{rnd}.txt")
                    t0 = time.time()
                    if sim.startswith("braindyn"):
                        rec = run_braindyn(model, a.n, a.T, a.nrep, tfile, Path(a.braindyn_tree).resolve(),
                                           "procedural" if "procedural" in sim else "csr", sim.endswith("-1t"))
                    else:
                        rec = run_peer(sim, model, a.n, a.T, a.nrep, rnd + 1, tfile)
                    rec.update(sim=sim, model=model, n=a.n, T=a.T, round=rnd, bg_busy_cores=bg,
                               loadavg=open("/proc/loadavg").read().split()[:3], wall_s=round(time.time() - t0, 1),
                               maxrss_mb=_maxrss(tfile), stamp=time.strftime("%Y-%m-%d %H:%M:%S"))
                    with open(out, "a") as f:
                        f.write(json.dumps(rec) + "\n")
                    print(json.dumps({k: rec.get(k) for k in ("model", "sim", "round", "rc", "run_min", "build_s",
                                                              "compile_s", "rate_hz", "maxrss_mb", "bg_busy_cores")}),
                          flush=True)
    records = [json.loads(line) for line in open(out) if line.strip()]
    records = [r for r in records if r.get("n") == a.n and r.get("T") == a.T]
    print(summarize(records))


if __name__ == "__main__":
    main()
