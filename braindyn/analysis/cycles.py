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
from .continuation import SpecialPoint, pseudo_arclength
from .vector_field import as_vector_field, compiled, simulate, x64

__all__ = ["LimitCycle", "CycleBranch", "solve_cycle", "find_limit_cycle", "continue_cycles", "cycle_at"]

_CACHE: dict = {}


def _flow_fns(fn, n, n_mesh, name, n_seg=1):
    """Jitted (multiple-)shooting residual, its Jacobian, orbit sampler and monodromy (cached).

    Unknowns ``u = (X_0, ..., X_{M-1}, T, lam)`` with ``M = n_seg`` segment starts; each segment
    is ``n_mesh // M`` RK4 steps of ``T / n_mesh``.
    """
    key = (fn, n, n_mesh, name, n_seg)
    if key in _CACHE:
        return _CACHE[key]
    steps = max(1, n_mesh // n_seg)

    def segment(x0, T, p):
        h = T / (steps * n_seg)

        def step(x, _):
            k1 = fn(x, p)
            k2 = fn(x + 0.5 * h * k1, p)
            k3 = fn(x + 0.5 * h * k2, p)
            k4 = fn(x + h * k3, p)
            xn = x + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
            return xn, xn

        return jax.lax.scan(step, x0, None, length=steps)

    def pars(u, q):
        return {**q, name: u[-1]} if name is not None else q

    def resid(u, q, ref):
        X = u[:n * n_seg].reshape(n_seg, n)
        T, p = u[n * n_seg], pars(u, q)
        ends = jax.vmap(lambda x: segment(x, T, p)[0])(X)
        gaps = (ends - jnp.roll(X, -1, axis=0)).ravel()
        return jnp.concatenate([gaps, jnp.atleast_1d(jnp.dot(ref[1], X[0] - ref[0]))])

    def orbit(u, q):
        X = u[:n * n_seg].reshape(n_seg, n)
        T, p = u[n * n_seg], pars(u, q)
        xs = jax.vmap(lambda x: segment(x, T, p)[1])(X)
        return jnp.concatenate([X[:1], xs.reshape(-1, n)])

    def monodromy(u, q):
        X = u[:n * n_seg].reshape(n_seg, n)
        T, p = u[n * n_seg], pars(u, q)
        Js = jax.vmap(lambda x: jax.jacfwd(lambda z: segment(z, T, p)[0])(x))(X)
        M = jnp.eye(n)
        for i in range(n_seg):
            M = Js[i] @ M
        return M

    out = {"resid": jax.jit(resid), "jac": jax.jit(jax.jacfwd(resid)), "orbit": jax.jit(orbit),
           "monodromy": jax.jit(monodromy), "segment": jax.jit(segment), "steps": steps}
    _CACHE[key] = out
    return out


def _spread(fns, x0, T, q, n_seg):
    """Segment starts along the orbit from ``x0`` (one period of RK4)."""
    if n_seg == 1:
        return np.asarray(x0, float)[None]
    X = [np.asarray(x0, float)]
    for _ in range(n_seg - 1):
        xe, _ = fns["segment"](jnp.asarray(X[-1]), jnp.asarray(T, float), q)
        X.append(np.asarray(xe))
    return np.array(X)


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

    def to_dict(self, digits: int = 5) -> dict:
        return {"period": round(float(self.period), digits), "stable": bool(self.stable),
                "min": {v: round(float(a), digits) for v, a in zip(self.variables, self.x_min)},
                "max": {v: round(float(a), digits) for v, a in zip(self.variables, self.x_max)}}


def _stable(mult):
    m = np.abs(mult)
    if len(m) <= 1:
        return True
    k = np.argmin(np.abs(mult - 1.0))
    return bool(np.all(np.delete(m, k) < 1.0 - 1e-9))


def _cycle(vf, fns, u, q, n_seg, params):
    n = vf.n
    T = float(u[n * n_seg])
    xs = np.asarray(fns["orbit"](jnp.asarray(u), q))
    mult = np.linalg.eigvals(np.asarray(fns["monodromy"](jnp.asarray(u), q)))
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
    n = vf.n
    pp = vf.p(p)
    fns = _flow_fns(vf.fn, n, int(n_mesh), None, int(n_seg))
    q = {k: jnp.asarray(v, float) for k, v in pp.items()}
    f = compiled(vf)["f"]
    x = np.asarray(x0, float).ravel()
    if x.shape != (n,):
        raise BraindynError(f"solve_cycle: x0 must have {n} components, got {x.shape}.")
    T = float(period)
    if not T > 0:
        raise BraindynError(f"solve_cycle: period guess must be > 0, got {period!r}.")
    X = _spread(fns, x, T, q, n_seg).ravel()
    ref = (jnp.asarray(x), f(jnp.asarray(x), q))
    ok = False
    m = n * n_seg
    for _ in range(max_iter):
        u = np.concatenate([X, [T, 0.0]])
        r = np.asarray(fns["resid"](jnp.asarray(u), q, ref))
        J = np.asarray(fns["jac"](jnp.asarray(u), q, ref))[:, :m + 1]
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
    return _cycle(vf, fns, np.concatenate([X, [T, 0.0]]), q, n_seg, pp)


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
    >>> vf = vector_field(lambda x, p: jnp.array([x[0] - x[1] - x[0] * (x[0]**2 + x[1]**2),
    ...                                           x[0] + x[1] - x[1] * (x[0]**2 + x[1]**2)]), ["x", "y"])
    >>> round(find_limit_cycle(vf, [0.1, 0.0], t_transient=50, t_window=50).period, 5)
    6.28319
    """
    vf = as_vector_field(vf, **model_kw)
    i = vf.index(var)
    tr = simulate(vf, x0, t_transient + t_window, p, n_save=20001)
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
    k = up[-1]
    try:
        return solve_cycle(vf, xs[k], period, p, n_mesh=n_mesh, n_seg=n_seg)
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
        Folds of cycles (``"fold_cycle"``), located by interpolation of :math:`d\\lambda/ds = 0`.
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
def continue_cycles(vf, hopf: SpecialPoint, p: dict | None = None, *, p_range=None, ds=None, ds_max=None,
                    max_steps: int = 300, n_mesh: int = 1000, max_period: float | None = None,
                    amplitude: float | None = None, n_seg: int = 8, **model_kw) -> CycleBranch:
    """Continue the family of limit cycles born at a Hopf point (single shooting + pseudo-arclength).

    Parameters
    ----------
    vf : VectorField or ODEModel
    hopf : SpecialPoint
        A ``"hopf"`` point of a :class:`~braindyn.analysis.Branch`.
    p : dict, optional
        The other parameter values (those of the branch).
    p_range : (low, high)
        Stop when the parameter leaves it.
    ds, ds_max : float, optional
        Arclength steps in the raw units of :math:`(x_0, T, \\lambda)`.
    max_period : float, optional
        Stop when the period exceeds it (approach to a homoclinic orbit); default
        ``50 x`` the period at onset.
    amplitude : float, optional
        Amplitude of the first cycle along :math:`\\mathrm{Re}\\,q` (default ``1e-3 (1 + |x^*|)``).
    n_mesh : int
        RK4 steps per period.

    Returns
    -------
    CycleBranch
    """
    vf = as_vector_field(vf, **model_kw)
    if hopf.kind != "hopf" or not hopf.omega:
        raise BraindynError(f"continue_cycles needs a located Hopf point (kind 'hopf' with omega), got {hopf.kind!r}.")
    name, n = hopf.param, vf.n
    pp = vf.p(p)
    if p_range is None or not p_range[0] < p_range[1]:
        raise BraindynError(f"continue_cycles: give p_range=(low, high) for {name!r}, got {p_range!r}.")
    q = {k: jnp.asarray(v, float) for k, v in pp.items() if k != name}
    fns = _flow_fns(vf.fn, n, int(n_mesh), name, int(n_seg))
    f = compiled(vf)["f"]
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
    max_period = 50 * T0 if max_period is None else float(max_period)
    m = n * n_seg

    def f_at(x, lam):
        return np.asarray(f(jnp.asarray(x), {**q, name: jnp.asarray(lam)}))

    # first cycle: the linear cycle x* + eps (a cos + b sin) as segment starts, amplitude and phase fixed
    th = 2 * np.pi * np.arange(n_seg) / n_seg
    sgn = -1.0 if ev[k].imag > 0 else 1.0
    X0 = xs_[None] + eps * (np.cos(th)[:, None] * a[None] + sgn * np.sin(th)[:, None] * b[None])
    if n_seg > 1:
        # orientation of the rotation: check against the linear flow
        Jb = J @ a
        if np.dot(Jb, X0[1] - X0[0]) < 0:
            X0 = xs_[None] + eps * (np.cos(th)[:, None] * a[None] - sgn * np.sin(th)[:, None] * b[None])
    u = np.concatenate([X0.ravel(), [T0, lam0]])
    ref = (jnp.asarray(xs_), jnp.asarray(b))
    ok = False
    for _ in range(60):
        r = np.asarray(fns["resid"](jnp.asarray(u), q, ref))[:m]
        Jr = np.asarray(fns["jac"](jnp.asarray(u), q, ref))[:m]
        z = np.zeros(m - n + 2)
        R = np.concatenate([r, [np.dot(b, u[:n] - xs_), np.dot(a, u[:n] - xs_) - eps]])
        A = np.vstack([Jr, np.concatenate([b, z]), np.concatenate([a, z])])
        du = np.linalg.lstsq(A, R, rcond=None)[0]
        u = u - du
        if np.linalg.norm(du) <= 1e-11 * (1 + np.linalg.norm(u)):
            ok = True
            break
    if not ok:
        raise BraindynError("continue_cycles: could not solve the first small cycle near the Hopf point. "
                            "Fix: pass a smaller or larger amplitude=.")
    lo, hi = p_range
    span = hi - lo
    state = {"ref": (jnp.asarray(u[:n]), jnp.asarray(f_at(u[:n], u[-1])))}

    def G(w):
        return np.asarray(fns["resid"](jnp.asarray(w), q, state["ref"]))

    def JG(w):
        return np.asarray(fns["jac"](jnp.asarray(w), q, state["ref"]))

    def stop(w):
        if not (lo - 1e-3 * span <= w[-1] <= hi + 1e-3 * span):
            return f"{name} left p_range"
        if w[m] > max_period:
            return "period above max_period (homoclinic approach?)"
        if w[m] <= 0 or not np.all(np.isfinite(w)):
            return "diverged"
        if n_seg > 1:
            X = w[:m].reshape(n_seg, n)
            amp = np.max(np.linalg.norm(X - X.mean(0), axis=1))
            state["amp_max"] = max(state.get("amp_max", 0.0), amp)
            if amp < 0.5 * eps and state["amp_max"] > 4 * eps:
                return "amplitude -> 0 (reached another Hopf point)"
        return None

    def on_step(w, t):
        state["ref"] = (jnp.asarray(w[:n]), jnp.asarray(f_at(w[:n], w[-1])))
        return True

    d0 = np.concatenate([np.tile(a, n_seg), [0.0, 0.0]])
    ds = (np.linalg.norm(xs_) + 1) * 0.02 * np.sqrt(n_seg) if ds is None else float(ds)
    us, ts, reason = pseudo_arclength(G, JG, u, d0, ds=ds, ds_max=ds_max, max_steps=max_steps, tol=1e-9, stop=stop,
                                      on_step=on_step)
    others = {k: v for k, v in pp.items() if k != name}
    recs = [_cycle(vf, fns, w, q, n_seg, {**others, name: float(w[-1])}) for w in us]
    points = []
    for i in range(1, len(us) - 1):  # the first step leaves the Hopf point, where d(lam)/ds = 0
        if np.sign(ts[i][-1]) != np.sign(ts[i + 1][-1]) and ts[i][-1] != 0:
            wgt = abs(ts[i][-1]) / (abs(ts[i][-1]) + abs(ts[i + 1][-1]))
            ug = us[i] + wgt * (us[i + 1] - us[i])
            points.append(SpecialPoint("fold_cycle", name, float(ug[-1]), ug[:n], recs[i].multipliers, None,
                                       vf.variables, {"period": float(ug[m])}))
    return CycleBranch(name, us[:, -1].copy(), us[:, m].copy(), np.array([r.x_min for r in recs]),
                       np.array([r.x_max for r in recs]), us[:, :n].copy(), np.array([r.multipliers for r in recs]),
                       np.array([r.stable for r in recs]), points, vf.variables, dict(pp), reason)


@x64
def cycle_at(vf, branch: CycleBranch, value: float, *, n_mesh: int = 1000, n_seg: int = 8, **model_kw) -> LimitCycle:
    """The cycle of ``branch`` at parameter ``value`` (Newton from the nearest branch point)."""
    vf = as_vector_field(vf, **model_kw)
    if not np.min(branch.values) <= value <= np.max(branch.values):
        raise BraindynError(f"cycle_at: {branch.param}={value} is outside the branch range "
                            f"[{np.min(branch.values):g}, {np.max(branch.values):g}].")
    i = int(np.argmin(np.abs(branch.values - value)))
    return solve_cycle(vf, branch.states[i], branch.periods[i], {**branch.params, branch.param: value}, n_mesh=n_mesh,
                       n_seg=n_seg)
