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

from . import clock
from . import inputs as _inputs
from ._errors import BraindynError, SimulationDiverged, check_choice, check_positive
from .params import default_float
from .runstate import RunState, fingerprint

__all__ = ["simulate", "run", "RunResult", "RunState", "SpikeTrain", "make_recorder"]


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------
def _get_path(state, path: str):
    node = state
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            keys = list(node.keys()) if isinstance(node, dict) else []
            if isinstance(state, dict) and "pop" in state and path.split(".")[0] in state["pop"]:
                example = f"record='pop.{path}' (a network's populations are under 'pop.')"
            elif isinstance(state, dict) and "pop" in state:
                some = next(iter(state["pop"]))
                example = f"record=['pop.{some}.V', 'pop.{some}.spike'] (populations are under 'pop.')"
            else:
                some = next((k for k in state if k not in ("ref",)), "V") if isinstance(state, dict) else "V"
                example = f"record={some!r}"
            raise BraindynError(
                f"cannot record {path!r}: {part!r} is not in the state (available here: {keys}). Fix: {example}."
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

    def __init__(self, kind, spec, boolean_spikes=True):
        self.kind, self.spec, self.boolean_spikes = kind, spec, boolean_spikes

    def for_gradients(self):
        """The same record with spikes kept as floats (their surrogate gradient flows)."""
        return _Recorder(self.kind, self.spec, False)

    def _key(self):
        if self.kind == "names":
            return (self.kind, tuple(self.spec.items()), self.boolean_spikes)
        return (self.kind, self.spec, self.boolean_spikes)

    def __hash__(self):
        return hash(self._key())

    def __eq__(self, other):
        return isinstance(other, _Recorder) and self._key() == other._key()

    def __call__(self, state):
        if self.kind == "all":
            return _flatten_dict(_strip(state, self.boolean_spikes))
        if self.kind == "fn":
            return _flatten_dict(self.spec(state))
        out = {}
        for label, how in self.spec.items():
            if callable(how):
                out.update(_flatten_dict(how(state), f"{label}."))
            else:
                v = _get_path(state, how)
                out[label] = v > 0 if (self.boolean_spikes and how.split(".")[-1] == "spike") else v
        return out


def make_recorder(record) -> Callable:
    """Turn a ``record`` specification into a function ``state -> flat dict of arrays``.

    ``record`` may be a variable name (``"V"``; dotted for nested states: ``"E.spike"``), a
    list of names, a dict ``{label: name or function(state)}``, a function ``state -> PyTree``
    (nested dicts are flattened to dotted labels), or ``None`` (every variable of the state
    except the refractory counters ``ref``). Records of a variable named ``spike`` are stored
    as booleans by :func:`run` (bit-packed); :func:`simulate` keeps them as the float spikes,
    so their surrogate gradient flows into a loss.
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


def _strip(state, boolean_spikes=True):
    if isinstance(state, dict):
        return {k: (v > 0 if (k == "spike" and boolean_spikes) else _strip(v, boolean_spikes))
                for k, v in state.items() if k != "ref"}
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
        return None
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        return jax.random.PRNGKey(int(key))
    if isinstance(key, (jax.Array, np.ndarray)) and (jnp.issubdtype(key.dtype, jax.dtypes.prng_key)
                                                    or (key.dtype == jnp.uint32 and key.shape == (2,))):
        return key
    raise BraindynError(f"'key' must be an integer seed or a jax.random key, got {key!r} ({type(key).__name__}). "
                        f"Fix: e.g. key=0 or key=jax.random.PRNGKey(0).")


def _step_words(step0):
    if isinstance(step0, tuple):
        return step0
    a, b = clock.split_step(step0)
    return jnp.asarray(a, jnp.int32), jnp.asarray(b, jnp.int32)


def simulate(model, state, n_steps: int, dt: float, *, inputs=None, input_states=None, record=None,
             record_every: int = 1, t0=0.0, step0=0, key=None, check_finite: bool = False, pack: bool = False,
             unroll: int = 1):
    """Run ``model`` for ``n_steps`` steps of ``dt`` ms: one ``lax.scan`` (pure JAX).

    This is the function to ``jit``, ``vmap`` (parameter sweeps, batches of trials) and
    differentiate (training). :func:`run` is the checked, chunked convenience on top of it.

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
        States of the stateful inputs (default: initialised from ``key``).
    record : see :func:`make_recorder`.
        Spike records stay floats here (0/1 values with their surrogate gradient).
    record_every : int
        Record every this many steps.
    t0 : float or :class:`~braindyn.clock.Time`
        Time (ms) of step 0: step :math:`k` starts at :math:`t_0 + k\\,\\Delta t`.
    step0 : int or (a, b)
        Global index of the first step (times and random keys are functions of the global step,
        so a run split in chunks is the same run). A host integer, or the traced words
        ``(a, b)`` with ``step = a * 2**20 + b`` (see :mod:`braindyn.clock`).
    key : int, PRNG key or None
        Randomness of inputs and noisy models. ``None``: a deterministic run; a component that
        needs randomness then raises an error (never a fixed key).
    check_finite : bool
        Also return the index (within this call) of the first step whose result is non-finite (-1 if none).
    pack : bool
        Record spikes as booleans, bit-packed (what :func:`run` does; no gradient).
    unroll : int
        Steps unrolled per loop iteration (``lax.scan``'s ``unroll``).

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
    if not isinstance(n_steps, (int, np.integer)) or n_steps < 0:
        raise BraindynError(f"n_steps must be a non-negative integer (static), got {n_steps!r}.")
    if isinstance(dt, (int, float)) and not dt > 0:
        raise BraindynError(f"dt must be > 0 ms, got {dt!r}. Fix: e.g. dt=0.1.")
    if n_steps % record_every:
        raise BraindynError(
            f"n_steps={n_steps} is not a multiple of record_every={record_every}. "
            f"Fix: choose a duration that is a whole number of recording intervals."
        )
    key = _to_key(key)
    dtype = _state_dtype(state)
    if input_states is None:
        input_states = _inputs.init_states(inputs, key)
    recorder = make_recorder(record)
    if not pack:
        recorder = recorder.for_gradients()
    n_rec = n_steps // record_every
    a0, b0 = _step_words(step0)
    t0 = clock.as_time(t0, dtype)

    def one_step(carry, i):
        s, istates, bad = carry
        b = b0 + i
        a = a0 + b // (1 << clock.STEP_BITS)
        b = b % (1 << clock.STEP_BITS)
        t = clock.step_time(None, dt, t0, dtype, a=a, b=b)
        k = clock.step_key(key, a, b)
        vals, istates = _inputs.evaluate(inputs, istates, t, dt, clock.named_key(k, "inputs"))
        s, _ = model.step(s, vals, t, dt, clock.named_key(k, "model"))
        if check_finite:
            bad = jnp.where((bad < 0) & ~_all_finite(s), jnp.asarray(i, jnp.int32), bad)
        return (s, istates, bad), None

    def one_record(carry, j):
        base = j * record_every
        if record_every == 1:
            carry, _ = one_step(carry, base)
        else:
            carry, _ = jax.lax.scan(one_step, carry, base + jnp.arange(record_every, dtype=jnp.int32),
                                    unroll=min(unroll, record_every))
        r = recorder(carry[0])
        return carry, (_pack(r) if pack else r)

    carry0 = (state, input_states, jnp.array(-1, jnp.int32))
    outer_unroll = min(unroll, n_rec) if record_every == 1 else 1
    (final, istates, bad), recs = jax.lax.scan(one_record, carry0, jnp.arange(n_rec, dtype=jnp.int32),
                                               unroll=max(outer_unroll, 1))
    if check_finite:
        return final, recs, istates, bad
    return final, recs, istates


def _state_dtype(state):
    for leaf in jax.tree.leaves(state):
        if jnp.issubdtype(jnp.result_type(leaf), jnp.floating):
            return jnp.result_type(leaf)
    return default_float()


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
    run_state : RunState
        Everything needed to continue: ``run(model, T, resume=result.run_state)``.
    dt, t_start, t_end : float
        Step (ms), start and end times.
    n_steps : int
        Steps taken by this call.
    status : str
        ``"ok"``, or ``"diverged"`` on the partial result attached to a
        :class:`~braindyn.SimulationDiverged` error.
    """

    ts: np.ndarray
    records: dict
    run_state: RunState
    dt: float
    t_start: float
    t_end: float
    n_steps: int
    status: str = "ok"

    @property
    def final_state(self):
        """The model state after the last step (``run_state.state``)."""
        return self.run_state.state

    @property
    def input_states(self):
        return self.run_state.input_states

    def __getitem__(self, name):
        if name not in self.records:
            raise BraindynError(f"no record named {name!r}; recorded: {list(self.records)}.")
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
        r = self[name]
        if isinstance(r, SpikeTrain):
            return r
        arr = np.asarray(r)
        if arr.dtype != np.bool_:
            raise BraindynError(f"record {name!r} is not a spike record (dtype {arr.dtype}). Fix: name a record of "
                                f"spikes, e.g. record=['V', 'spike'] and spike_count('spike').")
        return SpikeTrain(np.packbits(arr, axis=-1), arr.shape[-1], self.ts)

    def spike_events(self, name=None):
        """``(times_ms, neuron_indices)`` of all spikes in the record ``name``."""
        return self._raster(name).events()

    def spike_times(self, name=None, neuron: Optional[int] = None):
        """Spike times (ms) of one neuron (default: neuron 0)."""
        r = self._raster(name)
        i0 = 0 if neuron is None else neuron
        if not isinstance(i0, (int, np.integer)) or not 0 <= i0 < r.n:
            raise BraindynError(f"neuron={neuron!r} is out of range: the record has {r.n} neuron(s) "
                                f"(indices 0..{r.n - 1}).")
        t, i = r.events()
        return t[i == i0]

    def spike_count(self, name=None):
        """Total number of spikes in the record ``name`` (all neurons)."""
        return int(self._raster(name).counts().sum())

    def rates_hz(self, name=None) -> np.ndarray:
        """Firing rate (Hz) of each neuron over the run."""
        return self._raster(name).counts() / ((self.t_end - self.t_start) / 1000.0)

    def rate_hz(self, name=None) -> float:
        """Mean firing rate (Hz) over the neurons and the run (see :meth:`rates_hz` per neuron)."""
        return float(self.rates_hz(name).mean())


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
def _run_chunk(model, state, istates, key, t0, a0, b0, inputs, n_steps, dt, record, every, unroll, check):
    return simulate(model, state, n_steps, dt, inputs=inputs, input_states=istates, record=record,
                    record_every=every, t0=t0, step0=(a0, b0), key=key, check_finite=check, pack=True,
                    unroll=unroll)


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


def _locate_nonfinite(model, state, istates, key, t0, step_bad, inputs, dt):
    """Replay up to the global step ``step_bad`` from ``state`` (at the start of its chunk) and
    name the first non-finite variable and element."""
    start = state
    n_before = int(step_bad[1])
    if n_before > 0:
        state, _, istates = eqx.filter_jit(simulate)(
            model, state, n_before, dt, inputs=inputs, input_states=istates, record=lambda s: {}, t0=t0,
            step0=_step_words(step_bad[0]), key=key)
    g = step_bad[0] + n_before
    a, b = clock.split_step(g)
    t = clock.step_time(g, dt, t0, _state_dtype(state))
    k = clock.step_key(key, jnp.int32(a), jnp.int32(b))
    vals, _ = _inputs.evaluate(inputs, istates, t, dt, clock.named_key(k, "inputs"))
    new, _ = model.step(state, vals, t, dt, clock.named_key(k, "model"))
    flat, _ = jax.tree_util.tree_flatten_with_path(new)
    old_flat = dict((jax.tree_util.keystr(p), v) for p, v in jax.tree_util.tree_flatten_with_path(state)[0])
    del start
    for path, v in flat:
        v = np.asarray(v)
        if v.dtype.kind == "f" and not np.all(np.isfinite(v)):
            name = ".".join(str(getattr(p, "key", getattr(p, "idx", p))) for p in path)
            idx = tuple(int(i) for i in np.argwhere(~np.isfinite(v))[0])
            before = np.asarray(old_flat.get(jax.tree_util.keystr(path), np.full_like(v, np.nan)))
            return name, idx, float(v[idx]), float(before[idx]) if before.shape == v.shape else float("nan")
    return "?", (), float("nan"), float("nan")


def _stability_hint(model) -> str:
    method = getattr(model, "method", None)
    if not isinstance(method, str):
        return "use a more stable method"
    others = [m for m in ("exp_euler", "rk4", "exp_midpoint") if m != method]
    return f"use a more stable method than {method!r} (e.g. method={others[0]!r})"


def _models(model):
    from .network import Network

    if isinstance(model, Network):
        for m in model.populations.values():
            yield from _models(m)
    else:
        yield model


_PROBED = set()


def _probe_coupling(model):
    """Refuse a user-defined vector field that couples its own elements under an exponential
    integrator without declaring ``coupled = True`` (the one-JVP diagonal would be wrong)."""
    from .core import ODEModel
    from .integrators.exp import ExpEuler, ExpMidpoint, is_coupled

    for m in _models(model):
        cls = type(m)
        if (not isinstance(m, ODEModel) or cls.coupled or cls.__module__.startswith("braindyn.")
                or (cls, m.n) in _PROBED):
            continue
        try:
            solver = m.solver()
        except Exception:
            continue
        if not isinstance(solver, (ExpEuler, ExpMidpoint)):
            continue
        try:
            y = {k: v for k, v in m.init_state(key=jax.random.PRNGKey(0)).items() if k in m.variables}
            bad = is_coupled(m.field, 0.0, y, {"I": jnp.zeros((m.n,))})
        except Exception:  # the probe needs inputs it cannot guess: skip it
            continue
        _PROBED.add((cls, m.n))
        if bad:
            names = [list(y)[i] for i in bad]
            raise BraindynError(
                f"{cls.__name__}.vector_field couples the elements of {names} (element i depends on element j), but "
                f"method={m.method!r} linearises each element on its own diagonal with one Jacobian-vector product, "
                f"which would be wrong here. Fix: declare `coupled = True` on {cls.__name__} (exact diagonal, O(n^2) "
                f"per step), use method='rk4', or move the coupling into a projection.")


def _is_traced_tree(*trees) -> bool:
    return any(isinstance(leaf, jax.core.Tracer) for tree in trees for leaf in jax.tree.leaves(tree))


def run(model, duration: float, dt: float = 0.1, *, inputs=None, state0=None, resume=None, record=None,
        record_every: int = 1, key=0, t0: float = 0.0, dtype=None, time_label: str = "end",
        chunk_steps: int = 20000, progress: Optional[bool] = None, check_finite: bool = True,
        on_chunk: Optional[Callable] = None, keep_records: bool = True, unroll: int = 1) -> RunResult:
    """Simulate ``model`` for ``duration`` ms and return a :class:`RunResult` (NumPy records).

    The checked entry point: arguments are validated, the run is compiled once per chunk size
    (new parameter or input *values* never recompile), records move to the host chunk by chunk,
    and a non-finite value stops the run with the variable, the neuron and the step named. For
    ``jax.jit``/``vmap``/``grad`` use :func:`simulate`.

    Parameters
    ----------
    model : Dynamics
        A neuron population, a network, or any object with ``init_state`` and ``step``.
    duration : float
        Simulated time (ms, > 0): a whole number of steps, and of ``record_every`` windows.
    dt : float
        Time step (ms, > 0). Default 0.1 ms, the book's.
    inputs : constant, function of ``t``, :class:`~braindyn.inputs.Input`, or dict of them
        For a single population: its input current. For a network: ``{population: input}``.
    state0 : PyTree, optional
        Initial state of a fresh run; default ``model.init_state(key=..., dtype=dtype)``.
    resume : RunState or path, optional
        Continue a run from its :class:`RunState` (``result.run_state``, or a directory written
        by :meth:`RunState.save`): bit-identical to one uninterrupted run. Excludes ``state0``,
        ``t0`` and ``key`` (they come from the run state).
    record : name, list, dict or function
        What to record (see :func:`make_recorder`); default: every variable.
    record_every : int
        Recording interval in steps.
    key : int or PRNG key
        Seed of all randomness (initial state, inputs, noise). Same key, same run.
    t0 : float
        Time (ms) at the start of a fresh run.
    dtype : dtype, optional
        Float type of the state (``jnp.float32`` or ``jnp.float64``, which needs
        ``jax.config.update("jax_enable_x64", True)``).
    time_label : {"end", "start"}
        Stamp records with the end of their step (default) or its start (the book's labels).
    chunk_steps : int
        Steps per compiled chunk; records move to the host after each chunk.
    progress : bool or None
        Progress bar over chunks (``None``: only for multi-chunk runs on a terminal).
    check_finite : bool
        Raise :class:`~braindyn.SimulationDiverged` at the first non-finite value.
    on_chunk : callable, optional
        ``on_chunk(ts, records)`` after each chunk (e.g. to stream records to disk).
    keep_records : bool
        Keep records in memory (set False when streaming with ``on_chunk``).
    unroll : int
        Steps per compiled loop iteration (2 speeds up small networks on the CPU).

    Example
    -------
    >>> import braindyn as bd
    >>> res = bd.run(bd.neurons.LIF(), duration=100.0, inputs=22.0, record=["V", "spike"])
    >>> res["V"].shape, res.spike_count()
    ((1000, 1), 3)
    >>> more = bd.run(bd.neurons.LIF(), 100.0, inputs=22.0, record="spike", resume=res.run_state)
    >>> float(more.ts[0])
    100.1
    """
    if _is_traced_tree(model, state0, inputs, duration, dt):
        raise BraindynError("braindyn.run was called inside a JAX transformation (jit, vmap or grad): it moves "
                            "records to the host and cannot be traced. Fix: use braindyn.simulate(model, state, "
                            "n_steps, dt, ...) inside jit/vmap/grad.")
    for name, v in (("duration", duration), ("dt", dt)):
        if isinstance(v, (str, bytes)) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise BraindynError(f"'{name}' must be a number (ms), got {v!r} ({type(v).__name__}). Fix: e.g. {name}=0.1.")
    check_positive("dt", dt, "run", "ms")
    check_positive("duration", duration, "run", "ms")
    check_choice("time_label", time_label, ("end", "start"), "run")
    if not isinstance(record_every, int) or isinstance(record_every, bool) or record_every < 1:
        raise BraindynError(f"'record_every' must be a positive integer, got {record_every!r}. Fix: e.g. record_every=10.")
    if not isinstance(unroll, int) or isinstance(unroll, bool) or unroll < 1:
        raise BraindynError(f"'unroll' must be a positive integer, got {unroll!r}. Fix: e.g. unroll=2.")
    dt = float(dt)
    n_steps = int(round(duration / dt))
    if n_steps < 1:
        raise BraindynError(f"duration={duration} ms is shorter than one step dt={dt} ms. Fix: increase duration.")
    if abs(n_steps * dt - duration) > 1e-6 * max(dt, abs(duration) * 1e-3):
        raise BraindynError(f"duration={duration} ms is not a whole number of steps of dt={dt} ms. Fix: "
                            f"duration={n_steps * dt:g}.")
    if n_steps % record_every:
        lo = (n_steps // record_every) * record_every
        hi = lo + record_every
        valid = [f"{v * dt:g}" for v in (lo, hi) if v > 0]
        raise BraindynError(f"duration={duration} ms is {n_steps} steps, not a whole number of record windows of "
                            f"record_every={record_every} steps. Fix: duration={' or '.join(valid)} ms.")
    if dtype is not None and jnp.dtype(dtype) == jnp.float64 and not jax.config.jax_enable_x64:
        raise BraindynError("dtype=float64 needs 64-bit JAX. Fix: call jax.config.update('jax_enable_x64', True) "
                            "at the start of the program (before creating arrays), or use dtype=jnp.float32.")
    inputs = _inputs.prepare(inputs)
    _inputs.check(inputs, dt)
    _probe_coupling(model)
    if resume is not None:
        if state0 is not None:
            raise BraindynError("run: pass either state0 (a fresh run) or resume (a continuation), not both.")
        if not isinstance(resume, RunState):
            resume = RunState.load(resume)
        template = jax.eval_shape(lambda: model.init_state(key=jax.random.PRNGKey(0), dtype=_state_dtype(resume.state)))
        resume.check_compatible(model, dt, template)
        if resume.record_phase % record_every:
            raise BraindynError(f"resume: the run state is {resume.record_phase} steps into a record window; "
                                f"record_every={record_every} would misalign the records.")
        state, istates, k_run = resume.state, resume.input_states, resume.key
        t_origin, step = resume.t0, resume.step
        fresh = _inputs.init_states(inputs, clock.named_key(k_run, "inputs-init"))
        if istates is None or jax.tree.structure(list(istates)) != jax.tree.structure(fresh):
            istates = fresh  # the inputs changed between the two runs: their states start afresh
    else:
        key = _to_key(key)
        if key is None:
            raise BraindynError("run needs a key (key=None would silently reuse fixed noise). Fix: key=0 (a seed).")
        k_init, k_run = jax.random.split(key)
        if state0 is None:
            state0 = model.init_state(key=k_init, dtype=dtype)
        state = state0
        istates = _inputs.init_states(inputs, clock.named_key(k_run, "inputs-init"))
        t_origin, step = float(t0), 0
    dtype_s = _state_dtype(state)
    t_origin_time = clock.Time.of(t_origin, dtype_s)
    recorder = make_recorder(record)
    shapes = jax.eval_shape(recorder, state)
    packed = {k: v.shape[-1] for k, v in shapes.items() if _packable(v)}
    n_rec = n_steps // record_every
    per_chunk, n_full, rem = _chunk_plan(n_rec, max(1, chunk_steps // record_every))
    plan = [per_chunk] * n_full + ([rem] if rem else [])
    show = progress if progress is not None else (len(plan) > 1 and sys.stderr.isatty())
    bar = None
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_steps, unit="step", desc=type(model).__name__, leave=False)
    fp = fingerprint(model, dt)
    chunks, ts_chunks, step_start = [], [], step
    shift = dt if time_label == "end" else 0.0

    def snapshot(st, ist, stp):
        return RunState(state=st, input_states=ist, step=stp, t0=t_origin, dt=dt, key=k_run, record_phase=0,
                        fingerprint=fp)

    try:
        for nr in plan:
            ns = nr * record_every
            a0, b0 = clock.split_step(step)
            args = (model, state, istates, k_run, t_origin_time, jnp.int32(a0), jnp.int32(b0), inputs, ns, dt,
                    recorder, record_every, unroll)
            new_state, recs, new_istates = _run_chunk(*args, False)
            ts = t_origin + (step + record_every * (np.arange(nr) + 1) - 1) * dt + shift
            recs = _host(recs)
            if check_finite and not (_state_finite(new_state) and _records_finite(recs)):
                bad_local = int(_run_chunk(*args, True)[3])
                if bad_local >= 0:
                    name, idx, val, before = _locate_nonfinite(model, state, istates, k_run, t_origin_time,
                                                               (step, bad_local), inputs, dt)
                else:  # the state stayed finite: a record function produced the non-finite value
                    row, label, idx, val = _first_bad_record(recs)
                    bad_local = (row + 1) * record_every - 1
                    name, before = f"record {label}", float("nan")
                bad = step + bad_local
                keep = bad_local // record_every
                recs_h = jax.tree.map(lambda x: np.asarray(x)[:keep], recs)
                t_bad = t_origin + (bad + 1) * dt
                # The partial result ends at the last complete chunk: its run state continues from there.
                partial = _finish(chunks + [recs_h], ts_chunks + [ts[:keep]], snapshot(state, istates, step), dt,
                                  t_origin + step_start * dt, step - step_start, "diverged", packed)
                raise SimulationDiverged(
                    f"simulation diverged: variable {name!r} became {val} at step {bad} (t = {t_bad:g} ms), "
                    f"index {idx[0] if len(idx) == 1 else idx}; its value before that step was {before:g}. "
                    f"Fix: reduce dt (now {dt} ms), {_stability_hint(model)}, or check the parameters and inputs "
                    f"of that neuron. Records up to the failure are in the exception's .result; its run_state "
                    f"is the state at step {step} (the start of the failing chunk).",
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
    return _finish(chunks, ts_chunks, snapshot(state, istates, step), dt, t_origin + step_start * dt,
                   n_steps, "ok", packed)


def _finish(chunks, ts_chunks, run_state, dt, t_start, n_steps, status, packed_sizes):
    records = _concat_records(chunks)
    ts = np.concatenate(ts_chunks) if ts_chunks else np.zeros(0)
    for k, n in packed_sizes.items():
        if k in records:
            records[k] = SpikeTrain(records[k], n, ts)
    return RunResult(ts=ts, records=dict(records), run_state=run_state, dt=dt, t_start=t_start,
                     t_end=t_start + n_steps * dt, n_steps=n_steps, status=status)
