"""Two-parameter continuation of fold and Hopf points (curves in a parameter plane).

A fold (saddle-node) of :math:`F(x; \\lambda, \\mu) = 0` is a regular solution of the augmented
system in :math:`(x, v, \\lambda)`

.. math::
    F = 0, \\qquad F_x v = 0, \\qquad c\\cdot v = 1,

and a Hopf point of :math:`(x, v, \\kappa, \\lambda)` with :math:`\\kappa = \\omega^2 > 0`

.. math::
    F = 0, \\qquad (F_x^2 + \\kappa I) v = 0, \\qquad c\\cdot v = 1, \\qquad d\\cdot v = 0

(the real 2-D eigenspace of :math:`\\pm i\\omega`). With the second parameter :math:`\\mu` free,
pseudo-arclength continuation (:func:`~braindyn.analysis.pseudo_arclength`) follows their
solution curves: :func:`continue_fold` and :func:`continue_hopf`. A Hopf curve ends where
:math:`\\omega^2` reaches 0 (a Bogdanov--Takens point).

Example
-------
>>> from braindyn import neurons
>>> from braindyn.analysis import from_model, continue_equilibria
>>> vf = from_model(neurons.Izhikevich(), params=["I", "b"])
>>> br = continue_equilibria(vf, "I", [-70.0, -14.0], {"I": 0.0}, p_range=(0, 6))
>>> c = continue_fold(vf, br.folds[0], "b", {"I": 0.0}, p2_range=(0.15, 0.25))
>>> bool(abs(c.values[0, 0] - ((5 - c.values[0, 1]) ** 2 / 0.16 - 140)) < 1e-8)  # I_SN(b) analytic
True
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import BraindynError
from .continuation import Curve, SpecialPoint, _q, pseudo_arclength
from .vector_field import as_vector_field, x64

__all__ = ["continue_fold", "continue_hopf", "locate_fold", "locate_hopf"]

_SYS_CACHE: dict = {}


def _fold_system(fn, n, name):
    """(x, v, lam) -> [F, F_x v, c.v - 1]; ``c`` (in ``aux``) normalises the null vector."""

    def H(w, q, aux):
        x, v, lam = w[:n], w[n:2 * n], w[2 * n]
        p = {**q, name: lam}
        F = fn(x, p)
        Jv = jax.jvp(lambda xx: fn(xx, p), (x,), (v,))[1]
        return jnp.concatenate([F, Jv, jnp.atleast_1d(jnp.dot(aux["c"], v) - 1.0)])

    return H


def _hopf_system(fn, n, name):
    """(x, v, kappa, lam) -> [F, (F_x^2 + kappa) v, c.v - 1, d.v] (``c``, ``d`` in ``aux``)."""

    def H(w, q, aux):
        x, v, kap, lam = w[:n], w[n:2 * n], w[2 * n], w[2 * n + 1]
        p = {**q, name: lam}
        F = fn(x, p)
        Jx = lambda z: jax.jvp(lambda xx: fn(xx, p), (x,), (z,))[1]
        r = Jx(Jx(v)) + kap * v
        return jnp.concatenate([F, r, jnp.atleast_1d(jnp.dot(aux["c"], v) - 1.0),
                                jnp.atleast_1d(jnp.dot(aux["d"], v))])

    return H


def _system(kind, fn, n, name, param2=None):
    """Jitted augmented system and its Jacobian (cached); with ``param2`` the last unknown is it."""
    key = (kind, fn, n, name, param2)
    if key not in _SYS_CACHE:
        core = (_fold_system if kind == "fold" else _hopf_system)(fn, n, name)
        if param2 is None:
            H = core
        else:
            def H(u, q, aux):
                return core(u[:-1], {**q, param2: u[-1]}, aux)
        _SYS_CACHE[key] = (jax.jit(H), jax.jit(jax.jacfwd(H)))
    return _SYS_CACHE[key]


def _newton(Hj, Jj, w, q, aux, tol=1e-12, max_iter=30):
    for _ in range(max_iter):
        r = np.asarray(Hj(jnp.asarray(w), q, aux))
        try:
            dw = np.linalg.lstsq(np.asarray(Jj(jnp.asarray(w), q, aux)), r, rcond=None)[0]
        except np.linalg.LinAlgError:
            return w, False
        w = w - dw
        if np.linalg.norm(dw) <= tol * (1 + np.linalg.norm(w)):
            r = np.asarray(Hj(jnp.asarray(w), q, aux))
            return w, bool(np.max(np.abs(r)) < 1e-7 * (1 + np.max(np.abs(w))))
    return w, False


def _fold_guess(J):
    """Unit null vector estimate of a nearly singular ``J`` (smallest singular value)."""
    _, _, vt = np.linalg.svd(J)
    return vt[-1]


def locate_fold(vf, name, x, lam, p=None):
    """Newton on the fold system from a guess ``(x, lam)``; returns ``(x, lam, v, ok)``."""
    n = vf.n
    q = _q(vf, name, p)
    J = np.asarray(vf.jacobian(x, {**vf.p(p), name: lam}))
    v0 = _fold_guess(J)
    Hj, Jj = _system("fold", vf.fn, n, name)
    w, ok = _newton(Hj, Jj, np.concatenate([x, v0, [lam]]), q, {"c": jnp.asarray(v0)})
    return w[:n], float(w[2 * n]), w[n:2 * n], ok


def locate_hopf(vf, name, x, lam, p=None):
    """Newton on the Hopf system from a guess; returns ``(x, lam, omega, ok)``."""
    n = vf.n
    q = _q(vf, name, p)
    J = np.asarray(vf.jacobian(x, {**vf.p(p), name: lam}))
    ev, vecs = np.linalg.eig(J)
    cand = np.where(np.abs(ev.imag) > 1e-12)[0]
    if not len(cand):
        return x, lam, None, False
    k = cand[np.argmin(np.abs(ev.real[cand]))]
    qv = vecs[:, k]
    a, b = qv.real, qv.imag
    c = a / np.dot(a, a)
    d = b - np.dot(b, a) / np.dot(a, a) * a
    d = d / max(np.linalg.norm(d), 1e-300)
    Hj, Jj = _system("hopf", vf.fn, n, name)
    w, ok = _newton(Hj, Jj, np.concatenate([x, a, [abs(ev[k].imag) ** 2, lam]]), q,
                    {"c": jnp.asarray(c), "d": jnp.asarray(d)})
    kap = w[2 * n]
    ok = ok and kap > 0
    return w[:n], float(w[2 * n + 1]), (float(np.sqrt(kap)) if kap > 0 else None), ok


def _two_param(vf, point, param2, p, p2_range, ds, max_steps, kind, p1_range):
    vf = as_vector_field(vf)
    vf.check_param(param2)
    name = point.param
    if param2 == name:
        raise BraindynError(f"two-parameter continuation needs a second parameter different from {name!r}.")
    if p2_range is None or not p2_range[0] < p2_range[1]:
        raise BraindynError(f"give p2_range=(low, high) for {param2!r}, got {p2_range!r}.")
    n = vf.n
    pp = vf.p(p)
    mu0 = float(pp[param2])
    x, lam = np.asarray(point.coords, float), float(point.value)
    q = {k: jnp.asarray(v, float) for k, v in pp.items() if k not in (name, param2)}
    J = np.asarray(vf.jacobian(x, {**pp, name: lam}))
    if kind == "fold":
        v0 = _fold_guess(J)
        aux = {"c": jnp.asarray(v0)}
        w0 = np.concatenate([x, v0, [lam]])
    else:
        ev, vecs = np.linalg.eig(J)
        cand = np.where(np.abs(ev.imag) > 1e-12)[0]
        if not len(cand):
            raise BraindynError("continue_hopf: the given point has no complex eigenvalue pair; is it a Hopf point?")
        k = cand[np.argmin(np.abs(ev.real[cand]))]
        a, b = vecs[:, k].real, vecs[:, k].imag
        c = a / np.dot(a, a)
        d = b - np.dot(b, a) / np.dot(a, a) * a
        d = d / np.linalg.norm(d)
        aux = {"c": jnp.asarray(c), "d": jnp.asarray(d)}
        w0 = np.concatenate([x, a, [ev[k].imag ** 2, lam]])

    Hj, JHj = _system(kind, vf.fn, n, name, param2)
    G = lambda u: np.asarray(Hj(jnp.asarray(u), q, aux))
    JG = lambda u: np.asarray(JHj(jnp.asarray(u), q, aux))
    lo, hi = p2_range
    span = hi - lo
    ds = span / 200.0 if ds is None else ds

    def stop(u):
        if not (lo - 1e-3 * span <= u[-1] <= hi + 1e-3 * span):
            return f"{param2} left p2_range"
        if p1_range is not None and not (p1_range[0] <= u[-2] <= p1_range[1]):
            return f"{name} left p1_range"
        if kind == "hopf" and u[2 * n] <= 0:
            return "omega^2 <= 0 (Bogdanov-Takens point: the Hopf curve ends)"
        if not np.all(np.isfinite(u)):
            return "diverged"
        return None

    u0 = np.concatenate([w0, [mu0]])
    runs = []
    for sgn in (1, -1):
        dirv = np.zeros(len(u0))
        dirv[-1] = sgn
        us, ts, reason = pseudo_arclength(G, JG, u0, dirv, ds=ds, max_steps=max_steps, stop=stop)
        runs.append((us, reason))
    us = np.concatenate([runs[1][0][::-1], runs[0][0][1:]])
    vals = np.stack([us[:, -2], us[:, -1]], 1)
    om = np.sqrt(np.maximum(us[:, 2 * n], 0)) if kind == "hopf" else None
    return Curve(kind, (name, param2), vals, us[:, :n], vf.variables, f"{runs[1][1]}; {runs[0][1]}", om)


@x64
def continue_fold(vf, point: SpecialPoint, param2: str, p: dict | None = None, *, p2_range=None, ds=None,
                  max_steps: int = 1000, p1_range=None, **model_kw) -> Curve:
    """Two-parameter continuation of a fold point in :math:`(\\lambda, \\mu)`.

    ``point`` is a fold of a :class:`Branch` (``branch.folds[0]``); ``param2`` the second
    parameter, varied over ``p2_range``; ``p`` the parameter values at which the fold was found.
    The curve solves :math:`F = 0, F_x v = 0, c\\cdot v = 1` in :math:`(x, v, \\lambda, \\mu)`.
    """
    if point.kind != "fold":
        raise BraindynError(f"continue_fold needs a fold point, got a {point.kind!r} point.")
    return _two_param(as_vector_field(vf, **model_kw), point, param2, p, p2_range, ds, max_steps, "fold", p1_range)


@x64
def continue_hopf(vf, point: SpecialPoint, param2: str, p: dict | None = None, *, p2_range=None, ds=None,
                  max_steps: int = 1000, p1_range=None, **model_kw) -> Curve:
    """Two-parameter continuation of a Hopf point (see :func:`continue_fold`); stops at a
    Bogdanov--Takens point where :math:`\\omega^2 = \\kappa` reaches 0."""
    if point.kind != "hopf":
        raise BraindynError(f"continue_hopf needs a Hopf point, got a {point.kind!r} point.")
    return _two_param(as_vector_field(vf, **model_kw), point, param2, p, p2_range, ds, max_steps, "hopf", p1_range)


