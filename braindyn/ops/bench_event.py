"""Per-step cost of event propagation inside a 10k-step ``lax.scan``.

Not a test: run ``python -m braindyn.ops.bench_event [--n 4000 --p 0.02 --rate 0.02]``.
Each step takes one of 64 pre-drawn spike vectors (``rate`` of neurons spiking)
and propagates it; the cost of the bare loop is measured and subtracted.
"""
from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

from braindyn.connect import ProceduralConn, fixed_prob
from braindyn.ops import event_matvec


def _time(fn, *args, reps=3):
    jax.block_until_ready(fn(*args))
    best = np.inf
    for _ in range(reps):
        t = time.perf_counter()
        jax.block_until_ready(fn(*args))
        best = min(best, time.perf_counter() - t)
    return best


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--p", type=float, default=0.02)
    ap.add_argument("--rate", type=float, default=0.02)
    ap.add_argument("--steps", type=int, default=10_000)
    a = ap.parse_args(argv)
    conn = fixed_prob(a.n, a.n, a.p, seed=0)
    w = jnp.asarray(np.random.default_rng(0).normal(0.5, 0.1, conn.nnz), jnp.float32)
    pc = ProceduralConn(a.n, a.n, a.p, seed=0, weight=0.5)
    dense = jnp.asarray(conn.to_dense(np.asarray(w)))

    bank = jnp.asarray(np.random.default_rng(1).random((64, a.n)) < a.rate)

    def run(prop):
        @jax.jit
        def f(bank):
            def step(carry, t):
                s = bank[t % bank.shape[0]]
                return carry + prop(s), None
            return jax.lax.scan(step, jnp.zeros(a.n), jnp.arange(a.steps))[0]
        return _time(f, bank)

    base = run(lambda s: jnp.zeros(a.n).at[0].add(s[0]))
    print(f"N={a.n} p={a.p} rate={a.rate} nnz={conn.nnz} steps={a.steps} "
          f"(loop + spike lookup alone: {1e6 * base / a.steps:.1f} us/step, subtracted)")
    cases = {
        "csr ffi, scalar w": lambda s: event_matvec(conn, s, 0.5, method="ffi"),
        "csr ffi, per-syn w": lambda s: event_matvec(conn, s, w, method="ffi"),
        "csr jax-event, scalar w": lambda s: event_matvec(conn, s, 0.5, method="jax"),
        "csr jax-event, per-syn w": lambda s: event_matvec(conn, s, w, method="jax"),
        "csr segment, per-syn w": lambda s: event_matvec(conn, s, w, method="segment"),
        "dense matvec": lambda s: event_matvec(dense, s),
        "procedural (jax)": lambda s: event_matvec(pc, s),
    }
    for name, prop in cases.items():
        t = run(prop)
        print(f"{name:28s} {1e6 * (t - base) / a.steps:8.2f} us/step "
              f"(total {1e6 * t / a.steps:.2f})")


if __name__ == "__main__":
    main()
