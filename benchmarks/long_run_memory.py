"""Memory of a long recorded run: the 4000-neuron COBA network streaming its records to disk.

The issue's figure: a 10^6-step run (100 s at dt = 0.1 ms) of the 4000-neuron COBA network that
records every neuron's voltage and spikes every 10 steps (V: 10^5 x 4000 float32 = 1.6 GB; spike
counts per 10-step window: 400 MB of int8) peaks within 1.5x the resident memory of the same run
without records, because ``run(..., store=...)`` streams each chunk's records to a compressed
Zarr v3 store and keeps none in memory.

Each mode runs in a fresh process (peak RSS = ``ru_maxrss`` of that process):

* ``none``: no records (``record=lambda s: {}``);
* ``store``: ``record=[pop.E.V, pop.I.V, pop.E.spike, pop.I.spike], record_every=10, store=...``;
* ``memory``: the same records kept in memory (preallocated host arrays filled chunk by chunk,
  never concatenated: about 1x the records' size, not 2x).

Run:  python benchmarks/long_run_memory.py [--steps 1000000] [--n 4000] [--modes none,store,memory]
Prints one JSON line per mode and a summary line with the ratios.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

REC = ["pop.E.V", "pop.I.V", "pop.E.spike", "pop.I.spike"]


def one(mode, steps, n, every, chunk, folder):
    import braindyn as bd
    from braindyn.models.benchmarks import build

    net, state, inputs = build("coba", n=n)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kw = dict(state0=state, inputs=inputs, progress=False, chunk_steps=chunk or None, record_every=every)
    store = os.path.join(folder, "coba.zarr") if mode == "store" else None
    t = time.perf_counter()
    if mode == "none":
        res = bd.run(net, steps * 0.1, 0.1, record=lambda s: {}, **kw)
        spikes = None
    else:
        res = bd.run(net, steps * 0.1, 0.1, record=REC, store=store, memory_limit=float("inf"), **kw)
        spikes = int(res.spike_count("pop.E.spike") + res.spike_count("pop.I.spike"))
    wall = time.perf_counter() - t
    out = {"mode": mode, "steps": steps, "n": n, "record_every": every, "chunk_steps": chunk,
           "wall_s": round(wall, 1), "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
           "rss_after_build_mb": round(rss0, 1), "spikes": spikes,
           "records_mb": round(bd.estimate_memory(net, steps * 0.1, record=REC, record_every=every,
                                                  state0=state).records_bytes / 2**20, 1)}
    if store:
        out["store_mb_on_disk"] = round(sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(store)
                                            for f in fs) / 2**20, 1)
    print(json.dumps(out), flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=1_000_000)
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--every", type=int, default=10)
    ap.add_argument("--chunk", type=int, default=0, help="steps per chunk (0: run's default)")
    ap.add_argument("--modes", default="none,store,memory")
    ap.add_argument("--one", default=None)
    ap.add_argument("--dir", default=None)
    args = ap.parse_args(argv)
    if args.one:
        one(args.one, args.steps, args.n, args.every, args.chunk, args.dir)
        return
    folder = tempfile.mkdtemp(prefix="bd-longrun-")
    results = {}
    try:
        for mode in args.modes.split(","):
            cmd = [sys.executable, os.path.abspath(__file__), "--one", mode, "--steps", str(args.steps), "--n",
                   str(args.n), "--every", str(args.every), "--chunk", str(args.chunk), "--dir", folder]
            line = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
            print(line, flush=True)
            results[mode] = json.loads(line)
            shutil.rmtree(os.path.join(folder, "coba.zarr"), ignore_errors=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if "none" in results:
        base = results["none"]["peak_rss_mb"]
        print(json.dumps({"summary": {m: round(r["peak_rss_mb"] / base, 2) for m, r in results.items()},
                          "records_mb": results.get("store", results.get("memory", {})).get("records_mb")}))


if __name__ == "__main__":
    main()
