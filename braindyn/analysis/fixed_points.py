"""Fixed points of any vector field: many Newton solves at once, de-duplicated, classified.

A fixed point :math:`x^*` solves :math:`F(x^*; p) = 0`. Its Jacobian
:math:`J = \\partial F/\\partial x` (autodiff) and eigenvalues :math:`\\lambda_i` give its
linear stability (Hartman--Grobman, for hyperbolic points):

=====================  ===========================================================
label                  eigenvalues
=====================  ===========================================================
``stable node``        all real, all :math:`< 0` (1-D: :math:`F'(x^*) < 0`)
``unstable node``      all real, all :math:`> 0`
``stable focus``       all :math:`\\mathrm{Re}\\,\\lambda < 0`, a complex pair
``unstable focus``     all :math:`\\mathrm{Re}\\,\\lambda > 0`, a complex pair
``saddle``             real parts of both signs (n-D: ``saddle-focus`` with a complex pair)
``centre``             a purely imaginary pair, the rest stable (linearly neutral)
``non-hyperbolic``     a zero eigenvalue (e.g. a saddle-node)
=====================  ===========================================================

Example
-------
>>> import jax.numpy as jnp
>>> import numpy as np
>>> from braindyn.analysis import vector_field, find_fixed_points
>>> vf = vector_field(lambda x, p: jnp.array([x[0] - x[0] ** 3, -x[1]]), ["x", "y"])
>>> fps = find_fixed_points(vf, bounds=[(-2, 2), (-1, 1)])
>>> [fp.stability for fp in fps]
['stable node', 'saddle', 'stable node']
>>> bool(np.allclose([fp.coords for fp in fps], [[-1, 0], [0, 0], [1, 0]], atol=1e-9))  # x = -1, 0, 1 (never "-0.0")
True
"""
from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import BraindynError
from .vector_field import VectorField, as_vector_field, batched, compiled, x64

__all__ = ["FixedPoint", "find_fixed_points", "classify", "linearize", "newton_batch", "polish"]


def classify(eigenvalues, tol: float = 1e-7) -> str:
    """Stability label of a fixed point from its Jacobian eigenvalues (table in the module doc).

    ``tol`` is relative to the largest eigenvalue modulus (plus an absolute ``tol``).

    Example
    -------
    >>> classify([-1 + 2j, -1 - 2j]), classify([1.0, -1.0]), classify([-0.5])
    ('stable focus', 'saddle', 'stable node')
    """
    ev = np.atleast_1d(np.asarray(eigenvalues, complex))
    if ev.size == 0:
        raise BraindynError("classify: empty eigenvalue list.")
    scale = tol * (1.0 + np.max(np.abs(ev)))
    re, im = ev.real, ev.imag
    cplx = np.any(np.abs(im) > scale)
    neg, pos = np.sum(re < -scale), np.sum(re > scale)
    zero = ev.size - neg - pos
    if zero:
        crit = np.abs(re) <= scale
        if np.all(np.abs(im[crit]) > scale) and pos == 0:
            return "centre"
        return "non-hyperbolic"
    if pos and neg:
        return "saddle-focus" if (cplx and ev.size > 2) else "saddle"
    kind = "focus" if cplx else "node"
    return f"{'stable' if neg else 'unstable'} {kind}"


def _json_float(x, digits: int | None) -> float:
    """``x`` as a plain float rounded to ``digits`` decimals; ``None`` keeps full precision (what
    a reader comparing against a reference at the rounding limit needs)."""
    return float(x) if digits is None else round(float(x), digits)


@dataclass
class FixedPoint:
    """A fixed point with its linearisation.

    Attributes
    ----------
    coords : ndarray (n,)
        Location :math:`x^*`.
    jacobian : ndarray (n, n)
        :math:`J = \\partial F/\\partial x` at :math:`x^*`.
    eigenvalues : ndarray (n,) complex
        Eigenvalues of :math:`J`, sorted by decreasing real part.
    stability : str
        Label (see :func:`classify`).
    stable : bool
        All real parts negative.
    residual : float
        :math:`\\|F(x^*)\\|_\\infty`.
    variables : tuple of str
    params : dict
        Parameter values at which it was found.
    """

    coords: np.ndarray
    jacobian: np.ndarray
    eigenvalues: np.ndarray
    stability: str
    stable: bool
    residual: float
    variables: tuple = ()
    params: dict = field(default_factory=dict)

    def to_dict(self, digits: int | None = 6) -> dict:
        """JSON-ready summary: coordinates by name, stability, eigenvalues (re, im), rounded to
        ``digits`` decimals (``None``: full precision)."""
        return {
            "coords": {v: _json_float(c, digits) for v, c in zip(self.variables, self.coords)},
            "stability": self.stability,
            "stable": bool(self.stable),
            "eigenvalues": [[_json_float(e.real, digits), _json_float(e.imag, digits)] for e in self.eigenvalues],
        }


@x64
def linearize(vf: VectorField, x, p: dict | None = None) -> FixedPoint:
    """Linearisation of ``vf`` at ``x``: a :class:`FixedPoint` record (``residual`` = :math:`|F(x)|_\\infty`)."""
    vf = as_vector_field(vf)
    pp = vf.p(p)
    x = jnp.asarray(x, float)
    J = np.asarray(vf.jacobian(x, pp))
    if not np.all(np.isfinite(J)):
        raise BraindynError(f"linearize: the Jacobian at {np.asarray(x).tolist()} is not finite.")
    ev = np.linalg.eigvals(J)
    ev = ev[np.lexsort((-ev.imag, -ev.real))]
    res = float(np.max(np.abs(np.asarray(vf.evaluate(x, pp)))))
    lab = classify(ev)
    return FixedPoint(np.asarray(x), J, ev, lab, bool(np.all(ev.real < 0)), res, vf.variables,
                      {k: float(v) for k, v in pp.items()})


_ALPHAS = np.array([1.0, 0.5, 0.25, 0.125, 1 / 16, 1 / 64])


def _solve_stack(J, F):
    """``J^{-1} F`` for a stack of systems; singular or non-finite rows give a zero step."""
    out = np.zeros_like(F)
    ok = np.all(np.isfinite(J), axis=(1, 2)) & np.all(np.isfinite(F), axis=1)
    if not np.any(ok):
        return out
    try:
        out[ok] = np.linalg.solve(J[ok], F[ok][..., None])[..., 0]
    except np.linalg.LinAlgError:
        for i in np.where(ok)[0]:
            try:
                out[i] = np.linalg.solve(J[i], F[i])
            except np.linalg.LinAlgError:
                pass
    out[~np.all(np.isfinite(out), axis=1)] = 0.0
    return out


def newton_batch(vf: VectorField, guesses, p: dict | None = None, n_iter: int = 60):
    """Damped Newton from each row of ``guesses`` (shape ``(m, n)``); returns ``(x, F(x))`` arrays.

    All starts advance together: :math:`F` and :math:`F_x` of every active start come from one
    compiled, ``vmap``-ed forward-mode kernel (fixed chunks: it compiles once per field); the
    linear solves and the step choice (the best of :math:`\\alpha = 1, 1/2, \\dots, 1/64` by
    :math:`\\|F\\|^2`, else the full step) run in NumPy. Converged starts drop out.
    """
    c = compiled(vf)
    pp = {k: jnp.asarray(v, float) for k, v in vf.p(p).items()}
    X = np.array(np.atleast_2d(np.asarray(guesses, float)))
    m, n = X.shape
    Fx = batched(c["batch_f"], X, pp)
    active = np.ones(m, bool)
    na = len(_ALPHAS)
    for _ in range(int(n_iter)):
        idx = np.where(active)[0]
        if not len(idx):
            break
        F, J = batched(c["batch_fj"], X[idx], pp)
        dx = _solve_stack(J, F)
        cands = X[idx][:, None, :] - _ALPHAS[None, :, None] * dx[:, None, :]
        Fc = batched(c["batch_f"], cands.reshape(-1, n), pp).reshape(len(idx), na, n)
        with np.errstate(over="ignore", invalid="ignore"):
            norms = np.sum(Fc ** 2, axis=2)
        norms[~np.isfinite(norms)] = np.inf
        k = np.argmin(norms, axis=1)
        best = norms[np.arange(len(idx)), k]
        with np.errstate(over="ignore", invalid="ignore"):
            f0 = np.sum(F ** 2, axis=1)
        better = best < f0
        newX = np.where(better[:, None], cands[np.arange(len(idx)), k], X[idx] - dx)
        newF = np.where(better[:, None], Fc[np.arange(len(idx)), k], np.nan)
        step = np.max(np.abs(newX - X[idx]), axis=1)
        X[idx] = newX
        Fx[idx] = newF
        # converged (tiny step) or stuck (no finite progress): stop updating these starts
        done = (step <= 1e-14 * (1 + np.max(np.abs(newX), axis=1))) | ~np.all(np.isfinite(newX), axis=1)
        active[idx[done]] = False
    bad = ~np.all(np.isfinite(Fx), axis=1)
    if np.any(bad):
        Fx[bad] = batched(c["batch_f"], np.nan_to_num(X[bad]), pp)
        Fx[bad & ~np.all(np.isfinite(X), axis=1)] = np.nan
    return X, Fx


def polish(vf: VectorField, x, p: dict | None = None, n_iter: int = 4):
    """A few plain Newton steps on the host (jitted ``F`` and ``F_x``); returns the best iterate."""
    c = compiled(vf)
    pp = {k: jnp.asarray(v, float) for k, v in vf.p(p).items()}
    x = np.asarray(x, float)
    best, fbest = x, np.max(np.abs(np.asarray(c["f"](jnp.asarray(x), pp))))
    for _ in range(n_iter):
        try:
            x = x - np.linalg.solve(np.asarray(c["jac"](jnp.asarray(x), pp)), np.asarray(c["f"](jnp.asarray(x), pp)))
        except np.linalg.LinAlgError:
            break
        fx = np.max(np.abs(np.asarray(c["f"](jnp.asarray(x), pp))))
        if not np.isfinite(fx):
            break
        if fx < fbest:
            best, fbest = x, fx
    return best


def _guesses(bounds, n_guesses, seed, n):
    b = np.asarray(bounds, float)
    if b.shape != (n, 2) or not np.all(np.isfinite(b)) or np.any(b[:, 1] <= b[:, 0]):
        raise BraindynError(
            f"find_fixed_points: bounds must be {n} pairs (low, high) with low < high, got {bounds!r}. "
            f"Fix: e.g. bounds=[(-80, 40), (0, 1)] for (V, n)."
        )
    per = max(2, int(round(n_guesses ** (1.0 / n))))
    if per ** n <= 4 * n_guesses:
        axes = [np.linspace(lo, hi, per) for lo, hi in b]
        grid = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, n)
    else:
        grid = np.empty((0, n))
    rng = np.random.default_rng(seed)
    rand = b[:, 0] + (b[:, 1] - b[:, 0]) * rng.random((max(n_guesses - len(grid), n_guesses // 4), n))
    return np.concatenate([grid, rand]), b


@x64
def find_fixed_points(vf, p: dict | None = None, *, bounds=None, guesses=None, n_guesses: int = 400, seed: int = 0,
                      tol: float = 1e-9, n_iter: int = 60, dedup_tol: float = 1e-6, **model_kw) -> list:
    """All fixed points of ``vf`` found from many starting guesses, each with its linearisation.

    Parameters
    ----------
    vf : VectorField or ODEModel
        The field (a model is wrapped with :func:`~braindyn.analysis.from_model` using ``model_kw``).
    p : dict, optional
        Parameter values (defaults of ``vf`` otherwise).
    bounds : sequence of (low, high), optional
        Search box, one pair per variable. Starting guesses are a grid plus random points in it;
        only fixed points inside the box (widened by 1e-9 of its size) are kept.
    guesses : array (m, n), optional
        Explicit starting points (used instead of, or with, ``bounds``).
    n_guesses : int
        Approximate number of starting points drawn in ``bounds``.
    tol : float
        A solution is kept when :math:`\\|F(x)\\|_\\infty \\le tol\\,(1 + \\|F\\|_{scale})`, with
        the scale the typical size of :math:`F` over the guesses.
    n_iter : int
        Newton iterations (damped, all guesses in one ``vmap``).
    dedup_tol : float
        Points closer than ``dedup_tol`` (relative to the box size, or to ``1 + |x|``) are merged.

    Returns
    -------
    list of FixedPoint
        Sorted by the first coordinate.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> from braindyn.analysis import vector_field
    >>> vf = vector_field(lambda x, p: jnp.array([x[0] ** 2 - p["I"]]), ["V"], {"I": 4.0})
    >>> [(round(float(fp.coords[0]), 6), fp.stability) for fp in find_fixed_points(vf, bounds=[(-5, 5)])]
    [(-2.0, 'stable node'), (2.0, 'unstable node')]
    """
    vf = as_vector_field(vf, **model_kw)
    n = vf.n
    if bounds is None and guesses is None:
        raise BraindynError("find_fixed_points: give the search box bounds=[(lo, hi), ...] and/or guesses=(m, n) array.")
    parts, box = [], None
    if bounds is not None:
        g, box = _guesses(bounds, n_guesses, seed, n)
        parts.append(g)
    if guesses is not None:
        g = np.atleast_2d(np.asarray(guesses, float))
        if g.shape[1] != n:
            raise BraindynError(f"find_fixed_points: guesses must have shape (m, {n}), got {g.shape}.")
        parts.append(g)
    g0 = np.concatenate(parts)
    pp = vf.p(p)
    x, f = newton_batch(vf, g0, pp, n_iter)
    f0 = batched(compiled(vf)["batch_f"], g0, {k: jnp.asarray(v, float) for k, v in pp.items()})
    fscale = np.nanmedian(np.abs(f0), axis=0) if np.all(np.isfinite(np.nanmedian(np.abs(f0), axis=0))) else np.ones(n)
    ok = np.all(np.isfinite(x), 1) & np.all(np.abs(f) <= tol * (1.0 + fscale), 1)
    if box is not None:
        width = box[:, 1] - box[:, 0]
        ok &= np.all((x >= box[:, 0] - 1e-9 * width) & (x <= box[:, 1] + 1e-9 * width), 1)
        scale = width
    else:
        scale = 1.0 + np.max(np.abs(g0), 0)
    x = x[ok]
    keep = []
    for xi in x[np.lexsort(x.T[::-1])] if len(x) else []:
        if not any(np.all(np.abs(xi - k) <= dedup_tol * scale + 1e-12) for k in keep):
            keep.append(xi)
    keep = [polish(vf, xi, pp) for xi in keep]
    return [linearize(vf, xi, pp) for xi in keep]
