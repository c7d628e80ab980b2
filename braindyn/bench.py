"""``braindyn bench NAME``: build, compile and time a benchmark network (COBA, CUBA, COBA-HH).

The networks are the user-built ones of :mod:`braindyn.models.benchmarks` (public neurons,
projections and connectivity; no benchmark-only code), and they are run the way a user runs
them: ``via="simulate"`` (default) compiles ``bd.simulate(network, state0, n_steps, dt,
inputs=..., record=..., unroll=...)`` with ``jax.jit`` ahead of time and calls the compiled
function; ``via="run"`` calls ``bd.run(network, duration, state0=..., inputs=..., record=...)``
(the checked, chunked runner: finiteness checks and records moved to the host included).

Timing protocol (the peers' protocol, see ``benchmarks/README.md``):

* ``build_s`` — constructing the connectivity, the network and its initial state (host side);
* ``compile_s`` — tracing, lowering and XLA compilation of the whole run (one ``lax.scan``),
  ahead of time, so no run pays for it (``via="run"``: the first call minus the fastest later one);
* ``run_s`` — the simulation alone, after compilation: the minimum over ``repeats`` runs of
  the compiled function on the same initial state (``run_s_all`` lists them all);
* ``run_cpu_s_all`` — CPU seconds (all threads) of each run, a companion robust to other load;
* ``rate_hz`` — mean firing rate over the neurons and the simulated time (first run);
* ``peak_rss_mb`` — peak resident memory of the process so far.

Only each neuron's spike count over the run is recorded (``record="pop.E.spike"`` etc. with
``record_every`` = the whole run: the count is accumulated in the loop), as Brian2's
``SpikeMonitor(record=False)`` does, so the timing is the simulation itself.

Example
-------
>>> from braindyn.bench import run_benchmark
>>> out = run_benchmark("coba", n=400, duration=20.0, repeats=1)
>>> sorted(k for k in out if k.endswith("_s"))
['build_s', 'compile_s', 'run_s']
"""
from __future__ import annotations

import os
import resource
import sys
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._errors import BraindynError, check_choice, check_positive
from .run import simulate

__all__ = ["run_benchmark", "peak_rss_mb"]


def peak_rss_mb() -> float:
    """Peak resident set size of this process (MB)."""
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 1024.0 if sys.platform != "darwin" else r / 2 ** 20


def _kernel_name():
    from .ops import ffi_available

    env = os.environ.get("BRAINDYN_EVENT_KERNEL", "auto").strip().lower() or "auto"
    if env in ("jax", "segment"):
        return env
    on_cpu = jax.default_backend() == "cpu"
    return "ffi" if (on_cpu and ffi_available()) else "jax"


def _spike_records(state0) -> dict:
    """The benchmark's only record: each population's spike vector, named ``pop.NAME.spike``;
    with ``record_every`` = the whole run it holds each neuron's spike count (what Brian2's
    ``SpikeMonitor(record=False)`` keeps)."""
    return {name: f"pop.{name}.spike" for name in state0["pop"]}


def _total(rec, sharded=False) -> int:
    # sharded: every device holds the whole spike vectors, device 0's counts are the totals
    return int(sum(np.asarray(jax.device_get(v), np.int64)[0 if sharded else slice(None)].sum() for v in rec.values()))


def run_benchmark(name: str, n: int = 4000, duration: float = 1000.0, repeats: int = 3, *, seed: int = 1,
                  dtype=None, storage: str = "csr", dt: float | None = None, unroll: int = 1,
                  via: str = "simulate", devices: int | None = None) -> dict:
    """Build, compile and run the benchmark ``name``; return the timings and the firing rate.

    Parameters
    ----------
    name : {"coba", "cuba", "cobahh"}
    n : int
        Number of neurons.
    duration : float
        Simulated time per run (ms).
    repeats : int
        Timed runs after compilation (>= 1); ``run_s`` is their minimum.
    seed : int
        Seed of connectivity and initial state.
    dtype : dtype, optional
        ``jnp.float32`` (default) or ``jnp.float64`` (needs ``jax_enable_x64``).
    storage : str
        Connectivity storage (see :func:`braindyn.models.benchmarks.build`).
    dt : float, optional
        Step (ms); default the benchmark's 0.1.
    unroll : int
        Steps per loop iteration of the compiled scan (default 1: each unrolled step stays its
        own computation, for bit-identical results, so unrolling saves only the loop test and
        measured slower on the CPU; see ``benchmarks/README.md``).
    via : {"simulate", "run"}
        Time ``jax.jit(bd.simulate)`` compiled ahead of time (default), or ``bd.run``.
    devices : int, optional
        Shard the network over this many devices (:mod:`braindyn.distributed`: blocks of
        neurons, synapses with their targets, one spike all-gather per step), compiled ahead of
        time like ``via="simulate"``. JAX must see that many devices (on a CPU:
        ``XLA_FLAGS=--xla_force_host_platform_device_count=D`` before JAX starts, which
        ``braindyn bench --devices D`` sets for you). ``None``: the unsharded network.

    Returns
    -------
    dict with ``name, n, duration_ms, dt_ms, n_steps, n_synapses, build_s, compile_s, run_s,
    run_s_all, run_cpu_s_all, rate_hz, spikes, peak_rss_mb, precision, kernel, storage, backend,
    unroll, via, devices``.
    """
    from .run import run as _run
    from .models import benchmarks as B

    check_choice("benchmark", name, B.NAMES, "braindyn bench")
    check_choice("via", via, ("simulate", "run"), "braindyn bench")
    check_positive("duration", duration, "braindyn bench", "ms")
    if not isinstance(repeats, int) or isinstance(repeats, bool) or repeats < 1:
        raise BraindynError(f"'repeats' of braindyn bench must be an integer >= 1, got {repeats!r}. Fix: --repeats 3.")
    dt = B.DT if dt is None else float(dt)
    n_steps = int(round(duration / dt))
    if n_steps < 1:
        raise BraindynError(f"duration={duration} ms is shorter than one step ({dt} ms). Fix: e.g. --duration 1000.")

    t0 = time.perf_counter()
    net, state0, inputs = B.build(name, n, seed=seed, dtype=dtype, storage=storage)
    jax.block_until_ready(([x for x in jax.tree.leaves(net) if isinstance(x, jax.Array)], state0))
    build_s = time.perf_counter() - t0

    runs, cpus, spikes = [], [], None
    if devices is not None:
        if not isinstance(devices, int) or isinstance(devices, bool) or devices < 1:
            raise BraindynError(f"'devices' of braindyn bench must be a positive integer, got {devices!r}. "
                                f"Fix: --devices 2.")
        from .distributed import prepare_sharded, shard_network

        t0 = time.perf_counter()
        sn = shard_network(net, devices)
        fn, args = prepare_sharded(sn, sn.shard_state(state0), n_steps, dt, inputs=inputs,
                                   record=_spike_records(state0), record_every=n_steps, unroll=unroll)
        build_s += time.perf_counter() - t0
        t0 = time.perf_counter()
        compiled = fn.lower(*args).compile()
        compile_s = time.perf_counter() - t0
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            final, rec, _ = compiled(*args)
            jax.block_until_ready((final, rec))
            runs.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
            if spikes is None:
                spikes = _total(rec, sharded=True)
        via = "sharded"
    elif via == "simulate":
        params, static = eqx.partition(net, eqx.is_array)

        def go(params, state):
            final, rec, _ = simulate(eqx.combine(params, static), state, n_steps, dt, inputs=inputs,
                                     record=_spike_records(state0), record_every=n_steps, unroll=unroll)
            return final, rec

        t0 = time.perf_counter()
        compiled = jax.jit(go).lower(params, state0).compile()
        compile_s = time.perf_counter() - t0
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            final, counts = compiled(params, state0)
            jax.block_until_ready((final, counts))
            runs.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
            if spikes is None:
                spikes = _total(counts)
    else:
        first = None
        for i in range(repeats + 1):
            t0, c0 = time.perf_counter(), time.process_time()
            res = _run(net, n_steps * dt, dt, state0=state0, inputs=inputs, record=_spike_records(state0),
                       record_every=n_steps, unroll=unroll, progress=False)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            if i == 0:
                first = wall
                spikes = _total({k: res[k] for k in _spike_records(state0)})
            else:
                runs.append(wall)
                cpus.append(cpu)
        compile_s = max(first - min(runs), 0.0)
    nsyn = 0
    for pr in net.projections.values():
        c = pr.conn
        if hasattr(c, "n_cand"):  # procedural: the expected number (no synapse is stored)
            nsyn += int(round(c.n_pre * c.n_cand * c.p))
        else:
            nsyn += int(c.nnz) if hasattr(c, "nnz") else int(np.count_nonzero(np.asarray(c))) if hasattr(c, "shape") else 0
    first_pop = next(iter(state0["pop"].values()))
    return {
        "name": name, "n": n, "duration_ms": float(n_steps * dt), "dt_ms": dt, "n_steps": n_steps,
        "n_synapses": nsyn, "build_s": build_s, "compile_s": compile_s, "run_s": min(runs), "run_s_all": runs,
        "run_cpu_s_all": cpus,
        "rate_hz": spikes / n / (n_steps * dt / 1000.0), "spikes": spikes, "peak_rss_mb": peak_rss_mb(),
        "precision": str(jnp.dtype(first_pop["V"].dtype)), "kernel": _kernel_name(),
        "storage": storage, "backend": jax.default_backend(), "unroll": unroll, "via": via,
        "devices": 1 if devices is None else devices,
    }
