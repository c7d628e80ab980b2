"""Phase lines (1-D) and phase planes (2-D) as data: field, nullclines, fixed points, orbits.

Nullclines are the zero sets :math:`\\{F_i(x, y) = 0\\}`. They are extracted as curves by
marching squares on a fine grid (:mod:`contourpy`, which ships with matplotlib; nothing is
drawn) and each vertex is then projected onto the exact zero set by a few Newton steps along
:math:`\\nabla F_i` (Gauss--Newton for one equation in two unknowns). This is correct for
horizontal and vertical branches (where solving :math:`y(x)` breaks) and for several branches.
Segments that straddle a pole of :math:`F_i` (a sign change through infinity) are dropped.

Example
-------
>>> import jax.numpy as jnp
>>> from braindyn.analysis import vector_field, phase_plane
>>> vf = vector_field(lambda x, p: jnp.array([x[1], -x[0] - 0.5 * x[1]]), ["x", "y"])
>>> pp = phase_plane(vf, (-1, 1), (-1, 1), resolution=41)
>>> [fp.stability for fp in pp.fixed_points], len(pp.nullclines["x"])
(['stable focus'], 1)
"""
from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import BraindynError
from .fixed_points import find_fixed_points
from .vector_field import as_vector_field, batched, compiled, simulate, x64

__all__ = ["PhaseLine", "PhasePlane", "phase_line", "phase_plane", "nullclines"]


@dataclass
class PhaseLine:
    """A 1-D phase line: ``x`` grid, ``dxdt`` on it, and the fixed points."""

    variable: str
    x: np.ndarray
    dxdt: np.ndarray
    fixed_points: list
    params: dict = field(default_factory=dict)


@dataclass
class PhasePlane:
    """A 2-D phase plane.

    Attributes
    ----------
    variables : (str, str)
    x, y : ndarray
        Grid axes; ``U``, ``V`` the field components on the grid, shape ``(len(y), len(x))``.
    nullclines : dict
        ``{variable: [curve, ...]}``, each curve an array ``(k, 2)`` of points where
        :math:`\\dot{variable} = 0`.
    fixed_points : list of FixedPoint
    trajectories : list of Trajectory
    limit_cycle : LimitCycle or None
    """

    variables: tuple
    x: np.ndarray
    y: np.ndarray
    U: np.ndarray
    V: np.ndarray
    nullclines: dict
    fixed_points: list
    trajectories: list = field(default_factory=list)
    limit_cycle: object = None
    params: dict = field(default_factory=dict)


@x64
def phase_line(vf, x_range, p: dict | None = None, *, resolution: int = 1001, **model_kw) -> PhaseLine:
    """Phase line of a 1-D field: :math:`\\dot x` on a grid and the fixed points with stability.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> import numpy as np
    >>> from braindyn.analysis import vector_field
    >>> vf = vector_field(lambda x, p: jnp.array([x[0] * (1 - x[0])]), ["x"])
    >>> fps = phase_line(vf, (-1, 2)).fixed_points
    >>> [f.stability for f in fps], bool(np.allclose([f.coords[0] for f in fps], [0.0, 1.0], atol=1e-9))
    (['unstable node', 'stable node'], True)
    """
    vf = as_vector_field(vf, **model_kw)
    if vf.n != 1:
        raise BraindynError(f"phase_line needs a 1-D field, this one has variables {list(vf.variables)}. "
                            f"Fix: from_model(model, variables=['V']) or phase_plane for 2-D.")
    lo, hi = _range("x_range", x_range)
    pp = vf.p(p)
    x = np.linspace(lo, hi, int(resolution))
    pj = {k: jnp.asarray(v, float) for k, v in pp.items()}
    dx = batched(compiled(vf)["batch_f"], x[:, None], pj)[:, 0]
    # starting guesses: the grid sign changes, plus a coarse grid
    sc = np.where(np.sign(dx[:-1]) != np.sign(dx[1:]))[0]
    guesses = np.concatenate([x[sc], x[::max(1, len(x) // 50)]])[:, None]
    fps = find_fixed_points(vf, pp, bounds=[(lo, hi)], guesses=guesses, n_guesses=16)
    return PhaseLine(vf.variables[0], x, dx, fps, dict(pp))


def _range(name, r):
    try:
        lo, hi = float(r[0]), float(r[1])
    except (TypeError, IndexError, ValueError):
        raise BraindynError(f"{name} must be a pair (low, high), got {r!r}.") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise BraindynError(f"{name} must satisfy low < high (finite), got {r!r}.")
    return lo, hi


def _zero_curves(x, y, Z):
    import contourpy

    Zm = np.where(np.isfinite(Z), Z, np.nan)
    gen = contourpy.contour_generator(x, y, Zm, name="serial", line_type="Separate")
    return [np.asarray(c) for c in gen.lines(0.0) if len(c) >= 2]


@x64
def nullclines(vf, x_range, y_range, p: dict | None = None, *, resolution: int = 301, refine: bool = True,
               **model_kw) -> dict:
    """Nullclines of a 2-D field as curves: ``{variable: [array (k, 2), ...]}``.

    Parameters
    ----------
    resolution : int
        Grid points per axis for the marching-squares pass.
    refine : bool
        Project every vertex onto :math:`F_i = 0` by Newton steps along :math:`\\nabla F_i`.
    """
    vf = as_vector_field(vf, **model_kw)
    if vf.n != 2:
        raise BraindynError(f"nullclines needs a 2-D field, got variables {list(vf.variables)}.")
    x0, x1 = _range("x_range", x_range)
    y0, y1 = _range("y_range", y_range)
    pp = vf.p(p)
    pj = {k: jnp.asarray(v, float) for k, v in pp.items()}
    x = np.linspace(x0, x1, int(resolution))
    y = np.linspace(y0, y1, int(resolution))
    X, Y = np.meshgrid(x, y)
    pts = np.stack([X.ravel(), Y.ravel()], 1)
    F = batched(compiled(vf)["batch_f"], pts, pj).reshape(len(y), len(x), 2)
    return _nullclines_from_grid(vf, x, y, F, pj, refine)


def _project(vf, Z, pj, i, lim, n_iter=6):
    """Gauss--Newton projection of the points ``Z`` onto :math:`F_i = 0`:
    :math:`z \\leftarrow z - F_i \\nabla F_i / |\\nabla F_i|^2`, each step clipped to one grid cell
    ``lim`` (points stay on their branch). :math:`F` and :math:`F_x` come from the field's compiled
    batch kernel; the update runs in NumPy (nothing new to compile)."""
    bfj = compiled(vf)["batch_fj"]
    Z = np.array(Z, float)
    for _ in range(n_iter):
        F, J = batched(bfj, Z, pj)
        g, gr = F[:, i], J[:, i, :]
        step = g[:, None] * gr / np.maximum(np.sum(gr * gr, axis=1), 1e-300)[:, None]
        step = np.clip(step, -lim, lim)
        ok = np.all(np.isfinite(step), axis=1)
        Z[ok] -= step[ok]
    return Z


def _nullclines_from_grid(vf, x, y, F, pj, refine):
    out = {}
    lim = np.array([x[1] - x[0], y[1] - y[0]])
    bf = compiled(vf)["batch_f"]
    for i, name in enumerate(vf.variables):
        curves = _zero_curves(x, y, F[..., i])
        if not curves:
            out[name] = []
            continue
        big = np.nanmedian(np.abs(F[..., i])) + 1e-300
        sizes = np.cumsum([len(c) for c in curves])[:-1]
        allc = np.concatenate(curves)
        if refine:
            allc = _project(vf, allc, pj, i, lim)
        # drop pieces across poles: |F| at segment midpoints far above the field's scale
        fall = np.abs(batched(bf, 0.5 * (allc[1:] + allc[:-1]), pj)[:, i])
        cleaned = []
        for c, start_c in zip(np.split(allc, sizes), np.concatenate([[0], sizes])):
            fm = fall[start_c:start_c + len(c) - 1]
            bad = ~np.isfinite(fm) | (fm > 1e3 * big)
            start = 0
            for k in np.where(bad)[0]:
                if k + 1 - start >= 2:
                    cleaned.append(c[start:k + 1])
                start = k + 1
            if len(c) - start >= 2:
                cleaned.append(c[start:])
        out[name] = cleaned
    return out


@x64
def phase_plane(vf, x_range, y_range, p: dict | None = None, *, resolution: int = 301, field_resolution: int = 25,
                starts=None, t_max: float = 100.0, n_save: int = 2001, limit_cycle: bool | list = False,
                limit_cycle_kw: dict | None = None, n_guesses: int = 400, **model_kw) -> PhasePlane:
    """Everything of a 2-D phase portrait, as data.

    Parameters
    ----------
    vf : VectorField or ODEModel
        A 2-D field (for a model, choose two variables: ``variables=["V", "w"]``).
    x_range, y_range : (low, high)
        The window (first and second variable).
    p : dict, optional
        Parameter values.
    resolution : int
        Grid per axis for the nullclines.
    field_resolution : int
        Grid per axis of the returned vector field ``U, V``.
    starts : array (m, 2), optional
        Initial points of trajectories, integrated for ``t_max`` (adaptive Dormand--Prince).
    limit_cycle : bool or array (2,)
        Look for a limit cycle: True starts from each trajectory end (or the window centre), an
        array from that point (see :func:`~braindyn.analysis.find_limit_cycle`).
    n_guesses : int
        Newton starts for the fixed points (grid + random in the window).

    Returns
    -------
    PhasePlane
    """
    vf = as_vector_field(vf, **model_kw)
    if vf.n != 2:
        raise BraindynError(f"phase_plane needs a 2-D field; this one has variables {list(vf.variables)}. "
                            f"Fix: from_model(model, variables=[two names], fixed={{...}}) or phase_line for 1-D.")
    x0, x1 = _range("x_range", x_range)
    y0, y1 = _range("y_range", y_range)
    pp = vf.p(p)
    pj = {k: jnp.asarray(v, float) for k, v in pp.items()}
    ncl = nullclines(vf, (x0, x1), (y0, y1), pp, resolution=resolution)
    # crossings of the two nullclines (grid) seed the fixed-point search
    xg = np.linspace(x0, x1, int(field_resolution))
    yg = np.linspace(y0, y1, int(field_resolution))
    X, Y = np.meshgrid(xg, yg)
    F = batched(compiled(vf)["batch_f"], np.stack([X.ravel(), Y.ravel()], 1), pj)
    U, V = F[:, 0].reshape(X.shape), F[:, 1].reshape(X.shape)
    seeds = [c for cs in ncl.values() for c in cs]
    seeds = np.concatenate(seeds)[:: max(1, sum(len(c) for c in seeds) // 400)] if seeds else None
    fps = find_fixed_points(vf, pp, bounds=[(x0, x1), (y0, y1)], guesses=seeds, n_guesses=n_guesses)
    trajs = []
    if starts is not None:
        s = np.atleast_2d(np.asarray(starts, float))
        if s.shape[1] != 2:
            raise BraindynError(f"phase_plane: starts must have shape (m, 2), got {s.shape}.")
        tr = simulate(vf, s, t_max, pp, n_save=n_save)
        from .vector_field import Trajectory

        trajs = [Trajectory(tr.ts, tr.xs[k], vf.variables) for k in range(len(s))]
    lc = None
    if limit_cycle is not False and limit_cycle is not None:
        from .cycles import find_limit_cycle

        if limit_cycle is True:
            cands = [t.xs[-1] for t in trajs] or [np.array([(x0 + x1) / 2, (y0 + y1) / 2])]
        else:
            cands = [np.asarray(limit_cycle, float)]
        for c in cands:
            lc = find_limit_cycle(vf, c, pp, **(limit_cycle_kw or {}))
            if lc is not None:
                break
    return PhasePlane(vf.variables, xg, yg, U, V, ncl, fps, trajs, lc, dict(pp))
