"""Running models: one ``lax.scan`` per chunk, records chosen by function, NaN located exactly.

Two levels:

* :func:`simulate` is pure JAX: ``(model, state, inputs, key) -> (final_state, records)``.
  It is what you ``jit``, ``vmap`` (parameter sweeps) and differentiate (training).
* :func:`run` is the convenience on top: it builds the initial state, runs in chunks (so
  device memory is bounded and a progress bar can be shown between chunks at no cost per
  step), moves records to the host as NumPy arrays (spike rasters bit-packed, 1 bit per
  neuron and step), checks every step for non-finite values and, when one appears,
  reports the variable, the neuron and the step, keeping every record made before it.

Time convention: the step with index ``i`` goes from ``t_i = t0 + i dt`` to ``t_i + dt``; a
record made after that step is stamped ``t_i + dt`` (``time_label="end"``, the time at which
the recorded state is valid), or ``t_i`` (``time_label="start"``, the step labels of the book
and BrainPy, exactly ``dt`` earlier).
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from . import inputs as _inputs
from ._errors import BraindynError, SimulationDiverged, check_choice, check_positive

__all__ = ["simulate", "run", "RunResult", "SpikeTrain", "make_recorder"]


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------
def _get_path(state, path: str):
    node = state
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            keys = list(node.keys()) if isinstance(node, dict) else []
            raise BraindynError(
                f"cannot record {path!r}: {part!r} is not in the state (available here: {keys}). "
                f"Fix: name a state variable, e.g. record='V' or record=['E.V', 'E.spike']."
            )
        node = node[part]
    return node


def _flatten_dict(tree, prefix=""):
    if isinstance(tree, dict):
        out = {}
        for k, v in tree.items():
            out.update(_flatten_dict(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1] or "value": tree}


class _Recorder:
    """A record specification as a hashable value, so compiled runs are reused across calls."""

    def __init__(self, kind, spec):
        self.kind, self.spec = kind, spec

    def _key(self):
        if self.kind == "names":
            return (self.kind, tuple(self.spec.items()))
        return (self.kind, self.spec)

    def __hash__(self):
        return hash(self._key())

    def __eq__(self, other):
        return isinstance(other, _Recorder) and self._key() == other._key()

    def __call__(self, state):
        if self.kind == "all":
            return _flatten_dict(_strip(state))
        if self.kind == "fn":
            return _flatten_dict(self.spec(state))
        out = {}
        for label, how in self.spec.items():
            if callable(how):
                out.update(_flatten_dict(how(state), f"{label}."))
            else:
                v = _get_path(state, how)
                out[label] = v > 0 if how.split(".")[-1] == "spike" else v
        return out


def make_recorder(record) -> Callable:
    """Turn a ``record`` specification into a function ``state -> flat dict of arrays``.

    ``record`` may be a variable name (``"V"``; dotted for nested states: ``"E.spike"``), a
    list of names, a dict ``{label: name or function(state)}``, a function ``state -> PyTree``
    (nested dicts are flattened to dotted labels), or ``None`` (every variable of the state
    except ``t_last``). Records of a variable named ``spike`` are stored as booleans.
    Two equal specifications give equal recorders, so a compiled run is reused.
    """
    if isinstance(record, _Recorder):
        return record
    if record is None:
        return _Recorder("all", None)
    if callable(record):
        return _Recorder("fn", record)
    if isinstance(record, str):
        record = [record]
    if isinstance(record, (list, tuple)):
        record = {r: r for r in record}
    if not isinstance(record, dict):
        raise BraindynError(
            f"'record' must be a name, a list of names, a dict or a function, got {type(record).__name__}. "
            f"Fix: e.g. record=['V', 'spike']."
        )
    return _Recorder("names", dict(record))


def _strip(state):
    if isinstance(state, dict):
        return {k: (v > 0 if k == "spike" else _strip(v)) for k, v in state.items() if k != "t_last"}
    return state


def _packable(x) -> bool:
    return x.dtype == np.bool_ and x.ndim >= 1


def _pack(tree):
    return jax.tree.map(lambda x: jnp.packbits(x, axis=-1) if _packable(x) else x, tree)


class SpikeTrain:
    """A recorded boolean raster ``(records, neurons)``, stored bit-packed (1 bit per entry).

    ``np.asarray(train)`` unpacks it; :meth:`events` gives ``(times, neuron_indices)``;
    :meth:`counts` the spike count per neuron.
    """

    def __init__(self, packed: np.ndarray, n: int, ts: np.ndarray):
        self.packed = packed
        self.n = n
        self.ts = ts

    @property
    def shape(self):
        return self.packed.shape[:-1] + (self.n,)

    def dense(self) -> np.ndarray:
        return np.unpackbits(self.packed, axis=-1, count=self.n).astype(bool)

    def __array__(self, dtype=None, copy=None):
        d = self.dense()
        return d if dtype is None else d.astype(dtype)

    def __getitem__(self, idx):
        return self.dense()[idx]

    def events(self, block: int = 4096):
        """Spike times (ms) and neuron indices, in time order (unpacked block by block)."""
        times, idx = [], []
        for s in range(0, self.packed.shape[0], block):
            r, c = np.nonzero(np.unpackbits(self.packed[s : s + block], axis=-1, count=self.n))
            times.append(self.ts[s + r])
            idx.append(c)
        if not times:
            return np.zeros(0), np.zeros(0, int)
        return np.concatenate(times), np.concatenate(idx)

    def counts(self) -> np.ndarray:
        total = np.zeros(self.n, np.int64)
        for s in range(0, self.packed.shape[0], 4096):
            total += np.unpackbits(self.packed[s : s + 4096], axis=-1, count=self.n).sum(axis=0, dtype=np.int64)
        return total

    def __len__(self):
        return self.packed.shape[0]

    def __repr__(self):
        return f"SpikeTrain(steps={self.packed.shape[0]}, neurons={self.n}, spikes={int(self.counts().sum())})"


# ---------------------------------------------------------------------------------------------
# The pure loop
# ---------------------------------------------------------------------------------------------
def _all_finite(state):
    leaves = [l for l in jax.tree.leaves(state) if jnp.issubdtype(l.dtype, jnp.inexact)]
    if not leaves:
        return jnp.array(True)
    ok = jnp.array(True)
    for l in leaves:
        ok = ok & jnp.all(jnp.isfinite(l))
    return ok


def _to_key(key):
    if key is None:
        return jax.random.PRNGKey(0)
    if isinstance(key, int):
        return jax.random.PRNGKey(key)
    return key


def simulate(model, state, n_steps: int, dt: float, *, inputs=None, input_states=None, record=None,
             record_every: int = 1, t0=0.0, step0=0, key=None, check_finite: bool = False, pack: bool = False,
             unroll: int = 1):
    """Run ``model`` for ``n_steps`` steps of ``dt`` ms: one ``lax.scan`` (pure JAX).

    Parameters
    ----------
    model : Dynamics
        Anything with ``step(state, inputs, t, dt, key)``.
    state : PyTree
        Initial state (``model.init_state()``).
    n_steps : int
        Number of steps (static); must be a multiple of ``record_every``.
    dt : float
        Time step (ms, static).
    inputs : input PyTree
        Constants, functions of ``t``, :class:`braindyn.inputs.Input` objects, or dicts of them.
    input_states : list, optional
        States of the stateful inputs (default: freshly initialised from ``key``).
    record : see :func:`make_recorder`.
    record_every : int
        Record every this many steps.
    t0 : float
        Time (ms) at the start of the first step; step ``step0 + i`` starts at ``t0 + i dt``.
    step0 : int
        Global index of the first step (keys are derived from it, so a run split in chunks
        draws the same random numbers as a single run).
    key : int or PRNG key
        Randomness of inputs and noisy models.
    check_finite : bool
        Also return the index of the first step whose result is non-finite (-1 if none).
    pack : bool
        Bit-pack boolean records (what :func:`run` does).
    unroll : int
        Steps unrolled per loop iteration (``lax.scan``'s ``unroll``): fewer loop iterations cut
        the per-step overhead of small models on the CPU, at a longer compile time.

    Returns
    -------
    ``(final_state, records, input_states)``, plus ``first_bad_step`` if ``check_finite``.

    Example
    -------
    >>> import jax, braindyn as bd
    >>> lif = bd.neurons.LIF()
    >>> final, rec, _ = jax.jit(lambda s: bd.simulate(lif, s, 1000, 0.1, inputs=22.0, record="spike"))(lif.init_state())
    >>> int(rec["spike"].sum())
    3
    """
    if n_steps % record_every:
        raise BraindynError(
            f"n_steps={n_steps} is not a multiple of record_every={record_every}. "
            f"Fix: choose a duration that is a whole number of recording intervals."
        )
    key = _to_key(key)
    if input_states is None:
        input_states = _inputs.init_states(inputs, jax.random.fold_in(key, -1 & 0x7FFFFFFF))
    recorder = make_recorder(record)
    n_rec = n_steps // record_every

    def one_step(carry, i):
        s, istates, bad = carry
        t = t0 + (i - step0) * dt
        k = jax.random.fold_in(key, i)
        k_in, k_model = jax.random.split(k)
        vals, istates = _inputs.evaluate(inputs, istates, t, dt, k_in)
        s, _ = model.step(s, vals, t, dt, k_model)
        if check_finite:
            bad = jnp.where((bad < 0) & ~_all_finite(s), jnp.asarray(i, jnp.int32), bad)
        return (s, istates, bad), None

    def one_record(carry, j):
        base = step0 + j * record_every
        if record_every == 1:
            carry, _ = one_step(carry, base)
        else:
            carry, _ = jax.lax.scan(one_step, carry, base + jnp.arange(record_every), unroll=min(unroll, record_every))
        r = recorder(carry[0])
        return carry, (_pack(r) if pack else r)

    carry0 = (state, input_states, jnp.array(-1, jnp.int32))
    outer_unroll = min(unroll, n_rec) if record_every == 1 else 1
    (final, istates, bad), recs = jax.lax.scan(one_record, carry0, jnp.arange(n_rec), unroll=max(outer_unroll, 1))
    if check_finite:
        return final, recs, istates, bad
    return final, recs, istates


# ---------------------------------------------------------------------------------------------
# The convenience runner
# ---------------------------------------------------------------------------------------------
@dataclass
class RunResult:
    """What :func:`run` returns.

    Attributes
    ----------
    ts : ndarray
        Times (ms) of the records.
    records : dict
        Recorded arrays (NumPy, leading axis = time); boolean rasters are :class:`SpikeTrain`.
    final_state : PyTree
        State after the last step (pass it as ``state0`` to continue the run).
    input_states : list
        States of stateful inputs at the end (pass them back to continue exactly).
    dt, t_start, t_end : float
        Step (ms), start and end times.
    n_steps : int
    status : str
        ``"ok"``, or ``"diverged"`` on the partial result attached to a
        :class:`~braindyn.SimulationDiverged` error.
    """

    ts: np.ndarray
    records: dict
    final_state: Any
    input_states: Any
    dt: float
    t_start: float
    t_end: float
    n_steps: int
    status: str = "ok"
    step0: int = 0

    def __getitem__(self, name):
        return self.records[name]

    def _raster(self, name):
        if name is None:
            cands = [k for k, v in self.records.items() if isinstance(v, SpikeTrain) or k.endswith("spike")]
            if len(cands) != 1:
                raise BraindynError(
                    f"which spike record? found {cands or 'none'}. Fix: pass name=..., and record the spikes, "
                    f"e.g. record=['V', 'spike']."
                )
            name = cands[0]
        if name not in self.records:
            raise BraindynError(f"no record named {name!r}; recorded: {list(self.records)}.")
        r = self.records[name]
        return r if isinstance(r, SpikeTrain) else SpikeTrain(np.packbits(np.asarray(r, bool), axis=-1),
                                                              np.shape(r)[-1], self.ts)

    def spike_events(self, name=None):
        """``(times_ms, neuron_indices)`` of all spikes in the record ``name``."""
        return self._raster(name).events()

    def spike_times(self, name=None, neuron: Optional[int] = None):
        """Spike times (ms) of one neuron (default: the only one, or neuron 0)."""
        t, i = self.spike_events(name)
        return t[i == (0 if neuron is None else neuron)]

    def spike_count(self, name=None):
        """Total number of spikes in the record ``name`` (all neurons)."""
        return int(self._raster(name).counts().sum())

    def rate_hz(self, name=None):
        """Mean firing rate (Hz) per neuron over the run."""
        r = self._raster(name)
        return float(r.counts().mean() / ((self.t_end - self.t_start) / 1000.0))


def _host(tree):
    return jax.tree.map(np.asarray, tree)


def _concat_records(chunks):
    if not chunks:
        return {}
    return jax.tree.map(lambda *xs: np.concatenate(xs, axis=0), *chunks)


def _chunk_plan(n_rec: int, target: int):
    """Split ``n_rec`` records into equal chunks near ``target`` (one compilation), plus a remainder."""
    if n_rec <= target:
        return n_rec, 1, 0
    for d in range(target, max(target // 2, 1) - 1, -1):
        if n_rec % d == 0:
            return d, n_rec // d, 0
    return target, n_rec // target, n_rec % target


@eqx.filter_jit
def _run_chunk(model, state, istates, key, t0, step0, inputs, n_steps, dt, record, every, unroll, check):
    return simulate(model, state, n_steps, dt, inputs=inputs, input_states=istates, record=record,
                    record_every=every, t0=t0, step0=step0, key=key, check_finite=check, pack=True, unroll=unroll)


@jax.jit
def _state_finite_dev(state):
    return _all_finite(state)


def _state_finite(state) -> bool:
    return bool(_state_finite_dev(state))


def _records_finite(recs) -> bool:
    return all(np.all(np.isfinite(v)) for v in jax.tree.leaves(recs) if np.asarray(v).dtype.kind == "f")


def _first_bad_record(recs):
    """``(row, label, index)`` of the earliest non-finite entry of the records."""
    best = None
    for label, v in recs.items():
        v = np.asarray(v)
        if v.dtype.kind != "f":
            continue
        bad = ~np.isfinite(v.reshape(v.shape[0], -1))
        rows = np.nonzero(bad.any(axis=1))[0]
        if len(rows) and (best is None or rows[0] < best[0]):
            col = int(np.nonzero(bad[rows[0]])[0][0])
            idx = np.unravel_index(col, v.shape[1:]) if v.ndim > 1 else ()
            best = (int(rows[0]), label, tuple(int(i) for i in idx), float(v.reshape(v.shape[0], -1)[rows[0], col]))
    return best


def _locate_nonfinite(model, state, istates, key, t0, step_bad, step0, inputs, dt):
    """Replay up to the bad step and name the first non-finite variable and element."""
    n_before = int(step_bad - step0)
    if n_before > 0:
        state, _, istates = eqx.filter_jit(simulate)(
            model, state, n_before, dt, inputs=inputs, input_states=istates, record=lambda s: {}, t0=jnp.asarray(t0),
            step0=jnp.asarray(step0), key=key)
    t = t0 + (step_bad - step0) * dt
    k = jax.random.fold_in(key, step_bad)
    k_in, k_model = jax.random.split(k)
    vals, _ = _inputs.evaluate(inputs, istates, t, dt, k_in)
    new, _ = model.step(state, vals, t, dt, k_model)
    flat, _ = jax.tree_util.tree_flatten_with_path(new)
    old_flat = dict((jax.tree_util.keystr(p), v) for p, v in jax.tree_util.tree_flatten_with_path(state)[0])
    for path, v in flat:
        v = np.asarray(v)
        if v.dtype.kind == "f" and not np.all(np.isfinite(v)):
            name = ".".join(str(getattr(p, "key", getattr(p, "idx", p))) for p in path)
            idx = tuple(int(i) for i in np.argwhere(~np.isfinite(v))[0])
            before = np.asarray(old_flat.get(jax.tree_util.keystr(path), np.full_like(v, np.nan)))
            return name, idx, float(v[idx]), float(before[idx]) if before.shape == v.shape else float("nan")
    return "?", (), float("nan"), float("nan")


def run(model, duration: float, dt: float = 0.1, *, inputs=None, state0=None, record=None, record_every: int = 1,
        key=0, t0: float = 0.0, step0: int = 0, input_states=None, dtype=None, time_label: str = "end",
        chunk_steps: int = 20000, progress: Optional[bool] = None, check_finite: bool = True,
        on_chunk: Optional[Callable] = None, keep_records: bool = True, unroll: int = 1) -> RunResult:
    """Simulate ``model`` for ``duration`` ms and return a :class:`RunResult` (NumPy records).

    Parameters
    ----------
    model : Dynamics
        A neuron population, a network, or any object with ``init_state`` and ``step``.
    duration : float
        Simulated time (ms, > 0); rounded to a whole number of steps.
    dt : float
        Time step (ms, > 0). Default 0.1 ms, the book's.
    inputs : constant, function of ``t``, :class:`~braindyn.inputs.Input`, or dict of them
        For a single population: its input current. For a network: ``{population: input}``.
    state0 : PyTree, optional
        Initial state; default ``model.init_state(key=..., dtype=dtype)``.
    record : name, list, dict or function
        What to record (see :func:`make_recorder`); default: every variable.
    record_every : int
        Recording interval in steps.
    key : int or PRNG key
        Seed of all randomness (initial state, inputs, noise). Same key, same run.
    t0, step0 : float, int
        Start time (ms) and global index of the first step (random numbers are drawn per global
        step, so to continue a run exactly pass ``t0=result.t_end``,
        ``step0=result.step0 + result.n_steps``, ``state0=result.final_state`` and
        ``input_states=result.input_states``).
    dtype : dtype, optional
        Float type of the state (``jnp.float32`` or ``jnp.float64``).
    time_label : {"end", "start"}
        Stamp records with the end of their step (default) or its start (the book's labels).
    chunk_steps : int
        Steps per compiled chunk; records move to the host after each chunk.
    progress : bool or None
        Progress bar over chunks (``None``: only for multi-chunk runs on a terminal).
    check_finite : bool
        Raise :class:`~braindyn.SimulationDiverged` at the first non-finite value, naming the
        variable, the neuron and the step; ``.result`` keeps every earlier record. The state and
        the records are checked once per chunk (free); only a chunk that went bad is replayed
        with a per-step check to locate the failure.
    on_chunk : callable, optional
        ``on_chunk(ts, records)`` after each chunk (e.g. to stream records to disk).
    keep_records : bool
        Keep records in memory (set False when streaming with ``on_chunk``).
    unroll : int
        Steps per compiled loop iteration (2 speeds up small networks on the CPU; see :func:`simulate`).

    Example
    -------
    >>> import braindyn as bd
    >>> res = bd.run(bd.neurons.LIF(), duration=100.0, inputs=22.0, record=["V", "spike"])
    >>> res["V"].shape, res.spike_count()
    ((1000, 1), 3)
    """
    check_positive("dt", dt, "run", "ms")
    check_positive("duration", duration, "run", "ms")
    check_choice("time_label", time_label, ("end", "start"), "run")
    if not isinstance(record_every, int) or record_every < 1:
        raise BraindynError(f"'record_every' must be a positive integer, got {record_every!r}. Fix: e.g. record_every=10.")
    n_steps = int(round(duration / dt))
    if n_steps < 1:
        raise BraindynError(f"duration={duration} ms is shorter than one step dt={dt} ms. Fix: increase duration.")
    n_steps -= n_steps % record_every
    if n_steps == 0:
        raise BraindynError(f"duration={duration} ms is shorter than record_every={record_every} steps.")
    key = _to_key(key)
    k_init, k_in, k_run = jax.random.split(key, 3)
    if state0 is None:
        state0 = model.init_state(key=k_init, dtype=dtype)
    if input_states is None:
        input_states = _inputs.init_states(inputs, k_in)
    recorder = make_recorder(record)
    shapes = jax.eval_shape(recorder, state0)
    packed = {k: v.shape[-1] for k, v in shapes.items() if _packable(v)}
    n_rec = n_steps // record_every
    per_chunk, n_full, rem = _chunk_plan(n_rec, max(1, chunk_steps // record_every))
    plan = [per_chunk] * n_full + ([rem] if rem else [])
    show = progress if progress is not None else (len(plan) > 1 and sys.stderr.isatty())
    bar = None
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_steps, unit="step", desc=type(model).__name__, leave=False)
    state, istates = state0, input_states
    chunks, ts_chunks, step = [], [], step0
    shift = dt if time_label == "end" else 0.0
    try:
        for nr in plan:
            ns = nr * record_every
            t_chunk = t0 + (step - step0) * dt
            args = (model, state, istates, k_run, jnp.asarray(t_chunk), jnp.asarray(step), inputs, ns, dt,
                    recorder, record_every, unroll)
            new_state, recs, new_istates = _run_chunk(*args, False)
            ts = t_chunk + (record_every * (np.arange(nr) + 1) - 1) * dt + shift
            recs = _host(recs)
            if check_finite and not (_state_finite(new_state) and _records_finite(recs)):
                # Non-finite values persist in the state (or show in a record): replay this chunk
                # with a per-step check to find the first bad step; runs that stay finite never pay.
                bad = int(_run_chunk(*args, True)[3])
                if bad >= 0:
                    name, idx, val, before = _locate_nonfinite(model, state, istates, k_run, t_chunk, bad, step,
                                                               inputs, dt)
                else:  # the state stayed finite: a record function produced the non-finite value
                    row, label, idx, val = _first_bad_record(recs)
                    bad = step + (row + 1) * record_every - 1
                    name, before = f"record {label}", float("nan")
                keep = (bad - step) // record_every
                recs_h = jax.tree.map(lambda x: np.asarray(x)[:keep], recs)
                t_bad = t_chunk + (bad - step + 1) * dt
                partial = _finish(chunks + [recs_h], ts_chunks + [ts[:keep]], state, istates, dt, t0,
                                  t_bad - dt, bad - step0, "diverged", packed, step0)
                raise SimulationDiverged(
                    f"simulation diverged: variable {name!r} became {val} at step {bad} (t = {t_bad:g} ms), "
                    f"index {idx[0] if len(idx) == 1 else idx}; its value before that step was {before:g}. "
                    f"Fix: reduce dt (now {dt} ms), use a more stable method (e.g. method='exp_euler' or 'rk4'), "
                    f"or check the parameters and inputs of that neuron. Records up to the failure are in "
                    f"the exception's .result.",
                    variable=name, index=idx, step=bad, t=t_bad, result=partial,
                )
            if on_chunk is not None:
                on_chunk(ts, recs)
            if keep_records:
                chunks.append(recs)
                ts_chunks.append(ts)
            state, istates = new_state, new_istates
            step += ns
            if bar is not None:
                bar.update(ns)
    finally:
        if bar is not None:
            bar.close()
    return _finish(chunks, ts_chunks, state, istates, dt, t0, t0 + n_steps * dt, n_steps, "ok", packed, step0)


def _finish(chunks, ts_chunks, state, istates, dt, t_start, t_end, n_steps, status, packed_sizes, step0=0):
    records = _concat_records(chunks)
    ts = np.concatenate(ts_chunks) if ts_chunks else np.zeros(0)
    for k, n in packed_sizes.items():
        if k in records:
            records[k] = SpikeTrain(records[k], n, ts)
    return RunResult(ts=ts, records=dict(records), final_state=state, input_states=istates, dt=dt,
                     t_start=t_start, t_end=t_end, n_steps=n_steps, status=status, step0=step0)
