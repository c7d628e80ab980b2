"""Per-step cost of the event kernels on the current backend (GPU if JAX has one, else the CPU).

Times :func:`braindyn.ops.event_matvec` with ``method="jax"`` (compaction + while loop, today's GPU
path), ``"segment"`` (all synapses) and the load-balanced expansion
(:func:`braindyn.ops.event_expand.event_matvec_expand`), plus ``"ffi"`` (the C++ kernel) on a CPU,
on the COBA connectivity (``fixed_prob`` with 80 expected inputs per neuron) and random spikes at
a given rate, each kernel called inside one ``lax.scan`` of ``--steps`` steps (one compiled
program, as in a run), so the per-step figure includes the loop and launch overheads a simulation
pays. Results agree with each other (``max_abs_diff`` against ``segment``).

    python benchmarks/gpu_event.py                         # 4000, 64000, 256000 neurons
    python benchmarks/gpu_event.py --tiny --json           # CPU smoke test (CI)
"""
from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np

import braindyn.connect as bc
from braindyn.ops import event_matvec, ffi_available
from braindyn.ops.event_expand import event_matvec_expand


def one(n, rate_hz, steps, dt=0.1, seed=0, repeats=3):
    conn = bc.fixed_prob(n, n, 80.0 / n, seed=seed)
    p = rate_hz * dt / 1000.0
    key = jax.random.PRNGKey(seed)
    spikes = jax.random.uniform(key, (steps, n)) < p
    kernels = {"segment": lambda s: event_matvec(conn, s, 0.5, method="segment"),
               "jax": lambda s: event_matvec(conn, s, 0.5, method="jax"),
               "expand": lambda s: event_matvec_expand(conn, s, 0.5)}
    if jax.default_backend() == "cpu" and ffi_available():
        kernels["ffi"] = lambda s: event_matvec(conn, s, 0.5, method="ffi")
    ref = np.asarray(kernels["segment"](spikes[0]))
    rows = []
    for name, k in kernels.items():
        def loop(sp):
            def body(acc, s):
                return acc + k(s), None
            return jax.lax.scan(body, jnp.zeros((n,), jax.eval_shape(k, sp[0]).dtype), sp)[0]

        f = jax.jit(loop).lower(spikes).compile()
        jax.block_until_ready(f(spikes))
        best = np.inf
        for _ in range(repeats):
            t0 = time.perf_counter()
            jax.block_until_ready(f(spikes))
            best = min(best, time.perf_counter() - t0)
        diff = float(np.max(np.abs(np.asarray(k(spikes[0])) - ref)))
        rows.append({"n": n, "nnz": conn.nnz, "rate_hz": rate_hz, "kernel": name, "us_per_step": 1e6 * best / steps,
                     "max_abs_diff": diff})
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="*", default=[4000, 64000, 256000])
    ap.add_argument("--rate", type=float, default=20.0, help="firing rate of the random spikes (Hz)")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--tiny", action="store_true", help="a few hundred neurons, 50 steps (CPU smoke test)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    sizes, steps = ([400], 50) if a.tiny else (a.sizes, a.steps)
    rows = []
    for n in sizes:
        rows += one(n, a.rate, steps, repeats=1 if a.tiny else 3)
    out = {"backend": jax.default_backend(), "device": str(jax.devices()[0]), "steps": steps, "rows": rows}
    if a.json:
        print(json.dumps(out))
    else:
        print(f"backend {out['backend']} ({out['device']}), {steps} steps per timing")
        for r in rows:
            print(f"n={r['n']:>7} nnz={r['nnz']:>9} {r['kernel']:>8}: {r['us_per_step']:9.1f} us/step "
                  f"(max |diff| {r['max_abs_diff']:.1e})")


if __name__ == "__main__":
    main()
