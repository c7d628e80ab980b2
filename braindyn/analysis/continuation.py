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
Detected between consecutive branch points by sign changes of test functions, then located by
regula falsi *along the branch* (each trial point corrected onto the curve within the
hyperplane orthogonal to the chord), so only the compiled equilibrium system is needed:

* **Fold** (saddle-node, ``"fold"``): :math:`d\\lambda/ds` changes sign; located as the zero
  of :math:`\\det F_x`.
* **Branch point** (``"branch_point"``: transcritical, pitchfork): :math:`\\det F_x` changes
  sign while :math:`\\lambda` does not turn (or where the corrector is singular, as two branches
  cross); located by regula falsi on :math:`\\det F_x(x(\\lambda), \\lambda)`.
* **Hopf** (``"hopf"``): a complex pair :math:`\\pm i\\omega` crosses the imaginary axis (the
  number of unstable eigenvalues changes by 2); located as the zero of the real part of the
  critical pair; ``extra["l1"]`` is its first Lyapunov coefficient
  (:mod:`~braindyn.analysis.normal_forms`: < 0 supercritical, > 0 subcritical). Neutral saddles
  (real pairs :math:`\\pm\\mu`) are not reported.

The arclength is measured in :math:`(x, \\lambda/(high - low))`: the parameter is scaled by the
width of ``p_range``, so that a parameter in Hz and states of order one weigh alike.
Two-parameter fold and Hopf curves: :mod:`~braindyn.analysis.two_parameter`.

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
from .fixed_points import _json_float, classify
from .vector_field import VectorField, as_vector_field, x64

__all__ = ["SpecialPoint", "Branch", "Curve", "continue_equilibria",
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

    def to_dict(self, digits: int | None = 6) -> dict:
        """JSON-ready summary rounded to ``digits`` decimals (``l1``: significant digits);
        ``None`` keeps full precision."""
        d = {"kind": self.kind, self.param: _json_float(self.value, digits),
             "coords": {v: _json_float(c, digits) for v, c in zip(self.variables, self.coords)}}
        if self.omega:
            d["omega"] = _json_float(self.omega, digits)
            d["period_at_onset"] = _json_float(2 * np.pi / self.omega, digits)
        for k, v in self.extra.items():
            if isinstance(v, (int, float, np.floating)) and np.isfinite(v):
                if k == "l1" and digits is not None:
                    d[k] = float(f"{float(v):.{digits}g}")
                else:
                    d[k] = _json_float(v, digits)
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

    w = None  # scales of (x, lam) for the arclength (see continue_equilibria)

    def G(self, u):
        return self._eval(u)[0]

    def scaled(self):
        """``G`` and ``JG`` in the scaled coordinates ``v = u / w``."""
        w = self.w
        return (lambda v: self.G(v * w)), (lambda v: self.JG(v * w) * w[None, :])

    def locate(self, ua, ub, tau):
        """:func:`_bracket_locate` in scaled coordinates (``tau`` sees raw ``u`` and ``JG(u)``)."""
        w = self.w if self.w is not None else np.ones(len(ua))
        Gs, JGs = (self.scaled() if self.w is not None else (self.G, self.JG))
        v, ok = _bracket_locate(Gs, JGs, ua / w, ub / w, lambda v, _J: tau(v * w, self.JG(v * w)))
        return v * w, ok

    def JG(self, u):
        return self._eval(u)[1]


def _bracket_locate(G, JG, ua, ub, tau, tol=1e-12, max_iter=60):
    """Zero of the test function ``tau(u, J)`` on the curve ``G = 0`` between ``ua`` and ``ub``.

    Regula falsi (Illinois) in the chord coordinate :math:`c \\in [0, L]`: the trial point
    ``ua + c d`` (``d`` the unit chord) is corrected onto the curve within the hyperplane
    orthogonal to the chord, so ``c`` parametrises the curve. Converged when the bracket or the
    last update is below ``tol L``. Returns ``(u, ok)``.
    """
    L = float(np.linalg.norm(ub - ua))
    d = (ub - ua) / L
    fa, fb = tau(ua, JG(ua)), tau(ub, JG(ub))
    if not (np.isfinite(fa) and np.isfinite(fb)) or np.sign(fa) == np.sign(fb):
        return 0.5 * (ua + ub), False
    ca, cb, side, c_prev, u = 0.0, L, 0, None, ua
    for _ in range(max_iter):
        c = ca + fa / (fa - fb) * (cb - ca)
        ug = ua + c * d
        u, ok, _ = _correct(G, JG, ug, d, 1e-13, 12)
        if not ok:
            return ug, False
        fu = tau(u, JG(u))
        if not np.isfinite(fu):
            return u, False
        if fu == 0 or (cb - ca) <= tol * L or (c_prev is not None and abs(c - c_prev) <= tol * L):
            return u, True
        c_prev = c
        if np.sign(fu) == np.sign(fa):
            ca, fa = c, fu
            if side == -1:
                fb *= 0.5
            side = -1
        else:
            cb, fb = c, fu
            if side == 1:
                fa *= 0.5
            side = 1
    return u, False


def _bp_in_lambda(eq, ua, ub, n, guess, max_iter=60):
    """Branch point between ``ua`` and ``ub`` of a branch that is a graph over ``lam`` there:
    Illinois regula falsi on :math:`\\det F_x(x(\\lambda), \\lambda)`, with :math:`x(\\lambda)` by
    Newton at fixed :math:`\\lambda` (regular away from the branch point itself)."""

    def x_at(lam, x):
        for _ in range(30):
            u = np.concatenate([x, [lam]])
            J = eq.JG(u)[:, :n]
            try:
                dx = np.linalg.solve(J, eq.G(u))
            except np.linalg.LinAlgError:
                return x, False
            x = x - dx
            if np.linalg.norm(dx) <= 1e-13 * (1 + np.linalg.norm(x)):
                return x, True
        return x, bool(np.linalg.norm(dx) <= 1e-6 * (1 + np.linalg.norm(x)))  # ill-conditioned near the point

    def det_at(u):
        return float(np.linalg.det(eq.JG(u)[:, :n]))

    la, lb = ua[n], ub[n]
    fa, fb = det_at(ua), det_at(ub)
    if la == lb or np.sign(fa) == np.sign(fb):
        return guess, False
    xa, xb = ua[:n], ub[:n]
    side, lam_prev = 0, None
    for _ in range(max_iter):
        lam = la + fa / (fa - fb) * (lb - la)
        wgt = (lam - la) / (lb - la)
        x, ok = x_at(lam, xa + wgt * (xb - xa))
        if not ok:  # Newton stalls within ~1e-7 of a pitchfork (the side branches are that close)
            near = lam_prev is not None and abs(lam - lam_prev) <= 1e-6 * (1 + abs(lam))
            return (np.concatenate([xa if side == -1 else xb, [la if side == -1 else lb]]), True) if near \
                else (guess, False)
        u = np.concatenate([x, [lam]])
        fu = det_at(u)
        if fu == 0 or abs(lb - la) <= 1e-12 * (1 + abs(lam)) or (
                lam_prev is not None and abs(lam - lam_prev) <= 1e-11 * (1 + abs(lam))):
            return u, True
        lam_prev = lam
        if np.sign(fu) == np.sign(fa):
            la, fa, xa = lam, fu, x
            if side == -1:
                fb *= 0.5
            side = -1
        else:
            lb, fb, xb = lam, fu, x
            if side == 1:
                fa *= 0.5
            side = 1
    return u, bool(abs(lam - lam_prev) <= 1e-8 * (1 + abs(lam)))  # det at its rounding level


def _interp_zero(us, f, k, w=None):
    """Zero of ``f`` between points ``k`` and ``k + 1`` of the polyline ``us`` from a polynomial fit
    (degree <= 3) over the neighbours ``k - 1 .. k + 2``; ``u`` there by the same fit."""
    w = np.ones(us.shape[1]) if w is None else w
    i0, i1 = max(0, k - 1), min(len(us), k + 3)
    seg = us[i0:i1] / w
    sarc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(seg, axis=0), axis=1))])
    fk = f[i0:i1] / (np.max(np.abs(f[i0:i1])) + 1e-300)
    deg = min(3, len(sarc) - 1)
    roots = np.roots(np.polyfit(sarc, fk, deg))
    a, b = sarc[k - i0], sarc[k + 1 - i0]
    real = [r.real for r in roots if abs(r.imag) < 1e-9 and a - 1e-12 <= r.real <= b + 1e-12]
    s0 = real[0] if real else a + abs(fk[k - i0]) / (abs(fk[k - i0]) + abs(fk[k + 1 - i0])) * (b - a)
    return np.array([np.polyval(np.polyfit(sarc, us[i0:i1, j], deg), s0) for j in range(us.shape[1])])


def _tau_fold(n):
    def tau(u, J):
        return float(np.linalg.det(J[:, :n]))

    return tau


def _tau_hopf(n):
    """Hopf test function: the bialternate-product determinant
    :math:`\\prod_{i<j} (\\lambda_i + \\lambda_j)`, zero when a pair :math:`\\pm i\\omega` is on
    the imaginary axis, smooth whether the pair is complex or real at the bracket ends."""
    def tau(u, J):
        ev = np.linalg.eigvals(J[:, :n])
        i, j = np.triu_indices(len(ev), 1)
        return float(np.prod(ev[i] + ev[j]).real)

    return tau


def _q(vf, name, p):
    return {k: jnp.asarray(v, float) for k, v in vf.p(p).items() if k != name}


def _eig_sorted(J):
    ev = np.linalg.eigvals(J)
    return ev[np.lexsort((-ev.imag, -ev.real))]


def _hopf_between(ea, eb, eps):
    """A complex pair crosses the imaginary axis between two points of a branch: the number of
    unstable eigenvalues changes by 2, the determinant keeps its sign (no real eigenvalue crossed
    0), and at least one end has its critical eigenvalue complex (the pair may turn into two real
    ones within the step, as at the Izhikevich Hopf point just below its saddle-node)."""
    na, nb = int(np.sum(ea.real > 0)), int(np.sum(eb.real > 0))
    if abs(na - nb) != 2 or np.sign(np.prod(ea).real) != np.sign(np.prod(eb).real):
        return False
    return any(abs(ev[np.argmin(np.abs(ev.real))].imag) > eps for ev in (ea, eb))


_SYS_CACHE: dict = {}


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
        Initial and maximal arclength steps, in units of the parameter: the arclength is measured
        in :math:`(x, \\lambda/(high - low))` and these are multiplied by ``high - low`` (so
        the parameter's units do not matter); default ``(high - low)/200`` and ``20 ds``.
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

    # Arclength in (x, lam / span): with raw units a parameter spanning 100 (a stimulus in Hz)
    # against states of order 1 lets a step jump between branches.
    w = eq.w = np.concatenate([np.ones(n), [span]])
    Gs, JGs = eq.scaled()
    stop_s = lambda v: stop(v * w)  # noqa: E731
    u0 = np.concatenate([x0, [lam0]])
    runs = []
    for sgn in ((1, -1) if direction == 0 else (direction,)):
        dirv = np.zeros(n + 1)
        dirv[n] = sgn
        vs, tv, reason = pseudo_arclength(Gs, JGs, u0 / w, dirv, ds=ds / span,
                                          ds_max=None if ds_max is None else ds_max / span, max_steps=max_steps,
                                          tol=tol, stop=stop_s)
        tr = tv * w[None, :]
        runs.append((vs * w[None, :], tr / np.linalg.norm(tr, axis=1, keepdims=True), reason))
    if len(runs) == 2:
        (ua, ta, ra), (ub, tb, rb) = runs
        us = np.concatenate([ub[::-1], ua[1:]])
        ts = np.concatenate([-tb[::-1], ta[1:]])
        reason = f"{rb}; {ra}"
    else:
        us, ts, reason = runs[0]
    inside = (us[:, n] >= lo - 1e-9 * span) & (us[:, n] <= hi + 1e-9 * span)
    i0, i1 = 0, len(us)
    while i1 - i0 > 2 and not inside[i0]:  # the step that left p_range is not part of the branch
        i0 += 1
    while i1 - i0 > 2 and not inside[i1 - 1]:
        i1 -= 1
    return _make_branch(vf, param, pp, us[i0:i1], ts[i0:i1], reason, eq)


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
            u, ok = eq.locate(ua, ub, _tau_fold(n))
            kind = "fold" if turn else "branch_point"
            if not ok:
                # The corrector is singular only at a branch point (two branches cross: [F_x F_lam]
                # loses rank), a fold being a regular point of the curve. So a failed location is a
                # branch point (a pitchfork's side branch also turns there); estimate it from a
                # cubic fit of det F_x along the branch (arclength in scaled coordinates).
                kind = "branch_point"
                u = _interp_zero(us, dets, k, eq.w)
                if not turn:  # the branch is a graph over lam here: regula falsi on det F_x(x(lam), lam)
                    u, ok = _bp_in_lambda(eq, ua, ub, n, u)
            ev = _eig_sorted(JG(u)[:, :n])
            points.append((k, SpecialPoint(kind, param, float(u[n]), u[:n].copy(), ev, None, vf.variables,
                                           {"located": bool(ok)})))
        # Hopf: two complex eigenvalues cross the imaginary axis
        if n >= 2 and _hopf_between(eigs[k], eigs[k + 1], scale):
            u, ok = eq.locate(ua, ub, _tau_hopf(n))
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
