"""The checks of the harness and :func:`check_component` (see :mod:`braindyn.testing`)."""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import logging
import warnings
from typing import Optional, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._errors import UnitWarning
from ._discovery import Component, HarnessError, examples
from ._hosts import STEP_PARAMS, Case, _follow, _label, _param_paths, _setter, _smooth, _sweep_values, case_for

#: Names of the checks, in the order :func:`check_component` runs them.
#: (``recompile`` runs early, so that its first run is the one compilation it counts.)
CHECKS = ("declared", "recompile", "jit_eager", "chunking", "vmap", "grad", "surrogate", "dtype")


# =============================================================================================
# Running a case
# =============================================================================================
def _sim(system, initial, dt, dtype, n_steps, key):
    """``simulate`` of ``system`` from ``initial(model, dtype)``, recording the whole state."""
    from ..run import simulate

    model, inputs = system
    return simulate(model, initial(model, dtype), n_steps, dt, inputs=inputs, record=lambda s: s, key=key)


#: One compiled simulation per system structure: the checks share it (new values, same compilation).
_sim_jit = eqx.filter_jit(_sim)


def _simulate(case, system, dtype, n_steps=None, key=1):
    return _sim_jit(system, case.state0, case.dt, dtype, n_steps or case.n_steps, key)


def _flat(tree):
    return [(jax.tree_util.keystr(p), np.asarray(v)) for p, v in jax.tree_util.tree_flatten_with_path(tree)[0]]


def _bits(x):
    return x.view(np.uint8) if x.dtype.kind == "f" else x


def _compare(a, b, what, rtol, atol):
    """Leaves of ``a`` and ``b`` equal: integers and booleans exactly, floats within
    ``rtol`` (bit for bit when ``rtol == 0``)."""
    fa, fb = _flat(a), _flat(b)
    if [k for k, _ in fa] != [k for k, _ in fb]:
        raise HarnessError(f"{what}: the two results have different structures")
    for (k, x), (_, y) in zip(fa, fb):
        if x.shape != y.shape:
            raise HarnessError(f"{what}: {k} has shapes {x.shape} and {y.shape}")
        if x.dtype.kind in "biu" or rtol == 0:
            if not np.array_equal(_bits(x), _bits(y)):
                diff = np.abs(x.astype(float) - y.astype(float))
                raise HarnessError(f"{what}: {k} differs in {int(np.sum(diff > 0))} elements, not bit for bit "
                                   f"(max |diff| "
                                   f"{float(np.max(diff)):.3g})")
        elif not np.allclose(x, y, rtol=rtol, atol=atol * (1.0 + float(np.max(np.abs(x), initial=0.0)))):
            raise HarnessError(f"{what}: {k} differs by up to {float(np.max(np.abs(x - y))):.3g} (rtol={rtol:g})")


def _tol(dtype):
    return (1e-12, 1e-12) if jnp.dtype(dtype) == jnp.float64 else (2e-5, 2e-6)


def _run(case, system, dtype, chunk, key=3):
    from ..run import run

    model, inputs = system
    with warnings.catch_warnings():  # the host runs are short on purpose (a few steps), not a unit slip
        warnings.simplefilter("ignore", UnitWarning)
        res = run(model, round(case.n_steps * case.dt, 12), case.dt, inputs=inputs,
                  state0=case.state0(model, dtype), key=key, chunk_steps=chunk, progress=False)
    recs = {k: (v.packed if hasattr(v, "packed") else v) for k, v in res.records.items()}
    return recs, res.run_state.state, res.run_state.input_states


def _first_param(case):
    """The parameter the sweeps use: ``case.sweep``, else the first smooth one nearest to the
    component's top (its own before its sub-components')."""
    if case.sweep is not None:
        from ..params import ParamSpec

        return (("attr", case.sweep),), ParamSpec()
    paths = sorted(_smooth(_param_paths(case.component)), key=lambda ps: len(ps[0]))  # stable: the shallowest
    return (paths or [None])[0]


# =============================================================================================
# The checks
# =============================================================================================
def _check_declared(case, dtype):
    comp = case.component
    bad = []
    nodes = [comp] + [_follow(comp, p[:-1]) for p, _ in _param_paths(comp)]
    for node in nodes:
        for f in dataclasses.fields(node) if isinstance(node, eqx.Module) else ():
            v = getattr(node, f.name, None)
            if not f.metadata.get("static", False) and isinstance(v, (int, float)) and not isinstance(v, bool):
                bad.append(f"{type(node).__name__}.{f.name} = {v!r}")
    if bad:
        raise HarnessError(f"{case.name}: numeric fields are Python numbers, not declared parameters: "
                           f"{sorted(set(bad))}. Fix: declare them with braindyn.params.param(default, bound=..., "
                           f"unit=...) (array leaves: traced, trainable, no recompilation), or make structure "
                           f"static with eqx.field(static=True).")
    return f"pass ({len(_param_paths(comp))} declared parameters)"


def _check_jit_eager(case, dtype):
    rtol, atol = _tol(dtype)
    n = 2  # op by op is slow: the first step, then one more with the next step's key
    state = case.state0(case.model, dtype)  # eager too (outside disable_jit: an iterative rest state is slow)
    with jax.disable_jit():
        _, eager, _ = _sim(case.system, lambda m, d: state, case.dt, dtype, n, 1)
    _, jitted, _ = _simulate(case, case.system, dtype)
    for i in range(n):
        _compare(jax.tree.map(lambda x: x[i], jitted), jax.tree.map(lambda x: x[i], eager),
                 f"{case.name}: step {i + 1} of a simulate with a key, jit vs eager", rtol, atol)
    return f"pass ({n} steps, same random numbers, within rtol {rtol:g})"


def _check_chunking(case, dtype):
    a = _run(case, case.system, dtype, case.n_steps)
    b = _run(case, case.system, dtype, case.n_steps // 4)
    _compare(a, b, f"{case.name}: bd.run with chunk_steps={case.n_steps} vs {case.n_steps // 4}", 0, 0)
    return "pass (bit for bit)"


def _check_vmap(case, dtype):
    ps = _first_param(case)
    if ps is None:
        return "skip (no declared smooth parameter)"
    path, spec = ps
    rtol, atol = _tol(dtype)
    set_ = _setter(case, [path])
    base = _follow(case.locate(case.system), path)
    vals = jnp.asarray(np.stack(_sweep_values(base, spec)), getattr(base, "dtype", dtype))
    batch = eqx.filter_jit(jax.vmap(lambda v: _sim(set_(case.system, [v]), case.state0, case.dt, dtype,
                                                   case.n_steps, 1)[:2]))(vals)
    for i in range(vals.shape[0]):
        _compare(jax.tree.map(lambda x: x[i], batch), _simulate(case, set_(case.system, [vals[i]]), dtype)[:2],
                 f"{case.name}: vmap over {_label(path)} = {np.asarray(vals[i]).ravel()[:3]}", 10 * rtol, 10 * atol)
    same = all(np.array_equal(a[0], a[-1]) for _, a in _flat(batch))
    return f"pass (3 values of {_label(path)}" + (", which do not change the run)" if same else ")")


def _exact_spikes(system):
    """``system`` with every surrogate spike function replaced by the exact Heaviside."""
    from ..surrogate import Heaviside, Surrogate

    return jax.tree.map(lambda x: Heaviside(x.width) if isinstance(x, Surrogate) else x, system,
                        is_leaf=lambda x: isinstance(x, Surrogate))


def _reduce(rec):
    """The loss: the mean of every float record, summed (and the sum of mean magnitudes)."""
    leaves = [x for x in jax.tree.leaves(rec) if jnp.issubdtype(jnp.result_type(x), jnp.floating)]
    return sum(jnp.mean(x) for x in leaves), sum(jnp.mean(jnp.abs(x)) for x in leaves)


def _check_grad(case, dtype):
    if jnp.dtype(dtype) != jnp.float64:
        return "skip (finite differences need float64)"
    paths = _param_paths(case.component)
    if not paths:
        return "skip (no declared parameters)"
    set_ = _setter(case, [p for p, _ in paths])
    base = [_follow(case.locate(case.system), p) for p, _ in paths]
    exact = _exact_spikes(case.system)

    def loss(values):  # surrogates replaced by the exact Heaviside: the true derivative
        return _reduce(_sim(set_(exact, values), case.state0, case.dt, dtype, case.n_steps, 1)[1])

    (_, scale), grads = jax.jit(jax.value_and_grad(loss, has_aux=True))(base)

    def at(i, p, x):  # the forward run (the same with surrogates): the shared compiled simulation
        vals = list(base)
        vals[i] = jnp.asarray(p + x, base[i].dtype)
        return float(_reduce(_simulate(case, set_(case.system, vals), dtype)[1])[0])

    eps = float(jnp.finfo(jnp.float64).eps)
    bad, checked, moved, step, kinks = [], 0, 0, [], []
    f0 = float(_reduce(_simulate(case, case.system, dtype)[1])[0])
    for i, (path, spec) in enumerate(paths):
        g, name = float(jnp.sum(grads[i])), _label(path)
        if path[-1][1] in STEP_PARAMS:
            if g != 0.0:
                bad.append(f"{name}: an integer-step parameter has gradient {g:.3g} (expected exactly 0)")
            step.append(name)
            continue
        p = np.asarray(base[i], np.float64)
        if not np.all(np.isfinite(p)):
            continue
        h = 1e-5 * max(float(np.max(np.abs(p))), 1e-2)
        fp, fm = at(i, p, h), at(i, p, -h)
        floor = 200 * eps * float(scale) / h
        ok = lambda d: np.isfinite(g) and abs(g - d) <= 1e-3 * max(abs(d), abs(g)) + floor  # noqa: E731
        checked += 1
        moved += abs(fp - fm) / (2 * h) > 10 * floor
        if spec.bound in ("positive", "nonnegative", "probability") and np.any(p - 2 * h < 0):
            fd = (-3 * f0 + 4 * fp - at(i, p, 2 * h)) / (2 * h)  # at the edge of the bound: one-sided
            if not ok(fd):
                bad.append(f"{name}: autodiff {g:.8g} vs one-sided finite difference {fd:.8g}")
            continue
        fd = (fp - fm) / (2 * h)
        if ok(fd):
            continue
        # a kink at this very value (a min/max/where switching at p): autodiff takes one side
        right = (-3 * f0 + 4 * fp - at(i, p, 2 * h)) / (2 * h)
        left = (3 * f0 - 4 * fm + at(i, p, -2 * h)) / (2 * h)
        if (ok(right) or ok(left)) and abs(right - left) > 1e-3 * max(abs(right), abs(left)) + floor:
            kinks.append(name)
            continue
        bad.append(f"{name}: autodiff {g:.8g} vs finite difference {fd:.8g} (one-sided: {left:.8g}, {right:.8g})")
    if bad:
        raise HarnessError(f"{case.name}: gradients (float64, {case.n_steps} steps) wrong: " + "; ".join(bad))
    notes = ([f"{', '.join(step)}: zero"] if step else []) + \
        ([f"{', '.join(kinks)}: at a kink, equal to a one-sided difference"] if kinks else [])
    return f"pass ({checked} parameters within 1e-3 of finite differences, {moved} of them with a non-zero one" + \
        (f"; {'; '.join(notes)})" if notes else ")")


def _check_surrogate(case, dtype):
    from .. import clock
    from ..core import SpikingNeuron, as_inputs

    m = case.model
    if not isinstance(m, SpikingNeuron):
        return "skip (not a spiking neuron)"
    rtol = 1e-9 if jnp.dtype(dtype) == jnp.float64 else 1e-3
    s0 = m.init_state(key=jax.random.PRNGKey(0), dtype=dtype)
    t, dt, key, var = clock.step_time(0, case.dt, 0.0, dtype), case.dt, jax.random.PRNGKey(0), m.spike_var
    w = jnp.broadcast_to(jnp.asarray(m.spike_fn.width, dtype), (m.n,))

    def dist(v, I):  # spike distance after one step from spike_var = v with input current I
        y = {k: s0[k] for k in m.variables}
        y[var] = v
        return jnp.asarray(m.spike_distance(y, m.integrate_continuous(dict(y), as_inputs(I, m.n), t, dt, key)), dtype)

    def spike(v, I):
        return m.step({**s0, var: v}, as_inputs(I, m.n), t, dt, key)[0]["spike"]

    def solve(f, x0, scale, target):
        # f(x) = target, elementwise: expand a bracket around x0, then bisect
        def expand(_, c):
            lo, hi = c
            return (jnp.where(f(lo) < target, lo, x0 - 2 * (x0 - lo)),
                    jnp.where(f(hi) > target, hi, x0 + 2 * (hi - x0)))

        def bisect(_, c):
            lo, hi = c
            mid = 0.5 * (lo + hi)
            above = f(mid) > target
            return jnp.where(above, lo, mid), jnp.where(above, mid, hi)

        lo, hi = jax.lax.fori_loop(0, 40, expand, (x0 - scale, x0 + scale))
        lo, hi = jax.lax.fori_loop(0, 120, bisect, (lo, hi))
        return 0.5 * (lo + hi)

    @functools.partial(jax.jit, static_argnums=1)
    def find(target, move_state):
        # a state just below/above the spike condition: move the spike variable (input 0), or,
        # where that cannot reach it (an upward-crossing condition), the input current
        zero = jnp.zeros(m.n, dtype)
        if move_state:
            v, I = solve(lambda x: dist(x, zero), s0[var], w, target), zero
        else:
            v, I = s0[var], solve(lambda x: dist(s0[var], x), zero, jnp.ones_like(w), target)
        d, dd = jax.jvp(lambda x: dist(x, I), (v,), (jnp.ones_like(v),))
        sp, dsp = jax.jvp(lambda x: spike(x, I), (v,), (jnp.ones_like(v),))
        return d, dd, sp, dsp

    out = []
    for side in (-0.5, 0.5):
        for move_state in (True, False):
            d, dd, sp, dsp = find(side * w, move_state)
            if bool(jnp.all(jnp.abs(d - side * w) < 0.25 * w)):
                break
        else:
            raise HarnessError(f"{case.name}: neither a value of {var!r} nor an input current puts the spike distance "
                               f"at {side} * width after one step (got {np.asarray(d)})")
        expect = type(m.spike_fn).rho(d / w) / w * dd
        if not np.array_equal(np.asarray(sp), np.full(m.n, float(side > 0))):
            raise HarnessError(f"{case.name}: spike = {np.asarray(sp)} at a distance {np.asarray(d)} to the condition")
        if not np.allclose(dsp, expect, rtol=rtol, atol=rtol * float(jnp.max(jnp.abs(expect)))):
            raise HarnessError(f"{case.name}: d spike/d {var} = {np.asarray(dsp)} at distance {np.asarray(d)}, but "
                               f"the surrogate's closed form rho(x/w)/w * dx/d{var} gives {np.asarray(expect)}")
        out.append(float(np.asarray(dsp)[0]))
    return f"pass (d spike/d {var} = {out[0]:.4g} below, {out[1]:.4g} above the spike condition)"


def _eager_steps(case, dtype, n=2):
    """``n`` steps without jit (op by op): the states and the input states before and after."""
    from .. import clock, inputs as _inp

    model, inputs = case.system
    key = jax.random.PRNGKey(1)
    state = state0 = case.state0(model, dtype)
    istates = istates0 = _inp.init_states(inputs, key)
    for k in range(n):
        t = clock.step_time(k, case.dt, 0.0, dtype)
        vals, istates = _inp.evaluate(inputs, istates, t, case.dt, jax.random.fold_in(key, k))
        state = model.step(state, vals, t, case.dt, jax.random.fold_in(key, k))[0]
    return (state0, istates0), (state, istates)


def _check_dtype(case, dtype):
    # float32 by two eager steps (no compilation), float64 by the shared compiled run; with 64-bit
    # JAX on, a float32 state is the stricter case (float64 parameters and inputs must not promote it)
    msgs = []
    for dt_ in ((jnp.float32, jnp.float64) if jax.config.jax_enable_x64 else (jnp.float32,)):
        name = jnp.dtype(dt_).name
        if jnp.dtype(dt_) == jnp.dtype(dtype) and jnp.dtype(dt_) == jnp.float64:
            (s0, i0), _ = _eager_steps(case, dt_, 0)
            final, rec, istates = _simulate(case, case.system, dt_)
            trees = (("state", final), ("record", rec))
        else:
            (s0, i0), (final, istates) = _eager_steps(case, dt_)
            trees = (("state", final),)
        msgs += [f"state {k} is {b.dtype} after a step from {a.dtype} in a {name} run"
                 for (k, a), (_, b) in zip(_flat(s0), _flat(final)) if a.dtype != b.dtype]
        for what, tree in trees:
            msgs += [f"{what} {k} is {v.dtype} in a {name} run" for k, v in _flat(tree)
                     if v.dtype.kind == "f" and v.dtype != jnp.dtype(dt_)]
        msgs += [f"input state {k} changed from {a.dtype} to {b.dtype}"
                 for (k, a), (_, b) in zip(_flat(i0), _flat(istates)) if a.dtype != b.dtype]
        if msgs:
            break
    if msgs:
        raise HarnessError(f"{case.name}: dtype not kept: " + "; ".join(sorted(set(msgs))))
    return "pass (float32 and float64)" if jax.config.jax_enable_x64 else "pass (float32)"


class _CompileLog(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.names = []

    def emit(self, record):
        msg = record.getMessage()
        if msg.startswith("Compiling "):
            self.names.append(msg.split(" ")[1])


@contextlib.contextmanager
def _count_compiles():
    """Collect the names of the functions XLA compiles (``jax.log_compiles``), without letting the
    log records reach other handlers."""
    h = _CompileLog()
    logger = logging.getLogger("jax")
    old = logger.level, logger.propagate
    logger.addHandler(h)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        with jax.log_compiles(True):
            yield h.names
    finally:
        logger.removeHandler(h)
        logger.setLevel(old[0])
        logger.propagate = old[1]


def _with_value(component, name, value):
    """``component`` with the parameter ``name`` set through the constructor (as a user would),
    or by replacing the leaf when the constructor does not take every field."""
    try:
        return dataclasses.replace(component, **{name: value})
    except Exception:  # noqa: BLE001 - a hand-written __init__
        old = getattr(component, name)
        return eqx.tree_at(lambda c: getattr(c, name), component, jnp.asarray(value, old.dtype))


def _check_recompile(case, dtype):
    ps = _first_param(case)
    vals = None
    if ps is not None:
        path, spec = ps
        base = _follow(case.locate(case.system), path)
        vals = _sweep_values(base, spec, 20)
    numeric = [x for x in jax.tree.leaves(case.inputs) if isinstance(x, (int, float)) and not isinstance(x, bool)]
    if vals is None and not numeric:
        return "skip (no declared parameter and no numeric input)"
    counts = []
    with _count_compiles() as names:
        for i in range(20):
            system = case.system
            if vals is not None:
                owner = _follow(case.locate(system), path[:-1])
                v = vals[i].item() if vals[i].ndim == 0 else vals[i]
                new_owner = _with_value(owner, path[-1][1], v)
                system = eqx.tree_at(lambda s: _follow(case.locate(s), path[:-1]), system, new_owner)
            if numeric:
                model, inputs = system
                inputs = jax.tree.map(lambda x: x + 0.01 * i if isinstance(x, float) else x, inputs)
                system = (model, inputs)
            _run(case, system, dtype, case.n_steps)
            counts.append(len(names))
    runs = [n for n in names if "run_chunk" in n]
    later = names[counts[0]:]
    what = (f"{_label(path)}" if vals is not None else "") + (" and the inputs" if numeric else "")
    if len(runs) > 1 or later:
        raise HarnessError(f"{case.name}: 20 new values of {what} compiled {len(runs)} runs; after the first run "
                           f"these compiled again: {sorted(set(later))}. Fix: make the value a declared parameter "
                           f"(an array leaf), not a Python number or a static field.")
    return f"pass (20 values of {what}: {len(runs)} compilation of the run)"


_RUNNERS = dict(declared=_check_declared, jit_eager=_check_jit_eager, chunking=_check_chunking, vmap=_check_vmap,
                grad=_check_grad, surrogate=_check_surrogate, dtype=_check_dtype, recompile=_check_recompile)


def applicable_checks(case: Case, float32: bool = False) -> tuple:
    """The checks that apply to ``case`` (``surrogate`` only for spiking neurons, ``grad`` not in float32)."""
    return tuple(c for c in CHECKS if not (c == "surrogate" and not case.spiking_neuron)
                 and not (c == "grad" and float32))


@contextlib.contextmanager
def _mode(float32):
    if float32:
        with jax.enable_x64(False):
            yield jnp.float32
    else:
        yield jnp.float64 if jax.config.jax_enable_x64 else jnp.float32


def check_component(obj, checks: Optional[Sequence[str]] = None, *, kind: Optional[str] = None,
                    float32: bool = False, param: Optional[str] = None, raise_on_failure: bool = True) -> dict:
    """Run the harness's checks on a component and return ``{check: "pass ..." | "skip ..." }``.

    Parameters
    ----------
    obj : component instance, :class:`Component`, class, builder function or :class:`Case`
        A class or a :class:`Component` is built with :func:`examples` (every example is checked).
    checks : sequence of str, optional
        Names from :data:`CHECKS` (default: all that apply, see :func:`applicable_checks`).
    kind : str, optional
        The kind of a component instance (guessed from its class).
    float32 : bool
        Build and run everything with 64-bit JAX switched off (``grad`` does not apply).
    param : str, optional
        The field of the component that ``vmap`` and ``recompile`` sweep (default: its first
        declared smooth parameter).
    raise_on_failure : bool
        Raise :class:`HarnessError` listing every failed check (else failures are reported as
        ``"FAIL: ..."`` in the result).
    """
    with _mode(float32) as dtype:
        if isinstance(obj, Case):
            cases = [obj]
        elif isinstance(obj, Component) or inspect.isclass(obj) or inspect.isfunction(obj):
            comp_kind = obj.kind if isinstance(obj, Component) else kind
            cases = [case_for(inst, comp_kind or ("builder" if inspect.isfunction(obj) else None), label)
                     for label, inst in examples(obj)]
        else:
            cases = [case_for(obj, kind)]
        report, failures = {}, []
        for case in cases:
            if param is not None:
                case.sweep = param
            for name in (checks or applicable_checks(case, float32)):
                if name not in _RUNNERS:
                    raise ValueError(f"unknown check {name!r}; the checks are {CHECKS}")
                key = name if len(cases) == 1 else f"{case.name}:{name}"
                try:
                    report[key] = _RUNNERS[name](case, dtype)
                except Exception as e:  # noqa: BLE001 - every failure is reported with its check
                    msg = str(e) if isinstance(e, HarnessError) else f"{case.name}: {type(e).__name__}: {e}"
                    report[key] = "FAIL: " + msg
                    failures.append(f"[{key}] {msg}")
    if failures and raise_on_failure:
        raise HarnessError("\n".join(failures))
    return report
