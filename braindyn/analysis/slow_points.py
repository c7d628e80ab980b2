"""Slow and fixed points of high-dimensional systems (Sussillo & Barak 2013).

For :math:`\\dot x = F(x)` with many units (rate RNNs, continuous attractor networks), minimise
the *speed*

.. math::
    q(x) = \\tfrac12 \\|F(x)\\|^2

from many starting states at once (Adam on :math:`\\nabla q = J^T F`, all starts in one
``vmap``). Minima with :math:`q = 0` are fixed points; small non-zero minima are *slow points*
(ghosts of fixed points, points of continuous attractors). Each kept point comes with its
Jacobian and eigenvalues (its linearisation).

Example
-------
>>> import jax.numpy as jnp
>>> from braindyn.analysis import vector_field, find_slow_points
>>> vf = vector_field(lambda x, p: -x + 2.0 * jnp.tanh(x), 3)
>>> sp = find_slow_points(vf, jnp.ones((4, 3)) * 0.5, n_iter=3000)
>>> bool(sp.speeds.max() < 1e-12), sp.points.shape[1]
(True, 3)
"""
from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import BraindynError
from .fixed_points import classify
from .vector_field import as_vector_field, x64

__all__ = ["SlowPoints", "find_slow_points"]


@dataclass
class SlowPoints:
    """Result of :func:`find_slow_points`.

    Attributes
    ----------
    points : ndarray (k, n)
        The kept slow/fixed points (de-duplicated).
    speeds : ndarray (k,)
        :math:`q(x)` at each.
    is_fixed : ndarray (k,) bool
        :math:`q \\le` ``fixed_tol``.
    jacobians : ndarray (k, n, n)
    eigenvalues : ndarray (k, n) complex, sorted by decreasing real part
    stability : list of str
    all_points, all_speeds : ndarray
        Every optimised start (before the speed filter and de-duplication).
    """

    points: np.ndarray
    speeds: np.ndarray
    is_fixed: np.ndarray
    jacobians: np.ndarray
    eigenvalues: np.ndarray
    stability: list
    all_points: np.ndarray
    all_speeds: np.ndarray


@x64
def find_slow_points(vf, starts, p: dict | None = None, *, n_iter: int = 5000, lr: float = 0.01,
                     slow_tol: float = 1e-4, fixed_tol: float = 1e-12, dedup_tol: float = 1e-3,
                     **model_kw) -> SlowPoints:
    """Minimise :math:`q(x) = \\|F(x)\\|^2/2` from each row of ``starts``; keep the slow points.

    Parameters
    ----------
    vf : VectorField or ODEModel
    starts : array (m, n)
        Starting states (e.g. states visited by a simulation, plus noise).
    n_iter, lr : int, float
        Adam iterations and learning rate.
    slow_tol : float
        Keep points with :math:`q \\le` ``slow_tol``.
    fixed_tol : float
        Call a point fixed when :math:`q \\le` ``fixed_tol``.
    dedup_tol : float
        Merge kept points closer than this (Euclidean).
    """
    vf = as_vector_field(vf, **model_kw)
    x0 = np.atleast_2d(np.asarray(starts, float))
    if x0.shape[1] != vf.n:
        raise BraindynError(f"find_slow_points: starts must have shape (m, {vf.n}), got {x0.shape}.")
    if not (n_iter >= 1 and lr > 0):
        raise BraindynError(f"find_slow_points: need n_iter >= 1 and lr > 0, got {n_iter}, {lr}.")
    pj = {k: jnp.asarray(v, float) for k, v in vf.p(p).items()}
    fn = vf.fn

    def q(x):
        f = fn(x, pj)
        return 0.5 * jnp.dot(f, f)

    b1, b2, eps = 0.9, 0.999, 1e-12

    @jax.jit
    def optimise(X):
        def one(x):
            def body(i, c):
                x, m, v = c
                g = jax.grad(q)(x)
                m = b1 * m + (1 - b1) * g
                v = b2 * v + (1 - b2) * g * g
                mh = m / (1 - b1 ** (i + 1.0))
                vh = v / (1 - b2 ** (i + 1.0))
                return x - lr * mh / (jnp.sqrt(vh) + eps), m, v

            z = jnp.zeros_like(x)
            x, _, _ = jax.lax.fori_loop(0, n_iter, body, (x, z, z))
            # finish with Gauss-Newton steps (quadratic convergence at isolated fixed points)
            def gn(_, x):
                J = jax.jacfwd(lambda w: fn(w, pj))(x)
                dx = jnp.linalg.lstsq(J, fn(x, pj))[0]
                xn = x - dx
                return jnp.where(jnp.isfinite(q(xn)) & (q(xn) < q(x)), xn, x)

            x = jax.lax.fori_loop(0, 5, gn, x)
            return x, q(x)

        return jax.vmap(one)(X)

    X, Qs = optimise(jnp.asarray(x0))
    X, Qs = np.asarray(X), np.asarray(Qs)
    keep = np.isfinite(Qs) & (Qs <= slow_tol)
    order = np.argsort(np.where(keep, Qs, np.inf))
    pts = []
    for i in order:
        if not keep[i]:
            break
        if all(np.linalg.norm(X[i] - pk) > dedup_tol for pk in pts):
            pts.append(X[i])
    pts = np.array(pts).reshape(-1, vf.n)
    jac = jax.jit(jax.vmap(jax.jacfwd(lambda w: fn(w, pj))))
    Js = np.asarray(jac(jnp.asarray(pts))) if len(pts) else np.zeros((0, vf.n, vf.n))
    evs = []
    for J in Js:
        ev = np.linalg.eigvals(J)
        evs.append(ev[np.lexsort((-ev.imag, -ev.real))])
    evs = np.array(evs).reshape(-1, vf.n)
    sp = np.array([float(q(jnp.asarray(x))) for x in pts])
    return SlowPoints(pts, sp, sp <= fixed_tol, Js, evs, [classify(e) for e in evs], X, Qs)
