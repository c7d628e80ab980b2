"""Helpers of :func:`braindyn.run`: the memory estimate, the record store of a run, and the
location and report of a divergence (kept apart so that ``run.py`` stays readable)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from . import clock
from . import inputs as _inputs
from ._errors import BraindynError, SimulationDiverged

__all__ = ["MemoryEstimate"]


@dataclass
class MemoryEstimate:
    """What the records of a run will need (see :func:`estimate_memory`).

    Attributes
    ----------
    records_bytes : int
        Host memory of all records kept in memory (spike rasters bit-packed, counts in the
        smallest integer type, times included).
    chunk_bytes : int
        Memory of one chunk of records (what a run streaming to ``store=`` holds at a time).
    by_record : dict
        ``records_bytes`` per record label.
    limit_bytes : float or None
        The budget the run checks against (:func:`braindyn.store.memory_limit`).
    available_bytes : int or None
        Memory available now (:func:`braindyn.store.available_memory`).
    """

    records_bytes: int
    chunk_bytes: int
    by_record: dict
    limit_bytes: Optional[float]
    available_bytes: Optional[int]

    @property
    def fits(self) -> bool:
        return self.limit_bytes is None or self.records_bytes + 2 * self.chunk_bytes <= self.limit_bytes


def _estimate(rows, n_rec, per_chunk, memory_limit=None) -> MemoryEstimate:
    from . import store as _store

    row_bytes = {k: int(np.prod(shape, dtype=np.int64)) * np.dtype(dt).itemsize for k, (shape, dt) in rows.items()}
    by = {k: b * n_rec for k, b in row_bytes.items()}
    total = sum(by.values()) + 8 * n_rec
    chunk = (sum(row_bytes.values()) + 8) * per_chunk
    return MemoryEstimate(total, chunk, by, _store.memory_limit(memory_limit), _store.available_memory())


def _fmt_bytes(b) -> str:
    return f"{b / 2**30:.2f} GiB" if b >= 2**30 else f"{b / 2**20:.1f} MiB"


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
    from .run import _no_record, _state_dtype, _step_words, simulate

    start = state
    n_before = int(step_bad[1])
    if n_before > 0:
        state, _, istates = eqx.filter_jit(simulate)(
            model, state, n_before, dt, inputs=inputs, input_states=istates, record=_no_record, t0=t0,
            step0=_step_words(step_bad[0]), key=key, check_inputs=False)
    g = step_bad[0] + n_before
    a, b = clock.split_step(g)
    t = clock.step_time(g, dt, t0, _state_dtype(state))
    k = clock.step_key(key, jnp.int32(a), jnp.int32(b))
    vals, _ = _inputs.evaluate(inputs, istates, t, dt, clock.named_key(k, "inputs"))
    new, _ = model.step(state, vals, t, dt, clock.named_key(k, "model"))
    flat, _ = jax.tree_util.tree_flatten_with_path(new)
    old_flat = dict((jax.tree_util.keystr(p), v) for p, v in jax.tree_util.tree_flatten_with_path(state)[0])
    del start
    # a non-finite input is the cause, whatever the state shows (a reset may hide it, or turn it into NaN)
    for path, v in jax.tree_util.tree_flatten_with_path(vals)[0]:
        v = np.asarray(v)
        if v.dtype.kind == "f" and not np.all(np.isfinite(v)):
            name = ".".join(str(getattr(p, "key", getattr(p, "idx", p))) for p in path) or "I"
            idx = tuple(int(i) for i in np.argwhere(~np.isfinite(v))[0]) if v.ndim else ()
            return f"input {name}", idx, float(v[idx]), float("nan")
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


def _diverged(args, recs, ts, step, commit, result, model, inputs, dt, record_every, unroll):
    """Locate the first non-finite value of a chunk, commit the complete record windows before it,
    and raise :class:`SimulationDiverged` with a partial result whose state, ``n_steps`` and
    ``t_end`` all describe the end of the last committed window."""
    from .run import _advance, _run_chunk

    (_, state, istates, k_run, t0_time, *_rest) = args
    t_origin = float(t0_time.value) if hasattr(t0_time, "value") else float(t0_time)
    bad_local = int(_run_chunk(*args, True)[3])
    if bad_local >= 0:
        name, idx, val, before = _locate_nonfinite(model, state, istates, k_run, t0_time, (step, bad_local), inputs,
                                                   dt)
    else:  # the state stayed finite: a record function produced the non-finite value
        row, label, idx, val = _first_bad_record(recs)
        bad_local = (row + 1) * record_every - 1
        name, before = f"record {label}", float("nan")
    bad = step + bad_local
    keep = bad_local // record_every
    commit(ts[:keep], {k: np.asarray(v)[:keep] for k, v in recs.items()})
    ok_steps = keep * record_every
    st, ist = _advance(model, state, istates, k_run, t0_time, step, ok_steps, inputs, dt, unroll)
    partial = result(step + ok_steps, st, ist, "diverged")
    t_bad = t_origin + (bad + 1) * dt
    where = f"index {idx[0] if len(idx) == 1 else idx}"
    if name.startswith("input"):
        fix = (f"Fix: give finite inputs (the input {name[6:]!r} is {val} at t = {t_bad - dt:g} ms; a reset can hide "
               f"the overshoot an infinite drive causes).")
    else:
        fix = (f"Fix: reduce dt (now {dt} ms), {_stability_hint(model)}, or check the parameters and inputs of that "
               f"neuron.")
    raise SimulationDiverged(
        f"simulation diverged: {'' if name.startswith('input') else 'variable '}{name!r} became {val} at step {bad} "
        f"(t = {t_bad:g} ms), {where}{'' if name.startswith('input') else f'; its value before that step was {before:g}'}"
        f". {fix} Records up to the failure are "
        f"in the exception's .result, whose run_state, n_steps and t_end describe step {step + ok_steps} (the end of "
        f"the last complete record window): continuing from it repeats nothing and skips nothing.",
        variable=name, index=idx, step=bad, t=t_bad, result=partial,
    )


def _open_store(path, resume, model, rows, kinds, fp, dt, t_origin, step, record_every, time_label, key, target):
    """Create (fresh run) or reopen and truncate (resume) the record store; returns it and the
    chunk size in records (the store's chunking when appending)."""
    import os

    from . import __version__
    from .store import RecordStore, describe_model

    path = os.fspath(path)
    if resume is not None and os.path.exists(path):
        st = RecordStore.open(path)
        st.check_compatible(fp, dt, record_every, rows)
        if st.attrs.get("time_label") != time_label:
            raise BraindynError(f"store {path!r} stamps records with time_label={st.attrs.get('time_label')!r}. "
                                f"Fix: resume with time_label={st.attrs.get('time_label')!r}.")
        start = int(st.attrs["step_start"])
        if step < start or (step - start) % record_every:
            raise BraindynError(f"store {path!r} starts at step {start}; the run state (step {step}) does not continue "
                                f"it. Fix: resume from a checkpoint of the run that wrote this store.")
        st.truncate((step - start) // record_every)
        return st, int(st.group["ts"].chunks[0])
    import zarr

    seed = None
    if key is not None:
        try:
            seed = np.asarray(jax.random.key_data(key) if jnp.issubdtype(key.dtype, jax.dtypes.prng_key)
                              else key).tolist()
        except Exception:
            seed = repr(key)
    attrs = {"model": repr(model)[:20000], "model_class": type(model).__qualname__, "fingerprint": fp,
             "parameters": describe_model(model), "dt": dt, "t0": t_origin, "step_start": step,
             "record_every": record_every, "time_label": time_label, "seed_key": seed,
             "versions": {"braindyn": __version__, "jax": jax.__version__, "numpy": np.__version__,
                          "zarr": zarr.__version__}}
    return RecordStore.create(path, rows, kinds, target, attrs), target
