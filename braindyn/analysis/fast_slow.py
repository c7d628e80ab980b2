"""Fast--slow (dissection) analysis: the fast subsystem's bifurcations with the full orbit over it.

For :math:`\\dot x_f = F_f(x_f, x_s)`, :math:`\\dot x_s = \\varepsilon G(x_f, x_s)` (e.g.
Hindmarsh--Rose bursting: fast :math:`(x, y)`, slow :math:`z`), freeze the slow variable and
treat it as a parameter: the equilibria of the fast subsystem (with their folds and Hopf
points) and its limit cycles (min/max envelope) as functions of :math:`x_s` explain the
bursting; the full trajectory projected on :math:`(x_s, x_f)` moves along them.

Example
-------
>>> # see braindyn.gallery.analysis (entry ``hr-fast-slow``) for the Hindmarsh-Rose case
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._errors import BraindynError
from .continuation import Branch, continue_equilibria
from .cycles import CycleBranch, continue_cycles
from .fixed_points import find_fixed_points
from .vector_field import Trajectory, as_vector_field, simulate, x64

__all__ = ["FastSlow", "fast_slow"]


@dataclass
class FastSlow:
    """Result of :func:`fast_slow`: the fast subsystem's equilibrium ``branches`` and ``cycles``
    in the slow variable ``slow``, and the full ``trajectory`` (variables of the full field)."""

    slow: str
    fast: tuple
    branches: list
    cycles: list
    trajectory: Trajectory


@x64
def fast_slow(vf, slow: str, slow_range, x0, p: dict | None = None, *, fast_bounds=None, t_max: float = 1000.0,
              t_transient: float = 0.0, n_save: int = 20001, cycles: bool = True, cycle_kw: dict | None = None,
              ds=None, rtol: float = 1e-6, atol: float = 1e-8, **model_kw) -> FastSlow:
    """Fast--slow dissection with one slow variable.

    Parameters
    ----------
    vf : VectorField or ODEModel
        The full field.
    slow : str
        The slow variable (becomes the parameter of the fast subsystem).
    slow_range : (low, high)
        Range of the slow variable for the continuation.
    x0 : array (n,)
        Initial state of the full simulation.
    fast_bounds : list of (low, high)
        Search box of the fast variables for the starting equilibria (one per fast variable).
        Every equilibrium found at the middle of ``slow_range`` starts a branch.
    t_max, t_transient : float
        Simulated time; the first ``t_transient`` is dropped from the returned trajectory.
    cycles : bool
        Continue the limit cycles born at the Hopf points of the fast subsystem.
    rtol, atol : float
        Tolerances of the full simulation (drawn over the diagram: display accuracy is enough;
        the branches and cycles are computed to their own, tight tolerances).
    """
    vf = as_vector_field(vf, **model_kw)
    fastvf = vf.slow([slow])
    lo, hi = float(slow_range[0]), float(slow_range[1])
    if not lo < hi:
        raise BraindynError(f"fast_slow: slow_range must be (low, high) with low < high, got {slow_range!r}.")
    if fast_bounds is None:
        raise BraindynError("fast_slow: give fast_bounds=[(low, high), ...] for the fast variables "
                            f"{list(fastvf.variables)}.")
    pp = vf.p(p)
    mid = 0.5 * (lo + hi)
    fps = find_fixed_points(fastvf, {**pp, slow: mid}, bounds=fast_bounds)
    branches: list[Branch] = []
    for fp in fps:
        if any(_on_branch(b, fp.coords, mid) for b in branches):
            continue
        branches.append(continue_equilibria(fastvf, slow, fp.coords, {**pp, slow: mid}, p_range=(lo, hi), ds=ds))
    cyc: list[CycleBranch] = []
    if cycles:
        seen = []
        for b in branches:
            for h in b.hopfs:
                if any(abs(h.value - s) < 1e-6 * (1 + abs(s)) for s in seen):
                    continue
                seen.append(h.value)
                try:
                    cyc.append(continue_cycles(fastvf, h, {**pp, slow: h.value}, p_range=(lo, hi), **(cycle_kw or {})))
                except BraindynError:
                    pass
    tr = simulate(vf, x0, t_max, pp, n_save=n_save, rtol=rtol, atol=atol)
    keep = tr.ts >= t_transient
    return FastSlow(slow, fastvf.variables, branches, cyc, Trajectory(tr.ts[keep], tr.xs[keep], vf.variables))


def _on_branch(b, x, lam):
    """Whether ``(x, lam)`` lies on the polyline of branch ``b`` (within a fraction of a segment)."""
    for k in range(len(b.values) - 1):
        l0, l1 = b.values[k], b.values[k + 1]
        if min(l0, l1) - 1e-12 <= lam <= max(l0, l1) + 1e-12 and l1 != l0:
            w = (lam - l0) / (l1 - l0)
            xi = b.states[k] + w * (b.states[k + 1] - b.states[k])
            seg = np.linalg.norm(b.states[k + 1] - b.states[k]) + abs(l1 - l0)
            if np.linalg.norm(xi - x) <= 0.1 * seg + 1e-9 * (1 + np.linalg.norm(x)):
                return True
    return False
