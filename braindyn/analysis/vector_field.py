"""Adapters: any braindyn model or bare function -> an array vector field :math:`F(x, p)`.

Every analysis tool works on a :class:`VectorField`: a function

.. math::
    \\dot x = F(x; p), \\qquad x \\in \\mathbb{R}^n,\\; p = \\{p_1: v_1, \\dots\\}

with named variables and named parameters (each with a default value). A parameter is
anything that can vary in a bifurcation analysis: an input current ``I``, a field of a model
(``gL``, ``a``...), or, in a fast--slow analysis, a slow variable.

Two constructors:

* :func:`vector_field` wraps a bare function ``fn(x, p)`` (``x`` a 1-D array, ``p`` a dict of
  scalars), e.g. a linear system or equations written in a script;
* :func:`from_model` wraps a braindyn :class:`~braindyn.core.ODEModel`: choose the variables
  that span the phase space (others are held at fixed values, or at functions of the chosen
  ones, e.g. :math:`m = m_\\infty(V)`), and the parameters (model fields or inputs).

Example
-------
>>> import jax.numpy as jnp
>>> from braindyn.analysis import vector_field
>>> vf = vector_field(lambda x, p: jnp.array([x[1], -p["k"] * x[0]]), ["x", "v"], {"k": 4.0})
>>> vf(jnp.array([1.0, 0.0])).tolist()
[0.0, -4.0]
"""
from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from typing import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._errors import BraindynError

__all__ = ["x64", "VectorField", "vector_field", "from_model", "as_vector_field", "simulate", "Trajectory"]


def x64(func):
    """Run ``func`` with 64-bit floats enabled (``jax.enable_x64``): Newton and continuation
    tolerances of 1e-10 need double precision. The caller's global setting is left unchanged."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kw):
        with jax.enable_x64(True):
            return func(*args, **kw)

    return wrapper


@dataclass(frozen=True)
class VectorField:
    """A named vector field :math:`F(x; p)` (see the module docstring).

    Attributes
    ----------
    fn : callable
        ``fn(x, p) -> dx/dt``; ``x`` a float array of shape ``(n,)``, ``p`` a dict of scalars
        holding every name of ``params``. Must be JAX-traceable (analysis differentiates it).
    variables : tuple of str
        Names of the ``n`` state variables, in order.
    params : dict
        Parameter names and their default values.
    """

    fn: Callable
    variables: tuple
    params: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.variables)

    def p(self, overrides: dict | None = None) -> dict:
        """The full parameter dict: defaults updated with ``overrides`` (names checked)."""
        out = dict(self.params)
        for k, v in (overrides or {}).items():
            if k not in out:
                raise BraindynError(
                    f"unknown parameter {k!r} for this vector field (variables {list(self.variables)}). "
                    f"Its parameters: {sorted(out) or 'none'}. Fix: declare it with params={{{k!r}: value}} "
                    f"(vector_field) or params=[{k!r}] (from_model)."
                )
            out[k] = v
        return out

    def __call__(self, x, p: dict | None = None, **overrides):
        """``F(x; p)`` with ``p`` (dict) and/or keyword overrides of the defaults."""
        pp = self.p({**(p or {}), **overrides})
        return self.fn(jnp.asarray(x), pp)

    def at(self, **params) -> "VectorField":
        """A copy with new default parameter values."""
        return dataclasses.replace(self, params=self.p(params))

    def index(self, var) -> int:
        """Index of variable ``var`` (a name or an int)."""
        if isinstance(var, (int, np.integer)):
            if not 0 <= var < self.n:
                raise BraindynError(f"variable index {var} out of range for variables {list(self.variables)}.")
            return int(var)
        if var not in self.variables:
            raise BraindynError(f"unknown variable {var!r}; the variables are {list(self.variables)}.")
        return self.variables.index(var)

    def check_param(self, name) -> None:
        if name not in self.params:
            raise BraindynError(
                f"{name!r} is not a parameter of this vector field; its parameters are {sorted(self.params)}. "
                f"Fix: from_model(model, params=[..., {name!r}]) or vector_field(fn, vars, params={{{name!r}: v}})."
            )

    def with_free(self, name) -> Callable:
        """``G(x, lam) = F(x; p with p[name] = lam)``: the field with one free scalar parameter."""
        self.check_param(name)
        base = dict(self.params)

        def G(x, lam):
            return self.fn(x, {**base, name: lam})

        return G

    def jacobian(self, x, p: dict | None = None):
        """:math:`\\partial F/\\partial x` at ``x`` (autodiff, jitted), shape ``(n, n)``."""
        return compiled(self)["jac"](jnp.asarray(x, float), _pjax(self.p(p)))

    def evaluate(self, x, p: dict | None = None):
        """``F(x; p)`` through a jitted function (fast for repeated host-side calls)."""
        return compiled(self)["f"](jnp.asarray(x, float), _pjax(self.p(p)))

    def slow(self, names: Sequence[str]) -> "VectorField":
        """The fast subsystem: variables ``names`` become parameters (defaults 0).

        Used by the fast--slow analysis: with :math:`x = (x_f, x_s)`, returns
        :math:`\\dot x_f = F_f(x_f; x_s, p)` with :math:`x_s` a parameter.
        """
        idx_s = [self.index(v) for v in names]
        idx_f = [i for i in range(self.n) if i not in idx_s]
        if not idx_f:
            raise BraindynError("fast-slow split needs at least one fast variable.")
        for v in names:
            if v in self.params:
                raise BraindynError(f"slow variable {v!r} clashes with a parameter of the same name.")
        fn, n, sv = self.fn, self.n, [self.variables[i] for i in idx_s]

        def fast(xf, p):
            x = jnp.zeros(n, jnp.result_type(xf.dtype, float))
            x = x.at[jnp.array(idx_f)].set(xf)
            x = x.at[jnp.array(idx_s)].set(jnp.stack([jnp.asarray(p[v], x.dtype) for v in sv]))
            q = {k: v for k, v in p.items() if k not in sv}
            return fn(x, q)[jnp.array(idx_f)]

        params = dict(self.params)
        params.update({v: 0.0 for v in sv})
        return VectorField(fast, tuple(self.variables[i] for i in idx_f), params)


_COMPILED: dict = {}


def _pjax(p: dict) -> dict:
    return {k: jnp.asarray(v, float) for k, v in p.items()}


_CHUNK = 1024


def batched(fun, X, *args, chunk: int = _CHUNK):
    """``fun(X_chunk, *args)`` over the rows of ``X`` in fixed-size chunks (the last one padded),
    concatenated as NumPy. A jitted ``fun`` then compiles once, whatever the number of rows
    (a new shape would otherwise trigger a new compilation)."""
    X = np.asarray(X, float)
    m = len(X)
    if m == 0:
        return np.asarray(fun(jnp.asarray(np.zeros((chunk,) + X.shape[1:])), *args))[:0]
    out = []
    for s in range(0, m, chunk):
        blk = X[s:s + chunk]
        k = len(blk)
        if k < chunk:
            blk = np.concatenate([blk, np.repeat(blk[:1], chunk - k, 0)])
        r = fun(jnp.asarray(blk), *args)
        out.append(jax.tree_util.tree_map(lambda a: np.asarray(a)[:k], r))
    if isinstance(out[0], tuple):
        return tuple(np.concatenate(parts) for parts in zip(*out))
    return np.concatenate(out)


def compiled(vf: VectorField) -> dict:
    """Jitted kernels of a field (cached per ``vf.fn``): ``fj(x, p) -> (F, F_x)`` (one forward-mode
    pass), the thin wrappers ``f`` and ``jac`` over it, and ``batch_f(X, p)``, ``batch_fj(X, p)`` (``vmap``;
    call them through :func:`batched` so that they compile once)."""
    c = _COMPILED.get(vf.fn)
    if c is None:
        fn = vf.fn

        def with_aux(x, p):
            y = fn(x, p)
            return y, y

        def fj(x, p):
            J, y = jax.jacfwd(with_aux, has_aux=True)(x, p)
            return y, J

        fjj = jax.jit(fj)
        c = {
            "fj": fjj,
            "f": lambda x, p: fjj(x, p)[0],
            "jac": lambda x, p: fjj(x, p)[1],
            "batch_f": jax.jit(jax.vmap(fn, in_axes=(0, None))),
            "batch_fj": jax.jit(jax.vmap(fj, in_axes=(0, None))),
        }
        _COMPILED[vf.fn] = c
    return c


def vector_field(fn: Callable, variables, params: dict | None = None) -> VectorField:
    """Wrap a bare function ``fn(x, p)`` as a :class:`VectorField`.

    Parameters
    ----------
    fn : callable
        ``fn(x, p)``: ``x`` array ``(n,)``, ``p`` dict of scalar parameters; returns ``(n,)``.
    variables : int or sequence of str
        The number of variables (named ``x0, x1, ...``) or their names.
    params : dict, optional
        Parameter names and default values.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> from braindyn.analysis import vector_field
    >>> vf = vector_field(lambda x, p: p["a"] * x, 1, {"a": -1.0})
    >>> vf.variables, float(vf(jnp.array([2.0]))[0])
    (('x0',), -2.0)
    """
    if not callable(fn):
        raise BraindynError(f"vector_field: 'fn' must be a callable fn(x, p), got {type(fn).__name__}.")
    if isinstance(variables, (int, np.integer)):
        if variables < 1:
            raise BraindynError(f"vector_field: need at least one variable, got {variables}.")
        variables = tuple(f"x{i}" for i in range(int(variables)))
    variables = tuple(str(v) for v in variables)
    if len(set(variables)) != len(variables) or not variables:
        raise BraindynError(f"vector_field: variable names must be unique and non-empty, got {variables}.")
    params = {} if params is None else dict(params)
    return VectorField(fn, variables, {k: float(v) for k, v in params.items()})


class _ReadRecorder(dict):
    """An ``args`` dict that records the names a vector field reads (missing ones read as 0)."""

    def __init__(self, base):
        super().__init__(base)
        self.read = set()

    def __getitem__(self, k):
        self.read.add(k)
        return super().__getitem__(k) if k in self else 0.0

    def get(self, k, default=None):
        self.read.add(k)
        return super().get(k, default)

    def __contains__(self, k):
        self.read.add(k)
        return super().__contains__(k)


def _inputs_read(model, t, args0):
    """The input names ``model.vector_field`` reads from ``args`` (None if that cannot be probed)."""
    try:
        y0 = {k: jnp.asarray(v) for k, v in model.initial().items()}
        rec = _ReadRecorder(args0)
        model.vector_field(t, y0, rec)
        return set(rec.read)
    except Exception:
        return None


def from_model(model, variables: Sequence[str] | None = None, params: Sequence[str] | dict | None = None,
               fixed: dict | None = None, inputs: dict | None = None, t: float = 0.0) -> VectorField:
    """A :class:`VectorField` from a braindyn model's ``vector_field(t, y, args)``.

    Parameters
    ----------
    model : ODEModel
        Any model with ``variables`` and ``vector_field`` (neurons, rate models...).
    variables : sequence of str, optional
        The variables spanning the phase space (default: all of ``model.variables``).
    params : sequence of str or dict, optional
        Parameters to expose: names of model fields (e.g. ``"gL"``) or of inputs (``"I"``);
        a dict also sets their default values (otherwise taken from the model / ``inputs``).
    fixed : dict, optional
        Values of the variables not in ``variables``: numbers, or callables ``g(y)`` of the dict
        of chosen variables (e.g. ``{"m": lambda y: HH.gates_inf(y["V"])["m"]}``). Defaults to
        the model's :meth:`initial` values.
    inputs : dict, optional
        Constant inputs ``args`` (default ``{"I": 0.0}``).
    t : float
        Time at which the (autonomous) field is evaluated.

    Example
    -------
    >>> import braindyn as bd
    >>> vf = from_model(bd.neurons.HH(), params=["I"])
    >>> vf.variables, vf.params
    (('V', 'm', 'h', 'n'), {'I': 0.0})
    """
    if not hasattr(model, "vector_field") or not hasattr(model, "variables"):
        raise BraindynError(
            f"from_model: {type(model).__name__} has no vector_field(t, y, args) and variables. "
            f"Fix: pass an ODEModel, or wrap a bare function with vector_field(fn, variables, params)."
        )
    mvars = tuple(model.variables)
    variables = mvars if variables is None else tuple(variables)
    for v in variables:
        if v not in mvars:
            raise BraindynError(f"from_model: {type(model).__name__} has no variable {v!r}; its variables are {list(mvars)}.")
    if not variables:
        raise BraindynError("from_model: choose at least one variable.")
    args0 = {"I": 0.0, **(inputs or {})}
    fixed = dict(fixed or {})
    others = [v for v in mvars if v not in variables]
    for k in fixed:
        if k not in others:
            raise BraindynError(f"from_model: fixed variable {k!r} must be one of the non-chosen variables {others}.")
    if any(k not in fixed for k in others):
        init = model.initial()
        for k in others:
            fixed.setdefault(k, np.asarray(init[k]).ravel()[0].item())
    if isinstance(params, str):
        params = [params]
    names = dict(params) if isinstance(params, dict) else {k: None for k in (params or [])}
    field_names = {f.name for f in dataclasses.fields(model)}
    static = {f.name for f in dataclasses.fields(model) if f.metadata.get("static", False)}
    unknown = [k for k in names if k not in field_names and k not in mvars and k not in args0]
    if unknown:
        read = _inputs_read(model, t, args0)
        for k in unknown:
            if read is not None and k not in read:
                pnames = sorted(f.name for f in dataclasses.fields(model) if "param" in f.metadata)
                cands = pnames + sorted(read)
                close = [c for c in cands if c.lower() == k.lower()] or difflib.get_close_matches(k, cands, n=3)
                hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
                raise BraindynError(
                    f"from_model: {type(model).__name__} has no parameter or input {k!r}.{hint} Its parameters: "
                    f"{', '.join(pnames) or '(none)'}; the inputs it reads: {', '.join(sorted(read)) or '(none)'}.")
    pdefaults, is_field = {}, {}
    for k, v in names.items():
        if k in mvars:
            raise BraindynError(f"from_model: {k!r} is a state variable, not a parameter (fast-slow: use VectorField.slow).")
        if k in field_names:
            if k in static:
                raise BraindynError(f"from_model: field {k!r} of {type(model).__name__} is static and cannot vary.")
            is_field[k] = True
            val = getattr(model, k) if v is None else v
        else:
            is_field[k] = False
            val = args0.get(k, 0.0) if v is None else v
        try:
            pdefaults[k] = float(np.asarray(val).ravel()[0])
        except (TypeError, ValueError, IndexError):
            raise BraindynError(f"from_model: parameter {k!r} must be a number, got {val!r}.") from None

    def fn(x, p):
        y = {v: x[i] for i, v in enumerate(variables)}
        for k in others:
            g = fixed[k]
            y[k] = g(y) if callable(g) else jnp.asarray(g, x.dtype)
        args = dict(args0)
        m = model
        for k, val in p.items():
            if is_field.get(k, False):
                m = eqx.tree_at(lambda mm, k=k: getattr(mm, k), m, val)
            else:
                args[k] = val
        dy = m.vector_field(t, y, args)
        return jnp.stack([jnp.reshape(jnp.asarray(dy[v], x.dtype), (-1,))[0] for v in variables])

    return VectorField(fn, variables, pdefaults)


def as_vector_field(obj, **kw) -> VectorField:
    """``obj`` if it is a :class:`VectorField`, else :func:`from_model` ``(obj, **kw)``."""
    if isinstance(obj, VectorField):
        if kw:
            raise BraindynError(f"options {sorted(kw)} apply to models only; this is already a VectorField.")
        return obj
    return from_model(obj, **kw)


@dataclass
class Trajectory:
    """A solution :math:`x(t)`: ``ts`` (shape ``(T,)``) and ``xs`` (``(T, n)``)."""

    ts: np.ndarray
    xs: np.ndarray
    variables: tuple


_SIM_CACHE: dict = {}
_SIM_SEG = 2000


@x64
def simulate(vf: VectorField, x0, t1: float, p: dict | None = None, *, n_save: int = 2001, rtol: float = 1e-8,
             atol: float = 1e-10, t0: float = 0.0, max_steps: int = 1_000_000) -> Trajectory:
    """Integrate :math:`\\dot x = F(x; p)` from ``x0`` (shape ``(n,)`` or a batch ``(m, n)``).

    Adaptive Dormand--Prince (:func:`braindyn.integrators.solve_adaptive`), solutions saved at
    ``n_save`` equally spaced times. The run is cut into windows of ``_SIM_SEG`` save intervals
    (the last one extended past ``t1`` and trimmed) and a batch is solved start by start, so one
    compiled solver serves every duration, ``n_save`` and batch size of a field.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> from braindyn.analysis import vector_field
    >>> vf = vector_field(lambda x, p: -x, 1)
    >>> tr = simulate(vf, [1.0], 1.0, n_save=3)
    >>> round(float(tr.xs[-1, 0]), 4)  # e^{-1} to the solver's tolerance (off by ~2e-8)
    0.3679
    """
    from ..integrators import solve_adaptive

    x0 = np.asarray(x0, float)
    batched = x0.ndim == 2
    if x0.shape[-1] != vf.n:
        raise BraindynError(f"simulate: x0 has {x0.shape[-1]} components, the field has {vf.n} variables {list(vf.variables)}.")
    if not t1 > t0:
        raise BraindynError(f"simulate: need t1 > t0, got t0={t0}, t1={t1}.")
    n_save = int(n_save)
    if n_save < 2:
        raise BraindynError(f"simulate: n_save must be >= 2, got {n_save}.")
    pp = {k: jnp.asarray(v, float) for k, v in vf.p(p).items()}
    ts = np.linspace(t0, t1, n_save)
    dts = (t1 - t0) / (n_save - 1)
    seg = _SIM_SEG

    def window(x, pr, ta, dt):
        tsave = ta + dt * jnp.arange(seg + 1)
        sol = solve_adaptive("dopri5", lambda t, y, a: vf.fn(y, a), x, ta, tsave[-1], pr, rtol=rtol, atol=atol,
                             max_steps=max_steps, saveat=tsave)
        return sol.ys

    key = (vf.fn, rtol, atol, max_steps)
    g = _SIM_CACHE.get(key)
    if g is None:
        g = _SIM_CACHE[key] = jax.jit(window)
    dt = jnp.asarray(float(dts))
    out = []
    for x in (x0 if batched else x0[None]):
        parts, xc = [x[None]], jnp.asarray(x)
        for k in range(int(np.ceil((n_save - 1) / seg))):
            ys = g(xc, pp, jnp.asarray(float(t0 + k * seg * dts)), dt)
            parts.append(np.asarray(ys[1:]))
            xc = ys[-1]
        out.append(np.concatenate(parts)[:n_save])
    xs = np.stack(out) if batched else out[0]
    return Trajectory(np.asarray(ts), xs, vf.variables)
