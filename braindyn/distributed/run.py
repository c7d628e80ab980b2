r"""Running a sharded network: one ``jax.shard_map`` around :func:`braindyn.simulate`.

:func:`simulate_sharded` is :func:`braindyn.simulate` on every device at once (the device-local
network of :class:`~braindyn.distributed.ShardedNetwork` and its block of the state);
:func:`run_sharded` is the convenience on top (records brought back to whole-network arrays, a
:class:`~braindyn.RunState` of the whole network to continue from, on any device count).
Times, keys and step indices are those of :func:`braindyn.simulate` (functions of the global
step), so a sharded run resumed from a checkpoint is the same run.

Devices: the first ``devices`` of ``jax.devices()``: with several processes
(:mod:`braindyn.distributed.launch`) these span the processes, and the same code runs.
On a CPU-only machine, :math:`D` devices are made by
``XLA_FLAGS=--xla_force_host_platform_device_count=D`` set before JAX starts.

Checkpoints (:func:`save_sharded`, :func:`load_sharded`): one :class:`~braindyn.RunState`
directory per shard (``shard-000``, ...; each process writes the shards of its own devices),
plus ``sharding.json``. Loading assembles the whole network's run state, which continues on any
number of devices, bit-identically.

Example
-------
>>> import numpy as np
>>> from braindyn.models.benchmarks import build
>>> from braindyn.distributed import run_sharded
>>> b = build("coba", n=200, dtype=np.float32)
>>> res = run_sharded(b.network, 20.0, state0=b.state0, inputs=b.inputs, devices=1,
...                   record=["pop.E.spike", "pop.I.V"])
>>> res.records["pop.E.spike"].shape, res.records["pop.I.V"].shape
((200, 160), (200, 40))
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Optional

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from .._errors import BraindynError
from ..run import make_recorder, simulate
from ..runstate import RunState, fingerprint
from .shard import AXIS, ShardedNetwork, StateLayout, block, block_size, shard_network, unblock

__all__ = ["make_mesh", "simulate_sharded", "prepare_sharded", "run_sharded", "ShardedResult", "save_sharded", "load_sharded",
           "to_host"]


def make_mesh(devices: int) -> Mesh:
    """A one-axis mesh (:data:`~braindyn.distributed.shard.AXIS`) of the first ``devices`` JAX devices."""
    avail = jax.devices()
    if devices > len(avail):
        raise BraindynError(f"{devices} devices asked for, JAX sees {len(avail)} ({avail[0].platform}). Fix: on a "
                            f"CPU set XLA_FLAGS=--xla_force_host_platform_device_count={devices} before JAX starts "
                            f"(`braindyn bench NAME --devices {devices}` does it for you), or launch more processes.")
    return Mesh(np.array(avail[:devices]), (AXIS,))


def _put(x, mesh):
    x = np.asarray(x)
    sharding = NamedSharding(mesh, P(AXIS))
    return jax.make_array_from_callback(x.shape, sharding, lambda idx: x[idx])


def to_host(x) -> np.ndarray:
    """A (possibly multi-process) sharded array as one NumPy array on this process."""
    if isinstance(x, jax.Array) and not x.is_fully_addressable:
        from jax.experimental import multihost_utils

        return np.asarray(multihost_utils.process_allgather(x, tiled=True))
    return np.asarray(x)


def _split_inputs(layout: StateLayout, inputs):
    """``(blocked, rest)``: per-neuron input arrays cut into blocks (stacked), the rest replicated."""
    if inputs is None:
        return {}, None
    if not isinstance(inputs, dict):
        raise BraindynError(f"run_sharded: inputs must be a dict {{population: input}}, got {type(inputs).__name__}.")
    blocked, rest = {}, {}
    for name, v in inputs.items():
        n = layout.sizes.get(name)
        if n is not None and isinstance(v, (np.ndarray, jax.Array, list)) and np.ndim(v) >= 1 \
                and np.shape(v)[0] == n:
            blocked[name] = block(np.asarray(v), n, layout.devices)
        else:
            rest[name] = v
    return blocked, rest


class _Program:
    """The compiled sharded run for one set of static arguments (cached on the ShardedNetwork)."""

    def __init__(self, sn: ShardedNetwork, mesh, n_steps, dt, record, rest_inputs, unroll, record_every=1):
        params, static = eqx.partition(sn.local, eqx.is_array)
        recorder = make_recorder(record).for_gradients() if record is not None else None

        def body(params, state, blocked, istates, key, t0, step_a, step_b):
            sq = lambda tree: jax.tree.map(lambda x: x[0], tree)
            net = eqx.combine(sq(params), static)
            inputs = dict(rest_inputs or {})
            inputs.update(sq(blocked))
            out = simulate(net, sq(state), n_steps, dt, inputs=inputs or None, input_states=sq(istates),
                           record=recorder if recorder is not None else (lambda s: {}), t0=t0[0],
                           step0=(step_a[0], step_b[0]), key=None if key is None else key[0], unroll=unroll,
                           record_every=record_every)
            return jax.tree.map(lambda x: x[None], out)

        spec = P(AXIS)
        self.fn = jax.jit(jax.shard_map(body, mesh=mesh, in_specs=spec, out_specs=spec, check_vma=False))
        self.params = jax.tree.map(lambda x: _put(x, mesh), params)


def simulate_sharded(sn: ShardedNetwork, state, n_steps: int, dt: float, *, inputs=None, input_states=None,
                     record=None, t0: float = 0.0, step0: int = 0, key=None, unroll: int = 1, mesh=None,
                     record_every: int = 1):
    r""":func:`braindyn.simulate` of the sharded network: one program over the mesh.

    Parameters
    ----------
    sn : ShardedNetwork
    state : PyTree
        The stacked per-device state (:meth:`ShardedNetwork.shard_state`).
    n_steps, dt, record, t0, step0, key, unroll, record_every :
        As for :func:`braindyn.simulate`; ``record`` is evaluated on each device's local state
        (its values come back with a leading device axis).
    inputs : dict
        ``{population: input}``: constants and functions of ``t`` are the same on every device;
        arrays with one value per neuron are cut into blocks.
    input_states : list, optional
        States of stateful inputs (default: from ``key``), the same on every device.

    Returns
    -------
    ``(final, records, input_states)`` as global (sharded) arrays with a leading device axis.
    """
    fn, args = prepare_sharded(sn, state, n_steps, dt, inputs=inputs, input_states=input_states, record=record,
                               t0=t0, step0=step0, key=key, unroll=unroll, mesh=mesh, record_every=record_every)
    return fn(*args)


def prepare_sharded(sn: ShardedNetwork, state, n_steps: int, dt: float, *, inputs=None, input_states=None,
                    record=None, t0: float = 0.0, step0: int = 0, key=None, unroll: int = 1, mesh=None,
                    record_every: int = 1):
    """``(fn, args)`` with ``fn(*args)`` = :func:`simulate_sharded` (``fn`` a jitted function: ``fn.lower(*args)
    .compile()`` compiles ahead of time, as the benchmark does)."""
    from .. import inputs as _inputs
    from .. import clock

    mesh = make_mesh(sn.devices) if mesh is None else mesh
    blocked, rest = _split_inputs(sn.layout, inputs)
    rest = _inputs.prepare(rest) if rest else rest
    if key is not None and not isinstance(key, jax.Array):
        key = jax.random.PRNGKey(int(key))
    if input_states is None:
        input_states = _inputs.init_states({**(rest or {}), **blocked}, key)
    cache = sn.__dict__.setdefault("_programs", {})
    ck = (mesh, n_steps, float(dt), make_recorder(record) if record is not None else None, unroll,
          tuple(sorted(blocked)), repr(rest), record_every)
    prog = cache.get(ck)
    if prog is None:
        prog = cache[ck] = _Program(sn, mesh, n_steps, dt, record, rest, unroll, record_every)
    D = sn.devices
    rep = lambda x: np.broadcast_to(np.asarray(x)[None], (D,) + np.shape(x)).copy()
    a, b = clock.split_step(int(step0))
    keyd = None if key is None else _put(rep(key if not jnp.issubdtype(key.dtype, jax.dtypes.prng_key)
                                             else jax.random.key_data(key)), mesh)
    if key is not None and jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        raise BraindynError("simulate_sharded: pass a raw uint32 key (jax.random.PRNGKey) or an int seed.")
    args = (prog.params, jax.tree.map(lambda x: _put(x, mesh), state),
            jax.tree.map(lambda x: _put(x, mesh), blocked),
            jax.tree.map(lambda x: _put(rep(x), mesh), input_states),
            keyd, _put(rep(np.asarray(t0, np.float64 if jax.config.jax_enable_x64 else np.float32)), mesh),
            _put(rep(np.int32(a)), mesh), _put(rep(np.int32(b)), mesh))
    return prog.fn, args


@dataclass
class ShardedResult:
    """What :func:`run_sharded` returns: ``ts`` (ms, end of each step), ``records`` (whole-network NumPy
    arrays, leading axis time; spikes boolean), ``run_state`` (a :class:`~braindyn.RunState` of the whole
    network: continue with ``run_sharded(..., resume=)`` on any device count), ``devices``."""

    ts: np.ndarray
    records: dict
    run_state: RunState
    devices: int

    def spike_count(self, name=None) -> int:
        keys = [k for k in self.records if k.split(".")[-1] == "spike"] if name is None else [name]
        return int(sum(np.asarray(self.records[k]).sum() for k in keys))


def _path_tuple(path: str):
    return tuple(path.split("."))


def _record_spec(record):
    if record is None:
        return None, None
    if callable(record):
        return record, None
    if isinstance(record, str):
        record = [record]
    paths = list(record)
    return {p: p for p in paths}, paths


def run_sharded(network, duration: float, dt: float = 0.1, *, devices: Optional[int] = None, state0=None,
                resume: Optional[RunState] = None, inputs=None, record=None, key=None, t0: float = 0.0,
                unroll: int = 1, sharded: Optional[ShardedNetwork] = None) -> ShardedResult:
    r"""Run ``network`` sharded over ``devices`` devices (see :mod:`braindyn.distributed`).

    Parameters
    ----------
    network : Network
        A flat network of populations and synaptic projections.
    duration : float
        Simulated time (ms), a whole number of steps.
    dt : float
        Step (ms).
    devices : int, optional
        Number of devices (default: all JAX devices).
    state0 : PyTree, optional
        The whole network's initial state (default ``network.init_state()``).
    resume : RunState, optional
        Continue from a run state (of :func:`run_sharded` or :func:`braindyn.run` of the same network).
    inputs : dict
        ``{population: input}`` (constants, functions of ``t``, per-neuron arrays).
    record : str, list of str or function
        State paths (``"pop.E.spike"``, ``"pop.E.V"``, ``"proj.EE.syn.g"``) brought back as whole-network
        arrays; or a function of a device's local state (values come back with a device axis).
    key : int or PRNG key, optional
        Randomness of inputs (and, folded with the block index, of noisy populations).
    sharded : ShardedNetwork, optional
        A prepared :func:`~braindyn.distributed.shard_network` (reused: no rebuild, no recompilation).

    Returns
    -------
    :class:`ShardedResult`
    """
    if sharded is None:
        sharded = shard_network(network, devices)
    sn = sharded
    n_steps = int(round(duration / dt))
    if n_steps < 1 or abs(n_steps * dt - duration) > 1e-9 * max(duration, 1.0):
        raise BraindynError(f"run_sharded: duration={duration} ms is not a whole number (>= 1) of steps of "
                            f"dt={dt} ms. Fix: e.g. duration={max(n_steps, 1) * dt}.")
    istates, step0 = None, 0
    if resume is not None:
        resume.check_compatible(network, dt)
        state0, istates, step0, t0 = resume.state, resume.input_states, resume.step, resume.t0
        key = resume.key
    if state0 is None:
        state0 = network.init_state()
    if key is not None and not isinstance(key, jax.Array):
        key = jax.random.PRNGKey(int(key))
    spec, paths = _record_spec(record)
    stacked = sn.shard_state(state0)
    final, recs, ist = simulate_sharded(sn, stacked, n_steps, dt, inputs=inputs, input_states=istates,
                                        record=spec, t0=t0, step0=step0, key=key, unroll=unroll)
    final = sn.unshard_state(jax.tree.map(to_host, final))
    recs = jax.tree.map(to_host, recs)
    out = {}
    if paths is None:
        out = recs  # device axis first
    else:
        D = sn.devices
        for p in paths:
            r = recs[p]
            rule = sn.layout.leaf_rule(_path_tuple(p))
            if rule[0] == "block" and r.ndim >= 3 and r.shape[2] == block_size(rule[1], D) * rule[2]:
                r = _unblock_time(r, rule, D)
            else:
                r = r[0]
            out[p] = (r > 0) if p.split(".")[-1] == "spike" else r
    ist0 = jax.tree.map(lambda x: jnp.asarray(to_host(x)[0]), ist)
    rs = RunState(state=jax.tree.map(jnp.asarray, final), input_states=ist0, step=step0 + n_steps, t0=float(t0),
                  dt=float(dt), key=key, fingerprint=fingerprint(network, dt))
    ts = float(t0) + (step0 + 1 + np.arange(n_steps)) * dt
    return ShardedResult(ts, out, rs, sn.devices)


def _unblock_time(r, rule, D):
    """Records ``(D, T, C*B, ...)`` -> ``(T, C*n, ...)``."""
    x = unblock(np.moveaxis(r, 1, 2), rule[1], D, rule[2])  # (C*n, T, ...)
    return np.moveaxis(x, 0, 1)


# ------------------------------------------------------------------------------------------------
# checkpoints per shard
# ------------------------------------------------------------------------------------------------
def save_sharded(run_state: RunState, path, network, devices: int, *, mesh=None):
    """Write ``run_state`` (of the whole network) as ``devices`` shards: ``path/shard-DDD`` (each a
    :class:`~braindyn.RunState` directory holding its block of the state) and ``path/sharding.json``.
    Each process writes the shards of the mesh devices it owns (all of them in a single process)."""
    layout = StateLayout(network, devices)
    stacked = layout.shard_state(run_state.state)
    mesh = make_mesh(devices) if mesh is None and jax.process_count() > 1 else mesh
    mine = range(devices) if mesh is None else [d for d, dev in enumerate(mesh.devices.flat)
                                                if dev.process_index == jax.process_index()]
    os.makedirs(path, exist_ok=True)
    for d in mine:
        local = jax.tree.map(lambda x: x[d], stacked)
        RunState(state=local, input_states=run_state.input_states, step=run_state.step, t0=run_state.t0,
                 dt=run_state.dt, key=run_state.key, record_phase=run_state.record_phase,
                 fingerprint=run_state.fingerprint).save(os.path.join(path, f"shard-{d:03d}"))
    if jax.process_index() == 0:
        with open(os.path.join(path, "sharding.json"), "w") as fh:
            json.dump({"format": 1, "devices": devices, "sizes": layout.sizes}, fh)


def load_sharded(path, network) -> RunState:
    """Assemble the whole network's :class:`~braindyn.RunState` from the shards written by
    :func:`save_sharded` (any device count may continue from it)."""
    try:
        with open(os.path.join(path, "sharding.json")) as fh:
            meta = json.load(fh)
    except FileNotFoundError:
        raise BraindynError(f"no sharded checkpoint at {path!r} (no sharding.json). Fix: pass the directory "
                            f"written by save_sharded.") from None
    D = int(meta["devices"])
    layout = StateLayout(network, D)
    if layout.sizes != meta["sizes"]:
        raise BraindynError(f"load_sharded: the checkpoint's populations {meta['sizes']} differ from the "
                            f"network's {layout.sizes}. Fix: load it with the network it was made with.")
    shards = [RunState.load(os.path.join(path, f"shard-{d:03d}")) for d in range(D)]
    stacked = jax.tree.map(lambda *xs: np.stack([np.asarray(x) for x in xs]), *[s.state for s in shards])
    first = shards[0]
    return RunState(state=jax.tree.map(jnp.asarray, layout.unshard_state(stacked)), input_states=first.input_states,
                    step=first.step, t0=first.t0, dt=first.dt, key=first.key, record_phase=first.record_phase,
                    fingerprint=first.fingerprint)
