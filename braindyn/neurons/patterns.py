"""Recognising firing patterns from a spike train: bursts, adaptation, latency, transience.

A firing pattern is a property of the spike train under a step of current, so presets are
checked by these functions rather than by eye. The statistics follow the usage of
Naud et al. (2008, Biol Cybern 99:335) and Izhikevich (2004): first-spike latency, the
adaptation index of Naud et al., burst detection from the inter-spike intervals (ISIs), and
whether firing outlasts the onset.

:func:`classify` returns one of ``"quiescent"``, ``"transient"``, ``"bursting"``,
``"initial_burst"``, ``"delayed"``, ``"adapting"``, ``"tonic"``, decided in that order by the
rules written on it. Every rule and threshold is a documented keyword argument.

Example
-------
>>> import numpy as np
>>> classify(np.array([10.0, 12.0, 14.5, 60.0, 62.0, 64.5, 110.0, 112.0, 114.5]), 0.0, 150.0).label
'bursting'
>>> classify(np.arange(5.0, 200.0, 20.0), 0.0, 200.0).label
'tonic'
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["SpikePattern", "classify", "find_bursts", "adaptation_index", "adaptation_ratio", "PATTERN_LABELS"]

PATTERN_LABELS = ("quiescent", "transient", "bursting", "initial_burst", "delayed", "adapting", "tonic")


def adaptation_index(isis, skip: int = 0) -> float:
    """Adaptation index of Naud et al. (2008):
    :math:`A = \\frac{1}{N-k-1}\\sum_{i=k}^{N-2} \\frac{ISI_{i+1} - ISI_i}{ISI_{i+1} + ISI_i}`
    (``skip`` = k ISIs discarded); > 0 for slowing trains, 0 for regular ones, NaN if too short.

    >>> round(adaptation_index([10.0, 10.0, 10.0]), 3)
    0.0
    """
    isis = np.asarray(isis, float)[skip:]
    if len(isis) < 2:
        return float("nan")
    return float(np.mean(np.diff(isis) / (isis[1:] + isis[:-1])))


def find_bursts(times, jump: float = 2.0, within: float = 2.0):
    """Group a spike train into bursts; returns a list of arrays of spike times.

    A train has burst structure when some ISI is longer than ``jump`` times the ISI before
    it (the silent gap that ends a burst). The longest ISI before the first such gap, times
    ``within``, is then the largest ISI inside a burst, and the train is split at every
    longer ISI. Without such a gap every spike is its own group (no bursts).

    >>> [len(b) for b in find_bursts([0.0, 2.0, 4.0, 50.0, 52.0, 54.0, 100.0])]
    [3, 3, 1]
    """
    t = np.sort(np.asarray(times, float))
    if len(t) < 3:
        return [t[i : i + 1] for i in range(len(t))]
    isi = np.diff(t)
    gaps = np.nonzero(isi[1:] > jump * isi[:-1])[0]
    if len(gaps) == 0:
        return [t[i : i + 1] for i in range(len(t))]
    first_gap = gaps[0] + 1
    thr = within * np.max(isi[:first_gap])
    cuts = np.nonzero(isi > thr)[0] + 1
    return np.split(t, cuts)


def adaptation_ratio(times, t_on: float, t_off: float) -> float:
    """Mean ISI in the last quarter of the response over the mean ISI in its first quarter.

    The response runs from the first spike to ``t_off``; an ISI belongs to the quarter where
    it starts. > 1 for a slowing train; NaN with fewer than 3 spikes. If a quarter holds no ISI,
    the first (or last) ISI is used.
    """
    t = np.sort(np.asarray(times, float))
    t = t[(t >= t_on) & (t <= t_off)]
    if len(t) < 3:
        return float("nan")
    isi = np.diff(t)
    start = t[:-1]
    q = (t_off - t[0]) / 4.0
    first = isi[start < t[0] + q]
    last = isi[start >= t_off - q]
    f = first.mean() if len(first) else isi[0]
    l = last.mean() if len(last) else isi[-1]
    return float(l / f)


@dataclass
class SpikePattern:
    """What :func:`classify` finds: the ``label`` and the statistics that decided it."""

    label: str
    n_spikes: int
    latency: float
    isis: np.ndarray = field(repr=False)
    burst_sizes: list
    adaptation_index: float
    adaptation_ratio: float
    rate_hz: float

    def as_dict(self):
        """JSON-ready figures."""
        f = lambda x: None if x is None or not np.isfinite(x) else round(float(x), 4)
        return {"pattern": self.label, "n_spikes": self.n_spikes, "first_spike_latency_ms": f(self.latency),
                "burst_sizes": [int(b) for b in self.burst_sizes], "adaptation_index": f(self.adaptation_index),
                "adaptation_ratio": f(self.adaptation_ratio), "pattern_rate_hz": f(self.rate_hz)}


def classify(times, t_on: float, t_off: float, *, jump: float = 2.0, within: float = 2.0,
             adapt_ratio: float = 1.25, delay_factor: float = 1.5, stop_factor: float = 3.0,
             stop_fraction: float = 0.25, skip: int = 0) -> SpikePattern:
    """Classify the response of a neuron to a current step on ``[t_on, t_off)`` (ms).

    Rules, in order (spikes outside the step are ignored):

    1. no spike: ``"quiescent"``;
    2. firing stops: the silence after the last spike exceeds ``stop_factor`` times the mean
       ISI and ``stop_fraction`` of the step (for a single spike: half the step):
       ``"transient"`` (phasic spiking or bursting);
    3. at least two bursts of two or more spikes (:func:`find_bursts`), bursting lasting into
       the second half of the step: ``"bursting"``;
    4. the first group is a burst (and bursting does not last): ``"initial_burst"``;
    5. first-spike latency longer than ``delay_factor`` times the median ISI: ``"delayed"``;
    6. :func:`adaptation_ratio` above ``adapt_ratio``: ``"adapting"``; otherwise ``"tonic"``.

    ``skip`` > 0 classifies the steady pattern after an onset transient: the first ``skip``
    spikes in the step are dropped and the step is taken to start at the last of them
    (e.g. the onset doublet of Izhikevich's (2004) tonic spiking, which starts from the rest
    of ``I = 0``).

    >>> classify([12.7, 16.2, 29.0, 56.1, 82.9], 10.0, 100.0).label
    'initial_burst'
    >>> classify([12.7, 16.2, 29.0, 56.1, 82.9], 10.0, 100.0, skip=2).label
    'tonic'
    """
    t = np.sort(np.asarray(times, float))
    t = t[(t >= t_on) & (t < t_off)]
    if skip > 0 and len(t) > skip:
        t_on, t = float(t[skip - 1]), t[skip:]
    n = len(t)
    win = t_off - t_on
    isi = np.diff(t)
    latency = float(t[0] - t_on) if n else float("nan")
    bursts = find_bursts(t, jump, within) if n else []
    sizes = [len(b) for b in bursts]
    A = adaptation_index(isi)
    R = adaptation_ratio(t, t_on, t_off)
    rate = 1000.0 * n / win

    def out(label):
        return SpikePattern(label, n, latency, isi, sizes, A, R, rate)

    if n == 0:
        return out("quiescent")
    silence = t_off - t[-1]
    if n == 1:
        if silence > 0.5 * win:
            return out("transient")
    elif silence > stop_factor * isi.mean() and silence > stop_fraction * win:
        return out("transient")
    multi = [b for b in bursts if len(b) >= 2]
    if len(multi) >= 2 and multi[-1][0] >= t_on + 0.5 * win:
        return out("bursting")
    if sizes[0] >= 2 and len(sizes) > 1:
        return out("initial_burst")
    if n >= 2 and latency > delay_factor * np.median(isi):
        return out("delayed")
    if np.isfinite(R) and R > adapt_ratio:
        return out("adapting")
    return out("tonic")
