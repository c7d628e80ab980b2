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
from typing import Callable, Optional

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from . import clock
from . import inputs as _inputs
from ._errors import BraindynError, check_choice, check_positive
from .params import default_float
from .results import RunResult, SpikeTrain
from ._runtools import MemoryEstimate, _diverged, _estimate, _fmt_bytes, _open_store
from .runstate import RunState, check_state, fingerprint

__all__ = ["simulate", "run", "RunResult", "RunState", "SpikeTrain", "make_recorder", "estimate_memory",
           "MemoryEstimate"]


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

    def spike_labels(self, state) -> tuple:
        """Labels of the records of a variable named ``spike`` (counted over a record window)."""
        if self.kind == "names":
            return tuple(k for k, how in self.spec.items() if isinstance(how, str) and how.split(".")[-1] == "spike")
        if self.kind == "all":
            return tuple(k for k in _flatten_dict(_strip(state, self.boolean_spikes)) if k.split(".")[-1] == "spike")
        return ()

    def spikes(self, state, labels) -> dict:
        """The spike variables of ``labels`` (floats, with their surrogate gradient)."""
        if self.kind == "names":
            return {k: _get_path(state, self.spec[k]) for k in labels}
        return {k: _get_path(state, k) for k in labels}

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
    so their surrogate gradient flows into a loss. With ``record_every > 1`` a record of a
    variable named ``spike`` (by name, or in the record of every variable) holds the count of
    spikes in each window; what a function returns is sampled at the end of each window.
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


def count_dtype(record_every: int):
    """Integer type of a spike count over a window of ``record_every`` steps (at most one spike
    per neuron and step): the smallest signed type that holds ``record_every``."""
    for t in (np.int8, np.int16, np.int32):
        if record_every <= np.iinfo(t).max:
            return np.dtype(t)
    return np.dtype(np.int64)


# ---------------------------------------------------------------------------------------------
# The pure loop
# ---------------------------------------------------------------------------------------------
def _check_record_every(record_every, prefix=""):
    if isinstance(record_every, bool) or not isinstance(record_every, (int, np.integer)) or record_every < 1:
        raise BraindynError(f"{prefix}'record_every' must be a positive integer, got {record_every!r}. "
                            f"Fix: e.g. record_every=10.")


def _check_static_args(where, n_steps, dt, record_every, unroll):
    """Checks of the static arguments of a run (possible at trace time)."""
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 0:
        raise BraindynError(f"{where}: n_steps must be a non-negative integer (static), got {n_steps!r}. "
                            f"Fix: n_steps = int(round(duration / dt)).")
    if isinstance(dt, (str, bytes)) or isinstance(dt, bool):
        raise BraindynError(f"{where}: dt must be a number (ms), got {dt!r}. Fix: e.g. dt=0.1.")
    if isinstance(dt, (int, float, np.integer, np.floating)) and not (math.isfinite(dt) and dt > 0):
        raise BraindynError(f"{where}: dt must be a finite number > 0 ms, got {dt!r}. Fix: e.g. dt=0.1.")
    _check_record_every(record_every, f"{where}: ")
    if isinstance(unroll, bool) or not isinstance(unroll, (int, np.integer)) or unroll < 1:
        raise BraindynError(f"{where}: 'unroll' must be a positive integer, got {unroll!r}. Fix: e.g. unroll=2.")
    if n_steps % record_every:
        lo = (n_steps // record_every) * record_every
        valid = [str(v) for v in (lo, lo + record_every) if v > 0]
        raise BraindynError(f"{where}: n_steps={n_steps} is not a multiple of record_every={record_every}. "
                            f"Fix: n_steps={' or '.join(valid)}.")


def _all_finite(state):
    leaves = [jnp.asarray(l) for l in jax.tree.leaves(state)]
    leaves = [l for l in leaves if jnp.issubdtype(l.dtype, jnp.inexact)]
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
             unroll: int = 1, check_inputs: bool = True):
    """Run ``model`` for ``n_steps`` steps of ``dt`` ms: one ``lax.scan`` (pure JAX).

    This is the function to ``jit``, ``vmap`` (parameter sweeps, batches of trials) and
    differentiate (training). :func:`run` is the checked, chunked convenience on top of it.
    ``simulate`` is the traced path: it checks what is known at trace time (``n_steps``,
    ``dt``, ``record_every`` and ``unroll`` given as Python numbers; the fields and shapes of
    ``state``; record names; input names against what the model reads) and leaves the checks
    of values (finite initial state, finite inputs, divergence) to :func:`run`, the checked
    entry point.

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
        Record every this many steps. A record of a variable named ``spike`` then holds the
        *sum* of the spikes over each window (the count; differentiable, as the sum of the
        surrogate spikes), every other record the value at the end of the window.
    t0 : float or :class:`~braindyn.clock.Time`
        Time (ms) of step 0: step :math:`k` starts at :math:`t_0 + k\\,\\Delta t`.
    step0 : int or (a, b)
        Global index of the first step (times and random keys are functions of the global step,
        so a run split in chunks is the same run). A host integer, or the traced words
        ``(a, b)`` with ``step = a * 2**20 + b`` (see :mod:`braindyn.clock`).
    key : int, PRNG key or None
        Randomness of inputs and noisy models. ``None``: a deterministic run; a component that
        needs randomness then raises an error (never a fixed key).
    check_finite : bool or "inputs"
        Also return the index (within this call) of the first step whose result or inputs are
        non-finite (-1 if none); ``"inputs"`` checks only the inputs (cheap).
    pack : bool
        Record spikes as booleans, bit-packed (what :func:`run` does; no gradient).
    unroll : int
        Steps per loop iteration of the compiled scan. Every step stays its own compiled
        computation, so the result is bit-identical for every ``unroll`` (without that, XLA fuses
        the unrolled steps differently and on a CPU with FMA the last bits change); it only
        saves loop overhead.
    check_inputs : bool
        Check ``state`` and the input names against the model (trace time only; ``run`` checks
        once per run and turns this off for its chunks).

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
    _check_static_args("simulate", n_steps, dt, record_every, unroll)
    key = _to_key(key)
    dtype = _state_dtype(state)
    if input_states is None:
        input_states = _inputs.init_states(inputs, key)
    if check_inputs:  # names and shapes, at trace time (values are run's to check)
        check_state(model, state, "state")
        _inputs.check_read(model, inputs, input_states, state, dt, key, clock.as_time(t0, dtype))
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
        if check_finite:  # a non-finite input counts too: a reset may clip the overshoot it causes
            ok = _all_finite(vals) if check_finite == "inputs" else _all_finite(s) & _all_finite(vals)
            bad = jnp.where((bad < 0) & ~ok, jnp.asarray(i, jnp.int32), bad)
        return (s, istates, bad), None

    if unroll > 1:
        # Each unrolled copy of the step in a conditional of its own (always taken, never folded
        # away): XLA then fuses, and contracts multiply-adds into FMAs, as in the rolled loop, and
        # the bits do not depend on ``unroll`` (fused across copies they differed in the last bits).
        _one = one_step

        def one_step(carry, i):
            return jax.lax.cond(i >= 0, _one, _one, carry, i)

    count_labels = recorder.spike_labels(state) if record_every > 1 else ()
    ctype = jnp.dtype(count_dtype(record_every)) if pack else None

    def count_step(carry, i):
        inner, acc = carry
        inner, _ = one_step(inner, i)
        sp = recorder.spikes(inner[0], count_labels)
        if pack:
            acc = {k: acc[k] + (sp[k] > 0).astype(ctype) for k in count_labels}
        else:
            acc = {k: acc[k] + sp[k] for k in count_labels}
        return (inner, acc), None

    def one_record(carry, j):
        base = j * record_every
        if record_every == 1:
            carry, _ = one_step(carry, base)
            counts = {}
        elif count_labels:
            sp0 = recorder.spikes(carry[0], count_labels)
            acc0 = {k: jnp.zeros(jnp.shape(v), ctype if pack else jnp.result_type(v)) for k, v in sp0.items()}
            (carry, counts), _ = jax.lax.scan(count_step, (carry, acc0),
                                              base + jnp.arange(record_every, dtype=jnp.int32),
                                              unroll=min(unroll, record_every))
        else:
            carry, _ = jax.lax.scan(one_step, carry, base + jnp.arange(record_every, dtype=jnp.int32),
                                    unroll=min(unroll, record_every))
            counts = {}
        r = recorder(carry[0])
        r = {k: counts.get(k, v) for k, v in r.items()}
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
def _host(tree):
    return jax.tree.map(np.asarray, tree)


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
                    unroll=unroll, check_inputs=False)


@jax.jit
def _state_finite_dev(state):
    return _all_finite(state)


def _state_finite(state) -> bool:
    return bool(_state_finite_dev(state))


def _records_finite(recs) -> bool:
    return all(np.all(np.isfinite(v)) for v in jax.tree.leaves(recs) if np.asarray(v).dtype.kind == "f")


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


#: Default bound of the records of one chunk of a run that streams to a store (bytes).
STORE_CHUNK_BYTES = 8 * 2**20


def _no_record(state):
    return {}


def _advance(model, state, istates, key, t0, step, n, inputs, dt, unroll=1):
    """State and input states ``n`` steps after global step ``step`` (the same compiled loop)."""
    if n == 0:
        return state, istates
    a0, b0 = clock.split_step(step)
    new, _, ist = _run_chunk(model, state, istates, key, t0, jnp.int32(a0), jnp.int32(b0), inputs, n, dt,
                             make_recorder(_no_record), 1, unroll, False)
    return new, ist


def _row_specs(recorder, state, record_every):
    """Per-record rows as the runner stores them: label -> (shape, dtype), the store attributes of
    each label, and the labels that hold spike counts."""
    shapes = jax.eval_shape(recorder, state)
    counts = recorder.spike_labels(state) if record_every > 1 else ()
    rows, kinds = {}, {}
    for k, v in shapes.items():
        if k in counts:
            rows[k] = (tuple(v.shape), count_dtype(record_every))
            kinds[k] = {"encoding": "counts", "window_steps": record_every}
        elif _packable(v):
            rows[k] = (tuple(v.shape[:-1]) + ((v.shape[-1] + 7) // 8,), np.dtype(np.uint8))
            kinds[k] = {"encoding": "packbits", "n_neurons": int(v.shape[-1])}
        else:
            rows[k] = (tuple(v.shape), np.dtype(v.dtype))
            kinds[k] = {"encoding": "values"}
    return rows, kinds, counts


def estimate_memory(model, duration: float, dt: float = 0.1, *, record=None, record_every: int = 1, state0=None,
                    dtype=None, chunk_steps: int = 20000, memory_limit=None) -> MemoryEstimate:
    """Memory the records of ``run(model, duration, dt, record=..., record_every=...)`` will need,
    computed before running (only shapes are evaluated).

    .. math:: B = N_{rec} \\Big(8 + \\sum_{\\ell} b_\\ell\\Big), \\qquad N_{rec} = \\frac{T}{\\Delta t\\,n_{every}}

    with :math:`b_\\ell` the bytes of one record of label :math:`\\ell` (a spike raster
    :math:`\\lceil n/8 \\rceil` bytes, a count :math:`n` small integers, a value its array) and 8
    bytes of time stamp. ``run`` refuses in-memory records that do not fit in
    :func:`braindyn.store.memory_limit` (half the available memory by default) and suggests
    ``store=``, which needs only ``chunk_bytes``.

    Parameters: as :func:`run` (``duration``, ``dt`` in ms).

    Example
    -------
    >>> import braindyn as bd, jax.numpy as jnp
    >>> est = bd.estimate_memory(bd.neurons.LIF(n=4000), 10000.0, record=["V", "spike"], dtype=jnp.float32)
    >>> est.by_record["spike"] == 100000 * 500, est.by_record["V"] == 100000 * 4000 * 4
    (True, True)
    """
    n_steps = int(round(float(duration) / float(dt)))
    _check_static_args("estimate_memory", n_steps, dt, record_every, 1)
    if state0 is None:
        state0 = jax.eval_shape(lambda: model.init_state(key=jax.random.PRNGKey(0), dtype=dtype))
    rows, _, _ = _row_specs(make_recorder(record), state0, record_every)
    n_rec = n_steps // record_every
    return _estimate(rows, n_rec, min(n_rec, max(1, chunk_steps // record_every)), memory_limit)


def _check_number(name, v, finite=True):
    if isinstance(v, (str, bytes, bool)) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise BraindynError(f"'{name}' must be a number (ms), got {v!r} ({type(v).__name__}). Fix: e.g. {name}=0.1.")
    if finite and not math.isfinite(float(v)):
        raise BraindynError(f"'{name}' must be finite, got {v!r}. Fix: e.g. {name}=0.0 (ms).")


def run(model, duration: float, dt: float = 0.1, *, inputs=None, state0=None, resume=None, record=None,
        record_every: int = 1, key=0, t0: float = 0.0, dtype=None, time_label: str = "end",
        chunk_steps: Optional[int] = None, progress: Optional[bool] = None, check_finite: bool = True,
        on_chunk: Optional[Callable] = None, keep_records: Optional[bool] = None, unroll: int = 1,
        store=None, checkpoint=None, checkpoint_every: int = 1, memory_limit=None) -> RunResult:
    """Simulate ``model`` for ``duration`` ms and return a :class:`RunResult` (NumPy records).

    The checked entry point: arguments are validated (numbers, input names against what the
    model reads, ``state0`` against the model's state), the memory the records need is
    estimated before running, the run is compiled once per chunk size (new parameter or input
    *values* never recompile), records move to the host chunk by chunk (into preallocated
    arrays, or streamed to a Zarr store), and a non-finite value stops the run with the
    variable, the neuron and the step named. For ``jax.jit``/``vmap``/``grad`` use :func:`simulate`.

    **Records over windows.** With ``record_every=n``, a record of a variable named ``spike``
    holds the number of spikes of each neuron in each window of ``n`` steps (an integer array);
    other records hold the value at the end of the window. With ``n = 1`` spike rasters are
    stored bit-packed (:class:`SpikeTrain`).

    **Determinism.** The same ``key`` gives the same bits whatever ``chunk_steps``,
    ``store``/``checkpoint`` and however often the run is interrupted and resumed (times and
    random keys are functions of the global integer step, and every chunk runs the same
    compiled step), in this process or another on the same platform. A compiled run and an
    eager loop over ``model.step`` draw the same random numbers but need not agree to the last
    bit (XLA fuses multiply-adds differently). ``unroll`` does not change the bits either: each
    unrolled step is compiled as its own computation (a conditional that is always taken), so
    XLA fuses, and contracts into FMAs, exactly as for ``unroll=1``.

    **Long runs.** ``store="out.zarr"`` streams records chunk by chunk to a Zarr v3 store
    (:mod:`braindyn.store`): memory stays bounded by one chunk, and the result reads the
    records lazily from disk. ``checkpoint="ck"`` saves the :class:`RunState` atomically every
    ``checkpoint_every`` chunks, after the store holds those chunks; ``resume="ck"`` (with the
    same ``store=``) continues bit-identically, truncating the store back to the checkpoint, so
    a run killed at any moment (SIGKILL, power loss) loses at most the chunks after its last
    checkpoint. Ctrl-C flushes the store, saves a checkpoint (if one is configured) and raises
    ``KeyboardInterrupt`` with the partial result in its attribute ``result``.

    Parameters
    ----------
    model : Dynamics
        A neuron population, a network, or any object with ``init_state`` and ``step``.
    duration : float
        Simulated time (ms, > 0): a whole number of steps, and of ``record_every`` windows.
    dt : float
        Time step (ms, > 0). Default 0.1 ms, the book's.
    inputs : constant, function of ``t``, :class:`~braindyn.inputs.Input`, or dict of them
        For a single population: its input current (or ``{name: input}`` with the names the
        model reads). For a network: ``{population: input}``.
    state0 : PyTree, optional
        Initial state of a fresh run (checked against the model's state: fields, shapes,
        dtypes); default ``model.init_state(key=..., dtype=dtype)``.
    resume : RunState or path, optional
        Continue a run from its :class:`RunState` (``result.run_state``, a directory written by
        :meth:`RunState.save` or by ``checkpoint=``) for ``duration`` more ms. Excludes
        ``state0``, ``t0`` and ``key`` (they come from the run state).
    record : name, list, dict or function
        What to record (see :func:`make_recorder`); default: every variable.
    record_every : int
        Recording interval in steps (spike records count over the interval).
    key : int or PRNG key
        Seed of all randomness (initial state, inputs, noise). Same key, same run.
    t0 : float
        Time (ms, finite) at the start of a fresh run.
    dtype : dtype, optional
        Float type of the state (``jnp.float32`` or ``jnp.float64``, which needs
        ``jax.config.update("jax_enable_x64", True)``).
    time_label : {"end", "start"}
        Stamp records with the end of their step (default) or its start (the book's labels).
    chunk_steps : int, optional
        Steps per compiled chunk; records move to the host (or the store) after each chunk.
        Default: 20000 steps, and with ``store=`` at most :data:`STORE_CHUNK_BYTES` of records
        per chunk (what a streamed run holds in memory at a time).
    progress : bool or None
        Progress bar over chunks (``None``: only for multi-chunk runs on a terminal).
    check_finite : bool
        Raise :class:`~braindyn.SimulationDiverged` at the first non-finite value of the state
        or of an input.
    on_chunk : callable, optional
        ``on_chunk(ts, records)`` after each chunk.
    keep_records : bool or None
        Keep records in memory (default: yes without ``store``, no with it).
    unroll : int
        Steps per compiled loop iteration (2 speeds up small networks on the CPU).
    store : path, optional
        Zarr v3 store to stream the records to (new for a fresh run; the run's own store
        when resuming, which is appended to).
    checkpoint : path, optional
        Directory of the checkpoint (:class:`RunState`), rewritten atomically.
    checkpoint_every : int
        Chunks between checkpoints (and one at the end).
    memory_limit : float, optional
        Bytes the in-memory records may use (default: :data:`braindyn.store.MEMORY_FRACTION`
        of the available memory; ``math.inf``: no check).

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
    _check_number("duration", duration)
    _check_number("dt", dt)
    _check_number("t0", t0)
    check_positive("dt", dt, "run", "ms")
    check_positive("duration", duration, "run", "ms")
    check_choice("time_label", time_label, ("end", "start"), "run")
    auto_chunk = chunk_steps is None
    chunk_steps = 20000 if auto_chunk else chunk_steps
    if isinstance(chunk_steps, bool) or not isinstance(chunk_steps, (int, np.integer)) or chunk_steps < 1:
        raise BraindynError(f"'chunk_steps' must be a positive integer, got {chunk_steps!r}. Fix: e.g. 20000.")
    if isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, (int, np.integer)) or checkpoint_every < 1:
        raise BraindynError(f"'checkpoint_every' must be a positive integer (chunks), got {checkpoint_every!r}. "
                            f"Fix: e.g. checkpoint_every=10.")
    dt = float(dt)
    n_steps = int(round(duration / dt))
    if n_steps < 1:
        raise BraindynError(f"duration={duration} ms is shorter than one step dt={dt} ms. Fix: increase duration.")
    if abs(n_steps * dt - duration) > 1e-6 * max(dt, abs(duration) * 1e-3):
        raise BraindynError(f"duration={duration} ms is not a whole number of steps of dt={dt} ms. Fix: "
                            f"duration={n_steps * dt:g}.")
    _check_record_every(record_every)
    if n_steps % record_every:
        lo = (n_steps // record_every) * record_every
        valid = [f"{v * dt:g}" for v in (lo, lo + record_every) if v > 0]
        raise BraindynError(f"duration={duration} ms is {n_steps} steps, not a whole number of record windows of "
                            f"record_every={record_every} steps. Fix: duration={' or '.join(valid)} ms.")
    _check_static_args("run", n_steps, dt, record_every, unroll)
    if dtype is not None:
        try:
            kind = jnp.dtype(dtype)
        except TypeError:
            raise BraindynError(f"'dtype' must be a float type, got {dtype!r}. Fix: dtype=jnp.float32 or "
                                f"jnp.float64.") from None
        if not jnp.issubdtype(kind, jnp.floating):
            raise BraindynError(f"'dtype' must be a float type, got {kind}. Fix: dtype=jnp.float32 or jnp.float64.")
        if kind == jnp.float64 and not jax.config.jax_enable_x64:
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
        else:
            check_state(model, state0, "state0")
        state = state0
        istates = _inputs.init_states(inputs, clock.named_key(k_run, "inputs-init"))
        t_origin, step = float(t0), 0
    dtype_s = _state_dtype(state)
    t_origin_time = clock.Time.of(t_origin, dtype_s)
    _inputs.check_read(model, inputs, istates, state, dt, k_run, t_origin_time)
    watch_inputs = check_finite and _inputs.has_dynamic(inputs)
    recorder = make_recorder(record)
    rows, kinds, count_labels = _row_specs(recorder, state, record_every)
    packed = {k: kinds[k]["n_neurons"] for k in rows if kinds[k]["encoding"] == "packbits"}
    n_rec = n_steps // record_every
    fp = fingerprint(model, dt)
    rec_store = None
    target = max(1, chunk_steps // record_every)
    if store is not None and auto_chunk:
        row_bytes = sum(int(np.prod(s, dtype=np.int64)) * np.dtype(d).itemsize for s, d in rows.values()) + 8
        target = max(1, min(target, STORE_CHUNK_BYTES // row_bytes))
    if store is not None:
        rec_store, target = _open_store(store, resume, model, rows, kinds, fp, dt, t_origin, step, record_every,
                                        time_label, key if resume is None else None, target)
    if keep_records is None:
        keep_records = store is None
    per_chunk, n_full, rem = _chunk_plan(n_rec, target)
    plan = [per_chunk] * n_full + ([rem] if rem else [])
    est = _estimate(rows, n_rec if keep_records else 0, per_chunk, memory_limit)
    if not est.fits:
        big = ", ".join(f"{k}: {_fmt_bytes(b)}" for k, b in sorted(est.by_record.items(), key=lambda kv: -kv[1])[:4])
        raise BraindynError(
            f"the records of this run need {_fmt_bytes(est.records_bytes)} in memory ({big}), more than the limit of "
            f"{_fmt_bytes(est.limit_bytes)} (see braindyn.store.memory_limit; available now: "
            f"{_fmt_bytes(est.available_bytes or 0)}). Fix: stream them to disk with store='run.zarr', record less "
            f"(record_every=..., fewer variables), or set memory_limit=... (bytes).")
    from ._errors import warn_duration_unit, warn_time_constants

    def unit_warnings():
        # the unit heuristics once every check has passed and the step has compiled: a call with
        # an error (also one found when tracing the step) gets the error alone
        warn_duration_unit(duration, dt, model, stacklevel=4)   # a duration that looks like seconds
        warn_time_constants(model, dt, stacklevel=4)            # a time constant below dt

    bufs = {k: np.empty((n_rec if keep_records else 0,) + shape, dt_) for k, (shape, dt_) in rows.items()}
    ts_buf = np.empty(n_rec if keep_records else 0)
    show = progress if progress is not None else (len(plan) > 1 and sys.stderr.isatty())
    bar = None
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_steps, unit="step", desc=type(model).__name__, leave=False)
    step_start, done = step, 0
    row0 = rec_store.n_rows if rec_store is not None else 0
    shift = dt if time_label == "end" else 0.0

    def snapshot(st, ist, stp):
        return RunState(state=st, input_states=ist, step=stp, t0=t_origin, dt=dt, key=k_run, record_phase=0,
                        fingerprint=fp)

    def commit(ts, recs):
        nonlocal done
        k = len(ts)
        if rec_store is not None:
            rec_store.append(ts, recs)
        if keep_records:
            for lab, v in recs.items():
                bufs[lab][done: done + k] = v
            ts_buf[done: done + k] = ts
        done += k

    def result(stp, st, ist, status):
        rs = snapshot(st, ist, stp)
        n = stp - step_start
        if keep_records:
            recs, ts = {k: v[:done] for k, v in bufs.items()}, ts_buf[:done]
            for k, nn in packed.items():
                recs[k] = SpikeTrain(recs[k], nn, ts)
        elif rec_store is not None:
            from .store import open_records

            ts, recs, _ = open_records(rec_store.path, rows=(row0, row0 + done))
        else:
            recs, ts = {}, np.zeros(0)
        return RunResult(ts=ts, records=recs, run_state=rs, dt=dt, t_start=t_origin + step_start * dt,
                         t_end=t_origin + stp * dt, n_steps=n, status=status, record_every=record_every,
                         spike_counts=tuple(count_labels),
                         store=None if rec_store is None else rec_store.path)

    def save_checkpoint():
        if checkpoint is not None:
            snapshot(state, istates, step).save(checkpoint)

    try:
        for ic, nr in enumerate(plan):
            ns = nr * record_every
            a0, b0 = clock.split_step(step)
            args = (model, state, istates, k_run, t_origin_time, jnp.int32(a0), jnp.int32(b0), inputs, ns, dt,
                    recorder, record_every, unroll)
            out = _run_chunk(*args, "inputs" if watch_inputs else False)
            if ic == 0:
                unit_warnings()
            new_state, recs, new_istates = out[:3]
            ts = t_origin + (step + record_every * (np.arange(nr) + 1) - 1) * dt + shift
            recs = _host(recs)
            inputs_ok = not watch_inputs or int(out[3]) < 0
            if check_finite and not (inputs_ok and _state_finite(new_state) and _records_finite(recs)):
                _diverged(args, recs, ts, step, commit, result, model, inputs, dt, record_every, unroll)
            commit(ts, recs)
            state, istates = new_state, new_istates
            step += ns
            if on_chunk is not None:
                on_chunk(ts, recs)
            if (ic + 1) % checkpoint_every == 0 or ic == len(plan) - 1:
                save_checkpoint()
            if bar is not None:
                bar.update(ns)
    except KeyboardInterrupt as e:
        # Ctrl-C: every committed chunk stays (the store is cut back to them), the state matches
        # them, and the interrupt goes on with the partial result attached.
        if rec_store is not None:
            rec_store.truncate(row0 + done)
        save_checkpoint()
        e.result = result(step, state, istates, "interrupted")
        raise
    finally:
        if bar is not None:
            bar.close()
    return result(step, state, istates, "ok")
