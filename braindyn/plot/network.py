"""Pictures of network activity: a raster over its population rate, 1-D and 2-D activity
animations (GIF with pillow; MP4 where ffmpeg exists), psychometric and chronometric curves,
and energy traces.

The numbers come from :mod:`braindyn.measure` (or from the caller); these functions only draw.
Every figure is laid out with constrained layout, so no axis label is cut.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .._errors import BraindynError
from .basic import new_axes

__all__ = ["raster_rate", "animate_1d", "animate_2d", "psychometric", "energy_trace"]


def _events(spikes, dt, name, t0):
    """``(times, indices, n_neurons, dt, row_times)`` of a raster array, a SpikeTrain or a RunResult."""
    from .. import measure

    if measure._is_record(spikes):
        train, dt = measure._train(spikes, dt, name, "raster_rate")
        t, i = train.events()
        return t, i, train.n, dt, np.asarray(train.ts)
    r = np.asarray(spikes)
    if r.ndim != 2:
        raise BraindynError(f"raster_rate: a raster has shape (steps, neurons), got {r.shape}. "
                            f"Fix: for one neuron use raster[:, None].")
    if dt is None:
        raise BraindynError("raster_rate: a raster array needs its step dt (ms). Fix: raster_rate(raster, 0.1).")
    k, i = np.nonzero(r)
    return t0 + k * float(dt), i, r.shape[1], float(dt), t0 + np.arange(r.shape[0]) * float(dt)


def raster_rate(spikes, dt=None, *, name=None, t0=0.0, width=5.0, kernel="rect", max_rows=2000, ms=1.5,
                color="k", title=None, figsize=(7, 4.5)):
    r"""A raster of the spikes over the population rate, on one shared time axis.

    ``spikes``: a raster ``(steps, neurons)`` with its ``dt`` (ms; row :math:`k` drawn at
    :math:`t_0 + k\,\Delta t`), or a :class:`~braindyn.SpikeTrain` / :class:`~braindyn.RunResult`
    (``name=`` the spike record; its times are used). The rate (Hz) of *all* neurons is
    :func:`braindyn.measure.population_rate` with ``width`` (ms) and ``kernel``. A population
    of more than ``max_rows`` neurons shows every :math:`k`-th neuron (evenly spaced indices,
    at most ``max_rows`` rows; the y axis keeps the original indices and its label says so).

    Returns
    -------
    ``(fig, (ax_raster, ax_rate))``.

    Example
    -------
    >>> import numpy as np
    >>> r = np.random.default_rng(0).random((2000, 50)) < 0.002
    >>> fig, (ax, ax_rate) = raster_rate(r, 0.1, width=10.0)
    >>> ax_rate.get_xlabel(), ax_rate.get_ylabel()
    ('t (ms)', 'rate (Hz)')
    """
    import matplotlib.pyplot as plt

    from .. import measure

    t, i, n, dt, ts = _events(spikes, dt, name, t0)
    rate = np.asarray(measure.population_rate(spikes, None if measure._is_record(spikes) else dt, width=width,
                                              kernel=kernel, name=name))
    if int(max_rows) < 1:
        raise BraindynError(f"raster_rate: max_rows must be >= 1, got {max_rows!r}. Fix: e.g. max_rows=2000.")
    ylabel = "neuron index"
    if n > max_rows:
        rows = np.unique(np.linspace(0, n - 1, int(max_rows)).round().astype(int))
        keep = np.isin(i, rows)
        t, i = t[keep], i[keep]
        ylabel = f"neuron index ({len(rows)} of {n} shown)"
    fig, (ax, ax_r) = plt.subplots(2, 1, sharex=True, figsize=figsize, layout="constrained",
                                   gridspec_kw=dict(height_ratios=(3, 1)))
    ax.plot(t, i, ".", ms=ms, color=color, rasterized=len(t) > 20000)
    ax.set_ylabel(ylabel)
    ax.set_ylim(-0.5, n - 0.5)
    ax_r.plot(ts, rate, color="C0", lw=1.0)
    ax_r.set_ylabel("rate (Hz)")
    ax_r.set_xlabel("t (ms)")
    if len(ts):
        ax_r.set_xlim(ts[0] - dt, ts[-1])
    if title:
        ax.set_title(title)
    return fig, (ax, ax_r)


# ---------------------------------------------------------------------------------------------
# Animations
# ---------------------------------------------------------------------------------------------
def _writer(path, fps):
    """The animation writer for the suffix of ``path`` (checked before anything is drawn)."""
    from matplotlib import animation

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".gif":
        return path, animation.PillowWriter(fps=fps)
    if suffix == ".mp4":
        if not animation.writers.is_available("ffmpeg"):
            raise BraindynError(f"cannot write {str(path)!r}: MP4 needs ffmpeg, which is not on this machine. "
                                f"Fix: save a GIF ({path.with_suffix('.gif').name!r}), or install ffmpeg.")
        return path, animation.FFMpegWriter(fps=fps)
    raise BraindynError(f"cannot write {str(path)!r}: unknown animation format {suffix or '(none)'!r}. "
                        f"Fix: end the file name with '.gif' (pillow) or '.mp4' (ffmpeg).")


def _save(fig, draw, frames, path, writer, dpi):
    import matplotlib.pyplot as plt
    from matplotlib import animation

    try:
        animation.FuncAnimation(fig, draw, frames=frames, blit=False).save(str(path), writer=writer, dpi=dpi)
    finally:
        plt.close(fig)
    return path


def _frames(n_time, every):
    if not isinstance(every, (int, np.integer)) or every < 1:
        raise BraindynError(f"'every' must be a positive integer (frames are every that many samples), got "
                            f"{every!r}. Fix: e.g. every=10.")
    return list(range(0, n_time, int(every)))


def _label_time(ts, k):
    return f"t = {ts[k]:.1f} ms" if ts is not None else f"frame {k}"


def animate_1d(values, path, *, positions=None, ts=None, every=1, fps=20, xlabel="position", ylabel="activity",
               ylim=None, title=None, dpi=80, figsize=(5, 3)):
    """Animate a 1-D population activity over time as a moving line (the book's ``animate_1D``).

    ``values``: ``(T, N)`` activity (one frame per row), or a dict ``{label: (T, N)}`` for several
    lines with a legend (e.g. the input and the response of a ring network). ``positions``:
    ``(N,)`` x values (default: the neuron index). ``ts``: times (ms) of the rows, shown in the
    title. Every ``every``-th row becomes a frame, ``fps`` frames per second. The file type
    follows the suffix of ``path``: ``.gif`` (pillow) or ``.mp4`` (needs ffmpeg). ``ylim``
    defaults to the range of all values, fixed over the animation. Returns the path.

    Example
    -------
    >>> import numpy as np, tempfile, os
    >>> x = np.linspace(-np.pi, np.pi, 64)
    >>> u = np.exp(-(x[None, :] - np.linspace(-2, 2, 8)[:, None]) ** 2)
    >>> p = animate_1d(u, os.path.join(tempfile.mkdtemp(), "bump.gif"), positions=x, ts=np.arange(8.0))
    >>> p.stat().st_size > 0
    True
    """
    import matplotlib.pyplot as plt

    path, writer = _writer(path, fps)
    series = {k: np.asarray(v) for k, v in values.items()} if isinstance(values, dict) else {None: np.asarray(values)}
    shapes = {v.shape for v in series.values()}
    if len(shapes) != 1 or next(iter(shapes)).__len__() != 2:
        raise BraindynError(f"animate_1d: values must be (time, neurons) arrays of one shape, got shapes "
                            f"{sorted(shapes)}. Fix: pass a (T, N) array or a dict of them.")
    T, n = next(iter(shapes))
    x = np.arange(n) if positions is None else np.asarray(positions)
    if x.shape != (n,):
        raise BraindynError(f"animate_1d: positions has shape {x.shape}, expected ({n},) (one per neuron).")
    frames = _frames(T, every)
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    lines = [ax.plot(x, v[0], lw=1.5, label=k)[0] for k, v in series.items()]
    lo = min(np.nanmin(v) for v in series.values())
    hi = max(np.nanmax(v) for v in series.values())
    pad = 0.05 * (hi - lo) if hi > lo else 1.0
    ax.set_ylim(ylim if ylim is not None else (lo - pad, hi + pad))
    ax.set_xlim(x[0], x[-1])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if None not in series:
        ax.legend(frameon=False, loc="upper right")
    head = ax.set_title(title or _label_time(ts, 0))

    def draw(k):
        for line, v in zip(lines, series.values()):
            line.set_ydata(v[k])
        head.set_text(f"{title}  {_label_time(ts, k)}" if title else _label_time(ts, k))
        return lines

    return _save(fig, draw, frames, path, writer, dpi)


def animate_2d(values, path, *, shape=None, ts=None, every=1, fps=20, cmap="viridis", vmin=None, vmax=None,
               extent=None, xlabel="x", ylabel="y", clabel="activity", title=None, dpi=80, figsize=(4, 3.5)):
    """Animate a 2-D population activity over time as a moving image (the book's ``animate_2D``).

    ``values``: ``(T, H, W)``, or ``(T, H*W)`` with ``shape=(H, W)`` (a flat 2-D population, row
    by row). The colour scale is fixed over the animation (``vmin``/``vmax``, default the range
    of all values) and labelled ``clabel``; ``extent=(x0, x1, y0, y1)`` puts the image on
    position axes. Frames, ``ts``, file types and the return value as :func:`animate_1d`.

    Example
    -------
    >>> import numpy as np, tempfile, os
    >>> u = np.random.default_rng(0).random((5, 8 * 8))
    >>> p = animate_2d(u, os.path.join(tempfile.mkdtemp(), "sheet.gif"), shape=(8, 8))
    >>> p.exists()
    True
    """
    import matplotlib.pyplot as plt

    path, writer = _writer(path, fps)
    v = np.asarray(values)
    if shape is not None:
        if v.ndim != 2 or v.shape[1] != int(np.prod(shape)):
            raise BraindynError(f"animate_2d: values of shape {v.shape} cannot be shown as frames of shape "
                                f"{tuple(shape)}. Fix: values (T, H*W) with shape=(H, W).")
        v = v.reshape((v.shape[0],) + tuple(shape))
    if v.ndim != 3:
        raise BraindynError(f"animate_2d: values must be (T, H, W), or (T, H*W) with shape=(H, W); got shape "
                            f"{v.shape}. Fix: pass shape=(H, W) for a flat population.")
    frames = _frames(v.shape[0], every)
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    im = ax.imshow(v[0], origin="lower", cmap=cmap, extent=extent, aspect="auto",
                   vmin=np.nanmin(v) if vmin is None else vmin, vmax=np.nanmax(v) if vmax is None else vmax)
    fig.colorbar(im, ax=ax, label=clabel)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    head = ax.set_title(title or _label_time(ts, 0))

    def draw(k):
        im.set_data(v[k])
        head.set_text(f"{title}  {_label_time(ts, k)}" if title else _label_time(ts, k))
        return [im]

    return _save(fig, draw, frames, path, writer, dpi)


# ---------------------------------------------------------------------------------------------
# Decisions and energies
# ---------------------------------------------------------------------------------------------
def psychometric(coherence, accuracy, *, reaction_time=None, accuracy_err=None, rt_err=None, xscale=None,
                 label=None, axes=None, figsize=None):
    """Psychometric (accuracy) and chronometric (reaction time) curves against motion coherence.

    ``coherence`` (%), ``accuracy`` (fraction correct, 0.5 = chance for two choices),
    ``reaction_time`` (ms, optional: adds the chronometric panel), with optional error bars
    (``accuracy_err``, ``rt_err``: e.g. binomial standard errors, standard errors of the
    mean). The x axis is logarithmic when every coherence is positive (the usual plot of
    Wang 2002 and Roitman & Shadlen 2002), else linear (``xscale`` overrides). Pass ``axes``
    (one or two) to overlay several curves (``label`` names each).

    Returns
    -------
    ``(fig, axes)``: a list with the psychometric axes, and the chronometric one if drawn.

    Example
    -------
    >>> c = [3.2, 6.4, 12.8, 25.6, 51.2]
    >>> fig, axes = psychometric(c, [0.6, 0.7, 0.85, 0.97, 1.0], reaction_time=[700, 620, 540, 450, 380])
    >>> [ax.get_ylabel() for ax in axes]
    ['P(correct)', 'reaction time (ms)']
    """
    import matplotlib.pyplot as plt

    c = np.asarray(coherence, float)
    acc = np.asarray(accuracy, float)
    if c.shape != acc.shape or c.ndim != 1:
        raise BraindynError(f"psychometric: coherence {c.shape} and accuracy {acc.shape} must be 1-D of one length.")
    rt = None if reaction_time is None else np.asarray(reaction_time, float)
    if rt is not None and rt.shape != c.shape:
        raise BraindynError(f"psychometric: reaction_time has shape {rt.shape}, expected {c.shape} (one per "
                            f"coherence).")
    n_panels = 1 if rt is None else 2
    if axes is None:
        fig, axes = plt.subplots(1, n_panels, figsize=figsize or (3.5 * n_panels + 0.5, 3), layout="constrained",
                                 squeeze=False)
        axes = list(axes[0])
    else:
        axes = list(np.atleast_1d(axes))
        if len(axes) < n_panels:
            raise BraindynError(f"psychometric: {n_panels} panels to draw but {len(axes)} axes given. Fix: pass two "
                                f"axes, or no reaction_time.")
        fig = axes[0].figure
    scale = xscale or ("log" if np.all(c > 0) else "linear")

    def coherence_axis(a):
        a.set_xscale(scale)
        a.set_xlabel("coherence (%)")
        if scale == "log":  # label the coherences themselves, not crowded powers of ten
            from matplotlib.ticker import FormatStrFormatter, NullFormatter

            a.set_xticks(c)
            a.xaxis.set_major_formatter(FormatStrFormatter("%g"))
            a.xaxis.set_minor_formatter(NullFormatter())

    ax = axes[0]
    ax.errorbar(c, acc, yerr=accuracy_err, marker="o", ms=4, capsize=2, label=label)
    coherence_axis(ax)
    ax.set_ylabel("P(correct)")
    ax.set_ylim(min(0.45, float(np.nanmin(acc)) - 0.05), 1.02)
    if rt is not None:
        ax2 = axes[1]
        ax2.errorbar(c, rt, yerr=rt_err, marker="o", ms=4, capsize=2, label=label)
        coherence_axis(ax2)
        ax2.set_ylabel("reaction time (ms)")
    if label is not None:
        ax.legend(frameon=False)
    return fig, axes[:n_panels]


def energy_trace(energy, ts=None, *, ax=None, xlabel=None, ylabel="energy", label=None, title=None):
    """Plot an energy (a Lyapunov function: Hopfield network, attractor dynamics) over time.

    ``energy``: ``(T,)``, or ``(T, k)`` for ``k`` runs (``label`` a list then). ``ts``: times
    (ms; x label ``t (ms)``) or ``None`` (x = update index, label ``update``). The energy of a
    Hopfield network in its own units (dimensionless for binary states and unit weights).

    Example
    -------
    >>> import numpy as np
    >>> fig, ax = energy_trace(-np.log1p(np.arange(20.0)))
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('update', 'energy')
    """
    e = np.asarray(energy, float)
    e = e[:, None] if e.ndim == 1 else e
    if e.ndim != 2:
        raise BraindynError(f"energy_trace: energy must be (T,) or (T, k), got shape {e.shape}.")
    x = np.arange(e.shape[0]) if ts is None else np.asarray(ts, float)
    if x.shape != (e.shape[0],):
        raise BraindynError(f"energy_trace: ts has shape {x.shape}, expected ({e.shape[0]},) (one per value).")
    if ax is None:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 3), layout="constrained")
    else:
        fig, ax = new_axes(ax)
    labels = label if isinstance(label, (list, tuple)) else [label] * e.shape[1]
    for j in range(e.shape[1]):
        ax.plot(x, e[:, j], lw=1.5, label=labels[j] if j < len(labels) else None)
    ax.set_xlabel(xlabel or ("update" if ts is None else "t (ms)"))
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if label is not None:
        ax.legend(frameon=False)
    return fig, ax
