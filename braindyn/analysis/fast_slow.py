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
    in the slow variable ``slow``, the full ``trajectory`` (variables of the full field) and the
    fast subsystem itself, ``fast_field`` (a VectorField with ``slow`` as a parameter: pass it to
    :func:`~braindyn.analysis.cycle_at` to reuse the compiled kernels)."""

    slow: str
    fast: tuple
    branches: list
    cycles: list
    trajectory: Trajectory
    fast_field: object = None


@x64
def fast_slow(vf, slow: str, slow_range, x0, p: dict | None = None, *, fast_bounds=None, t_max: float = 1000.0,
              t_transient: float = 0.0, n_save: int = 20001, cycles: bool = True, cycle_kw: dict | None = None,
              ds=None, rtol: float = 1e-6, atol: float = 1e-8, spiking_cycle: bool = True,
              **model_kw) -> FastSlow:
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
    spiking_cycle : bool
        Also continue the cycle family of the fast subsystem through the orbit's highest spike
        (Newton from that spike at its slow value): the spiking branch of a burster is often not
        connected to any Hopf point (it ends at a fold of cycles or a homoclinic orbit).
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
    if cycles:  # families born at the Hopf points of the fast subsystem
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
    if cycles and spiking_cycle:
        lc = _spiking_cycle(vf, fastvf, slow, pp, tr.ts[keep], tr.xs[keep], cycle_kw or {})
        if lc is not None:
            try:
                cyc.append(continue_cycles(fastvf, lc, {**pp, slow: lc.params[slow]}, param=slow, p_range=(lo, hi),
                                           **(cycle_kw or {})))
            except BraindynError:
                pass
    return FastSlow(slow, fastvf.variables, branches, cyc, Trajectory(tr.ts[keep], tr.xs[keep], vf.variables),
                    fastvf)


def _spiking_cycle(vf, fastvf, slow, pp, ts, xs, cycle_kw):
    """A cycle of the fast subsystem at the slow value where the orbit's first fast variable peaks.

    During a burst the slow variable hardly moves, so the orbit's spike there is a good guess of
    the fast subsystem's cycle: its state at the peak and the interval to the next peak go to
    Newton (multiple shooting) at that slow value -- no further simulation.
    """
    from .cycles import _solve_cycle

    if len(xs) < 3 or not np.all(np.isfinite(xs)):
        return None
    i_s = vf.index(slow)
    i_f = [k for k in range(vf.n) if k != i_s]
    v = xs[:, i_f[0]]
    peaks = np.where((v[1:-1] > v[:-2]) & (v[1:-1] >= v[2:]))[0] + 1
    if len(peaks) < 2:
        return None
    j = int(np.argmax(v[peaks]))
    k = peaks[j]
    nxt = peaks[j + 1] if j + 1 < len(peaks) else peaks[j - 1]
    period = abs(float(ts[nxt] - ts[k]))
    z0 = float(xs[k, i_s])
    try:
        return _solve_cycle(fastvf, xs[k, i_f], period, {**fastvf.p(pp), slow: z0}, slow,
                            int(cycle_kw.get("n_mesh", 1000)), int(cycle_kw.get("n_seg", 8)))
    except BraindynError:
        return None


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
