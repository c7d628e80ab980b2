"""Traces and raster plots."""
from __future__ import annotations

import numpy as np

__all__ = ["traces", "raster", "new_axes"]


def new_axes(ax=None, figsize=(7, 3)):
    """Return ``(fig, ax)``: the given axes, or a new figure with one axes."""
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize)
    return fig, ax


def traces(ts, values, *, labels=None, ax=None, xlabel="t (ms)", ylabel=None, title=None, spikes=None, **kw):
    """Plot time series ``values`` (shape ``(T,)`` or ``(T, k)``) against ``ts`` (ms).

    ``spikes`` (optional): spike times to mark with ticks above the traces.

    Example
    -------
    >>> import numpy as np
    >>> fig, ax = traces(np.arange(10.0), np.sin(np.arange(10.0)), ylabel="V (mV)")
    """
    fig, ax = new_axes(ax)
    v = np.asarray(values)
    v = v[:, None] if v.ndim == 1 else v.reshape(v.shape[0], -1)
    for j in range(v.shape[1]):
        lab = labels[j] if labels is not None and j < len(labels) else None
        ax.plot(ts, v[:, j], label=lab, lw=1.2, **kw)
    if spikes is not None and len(spikes):
        top = np.nanmax(v)
        ax.plot(spikes, np.full(len(spikes), top + 0.05 * (top - np.nanmin(v) + 1e-9)), "|", color="k", ms=8)
    ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if labels is not None:
        ax.legend(frameon=False)
    return fig, ax


def raster(times, indices, *, ax=None, title=None, ms=1.0, color="k", xlabel="t (ms)", ylabel="neuron"):
    """Raster plot of spike ``times`` (ms) against neuron ``indices``.

    Example
    -------
    >>> import numpy as np
    >>> fig, ax = raster(np.array([1.0, 2.0]), np.array([0, 1]))
    """
    fig, ax = new_axes(ax, figsize=(7, 4))
    ax.plot(times, indices, ".", ms=ms, color=color)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return fig, ax
