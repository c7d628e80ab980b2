"""Limit cycles: single shooting, cycle detection from simulation, continuation from a Hopf point.

A periodic orbit of period :math:`T` through :math:`x_0` solves

.. math::
    \\varphi_T(x_0; \\lambda) - x_0 = 0, \\qquad f(x_{ref})\\cdot(x_0 - x_{ref}) = 0,

where :math:`\\varphi_T` is the flow (here classical RK4 with ``n_mesh`` equal steps of
:math:`T/n_{mesh}`, differentiable in :math:`x_0`, :math:`T` and :math:`\\lambda`) and the
second equation (a Poincaré phase condition) removes the time-shift freedom. Newton's method
solves for :math:`(x_0, T)` at fixed :math:`\\lambda`, and pseudo-arclength continuation
follows :math:`(x_0, T, \\lambda)`. The Floquet multipliers are the eigenvalues of the monodromy
matrix :math:`\\partial\\varphi_T/\\partial x_0`; one of them is 1 (the flow direction), and the
cycle is stable when all others lie inside the unit circle.

Starting from a Hopf point :math:`(x^*, \\lambda_H, \\omega, q)` the first cycle is solved with
a prescribed small amplitude :math:`(x_0 - x^*)\\cdot\\mathrm{Re}\\,q = \\varepsilon` and
:math:`T \\approx 2\\pi/\\omega`; continuation then goes towards growing amplitude.

Example
-------
>>> import jax.numpy as jnp
>>> from braindyn.analysis import vector_field, solve_cycle
>>> vf = vector_field(lambda x, p: jnp.array([x[0] - x[1] - x[0] * (x[0]**2 + x[1]**2),
...                                           x[0] + x[1] - x[1] * (x[0]**2 + x[1]**2)]), ["x", "y"])
>>> lc = solve_cycle(vf, [1.1, 0.0], 6.0)
>>> round(lc.period, 6), lc.stable
(6.283185, True)
"""
from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import BraindynError
from ._shooting import Shooting
from .continuation import SpecialPoint, pseudo_arclength
from .fixed_points import _json_float
from .vector_field import as_vector_field, compiled, simulate, x64

__all__ = ["LimitCycle", "CycleBranch", "solve_cycle", "find_limit_cycle", "continue_cycles", "cycle_at"]

@dataclass
class LimitCycle:
    """A periodic orbit.

    Attributes
    ----------
    period : float
        :math:`T` (time unit of the field, ms for braindyn models).
    ts, xs : ndarray
        One period sampled at ``n_mesh + 1`` times, ``xs`` of shape ``(n_mesh + 1, n)``.
    x_min, x_max : ndarray (n,)
        Extremes of each variable along the orbit.
    multipliers : ndarray (n,) complex
        Floquet multipliers (one is :math:`\\approx 1`).
    stable : bool
        All non-trivial multipliers inside the unit circle.
    params : dict
    """

    period: float
    ts: np.ndarray
    xs: np.ndarray
    x_min: np.ndarray
    x_max: np.ndarray
    multipliers: np.ndarray
    stable: bool
    variables: tuple = ()
    params: dict = field(default_factory=dict)

    def to_dict(self, digits: int | None = 5) -> dict:
        """JSON-ready summary rounded to ``digits`` decimals (``None``: full precision)."""
        return {"period": _json_float(self.period, digits), "stable": bool(self.stable),
                "min": {v: _json_float(a, digits) for v, a in zip(self.variables, self.x_min)},
                "max": {v: _json_float(a, digits) for v, a in zip(self.variables, self.x_max)}}


def _stable(mult):
    m = np.abs(mult)
    if len(m) <= 1:
        return True
    k = np.argmin(np.abs(mult - 1.0))
    return bool(np.all(np.delete(m, k) < 1.0 - 1e-9))


def _cycle(vf, sh: Shooting, u, params):
    """The :class:`LimitCycle` of the shooting solution ``u`` (full orbit, multipliers)."""
    T = float(u[sh.m])
    xs = sh.orbit(u)
    mult = sh.multipliers(u)
    ts = np.linspace(0, T, len(xs))
    return LimitCycle(T, ts, xs, xs.min(0), xs.max(0), mult, _stable(mult), vf.variables, dict(params))


@x64
def solve_cycle(vf, x0, period, p: dict | None = None, *, n_mesh: int = 1000, n_seg: int = 8, tol: float = 1e-10,
                max_iter: int = 40, **model_kw) -> LimitCycle:
    """Periodic orbit near the guess ``(x0, period)`` at fixed parameters (Newton on multiple shooting).

    Parameters
    ----------
    vf : VectorField or ODEModel
    x0 : array (n,)
        A point near the cycle.
    period : float
        Period guess.
    n_mesh : int
        RK4 steps per period (the period error scales as :math:`(T/n_{mesh})^4`).
    n_seg : int
        Shooting segments (more segments tame strongly unstable cycles).

    Raises
    ------
    BraindynError
        When Newton does not converge (no cycle near the guess, or a too coarse guess).
    """
    vf = as_vector_field(vf, **model_kw)
    return _solve_cycle(vf, x0, period, vf.p(p), None, int(n_mesh), int(n_seg), tol, max_iter)


def _solve_cycle(vf, x0, period, pp, name, n_mesh, n_seg, tol=1e-10, max_iter=40):
    """Newton on (X, T) at fixed parameters ``pp``; ``name`` only selects the compiled kernel
    (the one of a cycle continuation in ``name`` is reused by :func:`cycle_at`)."""
    n = vf.n
    x = np.asarray(x0, float).ravel()
    if x.shape != (n,):
        raise BraindynError(f"solve_cycle: x0 must have {n} components, got {x.shape}.")
    T = float(period)
    if not T > 0:
        raise BraindynError(f"solve_cycle: period guess must be > 0, got {period!r}.")
    sh = Shooting(vf.fn, n, n_mesh, n_seg, name, pp)
    f = compiled(vf)["f"]
    ref = (x, np.asarray(f(jnp.asarray(x), {k: jnp.asarray(v, float) for k, v in pp.items()})))
    X = sh.spread(x, T).ravel()
    ok, m = False, sh.m
    for _ in range(max_iter):
        u = np.concatenate([X, [T, sh.lam0]])
        r = sh.resid(u, ref)
        J = sh.jac(u, ref)[:, :m + 1]
        if not (np.all(np.isfinite(r)) and np.all(np.isfinite(J))):
            break
        du = np.linalg.lstsq(J, r, rcond=None)[0]
        a = min(1.0, 0.5 * T / max(abs(du[m]), 1e-300))
        X, T = X - a * du[:m], T - a * du[m]
        if np.linalg.norm(du) <= tol * (1 + np.linalg.norm(X)) and a == 1.0:
            ok = True
            break
    if not ok or not T > 0:
        raise BraindynError(
            "solve_cycle: Newton did not converge to a periodic orbit. Fix: start from a point on the attractor "
            "(simulate past the transient: find_limit_cycle does this) with a period guess within ~20%."
        )
    return _cycle(vf, sh, np.concatenate([X, [T, sh.lam0]]), pp)


@x64
def find_limit_cycle(vf, x0, p: dict | None = None, *, t_transient: float = 500.0, t_window: float = 500.0,
                     var=0, n_mesh: int = 1000, n_seg: int = 8, **model_kw) -> LimitCycle | None:
    """Simulate from ``x0``, detect a periodic attractor, and refine it by shooting.

    The period guess is the mean interval between upward crossings of the mean of ``var`` in
    ``[t_transient, t_transient + t_window]``. Returns ``None`` when the trajectory settles
    (no crossings, or amplitude below 1e-6 of the variable's scale).

    Example
    -------
    >>> import jax.numpy as jnp
    >>> from braindyn.analysis import vector_field
    >>> vf = vector_field(lambda x, p: jnp.array([x[0] - x[1] - x[0] * (x[0]**2 + x[1]**2),
    ...                                           x[0] + x[1] - x[1] * (x[0]**2 + x[1]**2)]), ["x", "y"])
    >>> round(find_limit_cycle(vf, [0.1, 0.0], t_transient=50, t_window=50).period, 5)
    6.28319
    """
    vf = as_vector_field(vf, **model_kw)
    return _find_limit_cycle(vf, x0, vf.p(p), None, t_transient, t_window, var, int(n_mesh), int(n_seg))


def _find_limit_cycle(vf, x0, pp, name, t_transient, t_window, var, n_mesh, n_seg):
    i = vf.index(var)
    tr = simulate(vf, x0, t_transient + t_window, pp, n_save=20001)
    keep = tr.ts >= t_transient
    ts, xs = tr.ts[keep], tr.xs[keep]
    if not np.all(np.isfinite(xs)):
        return None
    v = xs[:, i]
    amp = v.max() - v.min()
    if amp <= 1e-6 * (1 + np.abs(v).max()):
        return None
    mid = 0.5 * (v.max() + v.min())
    up = np.where((v[:-1] < mid) & (v[1:] >= mid))[0]
    if len(up) < 3:
        return None
    tc = ts[up] + (mid - v[up]) / (v[up + 1] - v[up]) * (ts[1] - ts[0])
    period = float(np.mean(np.diff(tc)))
    try:
        return _solve_cycle(vf, xs[up[-1]], period, pp, name, n_mesh, n_seg)
    except BraindynError:
        return None


@dataclass
class CycleBranch:
    """A branch of limit cycles from :func:`continue_cycles`.

    Attributes
    ----------
    param : str
    values, periods : ndarray (K,)
    x_min, x_max : ndarray (K, n)
        Extremes of each variable along each cycle (the envelope of the bifurcation diagram).
    states : ndarray (K, n)
        A point on each cycle (the shooting start).
    multipliers : ndarray (K, n)
    stable : ndarray (K,) bool
    points : list of SpecialPoint
        Folds of cycles (``"fold_cycle"``), located by interpolation of :math:`d\\lambda/ds = 0`;
        when the branch shrinks onto another Hopf point, that point (``"hopf"``, located by Newton,
        ``extra["end_of_cycle_branch"] = 1``) comes last.
    reason : str
    """

    param: str
    values: np.ndarray
    periods: np.ndarray
    x_min: np.ndarray
    x_max: np.ndarray
    states: np.ndarray
    multipliers: np.ndarray
    stable: np.ndarray
    points: list
    variables: tuple
    params: dict
    reason: str = ""


@x64
def continue_cycles(vf, start, p: dict | None = None, *, param: str | None = None, p_range=None, ds=None,
                    ds_max=None, max_steps: int = 300, n_mesh: int = 1000, max_period: float | None = None,
                    amplitude: float | None = None, n_seg: int = 8, **model_kw) -> CycleBranch:
    """Continue a family of limit cycles (multiple shooting + pseudo-arclength).

    Parameters
    ----------
    vf : VectorField or ODEModel
    start : SpecialPoint or LimitCycle
        A ``"hopf"`` point of a :class:`~braindyn.analysis.Branch` (the family born there is
        followed towards growing amplitude), or a :class:`LimitCycle` (e.g. from
        :func:`find_limit_cycle`; followed both ways in ``param``).
    p : dict, optional
        The other parameter values (those of the branch / of the cycle).
    param : str, optional
        The continuation parameter when ``start`` is a cycle (a Hopf point carries its own).
    p_range : (low, high)
        Stop when the parameter leaves it.
    ds, ds_max : float, optional
        Arclength steps in the raw units of :math:`(X, T, \\lambda)`.
    max_period : float, optional
        Stop when the period exceeds it (approach to a homoclinic orbit); default ``50 x`` the
        starting period.
    amplitude : float, optional
        Amplitude of the first cycle along :math:`\\mathrm{Re}\\,q` (default ``1e-3 (1 + |x^*|)``).
    n_mesh : int
        RK4 steps per period.

    Returns
    -------
    CycleBranch
        Ends at another Hopf point when the cycles shrink onto an equilibrium (that point,
        located, is the last of ``points``), at ``max_period``, or at the ends of ``p_range``.
    """
    vf = as_vector_field(vf, **model_kw)
    n = vf.n
    if isinstance(start, LimitCycle):
        if param is None:
            raise BraindynError("continue_cycles: starting from a LimitCycle needs param= (the parameter to vary).")
        vf.check_param(param)
        name = param
        pp = vf.p({**{k: v for k, v in start.params.items() if k in vf.params}, **(p or {})})
    elif isinstance(start, SpecialPoint) and start.kind == "hopf" and start.omega:
        name = start.param
        pp = vf.p(p)
    else:
        raise BraindynError("continue_cycles needs a located Hopf point (kind 'hopf' with omega) or a LimitCycle, "
                            f"got {getattr(start, 'kind', type(start).__name__)!r}.")
    if p_range is None or not p_range[0] < p_range[1]:
        raise BraindynError(f"continue_cycles: give p_range=(low, high) for {name!r}, got {p_range!r}.")
    sh = Shooting(vf.fn, n, int(n_mesh), int(n_seg), name, pp)
    if isinstance(start, LimitCycle):
        lam0 = float(pp[name])
        X = sh.spread(start.xs[0], start.period)
        u = np.concatenate([X.ravel(), [start.period, lam0]])
        eps = 1e-3 * (1 + np.linalg.norm(X.mean(0)))
        dirs = [np.concatenate([np.zeros(sh.m + 1), [sg]]) for sg in (1.0, -1.0)]
        T0 = start.period
    else:
        u, d0, eps, T0 = _hopf_start(vf, sh, start, pp, name, amplitude)
        dirs = [d0]
    max_period = 50 * T0 if max_period is None else float(max_period)
    if ds is None:
        ds = (np.linalg.norm(u[:n]) + 1) * 0.02 * np.sqrt(n_seg)
    runs = [_follow(vf, sh, u, d, eps, name, pp, p_range, max_period, float(ds), ds_max, max_steps) for d in dirs]
    if len(runs) == 2:
        (ua, ta, ra, wa), (ub, tb, rb, wb) = runs
        us, ts, recs = np.concatenate([ub[::-1], ua[1:]]), np.concatenate([-tb[::-1], ta[1:]]), rb[::-1] + ra[1:]
        reason = f"{wb}; {wa}"
    else:
        us, ts, recs, reason = runs[0]
    ends = [len(us) - 1] + ([0] if len(runs) == 2 else [])
    m = sh.m
    mults = np.array([r[0] for r in recs])
    points = []
    for i in range(1, len(us) - 1):  # a Hopf start leaves with d(lam)/ds = 0: skip the first step
        if np.sign(ts[i][-1]) != np.sign(ts[i + 1][-1]) and ts[i][-1] != 0:
            wgt = abs(ts[i][-1]) / (abs(ts[i][-1]) + abs(ts[i + 1][-1]))
            ug = us[i] + wgt * (us[i + 1] - us[i])
            points.append(SpecialPoint("fold_cycle", name, float(ug[-1]), ug[:n], mults[i], None,
                                       vf.variables, {"period": float(ug[m])}))
    run_reasons = [runs[0][3]] + ([runs[1][3]] if len(runs) == 2 else [])
    for e, why in zip(ends, run_reasons):
        if why.startswith("amplitude -> 0"):
            end = _end_hopf(vf, sh, name, pp, us[e], recs[e], p_range)
            if end is not None:
                points.append(end)
    return CycleBranch(name, us[:, -1].copy(), us[:, m].copy(), np.array([r[1] for r in recs]),
                       np.array([r[2] for r in recs]), us[:, :n].copy(), mults,
                       np.array([_stable(mu) for mu in mults]), points, vf.variables, dict(pp), reason)


def _hopf_start(vf, sh, hopf, pp, name, amplitude):
    """First small cycle at a Hopf point: ``(u, direction, eps, T0)``."""
    n, n_seg, m = sh.n, sh.M, sh.m
    xs_, lam0 = np.asarray(hopf.coords, float), float(hopf.value)
    J = np.asarray(vf.jacobian(xs_, {**pp, name: lam0}))
    ev, vecs = np.linalg.eig(J)
    k = np.argmin(np.abs(ev.real) + 1e3 * (np.abs(ev.imag) < 1e-12))
    a = vecs[:, k].real
    a = a / np.linalg.norm(a)
    b = vecs[:, k].imag
    b = b - np.dot(b, a) * a
    b = b / np.linalg.norm(b)
    T0 = 2 * np.pi / hopf.omega
    eps = 1e-3 * (1 + np.linalg.norm(xs_)) if amplitude is None else float(amplitude)
    # first cycle: the linear cycle x* + eps (a cos + b sin) as segment starts, amplitude and phase fixed
    th = 2 * np.pi * np.arange(n_seg) / n_seg
    sgn = -1.0 if ev[k].imag > 0 else 1.0
    X0 = xs_[None] + eps * (np.cos(th)[:, None] * a[None] + sgn * np.sin(th)[:, None] * b[None])
    if n_seg > 1 and np.dot(J @ a, X0[1] - X0[0]) < 0:  # orientation of the rotation: the linear flow's
        X0 = xs_[None] + eps * (np.cos(th)[:, None] * a[None] - sgn * np.sin(th)[:, None] * b[None])
    u = np.concatenate([X0.ravel(), [T0, lam0]])
    z = np.zeros(m - n + 2)
    rows = np.vstack([np.concatenate([b, z]), np.concatenate([a, z])])
    ok = False
    for _ in range(60):
        R = np.concatenate([sh.gaps(u), [np.dot(b, u[:n] - xs_), np.dot(a, u[:n] - xs_) - eps]])
        A = np.vstack([sh.gaps_jac(u), rows])
        if not (np.all(np.isfinite(R)) and np.all(np.isfinite(A))):
            break
        du = np.linalg.lstsq(A, R, rcond=None)[0]
        u = u - du
        if np.linalg.norm(du) <= 1e-11 * (1 + np.linalg.norm(u)):
            ok = True
            break
    if not ok:
        raise BraindynError("continue_cycles: could not solve the first small cycle near the Hopf point. "
                            "Fix: pass a smaller or larger amplitude=.")
    # Initial direction: growing amplitude, i.e. d(X_i)/d(eps) = (X_i - x*) / eps for every segment
    # start. (A uniform shift of all starts along Re q -- tile(a) -- is orthogonal to it, because the
    # starts are spread evenly around x*: the bordered Jacobian of the corrector was then singular,
    # exactly so for symmetric fields such as the Hopf normal form with x* = 0.)
    d0 = np.concatenate([(u[:m].reshape(n_seg, n) - xs_[None]).ravel() / eps, [0.0, 0.0]])
    return u, d0, eps, T0


def _follow(vf, sh, u, d0, eps, name, pp, p_range, max_period, ds, ds_max, max_steps):
    """One pseudo-arclength run of the shooting system: ``(us, ts, records, reason)``, a record
    being (multipliers, min, max) of a cycle."""
    n, n_seg, m = sh.n, sh.M, sh.m
    f = compiled(vf)["f"]
    q = {k: jnp.asarray(v, float) for k, v in pp.items() if k != name}
    lo, hi = p_range
    span = hi - lo

    def f_at(x, lam):
        return np.asarray(f(jnp.asarray(x), {**q, name: jnp.asarray(lam)}))

    def summary(w):
        lo_, hi_ = sh.extremes(w)
        return sh.multipliers(w), lo_, hi_

    def centred(w):
        X = sh.starts(w)
        return X - X.mean(0)

    C0 = centred(u)
    state = {"ref": (u[:n].copy(), f_at(u[:n], u[-1])), "C": C0,
             "amp_max": float(np.max(np.linalg.norm(C0, axis=1))) if n_seg >= 4 else 0.0}
    recs = [None]

    def G(w):
        return sh.resid(w, state["ref"])

    def JG(w):
        return sh.jac(w, state["ref"])

    def stop(w):
        if not (lo - 1e-3 * span <= w[-1] <= hi + 1e-3 * span):
            return f"{name} left p_range"
        if w[m] > max_period:
            return "period above max_period (homoclinic approach?)"
        if w[m] <= 0 or not np.all(np.isfinite(w)):
            return "diverged"
        # End at another Hopf point: the cycle shrinks onto an equilibrium. Past it, the corrector
        # either lands on the trivial "cycle" X_i = x* (amplitude 0, any T) or on the mirrored
        # small cycles (starts reversed through the centre): both are dropped, never reported as
        # a fold of cycles.
        lo_, hi_ = sh.extremes(w)
        C = centred(w)
        amp = float(np.max(np.linalg.norm(C, axis=1))) if n_seg >= 4 else 0.5 * float(np.linalg.norm(hi_ - lo_))
        prev = state["C"]
        state["C"] = C
        state["amp_max"] = max(state["amp_max"], amp)
        if state["amp_max"] > 4 * eps:
            if amp < 0.5 * eps or np.sum(C * prev) < 0:
                state["trim"] = True
                return "amplitude -> 0 (reached another Hopf point)"
            if amp < eps:
                return "amplitude -> 0 (reached another Hopf point)"
        return None

    def on_step(w, t):
        recs.append(summary(w))
        state["ref"] = (w[:n].copy(), f_at(w[:n], w[-1]))
        return True

    us, ts, reason = pseudo_arclength(G, JG, u, d0, ds=ds, ds_max=ds_max, max_steps=max_steps, tol=1e-9, stop=stop,
                                      on_step=on_step)
    recs[0] = summary(us[0])  # the start after its correction
    while len(recs) < len(us):  # the point on which stop() ended has no on_step record
        recs.append(summary(us[len(recs)]))
    if (state.get("trim") or reason == f"{name} left p_range") and len(us) > 2:
        us, ts, recs = us[:-1], ts[:-1], recs[:-1]  # past a Hopf point, or outside p_range
    return us, ts, recs, reason


def _end_hopf(vf, sh, name, pp, u_end, rec_end, p_range):
    """The Hopf point a cycle branch shrank onto (equilibrium continuation near its end), or None."""
    from .continuation import continue_equilibria

    xc = sh.starts(u_end).mean(0) if sh.M >= 4 else 0.5 * (rec_end[1] + rec_end[2])
    lam_e, dl = float(u_end[-1]), 0.01 * (p_range[1] - p_range[0])
    try:
        br = continue_equilibria(vf, name, xc, {**pp, name: lam_e}, p_range=(lam_e - dl, lam_e + dl), ds=dl / 50,
                                 max_steps=400)
    except BraindynError:
        return None
    hs = [h for h in br.hopfs if h.extra.get("located")]
    if not hs:
        return None
    end = min(hs, key=lambda h: abs(h.value - lam_e))
    end.extra["end_of_cycle_branch"] = 1.0
    return end


@x64
def cycle_at(vf, branch: CycleBranch, value: float, *, n_mesh: int = 1000, n_seg: int = 8, **model_kw) -> LimitCycle:
    """The cycle of ``branch`` at parameter ``value`` (Newton from the branch interpolated at
    ``value``, on each branch segment that brackets it, then from the nearest branch points; the
    first that converges is returned)."""
    vf = as_vector_field(vf, **model_kw)
    if not np.min(branch.values) <= value <= np.max(branch.values):
        raise BraindynError(f"cycle_at: {branch.param}={value} is outside the branch range "
                            f"[{np.min(branch.values):g}, {np.max(branch.values):g}].")
    pp = vf.p({**branch.params, branch.param: value})
    v = branch.values
    # guesses: linear interpolation on every branch segment that brackets the value (several
    # after folds of cycles), then the nearest points
    guesses = []
    for i in np.where((np.minimum(v[:-1], v[1:]) <= value) & (value <= np.maximum(v[:-1], v[1:])))[0]:
        w = 0.0 if v[i + 1] == v[i] else (value - v[i]) / (v[i + 1] - v[i])
        guesses.append((branch.states[i] + w * (branch.states[i + 1] - branch.states[i]),
                        branch.periods[i] + w * (branch.periods[i + 1] - branch.periods[i])))
    guesses += [(branch.states[i], branch.periods[i]) for i in np.argsort(np.abs(v - value))[:2]]
    err = None
    for x0, T0 in guesses:
        try:
            return _solve_cycle(vf, x0, T0, pp, branch.param, int(n_mesh), int(n_seg))
        except BraindynError as e:
            err = e
    raise err
