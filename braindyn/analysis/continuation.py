"""Numerical continuation of equilibria; fold and Hopf points; two-parameter fold/Hopf curves.

Equilibrium branches
--------------------
The solutions of :math:`F(x, \\lambda) = 0` (:math:`x \\in \\mathbb{R}^n`, one free parameter
:math:`\\lambda`) form curves :math:`u(s) = (x(s), \\lambda(s))`. Pseudo-arclength
continuation follows them through folds: from a point :math:`u_k` with unit tangent
:math:`t_k` (the null vector of :math:`[F_x\\; F_\\lambda]`), predict
:math:`u^{(0)} = u_k + h\\, t_k` and correct with Newton's method on

.. math::
    F(u) = 0, \\qquad t_k \\cdot (u - u^{(0)}) = 0 .

The new tangent solves :math:`[F_x\\; F_\\lambda;\\; t_k^T]\\, t = (0, 1)^T`, which keeps the
orientation. The step :math:`h` grows after easy corrections and halves after failures.

Special points
--------------
* **Fold** (saddle-node, ``"fold"``): the test function :math:`d\\lambda/ds` (last component
  of the tangent) changes sign. Located by Newton on the standard augmented system in
  :math:`(x, v, \\lambda)`: :math:`F = 0,\\; F_x v = 0,\\; c\\cdot v = 1`.
* **Hopf** (``"hopf"``): a complex pair :math:`\\pm i\\omega` crosses the imaginary axis (the
  number of unstable complex eigenvalues changes by 2). Located by Newton on
  :math:`(x, v, \\kappa, \\lambda)`: :math:`F = 0,\\; (F_x^2 + \\kappa I) v = 0,\\; c\\cdot v = 1,
  \\; d\\cdot v = 0` with :math:`\\kappa = \\omega^2 > 0` (the real 2-D eigenspace of
  :math:`\\pm i\\omega`). Neutral saddles (real pairs :math:`\\pm\\mu`) are not reported.

Both augmented systems, with a second free parameter, are continued the same way to give
two-parameter fold and Hopf curves (:func:`continue_fold`, :func:`continue_hopf`).

Example
-------
>>> import jax.numpy as jnp
>>> from braindyn.analysis import vector_field, continue_equilibria
>>> vf = vector_field(lambda x, p: jnp.array([p["r"] + x[0] ** 2]), ["x"], {"r": -1.0})
>>> br = continue_equilibria(vf, "r", [1.0], p_range=(-1.0, 0.5))
>>> [(pt.kind, round(abs(pt.value), 8)) for pt in br.points]  # r + x^2 = 0 folds at r = 0
[('fold', 0.0)]
"""
from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import BraindynError
from .fixed_points import classify
from .vector_field import VectorField, as_vector_field, x64

__all__ = ["SpecialPoint", "Branch", "Curve", "continue_equilibria", "continue_fold", "continue_hopf",
           "bifurcation_grid", "pseudo_arclength"]


# ---------------------------------------------------------------------------------------------
# generic pseudo-arclength on G: R^{m+1} -> R^m
# ---------------------------------------------------------------------------------------------
def _tangent(JG, t_prev):
    m1 = JG.shape[1]
    A = np.vstack([JG, t_prev[None, :]])
    b = np.zeros(m1)
    b[-1] = 1.0
    t = np.linalg.solve(A, b)
    return t / np.linalg.norm(t)


def _initial_tangent(JG, direction):
    """Null vector of ``JG`` (m x (m+1)) oriented along ``direction``."""
    _, _, vt = np.linalg.svd(JG)
    t = vt[-1]
    if np.dot(t, direction) < 0:
        t = -t
    return t / np.linalg.norm(t)


def _correct(G, JG, up, t, tol, max_iter):
    u = up.copy()
    for it in range(1, max_iter + 1):
        g = G(u)
        r = np.concatenate([g, [np.dot(t, u - up)]])
        if not np.all(np.isfinite(r)):
            return u, False, it
        A = np.vstack([JG(u), t[None, :]])
        try:
            du = np.linalg.solve(A, r)
        except np.linalg.LinAlgError:
            return u, False, it
        u = u - du
        if np.linalg.norm(du) <= tol * (1.0 + np.linalg.norm(u)):
            g = G(u)
            return u, bool(np.all(np.isfinite(g)) and np.max(np.abs(g)) < 1e3 * tol * (1 + np.max(np.abs(u)))), it
    return u, False, max_iter


def pseudo_arclength(G, JG, u0, direction, *, ds=0.01, ds_min=1e-8, ds_max=None, max_steps=500, tol=1e-10,
                     max_iter=12, stop=None, on_step=None):
    """Follow the curve :math:`G(u) = 0`, :math:`G: \\mathbb{R}^{m+1} \\to \\mathbb{R}^m`, from ``u0``.

    Parameters
    ----------
    G, JG : callable
        ``G(u) -> (m,)`` and its Jacobian ``JG(u) -> (m, m+1)`` (host NumPy arrays).
    u0 : array (m+1,)
        A point on (or near) the curve; it is corrected first.
    direction : array (m+1,)
        Initial direction (the tangent is oriented along it).
    ds, ds_min, ds_max : float
        Initial, minimal and maximal arclength steps (raw units of ``u``).
    stop : callable, optional
        ``stop(u) -> str or None``: a reason to stop after the point ``u`` (e.g. out of range).
    on_step : callable, optional
        ``on_step(u, t) -> bool``; return False to stop.

    Returns
    -------
    (us, ts, reason) : arrays of points ``(K, m+1)`` and tangents, and why it stopped.
    """
    u0 = np.asarray(u0, float)
    direction = np.asarray(direction, float)
    ds_max = 20 * ds if ds_max is None else ds_max
    u, ok, _ = _correct(G, JG, u0, direction / np.linalg.norm(direction), tol, 3 * max_iter)
    if not ok:
        raise BraindynError(
            "continuation: the starting point does not converge onto the curve (Newton failed). "
            "Fix: start closer to an equilibrium (e.g. from find_fixed_points) or at a regular point."
        )
    t = _initial_tangent(JG(u), direction)
    us, ts = [u], [t]
    h, reason = ds, "max_steps"
    for _ in range(max_steps):
        while True:
            up = u + h * t
            un, ok, iters = _correct(G, JG, up, t, tol, max_iter)
            if ok and np.linalg.norm(un - up) <= max(2.0 * h, 1e-12):
                break
            h *= 0.5
            if h < ds_min:
                return np.array(us), np.array(ts), "corrector failed (step below ds_min)"
        try:
            tn = _tangent(JG(un), t)
        except np.linalg.LinAlgError:
            return np.array(us), np.array(ts), "singular tangent (branch point?)"
        # a sharp turn means the predictor jumped to another branch: retry with a smaller step
        if np.dot(tn, t) < 0.5 and h > 4 * ds_min:
            h *= 0.5
            continue
        u, t = un, tn
        us.append(u)
        ts.append(t)
        if iters <= 3:
            h = min(1.5 * h, ds_max)
        elif iters > 6:
            h = max(0.5 * h, ds_min)
        if stop is not None:
            r = stop(u)
            if r:
                reason = r
                break
        if on_step is not None and on_step(u, t) is False:
            reason = "stopped"
            break
    return np.array(us), np.array(ts), reason


# ---------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------
@dataclass
class SpecialPoint:
    """A located bifurcation point.

    Attributes
    ----------
    kind : str
        ``"fold"`` (saddle-node), ``"hopf"``, ``"branch_point"`` (:math:`\\det F_x` changes sign
        without a fold: transcritical or pitchfork), ``"fold_cycle"`` (fold of limit cycles).
    param : str
        The continuation parameter; ``value`` its value at the point.
    coords : ndarray (n,)
        Equilibrium (or a point on the cycle) at the bifurcation.
    eigenvalues : ndarray
        Jacobian eigenvalues there.
    omega : float or None
        Hopf angular frequency (rad per time unit); the period of the born cycle is
        :math:`2\\pi/\\omega`.
    extra : dict
        Other data: ``"located"`` (Newton on the augmented system converged), ``"l1"`` (Hopf:
        first Lyapunov coefficient, < 0 supercritical, > 0 subcritical; see
        :mod:`~braindyn.analysis.normal_forms`), ``"period"`` (fold of cycles).
    """

    kind: str
    param: str
    value: float
    coords: np.ndarray
    eigenvalues: np.ndarray = None
    omega: float | None = None
    variables: tuple = ()
    extra: dict = field(default_factory=dict)

    def to_dict(self, digits: int = 6) -> dict:
        d = {"kind": self.kind, self.param: round(float(self.value), digits),
             "coords": {v: round(float(c), digits) for v, c in zip(self.variables, self.coords)}}
        if self.omega:
            d["omega"] = round(float(self.omega), digits)
            d["period_at_onset"] = round(float(2 * np.pi / self.omega), digits)
        for k, v in self.extra.items():
            if isinstance(v, (int, float, np.floating)) and np.isfinite(v):
                d[k] = round(float(v), digits) if k != "l1" else float(f"{float(v):.{digits}g}")
        if self.kind == "hopf" and "l1" in self.extra:
            from .normal_forms import criticality

            d["criticality"] = criticality(self.extra["l1"])
        return d


@dataclass
class Branch:
    """An equilibrium branch :math:`x(\\lambda)` from :func:`continue_equilibria`.

    Attributes
    ----------
    param : str
    values : ndarray (K,)
        Parameter along the branch.
    states : ndarray (K, n)
        Equilibria along the branch.
    eigenvalues : ndarray (K, n) complex
    stable : ndarray (K,) bool
    points : list of SpecialPoint
        Folds and Hopf points, in branch order.
    reason : str
        Why continuation stopped.
    """

    param: str
    values: np.ndarray
    states: np.ndarray
    eigenvalues: np.ndarray
    stable: np.ndarray
    points: list
    variables: tuple
    params: dict
    reason: str = ""

    @property
    def folds(self):
        return [p for p in self.points if p.kind == "fold"]

    @property
    def hopfs(self):
        return [p for p in self.points if p.kind == "hopf"]

    @property
    def criticality(self):
        """``"supercritical"``/``"subcritical"`` for each Hopf point (from its first Lyapunov coefficient)."""
        from .normal_forms import criticality

        return [criticality(h.extra.get("l1", float("nan"))) for h in self.hopfs]

    def labels(self):
        """Stability label of every point (see :func:`~braindyn.analysis.classify`)."""
        return [classify(ev) for ev in self.eigenvalues]


@dataclass
class Curve:
    """A two-parameter curve of folds or Hopf points: ``p1``, ``p2`` values and the equilibria."""

    kind: str
    params: tuple
    values: np.ndarray  # (K, 2)
    states: np.ndarray
    variables: tuple
    reason: str = ""
    omega: np.ndarray | None = None


# ---------------------------------------------------------------------------------------------
# equilibria
# ---------------------------------------------------------------------------------------------
def _jit_eq(vf, name):
    """Jitted ``GJ(u, q) -> (F, [F_x F_lam])`` with ``u = (x, lam)`` (``q``: the other parameters):
    value and Jacobian from one forward-mode pass, one compilation per field and parameter."""
    fn, n = vf.fn, vf.n
    key = ("eq", fn, n, name)
    if key not in _SYS_CACHE:
        def G(u, q):
            g = fn(u[:n], {**q, name: u[n]})
            return g, g

        def GJ(u, q):
            J, g = jax.jacfwd(G, has_aux=True)(u, q)
            return g, J

        _SYS_CACHE[key] = jax.jit(GJ)
    return _SYS_CACHE[key]


class _EqSystem:
    """Host view of :func:`_jit_eq`: ``G(u)``, ``JG(u)`` (NumPy), memoised on the last points."""

    def __init__(self, vf, name, pp):
        self.GJ = _jit_eq(vf, name)
        self.q = _q(vf, name, pp)
        self._memo: dict = {}

    def _eval(self, u):
        u = np.asarray(u, float)
        key = u.tobytes()
        r = self._memo.get(key)
        if r is None:
            g, J = self.GJ(jnp.asarray(u), self.q)
            r = (np.asarray(g), np.asarray(J))
            if len(self._memo) > 16:
                self._memo.clear()
            self._memo[key] = r
        return r

    def G(self, u):
        return self._eval(u)[0]

    def JG(self, u):
        return self._eval(u)[1]


def _bracket_locate(G, JG, ua, ub, tau, tol=1e-13, max_iter=40):
    """Zero of the test function ``tau(u, J)`` on the curve ``G = 0`` between ``ua`` and ``ub``.

    Regula falsi (Illinois) along the chord: each trial point ``ua + w (ub - ua)`` is corrected
    onto the curve within the hyperplane orthogonal to the chord, so the chord coordinate
    parametrises the curve. Returns ``(u, ok)``.
    """
    d = ub - ua
    d = d / np.linalg.norm(d)
    fa, fb = tau(ua, JG(ua)), tau(ub, JG(ub))
    if not (np.isfinite(fa) and np.isfinite(fb)) or np.sign(fa) == np.sign(fb):
        return 0.5 * (ua + ub), False
    side = 0
    u = ua
    for _ in range(max_iter):
        w = fa / (fa - fb)
        ug = ua + w * (ub - ua)
        u, ok, _ = _correct(G, JG, ug, d, 1e-13, 12)
        if not ok:
            return ug, False
        fu = tau(u, JG(u))
        if fu == 0 or np.linalg.norm(ub - ua) <= tol * (1 + np.linalg.norm(u)):
            return u, True
        if np.sign(fu) == np.sign(fa):
            ua, fa = u, fu
            if side == -1:
                fb *= 0.5
            side = -1
        else:
            ub, fb = u, fu
            if side == 1:
                fa *= 0.5
            side = 1
        if min(np.linalg.norm(u - ua), np.linalg.norm(u - ub)) <= tol * (1 + np.linalg.norm(u)) and abs(fu) < 1e-10:
            return u, True
    return u, True


def _tau_fold(n):
    def tau(u, J):
        return float(np.linalg.det(J[:, :n]))

    return tau


def _tau_hopf(n):
    def tau(u, J):
        ev = np.linalg.eigvals(J[:, :n])
        c = ev[np.abs(ev.imag) > 1e-12 * (1 + np.max(np.abs(ev)))]
        return float(c.real[np.argmin(np.abs(c.real))]) if len(c) else np.nan

    return tau


def _q(vf, name, p):
    return {k: jnp.asarray(v, float) for k, v in vf.p(p).items() if k != name}


def _eig_sorted(J):
    ev = np.linalg.eigvals(J)
    return ev[np.lexsort((-ev.imag, -ev.real))]


def _hopf_between(ea, eb, eps):
    """A complex pair crosses the imaginary axis between two points of a branch."""
    na, nb = int(np.sum(ea.real > 0)), int(np.sum(eb.real > 0))
    if abs(na - nb) != 2:
        return False
    for ev in (ea, eb):
        k = np.argmin(np.abs(ev.real))
        if abs(ev[k].imag) <= eps:
            return False
    return True


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


@x64
def continue_equilibria(vf, param: str, x0, p: dict | None = None, *, p_range=None, ds=None, ds_max=None,
                        max_steps: int = 2000, direction: int = 0, tol: float = 1e-10, both: bool = True,
                        **model_kw) -> Branch:
    """Continue the equilibrium through ``x0`` in parameter ``param`` (pseudo-arclength).

    Parameters
    ----------
    vf : VectorField or ODEModel
    param : str
        The free parameter (e.g. ``"I"``).
    x0 : array (n,)
        An equilibrium (or a close guess) at the starting value ``p[param]`` (default of ``vf``).
    p : dict, optional
        Parameter values (the start value of ``param`` and the fixed others).
    p_range : (low, high)
        Continuation stops when ``param`` leaves this interval (required).
    ds, ds_max : float, optional
        Initial and maximal arclength steps in the raw units of :math:`(x, \\lambda)`;
        default ``(high - low)/200`` and ``10 ds``.
    direction : {0, 1, -1}
        Initial direction in ``param``: +1 increasing, -1 decreasing, 0 both ways (joined).
    tol : float
        Newton tolerance of the corrector.

    Returns
    -------
    Branch
        With folds and Hopf points located by Newton on their augmented systems.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> from braindyn.analysis import vector_field
    >>> vf = vector_field(lambda x, p: jnp.array([p["I"] - x[0] + x[0] ** 3 / 3]), ["x"], {"I": 0.0})
    >>> br = continue_equilibria(vf, "I", [0.0], p_range=(-1, 1))
    >>> sorted(round(pt.value, 6) for pt in br.folds)
    [-0.666667, 0.666667]
    """
    vf = as_vector_field(vf, **model_kw)
    vf.check_param(param)
    if p_range is None or len(p_range) != 2 or not p_range[0] < p_range[1]:
        raise BraindynError(f"continue_equilibria: give p_range=(low, high) with low < high for {param!r}, got {p_range!r}.")
    if direction not in (0, 1, -1):
        raise BraindynError(f"continue_equilibria: direction must be 0, 1 or -1, got {direction!r}.")
    n = vf.n
    pp = vf.p(p)
    lam0 = float(pp[param])
    lo, hi = float(p_range[0]), float(p_range[1])
    if not lo <= lam0 <= hi:
        raise BraindynError(f"continue_equilibria: the start value {param}={lam0} is outside p_range {p_range}.")
    x0 = np.asarray(x0, float).ravel()
    if x0.shape != (n,):
        raise BraindynError(f"continue_equilibria: x0 must have {n} components {list(vf.variables)}, got {x0.shape}.")
    ds = (hi - lo) / 200.0 if ds is None else float(ds)
    eq = _EqSystem(vf, param, pp)
    G, JG = eq.G, eq.JG
    span = hi - lo

    def stop(u):
        if not (lo - 1e-3 * span <= u[n] <= hi + 1e-3 * span):
            return f"{param} left p_range"
        if not np.all(np.isfinite(u)) or np.max(np.abs(u[:n])) > 1e8:
            return "diverged"
        return None

    u0 = np.concatenate([x0, [lam0]])
    runs = []
    for sgn in ((1, -1) if direction == 0 else (direction,)):
        dirv = np.zeros(n + 1)
        dirv[n] = sgn
        us, ts, reason = pseudo_arclength(G, JG, u0, dirv, ds=ds, ds_max=ds_max, max_steps=max_steps, tol=tol, stop=stop)
        runs.append((us, ts, reason))
    if len(runs) == 2:
        (ua, ta, ra), (ub, tb, rb) = runs
        us = np.concatenate([ub[::-1], ua[1:]])
        ts = np.concatenate([-tb[::-1], ta[1:]])
        reason = f"{rb}; {ra}"
    else:
        us, ts, reason = runs[0]
    return _make_branch(vf, param, pp, us, ts, reason, eq)


def _make_branch(vf, param, pp, us, ts, reason, eq):
    """Stability along the branch; folds, Hopf and branch points located by test functions
    (:func:`_bracket_locate`: :math:`\\det F_x` for folds and branch points, the real part of the
    critical complex pair for Hopf points), using only the compiled equilibrium system."""
    n = vf.n
    G, JG = eq.G, eq.JG
    Js = [JG(u) for u in us]
    eigs = np.array([_eig_sorted(J[:, :n]) for J in Js])
    dets = np.array([np.linalg.det(J[:, :n]) for J in Js])
    scale = 1e-9 * (1 + np.max(np.abs(eigs)))
    points = []
    for k in range(len(us) - 1):
        ua, ub = us[k], us[k + 1]
        turn = np.sign(ts[k][n]) != np.sign(ts[k + 1][n]) and ts[k][n] != 0
        # fold: d(lambda)/ds changes sign; branch point: det F_x changes sign while lambda does not turn
        if turn or (np.sign(dets[k]) != np.sign(dets[k + 1]) and dets[k] != 0 and dets[k + 1] != 0):
            u, ok = _bracket_locate(G, JG, ua, ub, _tau_fold(n))
            if not ok:  # (at a branch point the corrector is singular: interpolate det F_x linearly)
                if turn:
                    w = abs(ts[k][n]) / (abs(ts[k][n]) + abs(ts[k + 1][n]) + 1e-300)
                else:
                    w = abs(dets[k]) / (abs(dets[k]) + abs(dets[k + 1]))
                u = ua + w * (ub - ua)
            ev = _eig_sorted(JG(u)[:, :n])
            points.append((k, SpecialPoint("fold" if turn else "branch_point", param, float(u[n]), u[:n].copy(), ev,
                                           None, vf.variables, {"located": bool(ok)})))
        # Hopf: two complex eigenvalues cross the imaginary axis
        if n >= 2 and _hopf_between(eigs[k], eigs[k + 1], scale):
            u, ok = _bracket_locate(G, JG, ua, ub, _tau_hopf(n))
            if not ok:
                ra, rb = _critical_re(eigs[k]), _critical_re(eigs[k + 1])
                w = abs(ra) / (abs(ra) + abs(rb)) if abs(ra) + abs(rb) > 0 else 0.5
                u = ua + w * (ub - ua)
            ev = _eig_sorted(JG(u)[:, :n])
            c = ev[np.abs(ev.imag) > 0]
            om = float(abs(c[np.argmin(np.abs(c.real))].imag)) if len(c) else None
            extra = {"located": bool(ok)}
            if ok:
                extra["l1"] = _lyapunov(vf, u[:n], param, float(u[n]), pp)
            points.append((k, SpecialPoint("hopf", param, float(u[n]), u[:n].copy(), ev, om, vf.variables, extra)))
    points.sort(key=lambda t: t[0])
    stable = np.all(eigs.real < 0, axis=1)
    return Branch(param, us[:, n].copy(), us[:, :n].copy(), eigs, stable, [p for _, p in points], vf.variables,
                  dict(pp), reason)


def _lyapunov(vf, x, param, lam, pp):
    """First Lyapunov coefficient of a located Hopf point (NaN when it cannot be computed)."""
    from .normal_forms import first_lyapunov

    try:
        return float(first_lyapunov(vf, x, param, lam, pp))
    except (BraindynError, np.linalg.LinAlgError):
        return float("nan")


def _critical_re(ev):
    c = ev[np.abs(ev.imag) > 1e-12]
    return float(c.real[np.argmin(np.abs(c.real))]) if len(c) else 0.0


# ---------------------------------------------------------------------------------------------
# two-parameter curves
# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
# quick look: a parameter grid
# ---------------------------------------------------------------------------------------------
@dataclass
class GridDiagram:
    """Fixed points on a parameter grid: flat arrays ``values`` (K,), ``states`` (K, n),
    ``stable`` (K,), ``stability`` (labels), from :func:`bifurcation_grid`."""

    param: str
    values: np.ndarray
    states: np.ndarray
    stable: np.ndarray
    stability: list
    variables: tuple


@x64
def bifurcation_grid(vf, param: str, values, bounds, p: dict | None = None, *, n_guesses: int = 100,
                     **model_kw) -> GridDiagram:
    """Quick look: all fixed points (:func:`~braindyn.analysis.find_fixed_points`) at each value
    of ``param`` in ``values``. No continuation, no located special points.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> from braindyn.analysis import vector_field
    >>> vf = vector_field(lambda x, p: jnp.array([p["r"] + x[0] ** 2]), ["x"], {"r": 0.0})
    >>> g = bifurcation_grid(vf, "r", [-1.0, 1.0], bounds=[(-3, 3)])
    >>> g.values.tolist(), g.stability
    ([-1.0, -1.0], ['stable node', 'unstable node'])
    """
    from .fixed_points import find_fixed_points

    vf = as_vector_field(vf, **model_kw)
    vf.check_param(param)
    vals, states, stab, labs = [], [], [], []
    for v in np.asarray(values, float).ravel():
        for fp in find_fixed_points(vf, {**(p or {}), param: float(v)}, bounds=bounds, n_guesses=n_guesses):
            vals.append(v)
            states.append(fp.coords)
            stab.append(fp.stable)
            labs.append(fp.stability)
    return GridDiagram(param, np.asarray(vals), np.asarray(states).reshape(-1, vf.n), np.asarray(stab, bool), labs,
                       vf.variables)
