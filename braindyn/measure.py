r"""Measures of network activity: rates, ISI statistics, Fano factor, correlations, synchrony,
spectra, an LFP proxy and read-outs of ring populations.

Two layers, one set of functions:

* **Arrays** (pure ``jax.numpy``, so they ``jit`` and ``vmap``): a raster ``(steps, neurons)``
  of 0/1 or booleans with its step ``dt`` in ms, or NaN-padded spike times ``(..., K)``.
  ``dt``, bin widths and other sizes are static Python numbers (they set array shapes):
  close over them, e.g. ``jax.jit(lambda r: fano_factor(r, 0.1, bin=10.0))``.
* **Records**: a :class:`braindyn.SpikeTrain` or a :class:`braindyn.RunResult` (with
  ``name=`` the spike record when it has several) in place of the raster. ``dt`` is then read
  from the record times and the result is a NumPy array; bit-packed trains are unpacked
  block by block, so a long run of a large population needs no dense copy.

Conventions (stated once here, and where they matter in each function):

* Time in ms, rates and frequencies in Hz.
* Row :math:`k` of a raster is the step :math:`(t_k, t_k + \Delta t]`. A bin of width
  :math:`b = m\,\Delta t` groups whole rows: bin :math:`j` holds rows
  :math:`jm, \dots, (j+1)m - 1`; rows after the last complete bin are left out (as Elephant
  leaves out an incomplete last bin). Elephant's ``BinnedSpikeTrain`` bins spike *times* in
  :math:`[t_0 + jb,\ t_0 + (j+1)b)`: the two agree when the spike of row :math:`k` is given a
  time in :math:`[t_0 + k\Delta t,\ t_0 + (k+1)\Delta t)`, e.g. the step start
  (``run(..., time_label="start")``). With the default end labels, use rows, not times.
* Variances divide by :math:`n` (``ddof=0``, Elephant's convention for ``cv`` and
  ``fanofactor``) unless a ``ddof`` argument says otherwise.
* A statistic that is undefined (a silent neuron's Fano factor or correlation, the CV of
  fewer than two intervals) is NaN, never an error: one silent neuron must not stop a
  ``vmap`` over a population.

Example
-------
>>> import numpy as np, braindyn as bd
>>> raster = np.zeros((1000, 3), bool); raster[::100, 0] = True; raster[::50, 1] = True
>>> bd.measure.neuron_rates(raster, 0.1)          # Hz: 10 spikes in 100 ms, 20, 0
Array([100., 200.,   0.], dtype=float32)
>>> bd.measure.cv_isi(bd.measure.spike_times(raster, 0.1))   # regular trains: CV 0
Array([ 0.,  0., nan], dtype=float32)
"""
from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from ._errors import BraindynError, check_choice

__all__ = ["bin_counts", "neuron_rates", "smooth", "population_rate", "spike_times", "isi", "cv_isi",
           "fano_factor", "count_correlation", "cross_correlogram", "synchrony", "power_spectrum",
           "lfp_proxy", "population_vector", "bump"]


# ---------------------------------------------------------------------------------------------
# Inputs: raster arrays or records
# ---------------------------------------------------------------------------------------------
def _float():
    return jnp.result_type(float)


def _jit(*static):
    # Each measure is one compiled function (called eagerly it is not a chain of op-by-op dispatches);
    # inside a user's jit it is inlined.
    return partial(jax.jit, static_argnames=static)


def _as_float(x):
    return x.astype(jnp.result_type(x.dtype, _float()))


def _static_number(name, value, fn, allow_zero=False):
    if isinstance(value, jax.core.Tracer):
        raise BraindynError(f"{fn}: {name!r} must be a Python number (it fixes array shapes), got a traced value. "
                            f"Fix: close over it, e.g. jax.jit(lambda r: {fn}(r, 0.1, ...)).")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise BraindynError(f"{fn}: {name!r} must be a number (ms), got {value!r}. Fix: e.g. {name}=0.1.") from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise BraindynError(f"{fn}: {name!r} must be {'>= 0' if allow_zero else '> 0'} ms and finite, got {value!r}.")
    return v


def _steps(name, width, dt, fn, allow_zero=False):
    """A duration (ms) as a whole number of steps of ``dt``."""
    w = _static_number(name, width, fn, allow_zero)
    m = int(round(w / dt))
    if abs(m * dt - w) > 1e-9 * max(w, dt) or (m < 1 and not allow_zero):
        lo, hi = max(1, math.floor(w / dt)), max(1, math.ceil(w / dt))
        raise BraindynError(f"{fn}: {name}={width!r} ms is not a whole number of steps of dt={dt!r} ms. "
                            f"Fix: {name}={lo * dt:g} or {name}={hi * dt:g}.")
    return m


def _is_record(x):
    from .run import RunResult, SpikeTrain

    return isinstance(x, (RunResult, SpikeTrain))


def _train(spikes, dt, name, fn):
    """``(SpikeTrain, dt)`` of a record; ``dt`` is the interval between its records."""
    from .run import RunResult

    if isinstance(spikes, RunResult):
        train = spikes._raster(name)
        rec_dt = (spikes.t_end - spikes.t_start) / len(train) if len(train) else None
    else:
        train = spikes
        ts = np.asarray(train.ts)
        rec_dt = float(ts[1] - ts[0]) if len(ts) > 1 else None
    if rec_dt is None:
        if dt is None:
            raise BraindynError(f"{fn}: cannot read dt from a record of {len(train)} row(s). Fix: pass dt=... (ms).")
        return train, _static_number("dt", dt, fn)
    if dt is not None and abs(float(dt) - rec_dt) > 1e-9 * rec_dt:
        raise BraindynError(f"{fn}: dt={dt!r} ms differs from the record's interval {rec_dt:g} ms. Fix: leave dt "
                            f"out for a record (it is read from the record times).")
    return train, rec_dt


def _raster(spikes, dt, fn):
    """A raster array as a float ``(steps, neurons)`` JAX array, and ``dt``."""
    if dt is None:
        raise BraindynError(f"{fn}: a raster array needs its step dt (ms). Fix: {fn}(raster, 0.1, ...), or pass a "
                            f"SpikeTrain / RunResult (dt is read from its times).")
    dt = _static_number("dt", dt, fn)
    x = jnp.asarray(spikes)
    if x.ndim != 2:
        raise BraindynError(f"{fn}: a raster has shape (steps, neurons), got shape {x.shape}. Fix: for one neuron "
                            f"use raster[:, None]; for a batch of rasters use jax.vmap.")
    return x, dt


def _blocks(train, stop, block=4096):
    """Dense boolean blocks ``(start, rows)`` of a bit-packed train up to row ``stop``."""
    for s in range(0, stop, block):
        yield s, np.unpackbits(train.packed[s:min(s + block, stop)], axis=-1, count=train.n)


def _counts(spikes, dt, bin, name, fn):
    """Binned counts ``(n_bins, neurons)`` and ``(dt, m)``, from an array or a record."""
    if _is_record(spikes):
        train, dt = _train(spikes, dt, name, fn)
        m = _steps("bin", bin, dt, fn)
        nb = len(train) // m
        out = np.zeros((nb, train.n))
        block = max(1, 4096 // m) * m
        for s, d in _blocks(train, nb * m, block):
            out[s // m: s // m + d.shape[0] // m] = d.reshape(-1, m, train.n).sum(1)
        return jnp.asarray(out, _float()), dt, m, True
    x, dt = _raster(spikes, dt, fn)
    m = _steps("bin", bin, dt, fn)
    return _bin(x, m), dt, m, False


@_jit("m")
def _bin(x, m):
    nb = x.shape[0] // m
    return x[: nb * m].astype(_float()).reshape(nb, m, x.shape[1]).sum(1)


def _out(value, host):
    return jax.tree.map(np.asarray, value) if host else value


# ---------------------------------------------------------------------------------------------
# Counts and rates
# ---------------------------------------------------------------------------------------------
def bin_counts(spikes, dt=None, *, bin, name=None):
    r"""Spike counts of each neuron in consecutive bins of ``bin`` ms.

    .. math:: n_{ji} = \sum_{k = jm}^{(j+1)m - 1} s_{ki}, \qquad m = b / \Delta t,

    for bins :math:`j = 0, \dots, \lfloor T/m \rfloor - 1` (rows after the last complete bin are
    left out). Divide by :math:`b` (s) for rates: ``bin_counts(...).mean(1) / (bin / 1000)`` is
    the population time histogram in Hz (Elephant's ``time_histogram(output="rate")``).

    Parameters
    ----------
    spikes : array ``(steps, neurons)`` (0/1 or bool), SpikeTrain or RunResult
    dt : float
        Step of the raster (ms); read from the record times for a record.
    bin : float
        Bin width (ms), a whole number of steps.
    name : str, optional
        The spike record of a RunResult that has several.

    Returns
    -------
    ``(n_bins, neurons)`` counts (float).

    Example
    -------
    >>> import numpy as np
    >>> r = np.zeros((10, 2), bool); r[[0, 3, 4], 0] = True
    >>> bin_counts(r, 1.0, bin=5.0)
    Array([[3., 0.],
           [0., 0.]], dtype=float32)
    """
    counts, _, _, host = _counts(spikes, dt, bin, name, "bin_counts")
    return _out(counts, host)


def neuron_rates(spikes, dt=None, *, name=None):
    r"""Mean firing rate of each neuron (Hz) over the whole raster.

    .. math:: \nu_i = \frac{1000}{T\,\Delta t} \sum_k s_{ki}\quad\text{(Hz, } \Delta t \text{ in ms)}

    the count divided by the duration :math:`T\Delta t` (Elephant's ``mean_firing_rate`` with
    ``t_start``, ``t_stop`` the ends of the raster).

    Example
    -------
    >>> import numpy as np
    >>> neuron_rates(np.eye(4, 2, dtype=bool), 0.5)     # one spike in 2 ms
    Array([500., 500.], dtype=float32)
    """
    if _is_record(spikes):
        train, dt = _train(spikes, dt, name, "neuron_rates")
        return train.counts() * (1000.0 / (len(train) * dt))
    x, dt = _raster(spikes, dt, "neuron_rates")
    return _scaled_sum(x, 1000.0 / (x.shape[0] * dt), 0)


@_jit("scale", "axis")
def _scaled_sum(x, scale, axis):
    return x.astype(_float()).sum(axis) * scale


def _kernel(dt, width, kernel, cutoff, fn):
    check_choice("kernel", kernel, ("rect", "gaussian"), fn)
    if kernel == "rect":
        m = _steps("width", width, dt, fn)
        h = np.full(m, 1.0 / m)
        return np.concatenate([[0.0], h]) if m % 2 == 0 else h
    sigma = _static_number("width", width, fn)
    c = _static_number("cutoff", cutoff, fn)
    r = int(math.floor(c * sigma / dt + 1e-9))
    h = np.exp(-0.5 * (np.arange(-r, r + 1) * dt / sigma) ** 2)
    return h / h.sum()


@jax.jit
def _convolve_same(x, h):
    """``x`` (time on axis 0) convolved with the odd-length kernel ``h``, centred, zero-padded."""
    T, K = x.shape[0], len(h)
    nfft = 1 << (T + K - 2).bit_length()
    X = jnp.fft.rfft(x, nfft, axis=0)
    H = jnp.fft.rfft(h.astype(x.dtype), nfft).reshape((-1,) + (1,) * (x.ndim - 1))
    return jnp.fft.irfft(X * H, nfft, axis=0)[K // 2: K // 2 + T].astype(x.dtype)


def smooth(x, dt, *, width, kernel="rect", cutoff=5.0):
    r"""Smooth time series (time on axis 0) with a centred kernel of unit sum.

    .. math:: y_k = \sum_j h_j\, x_{k-j}, \qquad \sum_j h_j = 1,

    * ``"rect"``: :math:`h_j = 1/m` over :math:`m = \text{width}/\Delta t` steps: :math:`y_k`
      averages rows :math:`k - \lfloor m/2\rfloor` to :math:`k + \lceil m/2\rceil - 1`
      (symmetric for odd :math:`m`; for even :math:`m` one row more in the past, as
      ``numpy.convolve(x, ones(m)/m, "same")``). ``width`` is the window length (ms).
    * ``"gaussian"``: :math:`h_j \propto e^{-(j\Delta t)^2/2\sigma^2}` for
      :math:`|j|\Delta t \le \text{cutoff}\,\sigma`, normalised to unit sum; ``width`` is
      :math:`\sigma` (ms). (Elephant samples the density, :math:`h_j = \Delta t\,\phi(j\Delta t)`,
      whose sum is 1 up to the mass beyond the cutoff: :math:`6\times10^{-7}` at 5 sigma.)

    Outside the data the series is taken as zero (no border correction), so the first and
    last half-window are biased low. Computed by FFT: :math:`O(T \log T)` for any width.

    Example
    -------
    >>> import numpy as np
    >>> smooth(np.array([0.0, 0.0, 3.0, 0.0, 0.0]), 1.0, width=3.0)
    Array([0., 1., 1., 1., 0.], dtype=float32)
    """
    dt = _static_number("dt", dt, "smooth")
    return _convolve_same(_as_float(jnp.asarray(x)), jnp.asarray(_kernel(dt, width, kernel, cutoff, "smooth")))


def population_rate(spikes, dt=None, *, width=5.0, kernel="rect", cutoff=5.0, name=None):
    r"""Time-resolved population rate (Hz): the fraction of neurons that spike per step,
    divided by ``dt`` and smoothed.

    .. math:: r_k = \sum_j h_j\, \frac{1000}{N\,\Delta t} \sum_{i=1}^{N} s_{k-j,\,i}
              \quad\text{(Hz)}

    with the kernel :math:`h` of :func:`smooth` (``kernel="rect"``: a sliding window of
    ``width`` ms, the book's ``firing_rate``; ``"gaussian"``: :math:`\sigma` = ``width`` ms).
    The mean over neurons of Elephant's ``instantaneous_rate`` (same kernel, no border
    correction) up to the kernel's sampling (see :func:`smooth`).

    Returns
    -------
    ``(steps,)`` rate in Hz, one value per row of the raster.

    Example
    -------
    >>> import numpy as np
    >>> r = np.zeros((100, 10), bool); r[:, 0] = True     # 1 of 10 neurons spikes every 1-ms step
    >>> float(population_rate(r, 1.0, width=10.0)[50])
    100.0
    """
    fn = "population_rate"
    if _is_record(spikes):
        train, dt = _train(spikes, dt, name, fn)
        c = np.concatenate([d.sum(1) for _, d in _blocks(train, len(train))]) if len(train) else np.zeros(0)
        x, host = jnp.asarray(c * (1000.0 / (train.n * dt)), _float()), True
    else:
        r, dt = _raster(spikes, dt, fn)
        x, host = _scaled_sum(r, 1000.0 / (r.shape[1] * dt), 1), False
    return _out(_convolve_same(x, jnp.asarray(_kernel(dt, width, kernel, cutoff, fn))), host)


# ---------------------------------------------------------------------------------------------
# Intervals
# ---------------------------------------------------------------------------------------------
def spike_times(spikes, dt=None, *, max_spikes=None, t0=0.0, name=None):
    r"""Spike times (ms) of each neuron, NaN-padded to a common length: ``(neurons, K)``.

    For an array, row :math:`k` is stamped :math:`t_0 + k\,\Delta t` (pass ``t0=res.ts[0]`` to use
    a run's own stamps); for a record, its times ``ts``. ``max_spikes`` (static) is ``K``: it
    must be given under ``jit`` (a neuron's spikes beyond it are dropped); by default the
    largest count.

    Example
    -------
    >>> import numpy as np
    >>> r = np.zeros((5, 2), bool); r[[1, 3], 0] = True; r[2, 1] = True
    >>> spike_times(r, 0.5)
    Array([[0.5, 1.5],
           [1. , nan]], dtype=float32)
    """
    fn = "spike_times"
    if _is_record(spikes):
        train, _ = _train(spikes, dt, name, fn)
        t, i = train.events()
        counts = np.bincount(i, minlength=train.n)
        k = int(counts.max(initial=0)) if max_spikes is None else int(max_spikes)
        out = np.full((train.n, k), np.nan)
        order = np.lexsort((t, i))
        t, i = t[order], i[order]
        rank = np.arange(len(i)) - np.concatenate([[0], np.cumsum(counts)])[i]
        keep = rank < k
        out[i[keep], rank[keep]] = t[keep]
        return out
    x, dt = _raster(spikes, dt, fn)
    if max_spikes is None:
        if isinstance(x, jax.core.Tracer):
            raise BraindynError("spike_times: under jit, max_spikes (the padded length) must be given. Fix: "
                                "spike_times(raster, dt, max_spikes=200).")
        max_spikes = int(np.asarray(x).sum(0).max(initial=0))
    return _spike_times(x, dt, int(max_spikes), float(t0))


@_jit("dt", "k", "t0")
def _spike_times(x, dt, k, t0):
    def one(col):
        idx = jnp.nonzero(col, size=k, fill_value=-1)[0]
        return jnp.where(idx >= 0, t0 + idx * dt, jnp.nan).astype(_float())

    return jax.vmap(one, in_axes=1)(x)


def isi(times, *, name=None):
    r"""Inter-spike intervals (ms), :math:`\tau_n = t_{n+1} - t_n`, NaN-padded.

    ``times`` are sorted spike times with NaN padding at the end, ``(..., K)`` (from
    :func:`spike_times`), or a SpikeTrain / RunResult. Returns ``(..., K - 1)``: the intervals of
    each train first, NaN after (Elephant's ``isi`` of each train, padded).

    Example
    -------
    >>> import jax.numpy as jnp
    >>> isi(jnp.array([[1.0, 3.0, 7.0], [2.0, 5.0, jnp.nan]]))
    Array([[ 2.,  4.],
           [ 3., nan]], dtype=float32)
    """
    if _is_record(times):
        return np.diff(spike_times(times, name=name), axis=-1)
    return _isi(jnp.asarray(times))


@jax.jit
def _isi(t):
    return jnp.diff(_as_float(t), axis=-1)


def cv_isi(times, *, ddof=0, name=None):
    r"""Coefficient of variation of the inter-spike intervals of each train.

    .. math:: \mathrm{CV} = \frac{\sqrt{\frac{1}{n - \text{ddof}} \sum_n (\tau_n - \bar\tau)^2}}
              {\bar\tau}

    ``ddof=0`` is Elephant's ``cv`` (``scipy.stats.variation``). 0 for a regular train, 1 for a
    Poisson process (:math:`\sqrt{1 - p}` for a Bernoulli raster with spike probability
    :math:`p` per step). NaN for a train with fewer than two intervals.

    ``times`` : NaN-padded spike times ``(..., K)`` (see :func:`spike_times`), or a SpikeTrain /
    RunResult. Returns ``(...)``.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> float(cv_isi(jnp.array([0.0, 1.0, 3.0, 4.0, 6.0])))       # intervals 1, 2, 1, 2
    0.3333333432674408
    """
    if _is_record(times):
        return np.asarray(cv_isi(jnp.asarray(spike_times(times, name=name), _float()), ddof=ddof))
    return _cv(jnp.asarray(times), ddof)


@_jit("ddof")
def _cv(times, ddof):
    d = _isi(times)
    ok = ~jnp.isnan(d)
    n = ok.sum(-1)
    mean = jnp.where(ok, d, 0).sum(-1) / jnp.maximum(n, 1)
    var = jnp.where(ok, (d - mean[..., None]) ** 2, 0).sum(-1) / jnp.maximum(n - ddof, 1)
    return jnp.where(n >= 2, jnp.sqrt(var) / mean, jnp.nan)


# ---------------------------------------------------------------------------------------------
# Count statistics and correlations
# ---------------------------------------------------------------------------------------------
def fano_factor(spikes, dt=None, *, bin, ddof=0, name=None):
    r"""Fano factor of each neuron's spike counts in consecutive windows of ``bin`` ms.

    .. math:: F_i = \frac{\operatorname{Var}_j n_{ji}}{\operatorname{E}_j n_{ji}}

    over the bins :math:`j` of :func:`bin_counts`, variance with ``ddof`` (default 0, Elephant's
    ``fanofactor`` applied to the windows of one neuron as if they were trials). 1 for a
    Poisson process (:math:`1 - p` for a Bernoulli raster), 0 for a regular train whose period
    divides the window; NaN for a silent neuron.

    Example
    -------
    >>> import numpy as np
    >>> r = np.zeros((40, 1), bool); r[::4] = True          # one spike every 4 steps
    >>> fano_factor(r, 1.0, bin=8.0)
    Array([0.], dtype=float32)
    """
    c, _, _, host = _counts(spikes, dt, bin, name, "fano_factor")
    return _out(_fano(c, ddof), host)


@_jit("ddof")
def _fano(c, ddof):
    mean = c.mean(0)
    return ((c - mean) ** 2).sum(0) / (c.shape[0] - ddof) / mean


def count_correlation(spikes, dt=None, *, bin, name=None):
    r"""Pearson correlation of the binned spike counts of every pair of neurons: ``(N, N)``.

    .. math:: C_{ij} = \frac{\sum_b (n_{bi} - \bar n_i)(n_{bj} - \bar n_j)}
              {\sqrt{\sum_b (n_{bi} - \bar n_i)^2 \sum_b (n_{bj} - \bar n_j)^2}}

    over the bins of :func:`bin_counts` (Elephant's ``correlation_coefficient`` of a
    ``BinnedSpikeTrain`` with the same bins, ``binary=False``). The row and column of a neuron
    whose count never changes (e.g. a silent one) are NaN.

    Example
    -------
    >>> import numpy as np
    >>> r = np.zeros((8, 3), bool); r[[0, 5], 0] = r[[0, 5], 1] = True; r[[2, 7], 2] = True
    >>> count_correlation(r, 1.0, bin=2.0)
    Array([[ 1.,  1., -1.],
           [ 1.,  1., -1.],
           [-1., -1.,  1.]], dtype=float32)
    """
    c, _, _, host = _counts(spikes, dt, bin, name, "count_correlation")
    return _out(_corr(c), host)


@jax.jit
def _corr(c):
    z = c - c.mean(0)
    cov = z.T @ z
    sd = jnp.sqrt(jnp.diagonal(cov))
    return cov / (sd[:, None] * sd[None, :])


def cross_correlogram(spikes, dt=None, *, pair=(0, 1), bin=1.0, max_lag=20.0, name=None):
    r"""Cross-correlogram of two neurons: coincidences of their binned counts at each lag.

    .. math:: C(\ell) = \sum_b n_{b,i}\, n_{b+\ell,\,j}, \qquad \ell = -L, \dots, L

    with ``(i, j) = pair`` and :math:`L` = ``max_lag / bin`` bins. A positive lag counts spikes of
    ``j`` *after* spikes of ``i`` (Elephant's ``cross_correlation_histogram`` with
    ``window=[-L, L]``, no border correction or smoothing). ``pair=(i, i)`` is the
    autocorrelogram.

    Returns
    -------
    ``(lags, counts)``: lags (ms, multiples of ``bin``) and ``(2L + 1,)`` coincidence counts.

    Example
    -------
    >>> import numpy as np
    >>> r = np.zeros((20, 2), bool); r[[2, 10], 0] = True; r[[5, 13], 1] = True   # j fires 3 ms after i
    >>> lags, c = cross_correlogram(r, 1.0, max_lag=4.0)
    >>> lags[c.argmax()], c.max()
    (Array(3., dtype=float32), Array(2., dtype=float32))
    """
    counts, dt, m, host = _counts(spikes, dt, bin, name, "cross_correlogram")
    i, j = pair
    L = _steps("max_lag", max_lag, m * dt, "cross_correlogram", allow_zero=True)
    return _out(_ccg(counts, i, j, L, m * dt), host)


@_jit("i", "j", "L", "width")
def _ccg(counts, i, j, L, width):
    # a direct sum (exact for integer counts), not an FFT whose round-off grows with the counts
    c = jnp.correlate(jnp.pad(counts[:, j], L), counts[:, i], mode="valid")
    return (jnp.arange(-L, L + 1) * width).astype(counts.dtype), c


# ---------------------------------------------------------------------------------------------
# Population-level measures
# ---------------------------------------------------------------------------------------------
def synchrony(traces, *, squared=False):
    r"""Synchrony index of Golomb (2007, Scholarpedia 2: 1347; Golomb & Rinzel 1993): the variance of
    the population average over the mean of the single-neuron variances.

    .. math:: \chi^2 = \frac{\operatorname{Var}_t\!\left[\frac{1}{N}\sum_i V_i(t)\right]}
              {\frac{1}{N}\sum_i \operatorname{Var}_t\,V_i(t)}, \qquad \chi = \sqrt{\chi^2}

    ``traces`` is ``(..., T, N)``: membrane potentials (mV), or per-neuron rates (e.g. spikes
    smoothed with :func:`smooth`). :math:`\chi = 1` for identical traces and about
    :math:`1/\sqrt N` for independent ones. Returns :math:`\chi` (or :math:`\chi^2` with
    ``squared=True``), dimensionless; NaN if every trace is constant.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> v = jnp.sin(jnp.linspace(0, 20, 500))[:, None] * jnp.ones(8)
    >>> round(float(synchrony(v)), 6)
    1.0
    """
    return _synchrony(jnp.asarray(traces), bool(squared))


@_jit("squared")
def _synchrony(x, squared):
    x = _as_float(x)
    pop = x.mean(-1)
    num = ((pop - pop.mean(-1, keepdims=True)) ** 2).mean(-1)
    den = ((x - x.mean(-2, keepdims=True)) ** 2).mean((-2, -1))
    chi2 = num / den
    return chi2 if squared else jnp.sqrt(chi2)


def power_spectrum(x, dt, *, method="welch", segment=None, overlap=0.5):
    r"""One-sided power spectral density of a time series (time on axis 0), frequencies in Hz.

    * ``"welch"``: the mean of the periodograms of segments of ``segment`` ms (default a quarter
      of the series), overlapping by ``overlap``, each with its mean removed and a periodic Hann
      window :math:`w_n = \tfrac12 - \tfrac12\cos(2\pi n/L)` (``scipy.signal.welch`` and
      Elephant's ``welch_psd`` with ``len_segment`` = ``segment/dt`` samples).
    * ``"periodogram"``: one segment, the whole series, mean removed, no taper
      (``scipy.signal.periodogram``).

    .. math:: P(f_k) = \frac{c_k}{S}\,\Big\langle \Big| \sum_{n=0}^{L-1} w_n (x_n - \bar x)\,
              e^{-2\pi i k n / L} \Big|^2 \Big\rangle_{\text{segments}},
              \qquad f_k = \frac{k f_s}{L},\ f_s = \frac{1000}{\Delta t}\ \text{Hz}

    with :math:`S = f_s \sum_n w_n^2` and :math:`c_k = 2` except at 0 Hz and at the Nyquist
    frequency (:math:`c = 1`), so :math:`\sum_k P(f_k)\,\Delta f` is the variance. Units: those of
    ``x`` squared per Hz (Hz for a rate in Hz).

    Returns
    -------
    ``(freqs, psd)``: ``(L//2 + 1,)`` frequencies (Hz) and ``(L//2 + 1, ...)`` densities.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> t = jnp.arange(4000) * 0.5                       # 2 s sampled every 0.5 ms
    >>> f, p = power_spectrum(jnp.sin(2 * jnp.pi * 0.04 * t), 0.5, segment=500.0)   # 40 Hz
    >>> float(f[p.argmax()])
    40.0
    """
    fn = "power_spectrum"
    check_choice("method", method, ("welch", "periodogram"), fn)
    dt = _static_number("dt", dt, fn)
    x = jnp.asarray(x)
    T = x.shape[0]
    if method == "periodogram":
        L, step, w = T, T, np.ones(T)
    else:
        L = max(T // 4, 1) if segment is None else _steps("segment", segment, dt, fn)
        if not 0 <= float(overlap) < 1:
            raise BraindynError(f"{fn}: overlap must lie in [0, 1), got {overlap!r}. Fix: e.g. overlap=0.5.")
        step = L - int(L * float(overlap))
        w = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(L) / L)
    if L > T or L < 2:
        raise BraindynError(f"{fn}: a segment of {L} samples does not fit a series of {T} samples (needs 2 <= L <= "
                            f"T). Fix: segment <= {T * dt:g} ms.")
    fs = 1000.0 / dt
    c = np.full(L // 2 + 1, 2.0)
    c[0] = 1.0
    if L % 2 == 0:
        c[-1] = 1.0
    starts = np.arange(0, T - L + 1, step)
    return _spectrum(x, jnp.asarray(starts), jnp.asarray(w), jnp.asarray(c / (fs * np.sum(w ** 2))), fs / L)


@_jit("df")
def _spectrum(x, starts, w, scale, df):
    x = _as_float(x)
    L = w.shape[0]
    seg = x[starts[:, None] + jnp.arange(L)[None, :]]
    seg = seg - seg.mean(1, keepdims=True)
    tail = (1,) * (x.ndim - 1)
    p = (jnp.abs(jnp.fft.rfft(seg * w.astype(x.dtype).reshape((1, L) + tail), axis=1)) ** 2).mean(0)
    return jnp.arange(L // 2 + 1, dtype=x.dtype) * df, p * scale.astype(x.dtype).reshape((-1,) + tail)


def lfp_proxy(ampa, gaba, dt, *, delay=6.0, alpha=1.65):
    r"""Local field potential proxy of Mazzoni et al. (2015): a weighted sum of the absolute
    synaptic currents onto the excitatory (pyramidal) population.

    .. math:: \mathrm{LFP}(t) \propto \sum_i \lvert I^{\mathrm{AMPA}}_i(t - \tau)\rvert
              - \alpha \sum_i \lvert I^{\mathrm{GABA}}_i(t)\rvert,
              \qquad \tau = 6\ \text{ms},\ \alpha = 1.65

    (the "reference weighted sum" proxy that best matched the LFP of a multicompartment
    model, Mazzoni et al. 2015, PLoS Comput. Biol. 11: e1004584). ``ampa`` and ``gaba`` are
    ``(T, ...)`` currents sampled every ``dt`` ms (summed over all axes after the first), in
    any one unit (pA, nA, or the model's current unit); the proxy is in that unit, defined up
    to a positive factor (the conversion to mV needs the tissue and the electrode).

    Returns
    -------
    ``(T - d,)`` with :math:`d` = ``delay / dt`` steps: sample :math:`n` is the proxy at row
    :math:`n + d` (the first ``delay`` ms have no delayed AMPA current).

    Example
    -------
    >>> import jax.numpy as jnp
    >>> lfp_proxy(jnp.ones((5, 2)), 2.0 * jnp.ones((5, 2)), 1.0, delay=2.0)
    Array([-4.6, -4.6, -4.6], dtype=float32)
    """
    fn = "lfp_proxy"
    dt = _static_number("dt", dt, fn)
    d = _steps("delay", delay, dt, fn, allow_zero=True)
    a, g = jnp.asarray(ampa), jnp.asarray(gaba)
    if a.shape[0] != g.shape[0]:
        raise BraindynError(f"{fn}: ampa has {a.shape[0]} samples but gaba has {g.shape[0]}. Fix: record both "
                            f"currents at the same times.")
    if d >= a.shape[0]:
        raise BraindynError(f"{fn}: delay={delay} ms is {d} steps, not shorter than the {a.shape[0]} samples.")
    return _lfp(a, g, d, alpha)


@_jit("d")
def _lfp(a, g, d, alpha):
    a = jnp.abs(_as_float(a).reshape(a.shape[0], -1)).sum(1)
    g = jnp.abs(_as_float(g).reshape(g.shape[0], -1)).sum(1)
    return a[: a.shape[0] - d] - alpha * g[d:]


# ---------------------------------------------------------------------------------------------
# Ring populations
# ---------------------------------------------------------------------------------------------
def population_vector(activity, preferred, *, period=2 * math.pi):
    r"""Decode a circular variable by the population vector: each neuron votes for its preferred
    value with its activity.

    .. math:: z = \sum_i r_i\, e^{2\pi i\,\theta_i / P}, \qquad
              \hat\theta = \frac{P}{2\pi}\arg z, \qquad R = \frac{|z|}{\sum_i r_i}

    ``activity`` ``(..., N)`` (rates, or spike counts), ``preferred`` ``(N,)`` the preferred
    values (or positions on a ring) in the units of the period ``P`` (default :math:`2\pi` rad:
    angles; 360 for degrees). Returns ``(estimate, strength)``: :math:`\hat\theta` in
    :math:`(-P/2, P/2]` and the resultant length :math:`R \in [0, 1]` (1: all activity at one
    value). Exact for cosine tuning on a uniform ring. This is also the centre of a bump of
    activity (see :func:`bump`).

    Example
    -------
    >>> import jax.numpy as jnp
    >>> pref = jnp.linspace(-180.0, 180.0, 36, endpoint=False)
    >>> rates = 10.0 + 8.0 * jnp.cos(jnp.deg2rad(pref - 30.0))
    >>> est, R = population_vector(rates, pref, period=360.0)
    >>> round(float(est), 3), round(float(R), 3)
    (30.0, 0.4)
    """
    return _popvec(jnp.asarray(activity), jnp.asarray(preferred), float(period))


@_jit("period")
def _popvec(r, preferred, period):
    r = _as_float(r)
    phase = preferred.astype(r.dtype) * (2 * jnp.pi / period)
    x, y = (r * jnp.cos(phase)).sum(-1), (r * jnp.sin(phase)).sum(-1)
    return jnp.arctan2(y, x) * (period / (2 * jnp.pi)), jnp.hypot(x, y) / r.sum(-1)


def bump(activity, positions, *, period=2 * math.pi, method="fwhm"):
    r"""Centre and width of a bump of activity on a ring (e.g. a continuous attractor network).

    The centre is the population-vector angle (:func:`population_vector`). The width is

    * ``"fwhm"``: the full width at half height, the length of ring on which the activity,
      linearly interpolated between neighbouring ``positions``, is at least
      :math:`h = (\max r + \min r)/2`. Segment :math:`[x_i, x_{i+1}]` contributes its whole
      length if both ends are :math:`\ge h`, none if both are below, and the fraction
      :math:`\max(a, b)/|a - b|` (with :math:`a = r_i - h,\ b = r_{i+1} - h`) if they straddle
      it. For a Gaussian bump of standard deviation :math:`\sigma`,
      :math:`2\sqrt{2\ln 2}\,\sigma`.
    * ``"circular"``: the circular standard deviation :math:`\frac{P}{2\pi}\sqrt{-2\ln R}`
      (:math:`R` the resultant length): :math:`\sqrt{-2\ln(I_1(\kappa)/I_0(\kappa))}` for a
      von Mises bump :math:`e^{\kappa\cos(x - c)}`.

    ``activity`` ``(..., N)``; ``positions`` ``(N,)`` sorted, spanning one period ``P`` (default
    :math:`2\pi`, positions in rad). Returns ``(centre, width)`` in the units of ``positions``.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> x = jnp.linspace(-jnp.pi, jnp.pi, 256, endpoint=False)
    >>> c, w = bump(jnp.exp(-0.5 * ((x - 1.0) / 0.2) ** 2), x)
    >>> round(float(c), 4), round(float(w / (2 * jnp.sqrt(2 * jnp.log(2.0)) * 0.2)), 2)
    (1.0, 1.0)
    """
    check_choice("method", method, ("fwhm", "circular"), "bump")
    return _bump(jnp.asarray(activity), jnp.asarray(positions), float(period), method)


@_jit("period", "method")
def _bump(r, positions, period, method):
    r = _as_float(r)
    centre, R = _popvec(r, positions, period)
    if method == "circular":
        return centre, jnp.sqrt(-2.0 * jnp.log(R)) * (period / (2 * jnp.pi))
    x = jnp.asarray(positions, r.dtype)
    gap = jnp.mod(jnp.roll(x, -1) - x, period)
    h = (r.max(-1, keepdims=True) + r.min(-1, keepdims=True)) / 2
    a = r - h
    b = jnp.roll(a, -1, axis=-1)
    straddle = jnp.maximum(a, b) / jnp.where(a == b, 1.0, jnp.abs(a - b))
    frac = jnp.where((a >= 0) & (b >= 0), 1.0, jnp.where((a < 0) & (b < 0), 0.0, straddle))
    return centre, (frac * gap).sum(-1)
