"""Memory of back-propagation through time: peak RSS with and without gradient checkpointing.

BPTT through 10 000, 50 000 and 200 000 steps of a 1000-neuron rate network (tanh units,
tau = 10 ms, dt = 1 ms, sparse recurrent connectivity p = 0.02 with one trainable weight per
synapse, 20 000 weights; float32), the loss a function of the population mean at every step.
Each case runs in its own subprocess (``ru_maxrss`` is a per-process peak): the gradient of
the loss with respect to the 20 000 weights by ``jax.value_and_grad`` of
:func:`braindyn.train.rollout`, with ``checkpoint_every=None`` (plain BPTT: residuals of every
step kept, memory linear in the steps) or ``checkpoint_every=K`` with K about sqrt(steps)
(memory ~ steps/K + K states). A forward-only run (the loss without gradient) gives the
baseline of each length.

Run:  python benchmarks/bptt_memory.py [--steps 10000 50000 200000] [--cap-gb 6]
      python benchmarks/bptt_memory.py --case STEPS K|none|forward      (one case, one JSON line)
A plain-BPTT case whose memory, extrapolated from the shorter plain runs, exceeds --cap-gb is
not run (reported as skipped, with the extrapolation).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time


def build(n=1000, p=0.02, seed=0):
    import jax.numpy as jnp
    import numpy as np

    import braindyn as bd
    import braindyn.connect as bc
    from braindyn.synapses import Instant, SynapticProjection

    conn = bc.fixed_prob(n, n, p, seed=seed)
    w = np.full(conn.nnz, 1.5 / math.sqrt(n * p), np.float32)
    net = bd.Network({"R": bd.neurons.RateUnit(n=n, f="tanh", tau=10.0)},
                     {"RR": SynapticProjection("R", "R", conn, w, Instant(), signal="r")})
    params, static = bd.trainable(net, freeze=("gain", "theta", "r_max", "scale", "tau"))
    I = jnp.sin(jnp.arange(n, dtype=jnp.float32) * 0.1)
    return net, params, static, I


def case(steps: int, K):
    import jax
    import jax.numpy as jnp

    import braindyn as bd

    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    net, params, static, I = build()
    n_weights = sum(x.size for x in jax.tree.leaves(params))

    def loss(p):
        m = bd.params.combine(p, static)
        _, rec = bd.train.rollout(m, m.init_state(), steps, 1.0, inputs={"R": I},
                                  record=lambda s: {"m": jnp.mean(s["pop"]["R"]["r"])},
                                  checkpoint_every=None if K in (None, "forward") else K)
        return jnp.mean((rec["m"] - 0.1) ** 2)

    fn = jax.jit(loss) if K == "forward" else jax.jit(jax.value_and_grad(loss))
    t = time.perf_counter()
    compiled = fn.lower(params).compile()
    t_compile = time.perf_counter() - t
    rss_compiled = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = time.perf_counter()
    out = jax.block_until_ready(compiled(params))
    wall = time.perf_counter() - t
    L = out if K == "forward" else out[0]
    gnorm = None if K == "forward" else float(jnp.sqrt(sum(jnp.sum(g ** 2) for g in jax.tree.leaves(out[1]))))
    return {"steps": steps, "checkpoint_every": K, "n_weights": int(n_weights), "loss": float(L), "grad_norm": gnorm,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "rss_after_compile_mb": round(rss_compiled, 1), "rss_start_mb": round(rss0, 1),
            "compile_s": round(t_compile, 2), "run_s": round(wall, 2)}


def run_case(steps, K, timeout=3600):
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    cmd = [sys.executable, __file__, "--case", str(steps), "none" if K is None else str(K)]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if p.returncode != 0:
        tail = (p.stderr or "").strip().splitlines()[-3:]
        return {"steps": steps, "checkpoint_every": K, "error": f"exit {p.returncode}: {' | '.join(tail)}"}
    return json.loads(p.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", nargs=2, metavar=("STEPS", "K"))
    ap.add_argument("--steps", type=int, nargs="+", default=[10000, 50000, 200000])
    ap.add_argument("--cap-gb", type=float, default=6.0)
    args = ap.parse_args(argv)
    if args.case:
        steps, K = int(args.case[0]), args.case[1]
        K = None if K == "none" else ("forward" if K == "forward" else int(K))
        print(json.dumps(case(steps, K)))
        return
    rows, plain = [], []
    for steps in args.steps:
        K = int(round(math.sqrt(steps)))
        for k in ("forward", K, None):
            if k is None and len(plain) >= 2:
                (s1, m1), (s2, m2) = plain[-2:]
                slope = (m2 - m1) / (s2 - s1)
                est = m2 + slope * (steps - s2)
                if est > args.cap_gb * 1024:
                    rows.append({"steps": steps, "checkpoint_every": None, "skipped":
                                 f"extrapolated peak RSS {est / 1024:.1f} GB > cap {args.cap_gb} GB "
                                 f"({slope * 1024:.1f} kB per step)"})
                    print(json.dumps(rows[-1]), flush=True)
                    continue
            r = run_case(steps, k)
            rows.append(r)
            print(json.dumps(r), flush=True)
            if k is None and "peak_rss_mb" in r:
                plain.append((steps, r["peak_rss_mb"]))
    print("\n| steps | forward only | BPTT, checkpoint_every=K (K) | plain BPTT |")
    print("|---:|---:|---:|---:|")
    for steps in args.steps:
        cell = {}
        for r in rows:
            if r["steps"] != steps:
                continue
            k = r["checkpoint_every"]
            key = "f" if k == "forward" else ("p" if k is None else "c")
            if "peak_rss_mb" in r:
                cell[key] = f"{r['peak_rss_mb']:.0f} MB ({r['run_s']:.0f} s)" + (f" (K={k})" if key == "c" else "")
            else:
                cell[key] = r.get("skipped") or r.get("error")
        print(f"| {steps} | {cell.get('f', '')} | {cell.get('c', '')} | {cell.get('p', '')} |")


if __name__ == "__main__":
    main()
