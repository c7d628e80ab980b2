"""Phase portraits: draw the data of :func:`braindyn.analysis.phase_plane` / :func:`phase_line`."""
from __future__ import annotations

import numpy as np

from .basic import new_axes

__all__ = ["phase_portrait", "phase_line_plot", "fixed_point_style"]

_STYLE = {
    "stable node": dict(marker="o", mfc="k", mec="k"),
    "stable focus": dict(marker="o", mfc="k", mec="k"),
    "unstable node": dict(marker="o", mfc="w", mec="k"),
    "unstable focus": dict(marker="o", mfc="w", mec="k"),
    "saddle": dict(marker="X", mfc="C3", mec="k"),
    "saddle-focus": dict(marker="X", mfc="C3", mec="k"),
    "centre": dict(marker="s", mfc="0.6", mec="k"),
    "non-hyperbolic": dict(marker="D", mfc="C1", mec="k"),
}


def fixed_point_style(label: str) -> dict:
    """Marker style of a fixed point: filled = stable, open = unstable, cross = saddle."""
    return dict(_STYLE.get(label, dict(marker="o", mfc="0.5", mec="k")), ms=8, ls="none", zorder=5)


def phase_line_plot(pl, ax=None, *, xlabel=None, ylabel=None, title=None):
    """Plot :math:`\\dot x` against :math:`x` with the fixed points and flow arrows.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> from braindyn.analysis import vector_field, phase_line
    >>> fig, ax = phase_line_plot(phase_line(vector_field(lambda x, p: -x, 1), (-1, 1)))
    """
    fig, ax = new_axes(ax, figsize=(6, 3.5))
    ax.plot(pl.x, pl.dxdt, color="C0", lw=1.5)
    ax.axhline(0, color="0.5", lw=0.8)
    seen = set()
    for fp in pl.fixed_points:
        st = fixed_point_style(fp.stability)
        lab = fp.stability if fp.stability not in seen else None
        seen.add(fp.stability)
        ax.plot([fp.coords[0]], [0.0], label=lab, **st)
    # arrows on the axis: direction of flow
    idx = np.linspace(0, len(pl.x) - 1, 15).astype(int)[1:-1]
    for i in idx:
        d = np.sign(pl.dxdt[i])
        if d:
            ax.annotate("", xy=(pl.x[i] + d * 0.02 * (pl.x[-1] - pl.x[0]), 0), xytext=(pl.x[i], 0),
                        arrowprops=dict(arrowstyle="->", color="C2", lw=1.2))
    ax.set_xlabel(xlabel or pl.variable)
    ax.set_ylabel(ylabel or f"d{pl.variable}/dt")
    if title:
        ax.set_title(title)
    if seen:
        ax.legend(frameon=False, fontsize=8)
    return fig, ax


def phase_portrait(pp, ax=None, *, stream: bool = True, title=None, xlabel=None, ylabel=None, extra_trajectories=None):
    """Draw a :class:`~braindyn.analysis.PhasePlane`: vector field, nullclines, fixed points,
    trajectories and the limit cycle.

    ``extra_trajectories``: optional list of ``(xs, ys, label)`` to overlay (e.g. a spiking run
    with resets).
    """
    fig, ax = new_axes(ax, figsize=(6, 5))
    vx, vy = pp.variables
    if stream:
        # uniform light grey: speeds span decades near a spike upswing, and a speed colour map
        # then paints that corner black
        ax.streamplot(pp.x, pp.y, pp.U, pp.V, color="0.7", density=1.0, linewidth=0.6, arrowsize=0.8)
    else:
        ax.quiver(pp.x, pp.y, pp.U, pp.V, color="0.6", angles="xy")
    colors = {vx: "C0", vy: "C1"}
    for name, curves in pp.nullclines.items():
        for k, c in enumerate(curves):
            ax.plot(c[:, 0], c[:, 1], color=colors.get(name, "C4"), lw=2,
                    label=f"d{name}/dt = 0" if k == 0 else None)
    for k, tr in enumerate(pp.trajectories):
        ax.plot(tr.xs[:, 0], tr.xs[:, 1], color="C2", lw=1.2, label="trajectory" if k == 0 else None)
        ax.plot(tr.xs[0, 0], tr.xs[0, 1], ".", color="C2", ms=8)
    for xs, ys, lab in extra_trajectories or []:
        ax.plot(xs, ys, color="C2", lw=1.0, label=lab)
    if pp.limit_cycle is not None:
        lc = pp.limit_cycle
        ax.plot(lc.xs[:, 0], lc.xs[:, 1], color="C3", lw=2.2,
                label=f"{'stable' if lc.stable else 'unstable'} limit cycle (T = {lc.period:.4g})")
    seen = set()
    for fp in pp.fixed_points:
        lab = fp.stability if fp.stability not in seen else None
        seen.add(fp.stability)
        ax.plot([fp.coords[0]], [fp.coords[1]], label=lab, **fixed_point_style(fp.stability))
    ax.set_xlim(pp.x[0], pp.x[-1])
    ax.set_ylim(pp.y[0], pp.y[-1])
    ax.set_xlabel(xlabel or vx)
    ax.set_ylabel(ylabel or vy)
    if title:
        ax.set_title(title)
    ax.legend(frameon=False, fontsize=8, loc="best")
    return fig, ax
