"""Embedded Runge--Kutta pairs and an adaptive (error-controlled) driver.

An embedded pair shares its stages :math:`k_i` between two weight vectors: :math:`b`
(order :math:`p`, propagated) and :math:`\\hat b` (order :math:`\\hat p`, the ``b_err`` of the
:class:`~braindyn.integrators.tableau.ButcherTableau`). Their difference is a free estimate of
the local error of the lower-order solution,

.. math::
    e_{n+1} = \\Delta t \\sum_i (b_i - \\hat b_i)\\, k_i ,

which :func:`solve_adaptive` uses to choose the step size. Every pair here propagates the
higher-order solution ("local extrapolation"), so used as a fixed-step :class:`Solver`
(``get("dopri5")`` passed as ``method`` to a model) it is a method of order :math:`p`.

======================  ===========  ===========================================================
name                    order (err)  pair
======================  ===========  ===========================================================
``heun_euler``          2 (1)        Heun's method with the forward-Euler estimate
``bs32``                3 (2)        Bogacki--Shampine (FSAL)
``rkf45``               5 (4)        Runge--Kutta--Fehlberg, propagating the 5th-order solution
``cash_karp``           5 (4)        Cash--Karp
``dopri5``              5 (4)        Dormand--Prince (FSAL)
======================  ===========  ===========================================================
"""
from __future__ import annotations

from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._errors import BraindynError, check_positive
from .base import tree_axpy
from .rk import ExplicitRK
from .tableau import ButcherTableau

__all__ = ["EmbeddedRK", "EMBEDDED_TABLEAUX", "AdaptiveSolution", "solve_adaptive", "MaxStepsReached"]

EMBEDDED_TABLEAUX = {
    "heun_euler": ButcherTableau(
        [[], [1]], ["1/2", "1/2"], [0, 1], order=2, b_err=[1, 0], err_order=1, name="heun_euler"
    ),
    "bs32": ButcherTableau(
        [[], ["1/2"], [0, "3/4"], ["2/9", "1/3", "4/9"]],
        ["2/9", "1/3", "4/9", 0],
        [0, "1/2", "3/4", 1],
        order=3,
        b_err=["7/24", "1/4", "1/3", "1/8"],
        err_order=2,
        name="bs32",
    ),
    "rkf45": ButcherTableau(
        [
            [],
            ["1/4"],
            ["3/32", "9/32"],
            ["1932/2197", "-7200/2197", "7296/2197"],
            ["439/216", -8, "3680/513", "-845/4104"],
            ["-8/27", 2, "-3544/2565", "1859/4104", "-11/40"],
        ],
        ["16/135", 0, "6656/12825", "28561/56430", "-9/50", "2/55"],
        [0, "1/4", "3/8", "12/13", 1, "1/2"],
        order=5,
        b_err=["25/216", 0, "1408/2565", "2197/4104", "-1/5", 0],
        err_order=4,
        name="rkf45",
    ),
    "cash_karp": ButcherTableau(
        [
            [],
            ["1/5"],
            ["3/40", "9/40"],
            ["3/10", "-9/10", "6/5"],
            ["-11/54", "5/2", "-70/27", "35/27"],
            ["1631/55296", "175/512", "575/13824", "44275/110592", "253/4096"],
        ],
        ["37/378", 0, "250/621", "125/594", 0, "512/1771"],
        [0, "1/5", "3/10", "3/5", 1, "7/8"],
        order=5,
        b_err=["2825/27648", 0, "18575/48384", "13525/55296", "277/14336", "1/4"],
        err_order=4,
        name="cash_karp",
    ),
    "dopri5": ButcherTableau(
        [
            [],
            ["1/5"],
            ["3/40", "9/40"],
            ["44/45", "-56/15", "32/9"],
            ["19372/6561", "-25360/2187", "64448/6561", "-212/729"],
            ["9017/3168", "-355/33", "46732/5247", "49/176", "-5103/18656"],
            ["35/384", 0, "500/1113", "125/192", "-2187/6784", "11/84"],
        ],
        ["35/384", 0, "500/1113", "125/192", "-2187/6784", "11/84", 0],
        [0, "1/5", "3/10", "4/5", "8/9", 1, 1],
        order=5,
        b_err=["5179/57600", 0, "7571/16695", "393/640", "-92097/339200", "187/2100", "1/40"],
        err_order=4,
        name="dopri5",
    ),
}


class EmbeddedRK(ExplicitRK):
    """Explicit Runge--Kutta pair with an embedded error estimate.

    .. math::
        y_{n+1} = y_n + \\Delta t \\sum_i b_i k_i, \\qquad
        e_{n+1} = \\Delta t \\sum_i (b_i - \\hat b_i) k_i = O(\\Delta t^{\\hat p + 1})

    As a fixed-step :class:`Solver` it takes the order-``order`` step (stages whose weight
    ``b_i`` is zero and that no later used stage needs are skipped, e.g. the FSAL stage of
    ``dopri5``). :meth:`step_with_error` also returns :math:`e_{n+1}`.

    Parameters
    ----------
    tableau : ButcherTableau
        A tableau with ``b_err`` and ``err_order`` (see :data:`EMBEDDED_TABLEAUX`).

    Example
    -------
    >>> import jax.numpy as jnp
    >>> from braindyn.integrators import get
    >>> dp = get("dopri5")
    >>> (dp.order, dp.err_order)
    (5, 4)
    >>> y, err = dp.step_with_error(lambda t, y, a: -y, 0.0, jnp.array(1.0), 0.1, None)
    >>> bool(abs(y - jnp.exp(-0.1)) < 1e-8) and bool(abs(err) < 1e-6)
    True
    """

    def __init__(self, tableau: ButcherTableau):
        if tableau.b_err is None:
            raise BraindynError(
                f"EmbeddedRK: tableau {tableau.name!r} has no embedded weights. "
                f"Fix: build it with b_err=... and err_order=..., or use ExplicitRK for a fixed-step method."
            )
        super().__init__(tableau)

    @property
    def err_order(self) -> int:
        """Order :math:`\\hat p` of the embedded (error-estimating) solution."""
        return self.tableau.err_order

    def step(self, f, t, y, dt, args, solver_state=None):
        tab = self.tableau
        nz = np.nonzero(tab.b)[0]
        n_used = int(nz[-1]) + 1 if len(nz) else 1
        ks = []
        for i in range(n_used):
            yi = tree_axpy(y, dt, list(zip(tab.A[i, :i].tolist(), ks)))
            ks.append(f(t + tab.c[i] * dt, yi, args))
        return tree_axpy(y, dt, list(zip(tab.b[:n_used].tolist(), ks))), solver_state

    def step_with_error(self, f, t, y, dt, args):
        """One step of the pair: returns ``(y_next, error_estimate)`` (same structure as ``y``)."""
        ks = self.stages(f, t, y, dt, args)
        tab = self.tableau
        y_new = tree_axpy(y, dt, list(zip(tab.b.tolist(), ks)))
        zero = jax.tree.map(jnp.zeros_like, y)
        err = tree_axpy(zero, dt, list(zip((tab.b - tab.b_err).tolist(), ks)))
        return y_new, err


class AdaptiveSolution(NamedTuple):
    """Result of :func:`solve_adaptive`.

    Attributes
    ----------
    t : array
        Time reached (``t1`` on success).
    y : PyTree
        Solution at ``t``.
    ts, ys : array, PyTree or None
        The requested ``saveat`` times and the solution there (leading axis = time), or None.
    n_accepted, n_rejected : int arrays
        Numbers of accepted and rejected steps.
    status : int array
        0 = reached ``t1``; 1 = stopped after ``max_steps`` steps.
    """

    t: Any
    y: Any
    ts: Any
    ys: Any
    n_accepted: Any
    n_rejected: Any
    status: Any


class MaxStepsReached(RuntimeError):
    """:func:`solve_adaptive` stopped after ``max_steps`` steps before reaching ``t1``."""


def _rms_norm(err, y, y_new, rtol, atol):
    def leaf(e, a, b):
        scale = atol + rtol * jnp.maximum(jnp.abs(a), jnp.abs(b))
        return jnp.sum((e / scale) ** 2), e.size

    parts = [leaf(e, a, b) for e, a, b in zip(jax.tree.leaves(err), jax.tree.leaves(y), jax.tree.leaves(y_new))]
    total = sum(p[0] for p in parts)
    n = sum(p[1] for p in parts)
    return jnp.sqrt(total / max(n, 1))


def _initial_dt(solver, f, t0, y0, args, rtol, atol, f0):
    """Hairer--Norsett--Wanner starting step: a step whose Euler error is about the tolerance."""
    scale = jax.tree.map(lambda y: atol + rtol * jnp.abs(y), y0)

    def norm(tree):
        sq = [jnp.sum((a / s) ** 2) for a, s in zip(jax.tree.leaves(tree), jax.tree.leaves(scale))]
        n = sum(a.size for a in jax.tree.leaves(tree))
        return jnp.sqrt(sum(sq) / max(n, 1))

    d0, d1 = norm(y0), norm(f0)
    h0 = jnp.where((d0 < 1e-5) | (d1 < 1e-5), 1e-6, 0.01 * d0 / jnp.maximum(d1, 1e-300))
    y1 = tree_axpy(y0, h0, [(1.0, f0)])
    f1 = f(t0 + h0, y1, args)
    d2 = norm(jax.tree.map(lambda a, b: a - b, f1, f0)) / h0
    dmax = jnp.maximum(d1, d2)
    h1 = jnp.where(
        dmax <= 1e-15, jnp.maximum(1e-6, h0 * 1e-3), (0.01 / jnp.maximum(dmax, 1e-300)) ** (1.0 / (solver.order + 1))
    )
    return jnp.minimum(100 * h0, h1)


def _hermite(ts, ta, tb, ya, yb, fa, fb):
    """Cubic Hermite interpolant on ``[ta, tb]`` evaluated at ``ts`` (leading axis of the result)."""
    h = tb - ta
    th = (ts - ta) / jnp.where(h == 0, 1.0, h)

    def leaf(a, b, da, db):
        s = th.reshape(th.shape + (1,) * jnp.ndim(a))
        h00 = (1 + 2 * s) * (1 - s) ** 2
        h10 = s * (1 - s) ** 2
        h01 = s * s * (3 - 2 * s)
        h11 = s * s * (s - 1)
        return h00 * a + h10 * h * da + h01 * b + h11 * h * db

    return jax.tree.map(leaf, ya, yb, fa, fb)


@eqx.filter_jit
def _solve(solver, f, y0, t0, t1, args, rtol, atol, dt0, saveat, max_steps, controller, safety, factor_min, factor_max):
    """The compiled core of :func:`solve_adaptive` (one compilation per solver, field and shapes)."""
    dtype = jnp.result_type(*jax.tree.leaves(y0), float)
    q = solver.err_order
    f0 = f(t0, y0, args)
    if dt0 is None:
        dt = _initial_dt(solver, f, t0, y0, args, rtol, atol, f0)
    else:
        dt = jnp.asarray(dt0, dtype)
    dt = jnp.minimum(dt, t1 - t0)

    if saveat is not None:
        ts_save = saveat
        ys_save = jax.tree.map(lambda a: jnp.zeros(ts_save.shape + a.shape, a.dtype), y0)
        at0 = ts_save <= t0
        ys_save = jax.tree.map(
            lambda buf, a: jnp.where(at0.reshape(at0.shape + (1,) * a.ndim), a, buf), ys_save, y0
        )
    else:
        ts_save, ys_save = None, None

    # carry: t, y, f(t, y), dt, previous error norm, n_acc, n_rej, saved values
    init = (t0, y0, f0, dt, jnp.asarray(1.0, dtype), jnp.asarray(0), jnp.asarray(0), ys_save)

    def cond(c):
        t, _, _, _, _, na, nr, _ = c
        return (t < t1) & (na + nr < max_steps)

    def body(c):
        t, y, fy, h, prev, na, nr, ys_s = c
        last = t + h >= t1
        h = jnp.where(last, t1 - t, h)
        y_new, err = solver.step_with_error(f, t, y, h, args)
        norm = _rms_norm(err, y, y_new, rtol, atol)
        finite = jnp.isfinite(norm)
        accept = finite & (norm <= 1.0)
        safe_norm = jnp.where(finite, jnp.maximum(norm, 1e-10), 1e10)
        fac_i = safety * safe_norm ** (-1.0 / (q + 1))
        if controller == "pi":
            fac_acc = safety * safe_norm ** (-0.7 / (q + 1)) * prev ** (0.4 / (q + 1))
        else:
            fac_acc = fac_i
        fac = jnp.where(accept, fac_acc, jnp.minimum(fac_i, 1.0))
        fac = jnp.clip(fac, factor_min, factor_max)
        t_new = jnp.where(last, t1, t + h)
        if ys_s is not None:
            f_new = f(t_new, y_new, args)
            inside = accept & (ts_save > t) & (ts_save <= t_new)
            interp = _hermite(ts_save, t, t_new, y, y_new, fy, f_new)
            ys_s = jax.tree.map(
                lambda buf, v: jnp.where(inside.reshape(inside.shape + (1,) * (v.ndim - 1)), v, buf), ys_s, interp
            )
        else:
            f_new = fy
        sel = lambda a, b: jax.tree.map(lambda u, v: jnp.where(accept, u, v), a, b)  # noqa: E731
        return (
            jnp.where(accept, t_new, t),
            sel(y_new, y),
            sel(f_new, fy),
            h * fac,
            jnp.where(accept, safe_norm, prev),
            na + accept.astype(na.dtype),
            nr + (~accept).astype(nr.dtype),
            ys_s,
        )

    t, y, _, _, _, na, nr, ys_save = jax.lax.while_loop(cond, body, init)
    return t, y, ts_save, ys_save, na, nr


def solve_adaptive(
    solver,
    f,
    y0,
    t0,
    t1,
    args=None,
    rtol=1e-6,
    atol=1e-9,
    dt0=None,
    max_steps: int = 100000,
    saveat=None,
    *,
    controller: str = "pi",
    safety: float = 0.9,
    factor_min: float = 0.2,
    factor_max: float = 10.0,
) -> AdaptiveSolution:
    """Integrate ``dy/dt = f(t, y, args)`` from ``t0`` to ``t1`` with error-controlled steps.

    One ``jax.lax.while_loop``, so the whole solve can be jitted. Each trial step of size
    :math:`h` gives :math:`y_{n+1}` and the error estimate :math:`e` of the pair; its size is

    .. math::
        \\|e\\| = \\sqrt{\\frac{1}{N}\\sum_{i=1}^{N}
        \\Big(\\frac{e_i}{\\mathrm{atol} + \\mathrm{rtol}\\,\\max(|y_{n,i}|, |y_{n+1,i}|)}\\Big)^2}

    The step is accepted when :math:`\\|e\\| \\le 1`. The next step is
    :math:`h \\cdot \\mathrm{clip}(\\mathrm{fac}, f_{\\min}, f_{\\max})` with, for the ``"i"``
    controller, :math:`\\mathrm{fac} = s\\,\\|e_n\\|^{-1/(q+1)}`, and for the ``"pi"``
    (Gustafsson) controller :math:`\\mathrm{fac} = s\\,\\|e_n\\|^{-0.7/(q+1)}\\,
    \\|e_{n-1}\\|^{0.4/(q+1)}` after an accepted step (plain ``"i"`` after a rejection, never
    growing), where :math:`q` is the embedded order and :math:`s` the safety factor.

    Parameters
    ----------
    solver : EmbeddedRK or str
        An embedded pair, e.g. ``get("dopri5")`` or the name ``"dopri5"``.
    f : callable
        Vector field ``f(t, y, args)``; ``y`` may be any PyTree.
    y0 : PyTree
        Initial value at ``t0``.
    t0, t1 : float
        Start and end time (``t1 > t0``), in the time unit of ``f`` (ms for braindyn models).
    rtol, atol : float
        Relative and absolute tolerances (> 0).
    dt0 : float, optional
        First trial step; by default chosen by the Hairer--Norsett--Wanner heuristic.
    max_steps : int
        Maximum number of trial steps (accepted + rejected).
    saveat : array-like, optional
        Times in ``[t0, t1]`` at which to return the solution (cubic Hermite dense output from
        the values and derivatives at the ends of each accepted step, third-order accurate).
    controller : {"pi", "i"}
        Step-size controller.
    safety, factor_min, factor_max : float
        Safety factor and bounds on the step-size change per step.

    Returns
    -------
    AdaptiveSolution
        ``(t, y, ts, ys, n_accepted, n_rejected, status)``. Called eagerly, a run that hits
        ``max_steps`` raises :class:`MaxStepsReached`; under ``jit`` check ``status`` (1).

    Example
    -------
    >>> import jax.numpy as jnp
    >>> from braindyn.integrators import get, solve_adaptive
    >>> sol = solve_adaptive(get("dopri5"), lambda t, y, a: -y, jnp.array(1.0), 0.0, 2.0,
    ...                      rtol=1e-8, atol=1e-10, saveat=jnp.array([0.5, 1.0]))
    >>> bool(abs(sol.y - jnp.exp(-2.0)) < 1e-7), sol.ys.shape
    (True, (2,))
    """
    from . import get

    solver = get(solver)
    if not isinstance(solver, EmbeddedRK):
        raise BraindynError(
            f"solve_adaptive: parameter 'solver' must be an embedded Runge--Kutta pair, got {solver.name!r}. "
            f"Fix: use one of {sorted(EMBEDDED_TABLEAUX)} (e.g. solver='dopri5')."
        )
    check_positive("rtol", rtol, "solve_adaptive")
    check_positive("atol", atol, "solve_adaptive")
    if dt0 is not None:
        check_positive("dt0", dt0, "solve_adaptive")
    if not isinstance(max_steps, (int, np.integer)) or max_steps <= 0:
        raise BraindynError(f"parameter 'max_steps' of solve_adaptive must be a positive int, got {max_steps!r}.")
    if controller not in ("pi", "i"):
        from .._errors import check_choice

        check_choice("controller", controller, ["pi", "i"], "solve_adaptive")
    try:
        span = float(t1) - float(t0)
    except (TypeError, jax.errors.ConcretizationTypeError):
        span = None
    if span is not None and not span > 0:
        raise BraindynError(
            f"solve_adaptive: need t1 > t0, got t0={float(t0)!r}, t1={float(t1)!r}. Fix: swap or extend the interval."
        )

    y0 = jax.tree.map(jnp.asarray, y0)
    dtype = jnp.result_type(*jax.tree.leaves(y0), float)
    cast = lambda v: None if v is None else jnp.asarray(v, dtype)  # noqa: E731
    t, y, ts_save, ys_save, na, nr = _solve(
        solver, f, y0, cast(t0), cast(t1), args, cast(rtol), cast(atol), cast(dt0),
        None if saveat is None else jnp.asarray(saveat, dtype).reshape(-1),
        int(max_steps), controller, float(safety), float(factor_min), float(factor_max),
    )
    t1 = jnp.asarray(t1, dtype)
    status = (t < t1).astype(jnp.int32)
    if not isinstance(status, jax.core.Tracer) and int(status) != 0:
        raise MaxStepsReached(
            f"solve_adaptive stopped at t={float(t):.6g} before t1={float(t1):.6g}: max_steps={max_steps} steps "
            f"({int(na)} accepted, {int(nr)} rejected) were not enough. Fix: raise max_steps, loosen rtol/atol, "
            f"or check the system for stiffness or a blow-up (an explicit pair needs tiny steps on stiff problems)."
        )
    return AdaptiveSolution(t, y, ts_save, ys_save, na, nr, status)
