"""Memory of a long recorded run: 10 s of the 4000-neuron COBA network with its full spike raster.

The runner bit-packs boolean records (1 bit per neuron and step) and moves each chunk's records
to the host, so device memory is bounded by one chunk and the raster of 10 s at dt = 0.1 ms
(100 000 steps x 4000 neurons) costs 50 MB instead of 400 MB of booleans or 1.6 GB of float32.

Run:  python benchmarks/long_run_memory.py [--duration MS] [--n N]
Prints one JSON line with the raster size, the spike count, the wall time and the peak RSS.
"""
from __future__ import annotations

import argparse
import json
import resource
import time

import braindyn as bd
from braindyn.models.benchmarks import build


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=10000.0)
    ap.add_argument("--n", type=int, default=4000)
    args = ap.parse_args(argv)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    net, state, inputs = build("coba", n=args.n)
    t = time.perf_counter()
    res = bd.run(net, args.duration, 0.1, state0=state, inputs=inputs, record={"E": "pop.E.spike", "I": "pop.I.spike"},
                 progress=False)
    wall = time.perf_counter() - t
    rasters = (res["E"], res["I"])
    out = {
        "n": args.n,
        "duration_ms": args.duration,
        "steps": res.n_steps,
        "raster_mb": sum(r.packed.nbytes for r in rasters) / 2**20,
        "dense_bool_mb": res.n_steps * args.n / 2**20,
        "spike_count": int(sum(r.counts().sum() for r in rasters)),
        "rate_hz": sum(r.counts().sum() for r in rasters) / args.n / (args.duration / 1000.0),
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rss_before_mb": round(rss0, 1),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
