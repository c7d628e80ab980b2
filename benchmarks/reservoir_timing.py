"""Timing of the chapter-9 reservoir entries (full modes) and of a FORCE run (issue 10).

Run ``python benchmarks/reservoir_timing.py``: for each entry, the wall and process CPU time of
``gallery.run_entry(name)`` twice (the first includes compilation), and of 14 s of a 300-unit
FORCE network (dt 0.5 ms, 28 000 steps with an RLS update every 2 steps). Prints one JSON line
per item.
"""
from __future__ import annotations

import json
import time

import jax
import jax.numpy as jnp

import braindyn as bd
from braindyn import gallery
from braindyn.train import force_network, sum_of_sines


def _timed(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def main():
    for name in ("esn-sine", "esn-lorenz", "esn-mackey-glass", "lsm"):
        _, w1, c1 = _timed(lambda: gallery.run_entry(name))
        rep, w2, c2 = _timed(lambda: gallery.run_entry(name))
        print(json.dumps({"item": name, "first_wall_s": round(w1, 2), "first_cpu_s": round(c1, 2),
                          "wall_s": round(w2, 2), "cpu_s": round(c2, 2), "figures": rep.figures}))
    jax.config.update("jax_enable_x64", True)
    net = force_network(300, seed=0)
    tgt = lambda t: jnp.where(t < 10000.0, sum_of_sines(t + 1.0), jnp.nan)  # noqa: E731
    for label in ("first", "second"):
        _, w, c = _timed(lambda: bd.run(net, 14000.0, dt=0.5, inputs={"target": tgt}, record="pop.Z.z"))
        print(json.dumps({"item": f"force-300 ({label})", "wall_s": round(w, 2), "cpu_s": round(c, 2)}))


if __name__ == "__main__":
    main()
