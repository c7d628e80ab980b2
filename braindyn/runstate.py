r"""The run state: everything needed to continue a run exactly, as one value you can hold and save.

A :class:`RunState` holds the model state, the states of the stateful inputs, the global step,
the time origin :math:`t_0` (step :math:`k` starts at :math:`t_0 + k\,\Delta t`), :math:`\Delta t`,
the run's random key, the position inside a record window and a *fingerprint* of the model's
structure. Every :func:`braindyn.run` returns one (``result.run_state``) and accepts one
(``run(model, T, resume=state)``): the continuation is bit-identical to one uninterrupted run
(times and random numbers are functions of the global step). A state from another model, size
or ``dt`` is refused with an error that says what differs.

On disk (:meth:`RunState.save`, :meth:`RunState.load`) a run state is a directory with
``meta.json`` (step, times, key, fingerprint, versions, the tree layout) and ``arrays.npz``
(every array, bit-exact). It is written into a temporary directory next to the target and
moved into place with one rename, so a crash never leaves a half-written checkpoint. The
format is plain NumPy + JSON (readable without braindyn); a sharded run writes one such
directory per shard. (Orbax was considered: it would add a large dependency for what two
files do here; the layout leaves room to switch per shard later.)

Example
-------
>>> import braindyn as bd, tempfile, os
>>> lif = bd.neurons.LIF()
>>> first = bd.run(lif, 50.0, inputs=22.0, record="spike")
>>> path = os.path.join(tempfile.mkdtemp(), "ckpt")
>>> first.run_state.save(path)
>>> rest = bd.run(lif, 150.0, inputs=22.0, record="spike", resume=bd.RunState.load(path))
>>> whole = bd.run(lif, 200.0, inputs=22.0, record="spike")
>>> first.spike_count() + rest.spike_count() == whole.spike_count()
True
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._errors import BraindynError

__all__ = ["RunState", "fingerprint", "tree_signature", "check_state"]

_FORMAT = 1


def _describe(obj, depth=0):
    """A process-independent description of a model's structure (classes, static fields, shapes)."""
    if depth > 50:
        return "..."
    if isinstance(obj, eqx.Module):
        parts = [type(obj).__module__ + "." + type(obj).__qualname__]
        for f in dataclasses.fields(obj):
            if not f.init and not hasattr(obj, f.name):
                continue
            parts.append(f"{f.name}={_describe(getattr(obj, f.name, None), depth + 1)}")
        return "(" + ",".join(parts) + ")"
    if isinstance(obj, dict):
        return "{" + ",".join(f"{k!r}:{_describe(v, depth + 1)}" for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))) + "}"
    if isinstance(obj, (list, tuple)):
        return "[" + ",".join(_describe(v, depth + 1) for v in obj) + "]"
    if isinstance(obj, (jax.Array, np.ndarray)):
        return f"array{tuple(obj.shape)}:{jnp.dtype(obj.dtype).kind}"
    if isinstance(obj, (str, int, float, bool, type(None))):
        return repr(obj)
    if callable(obj):
        return getattr(obj, "__qualname__", type(obj).__name__)
    return type(obj).__name__


def fingerprint(model, dt: float) -> str:
    """Hash of the model's structure and ``dt``: equal for the same model with other parameter
    values, different for another model class, size, method, connectivity shape or ``dt``."""
    h = hashlib.sha1(_describe(model).encode())
    h.update(repr(float(dt)).encode())
    return h.hexdigest()[:16]


def tree_signature(tree) -> list:
    """``[(path, shape, dtype)]`` of every array of a state tree (for error messages)."""
    flat = jax.tree_util.tree_flatten_with_path(tree)[0]
    return [(jax.tree_util.keystr(p), tuple(np.shape(v)), str(np.asarray(v).dtype) if not hasattr(v, "dtype")
             else str(v.dtype)) for p, v in flat]


def _dotted(path) -> str:
    return ".".join(str(getattr(p, "key", getattr(p, "idx", getattr(p, "name", p)))) for p in path)


def _float_dtype(tree):
    for leaf in jax.tree.leaves(tree):
        dt = jnp.result_type(leaf)
        if jnp.issubdtype(dt, jnp.floating):
            return dt
    return None


def check_state(model, state, name: str = "state0"):
    """Raise a clear error unless ``state`` fits ``model``'s state: the same fields (tree
    structure), shapes and kinds of dtype as ``model.init_state()``, and finite values.

    Example
    -------
    >>> import braindyn as bd
    >>> check_state(bd.neurons.LIF(n=3), bd.neurons.LIF(n=3).init_state())   # fits: no error
    >>> try:
    ...     check_state(bd.neurons.LIF(n=3), bd.neurons.LIF(n=5).init_state())
    ... except bd.BraindynError as e:
    ...     print(str(e)[:55])
    state0 does not fit LIF (n=3): field 'V' has shape (5,)
    """
    try:
        template = jax.eval_shape(lambda: model.init_state(key=jax.random.PRNGKey(0), dtype=_float_dtype(state)))
    except Exception:  # a model whose initial state cannot be built without more arguments: nothing to compare
        return
    owner = type(model).__name__
    fix = f"Fix: {name}=model.init_state(...) of this model (or change its values, keeping the fields and shapes)."
    try:
        mine = {_dotted(p): v for p, v in jax.tree_util.tree_flatten_with_path(state)[0]}
    except Exception:
        mine = None
    theirs = {_dotted(p): v for p, v in jax.tree_util.tree_flatten_with_path(template)[0]}
    if mine is None or set(mine) != set(theirs):
        missing = sorted(set(theirs) - set(mine or {}))
        extra = sorted(set(mine or {}) - set(theirs))
        what = "; ".join(s for s in (f"it lacks the field(s) {missing}" if missing else "",
                                      f"it has field(s) {extra} the model does not have" if extra else "") if s)
        raise BraindynError(f"{name} does not fit {owner}: {what} (is it the state of another model?). {fix}")
    for path, t in theirs.items():
        v = mine[path]
        shape = tuple(np.shape(v))
        if shape != tuple(t.shape):
            size = f" (n={model.n})" if isinstance(getattr(model, "n", None), int) else ""
            raise BraindynError(f"{name} does not fit {owner}{size}: field {path!r} has shape {shape}, the model's "
                                f"has shape {tuple(t.shape)}. {fix}")
        kind = jnp.result_type(v)
        if jnp.dtype(kind).kind != jnp.dtype(t.dtype).kind and not (
                jnp.dtype(kind).kind in "iu" and jnp.dtype(t.dtype).kind in "iu"):
            raise BraindynError(f"{name} does not fit {owner}: field {path!r} has dtype {kind}, the model's is "
                                f"{t.dtype}. {fix}")
        if jnp.issubdtype(kind, jnp.inexact) and not isinstance(v, jax.core.Tracer):
            a = np.asarray(v)
            if not np.all(np.isfinite(a)):
                where = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0]) if a.ndim else ()
                raise BraindynError(f"{name}: field {path!r} is not finite at index {where} (value "
                                    f"{a[where] if a.ndim else a}). Fix: finite initial values.")


# ---- a JSON layout of a tree of dicts/lists/tuples/None with array leaves ------------------------------------
def _layout(tree, arrays):
    if isinstance(tree, dict):
        return {"d": {str(k): _layout(v, arrays) for k, v in tree.items()}}
    if isinstance(tree, list):
        return {"l": [_layout(v, arrays) for v in tree]}
    if isinstance(tree, tuple):
        return {"t": [_layout(v, arrays) for v in tree]}
    if tree is None:
        return None
    if isinstance(tree, eqx.Module) or not hasattr(tree, "shape"):
        raise BraindynError(f"cannot save a state leaf of type {type(tree).__name__}: run states hold dicts, "
                            f"lists and arrays.")
    arrays.append(np.asarray(tree))
    return {"a": len(arrays) - 1}


def _rebuild(lay, arrays):
    if lay is None:
        return None
    if "d" in lay:
        return {k: _rebuild(v, arrays) for k, v in lay["d"].items()}
    if "l" in lay:
        return [_rebuild(v, arrays) for v in lay["l"]]
    if "t" in lay:
        return tuple(_rebuild(v, arrays) for v in lay["t"])
    return jnp.asarray(arrays[f"a{lay['a']}"])


def _key_data(key):
    if key is None:
        return None, None
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        return np.asarray(jax.random.key_data(key)), str(jax.random.key_impl(key))
    return np.asarray(key), None


@dataclass(frozen=True)
class RunState:
    """Everything needed to continue a run (see the module docstring).

    Attributes
    ----------
    state : PyTree
        The model state after the last step.
    input_states : list
        States of the stateful inputs (OU processes, ...).
    step : int
        Global index of the next step.
    t0 : float
        Time (ms) of step 0; the next step starts at ``t0 + step * dt``.
    dt : float
        Step (ms).
    key : PRNG key or None
        The run's key (the key of step k is derived from it and k).
    record_phase : int
        Steps already taken inside the current record window (0 at a window boundary).
    fingerprint : str
        :func:`fingerprint` of the model and ``dt``.
    """

    state: Any
    input_states: Any
    step: int
    t0: float
    dt: float
    key: Any
    record_phase: int = 0
    fingerprint: str = ""

    @property
    def t(self) -> float:
        """Time (ms) at which the next step starts."""
        return self.t0 + self.step * self.dt

    def check_compatible(self, model, dt, state_template=None):
        """Raise a clear error if this state cannot continue a run of ``model`` with ``dt``."""
        if abs(float(dt) - self.dt) > 1e-12 * max(abs(self.dt), 1.0):
            raise BraindynError(f"resume: the run state was made with dt={self.dt} ms, this run has dt={dt} ms. "
                                f"Fix: resume with dt={self.dt}.")
        fp = fingerprint(model, dt)
        if self.fingerprint and fp != self.fingerprint:
            raise BraindynError(f"resume: the run state belongs to another model (structure fingerprint "
                                f"{self.fingerprint}, this model's is {fp}: another class, size, method or "
                                f"connectivity). Fix: resume the model the state was made with.")
        if state_template is not None:
            mine, theirs = tree_signature(self.state), tree_signature(state_template)
            if [(p, s) for p, s, _ in mine] != [(p, s) for p, s, _ in theirs]:
                diff = next(((a, b) for a, b in zip(mine, theirs) if a[:2] != b[:2]), (mine[:1], theirs[:1]))
                raise BraindynError(f"resume: the saved state does not fit this model: {diff[0]} vs {diff[1]} "
                                    f"(path, shape). Fix: resume the model the state was made with.")

    # ---- disk ---------------------------------------------------------------------------------------------
    def save(self, path):
        """Write to the directory ``path`` atomically (temporary directory, then one rename)."""
        path = os.fspath(path)
        parent = os.path.dirname(os.path.abspath(path))
        os.makedirs(parent, exist_ok=True)
        arrays = []
        lay_state = _layout(jax.device_get(self.state), arrays)
        lay_inputs = _layout(jax.device_get(list(self.input_states) if self.input_states is not None else None),
                             arrays)
        kd, impl = _key_data(self.key)
        meta = {"format": _FORMAT, "step": int(self.step), "t0": float(self.t0), "dt": float(self.dt),
                "record_phase": int(self.record_phase), "fingerprint": self.fingerprint,
                "key": None if kd is None else kd.tolist(), "key_dtype": None if kd is None else str(kd.dtype),
                "key_impl": impl, "state": lay_state, "input_states": lay_inputs,
                "versions": _versions()}
        tmp = tempfile.mkdtemp(prefix=".tmp-" + os.path.basename(path) + "-", dir=parent)
        try:
            np.savez(os.path.join(tmp, "arrays.npz"), **{f"a{i}": a for i, a in enumerate(arrays)})
            with open(os.path.join(tmp, "meta.json"), "w") as fh:
                json.dump(meta, fh)
                fh.flush()
                os.fsync(fh.fileno())
            old = None
            if os.path.exists(path):
                old = path + ".old-" + os.path.basename(tmp)
                os.replace(path, old)
            os.replace(tmp, path)
            if old:
                shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    @staticmethod
    def load(path) -> "RunState":
        """Read a run state written by :meth:`save`."""
        path = os.fspath(path)
        try:
            with open(os.path.join(path, "meta.json")) as fh:
                meta = json.load(fh)
        except FileNotFoundError:
            raise BraindynError(f"no run state at {path!r} (no meta.json). Fix: pass the directory written by "
                                f"RunState.save or run(..., checkpoint=...).") from None
        if meta.get("format") != _FORMAT:
            raise BraindynError(f"run state at {path!r} has format {meta.get('format')}, this braindyn reads {_FORMAT}.")
        with np.load(os.path.join(path, "arrays.npz")) as z:
            arrays = {k: z[k] for k in z.files}
        key = None
        if meta["key"] is not None:
            kd = jnp.asarray(np.asarray(meta["key"], dtype=meta["key_dtype"]))
            key = jax.random.wrap_key_data(kd, impl=meta["key_impl"]) if meta["key_impl"] else kd
        ist = _rebuild(meta["input_states"], arrays)
        return RunState(state=_rebuild(meta["state"], arrays), input_states=ist, step=int(meta["step"]),
                        t0=float(meta["t0"]), dt=float(meta["dt"]), key=key,
                        record_phase=int(meta["record_phase"]), fingerprint=meta["fingerprint"])


def _versions():
    from . import __version__

    return {"braindyn": __version__, "jax": jax.__version__, "numpy": np.__version__}
