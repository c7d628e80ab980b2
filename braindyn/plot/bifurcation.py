"""Bifurcation diagrams: equilibrium branches (stable solid, unstable dashed), cycle envelopes,
labelled special points, two-parameter curves and fast--slow diagrams."""
from __future__ import annotations

import numpy as np

from .basic import new_axes

__all__ = ["bifurcation_diagram", "two_parameter_diagram", "fast_slow_diagram", "grid_diagram"]

_LABEL = {"fold": "LP", "hopf": "H", "fold_cycle": "LPC", "branch_point": "BP"}
_COLOR = {"fold": "C2", "hopf": "C4", "fold_cycle": "C5", "branch_point": "C6"}


def _segments(mask):
    """Runs of equal values of a bool array: list of (start, stop_inclusive, value)."""
    out, s = [], 0
    for i in range(1, len(mask) + 1):
        if i == len(mask) or mask[i] != mask[s]:
            out.append((s, min(i, len(mask) - 1), bool(mask[s])))
            s = i
    return out


def bifurcation_diagram(branches, cycles=(), var=0, ax=None, *, title=None, xlabel=None, ylabel=None,
                        label_points: bool = True):
    """Draw equilibrium ``branches`` (list of :class:`~braindyn.analysis.Branch`) and limit-cycle
    branches ``cycles`` (min/max of ``var``), with folds (LP), Hopf points (H) and folds of
    cycles (LPC) labelled.
    """
    fig, ax = new_axes(ax, figsize=(6.5, 4.5))
    branches = [branches] if hasattr(branches, "states") else list(branches)
    cycles = [cycles] if hasattr(cycles, "periods") else list(cycles)
    first = branches[0] if branches else cycles[0]
    i = var if isinstance(var, int) else list(first.variables).index(var)
    done = set()
    for b in branches:
        for s, e, st in _segments(b.stable):
            lab = ("stable" if st else "unstable") + " equilibria"
            ax.plot(b.values[s:e + 1], b.states[s:e + 1, i], "-" if st else "--", color="k" if st else "C3",
                    lw=1.8, label=lab if lab not in done else None)
            done.add(lab)
    for c in cycles:
        for s, e, st in _segments(c.stable):
            lab = ("stable" if st else "unstable") + " cycles (min/max)"
            for arr in (c.x_min, c.x_max):
                ax.plot(c.values[s:e + 1], arr[s:e + 1, i], "-" if st else ":", color="C0" if st else "C1", lw=1.6,
                        label=lab if lab not in done else None)
                done.add(lab)
    if label_points:
        pts = [p for b in branches for p in b.points] + [p for c in cycles for p in c.points]
        shown = []
        for p in pts:
            key = (p.kind, round(p.value, 6))
            if key in shown:
                continue
            shown.append(key)
            ax.plot(p.value, p.coords[i], "o" if p.kind != "fold_cycle" else "s", ms=6,
                    color=_COLOR.get(p.kind, "C7"), zorder=6)
            lab = _LABEL.get(p.kind, p.kind)
            l1 = p.extra.get("l1") if p.kind == "hopf" else None
            if l1 is not None and np.isfinite(l1) and l1 != 0:
                lab += " (sub)" if l1 > 0 else " (super)"
            ax.annotate(f"{lab} {p.value:.4g}", (p.value, p.coords[i]),
                        textcoords="offset points", xytext=(5, 5), fontsize=8)
    ax.set_xlabel(xlabel or first.param)
    ax.set_ylabel(ylabel or first.variables[i])
    if title:
        ax.set_title(title)
    ax.legend(frameon=False, fontsize=8)
    return fig, ax


def grid_diagram(grid, var=0, ax=None, *, title=None):
    """Draw a :class:`~braindyn.analysis.GridDiagram` (quick look): stable dots black, unstable red."""
    fig, ax = new_axes(ax, figsize=(6.5, 4.5))
    i = var if isinstance(var, int) else list(grid.variables).index(var)
    ax.plot(grid.values[grid.stable], grid.states[grid.stable, i], ".", color="k", ms=3, label="stable")
    ax.plot(grid.values[~grid.stable], grid.states[~grid.stable, i], ".", color="C3", ms=3, label="unstable")
    ax.set_xlabel(grid.param)
    ax.set_ylabel(grid.variables[i])
    if title:
        ax.set_title(title)
    ax.legend(frameon=False, fontsize=8)
    return fig, ax


def two_parameter_diagram(curves, ax=None, *, title=None):
    """Draw two-parameter fold and Hopf curves (list of :class:`~braindyn.analysis.Curve`)."""
    fig, ax = new_axes(ax, figsize=(6, 4.5))
    curves = [curves] if hasattr(curves, "kind") else list(curves)
    done = set()
    for c in curves:
        col = "C2" if c.kind == "fold" else "C4"
        ax.plot(c.values[:, 0], c.values[:, 1], color=col, lw=1.8, label=f"{c.kind} curve" if c.kind not in done else None)
        done.add(c.kind)
    if curves:
        ax.set_xlabel(curves[0].params[0])
        ax.set_ylabel(curves[0].params[1])
    if title:
        ax.set_title(title)
    ax.legend(frameon=False, fontsize=8)
    return fig, ax


def fast_slow_diagram(fs, var=0, ax=None, *, title=None):
    """The fast subsystem's bifurcation diagram in the slow variable with the full trajectory over it."""
    fig, ax = new_axes(ax, figsize=(7, 4.5))
    bifurcation_diagram(fs.branches, fs.cycles, var=var, ax=ax)
    tr = fs.trajectory
    i_s = list(tr.variables).index(fs.slow)
    name = var if isinstance(var, str) else fs.fast[var]
    i_f = list(tr.variables).index(name)
    ax.plot(tr.xs[:, i_s], tr.xs[:, i_f], color="C9", lw=0.7, alpha=0.8, label="full trajectory")
    ax.set_xlabel(f"{fs.slow} (slow variable, frozen)")
    ax.set_ylabel(name)
    if title:
        ax.set_title(title)
    ax.legend(frameon=False, fontsize=8)
    return fig, ax
