r"""Cognitive tasks for trained recurrent networks: batches of trials (seeded, NumPy).

Every generator returns a :class:`TrialBatch` of ``n_trials`` trials of equal length on a grid
of step ``dt`` (ms): inputs ``(B, T, n_in)``, integer targets ``(B, T)`` (class 0 =
*fixate*, classes ``1..K`` the choices), loss weights ``(B, T)`` and the correct choice per
trial. The conventions are those of the course and of NeuroGym (Molano-Mazón et al. 2022):
input 0 is a fixation cue, on until the response epoch; the network must output *fixate*
while it is on and the choice during the response epoch.

Input noise. Each stimulus channel carries white noise of intensity :math:`\sigma`
(unit :math:`\sqrt{\text{ms}}`) averaged over each step, i.e. independent Gaussian values of
standard deviation :math:`\sigma/\sqrt{\Delta t}` per step (NeuroGym's convention; its default
:math:`\sigma = 1`, used here as "the course's noise level").

Tasks
-----
* :func:`perceptual_decision`: two stimuli :math:`(1 \pm c)/2` with coherence :math:`c`; choose
  the stronger (random-dots motion discrimination, Britten et al. 1992).
* :func:`context_decision`: two modalities (motion, colour), each a noisy pair with its own
  signed coherence, and a context cue; report the sign of the cued modality and ignore the other
  (Mante, Sussillo, Shenoy & Newsome 2013).
* :func:`delayed_match_to_sample`: a sample (one of two stimuli), a delay with no stimulus, a
  test; report *match* (class 1) or *non-match* (class 2): working memory.

Example
-------
>>> b = perceptual_decision(4, seed=0)
>>> b.inputs.shape, b.target.shape, sorted(set(b.label.tolist())) <= [1, 2]
((4, 66, 3), (4, 66), True)
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._errors import BraindynError

__all__ = ["TrialBatch", "perceptual_decision", "context_decision", "delayed_match_to_sample",
           "choices", "task_accuracy", "COHERENCES"]

#: Coherences (fractions) of the random-dots experiments: 0 %, 3.2 %, ..., 51.2 %.
COHERENCES = (0.0, 0.032, 0.064, 0.128, 0.256, 0.512)


class TrialBatch(NamedTuple):
    """A batch of trials (NumPy arrays).

    Attributes
    ----------
    inputs : float array (B, T, n_in)
    target : int array (B, T)
        Class per step: 0 = fixate, ``1..K`` = choices.
    mask : float array (B, T)
        Weight of each step in the loss (``w_response`` in the response epoch, 1 elsewhere).
    label : int array (B,)
        The correct choice (``1..K``).
    response : bool array (B, T)
        Steps of the response epoch.
    info : dict
        Per-trial task variables (``coherence``, ``context``...) and ``epochs``: the first and
        one-past-last step of each epoch, ``{name: (start, stop)}``.
    """

    inputs: np.ndarray
    target: np.ndarray
    mask: np.ndarray
    label: np.ndarray
    response: np.ndarray
    info: dict


def _steps(name, ms, dt):
    if not (ms >= 0 and dt > 0):
        raise BraindynError(f"task epoch {name!r} must last >= 0 ms with dt > 0, got {ms} ms, dt {dt}.")
    k = int(round(ms / dt))
    return k


def _check(n_trials, sigma):
    if not isinstance(n_trials, (int, np.integer)) or n_trials < 1:
        raise BraindynError(f"n_trials must be a positive integer, got {n_trials!r}. Fix: e.g. n_trials=64.")
    if not sigma >= 0:
        raise BraindynError(f"input noise sigma must be >= 0 (sqrt(ms)), got {sigma!r}. Fix: e.g. sigma=1.0.")


def _rng(seed):
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _epochs(dt, **ms):
    """Start and end step of each epoch, in order."""
    out, k = {}, 0
    for name, t in ms.items():
        n = _steps(name, t, dt)
        out[name] = (k, k + n)
        k += n
    return out, k


def _finish(x, label, ep, T, w_response, info):
    B = len(label)
    resp = np.zeros((B, T), bool)
    a, b = ep["response"]
    resp[:, a:b] = True
    target = np.where(resp, label[:, None], 0).astype(np.int32)
    mask = np.where(resp, float(w_response), 1.0)
    info["epochs"] = ep
    return TrialBatch(x, target, mask, label.astype(np.int32), resp, info)


def perceptual_decision(n_trials: int, *, dt: float = 20.0, coherences=COHERENCES, sigma: float = 1.0,
                        t_fixation: float = 100.0, t_stimulus: float = 1000.0, t_response: float = 220.0,
                        w_response: float = 5.0, seed=0) -> TrialBatch:
    r"""Perceptual decision making with coherence (two-alternative random dots).

    Inputs (3): fixation cue (1 until the response epoch), stimuli
    :math:`s_{1,2} = (1 \pm c\,d)/2 + \text{noise}` during the stimulus epoch, where
    :math:`d = \pm 1` is the correct side and :math:`c` the coherence (a fraction, drawn from
    ``coherences``). Target: choice 1 if :math:`d = +1`, else 2, in the response epoch.

    Parameters
    ----------
    n_trials : int
    dt : float
        Step (ms).
    coherences : sequence of float
        Coherences (fractions in [0, 1]) drawn uniformly per trial; at 0 the side is random.
    sigma : float
        Input noise intensity (sqrt(ms)); per-step standard deviation :math:`\sigma/\sqrt{\Delta t}`.
    t_fixation, t_stimulus, t_response : float
        Epoch durations (ms).
    w_response : float
        Loss weight of the response steps.
    seed : int or numpy Generator

    Example
    -------
    >>> b = perceptual_decision(2000, coherences=[0.512], sigma=0.0, seed=1)
    >>> stim = b.inputs[:, 10, 1:]                    # a step of the stimulus epoch
    >>> bool(np.all((stim[:, 0] > stim[:, 1]) == (b.label == 1)))
    True
    """
    _check(n_trials, sigma)
    c = np.asarray(coherences, float)
    if c.ndim != 1 or c.size == 0 or np.any((c < 0) | (c > 1)):
        raise BraindynError(f"coherences must be fractions in [0, 1] (0.128 = 12.8 %), got {coherences!r}.")
    rng = _rng(seed)
    ep, T = _epochs(dt, fixation=t_fixation, stimulus=t_stimulus, response=t_response)
    coh = rng.choice(c, n_trials)
    side = rng.choice([1.0, -1.0], n_trials)
    x = np.zeros((n_trials, T, 3))
    a, b = ep["stimulus"]
    x[:, : ep["response"][0], 0] = 1.0
    x[:, a:b, 1] = ((1 + coh * side) / 2)[:, None]
    x[:, a:b, 2] = ((1 - coh * side) / 2)[:, None]
    x[:, a:b, 1:] += sigma / np.sqrt(dt) * rng.standard_normal((n_trials, b - a, 2))
    label = np.where(side > 0, 1, 2)
    return _finish(x, label, ep, T, w_response, {"coherence": coh, "side": side})


def context_decision(n_trials: int, *, dt: float = 20.0, coherences=COHERENCES[1:], sigma: float = 1.0,
                     t_fixation: float = 100.0, t_stimulus: float = 1000.0, t_response: float = 220.0,
                     w_response: float = 5.0, seed=0) -> TrialBatch:
    r"""Context-dependent integration (Mante et al. 2013).

    Inputs (7): fixation cue; context cue (2 channels, one-hot, on for the whole trial: 0 =
    motion, 1 = colour); motion pair :math:`(1 \pm c_m)/2`; colour pair :math:`(1 \pm c_c)/2`,
    with the signed coherences :math:`c_m, c_c` drawn independently (magnitude from
    ``coherences``, random sign) and noise on the four stimulus channels. Target: choice 1 if
    the *cued* coherence is positive, else 2; the other modality is irrelevant.

    ``info``: ``context`` (0/1), ``coherence`` (the relevant magnitude), ``c_motion``,
    ``c_color`` (signed). Other parameters as in :func:`perceptual_decision`.

    Example
    -------
    >>> b = context_decision(500, sigma=0.0, seed=2)
    >>> rel = np.where(b.info["context"] == 0, b.info["c_motion"], b.info["c_color"])
    >>> bool(np.all((rel > 0) == (b.label == 1)))
    True
    """
    _check(n_trials, sigma)
    c = np.asarray(coherences, float)
    if c.ndim != 1 or c.size == 0 or np.any((c <= 0) | (c > 1)):
        raise BraindynError(f"coherences must be fractions in (0, 1] (0.128 = 12.8 %), got {coherences!r}.")
    rng = _rng(seed)
    ep, T = _epochs(dt, fixation=t_fixation, stimulus=t_stimulus, response=t_response)
    ctx = rng.integers(0, 2, n_trials)
    cm = rng.choice(c, n_trials) * rng.choice([1.0, -1.0], n_trials)
    cc = rng.choice(c, n_trials) * rng.choice([1.0, -1.0], n_trials)
    x = np.zeros((n_trials, T, 7))
    a, b = ep["stimulus"]
    x[:, : ep["response"][0], 0] = 1.0
    x[np.arange(n_trials), :, 1 + ctx] = 1.0
    x[:, a:b, 3] = ((1 + cm) / 2)[:, None]
    x[:, a:b, 4] = ((1 - cm) / 2)[:, None]
    x[:, a:b, 5] = ((1 + cc) / 2)[:, None]
    x[:, a:b, 6] = ((1 - cc) / 2)[:, None]
    x[:, a:b, 3:] += sigma / np.sqrt(dt) * rng.standard_normal((n_trials, b - a, 4))
    rel = np.where(ctx == 0, cm, cc)
    label = np.where(rel > 0, 1, 2)
    return _finish(x, label, ep, T, w_response,
                   {"context": ctx, "coherence": np.abs(rel), "c_motion": cm, "c_color": cc})


def delayed_match_to_sample(n_trials: int, *, dt: float = 20.0, sigma: float = 1.0, t_fixation: float = 300.0,
                            t_sample: float = 500.0, t_delay: float = 1000.0, t_test: float = 500.0,
                            t_response: float = 300.0, w_response: float = 5.0, test_in_response: bool = False,
                            seed=0) -> TrialBatch:
    r"""Delayed match-to-sample (working memory).

    Inputs (3): fixation cue; two stimulus channels: the sample (one-hot, value 1) in the sample
    epoch, nothing during the delay, the test (one-hot) in the test epoch; noise on both stimulus
    channels in every epoch but the response. Target: 1 (*match*) when test = sample, else 2
    (*non-match*), each with probability 1/2. ``info``: ``sample``, ``test`` (0/1).
    ``test_in_response=True`` keeps the test stimulus (and its noise) on through the response
    epoch (the subject answers while the test is shown).

    Example
    -------
    >>> b = delayed_match_to_sample(200, sigma=0.0, seed=3)
    >>> s, t = b.inputs[:, 20, 1:].argmax(1), b.inputs[:, -20, 1:].argmax(1)   # sample and test steps
    >>> bool(np.all((s == t) == (b.label == 1)))
    True
    """
    _check(n_trials, sigma)
    rng = _rng(seed)
    ep, T = _epochs(dt, fixation=t_fixation, sample=t_sample, delay=t_delay, test=t_test, response=t_response)
    sample = rng.integers(0, 2, n_trials)
    match = rng.integers(0, 2, n_trials).astype(bool)
    test = np.where(match, sample, 1 - sample)
    x = np.zeros((n_trials, T, 3))
    r0 = ep["response"][0]
    x[:, :r0, 0] = 1.0
    i = np.arange(n_trials)
    a, b = ep["sample"]
    x[i[:, None], np.arange(a, b)[None, :], 1 + sample[:, None]] = 1.0
    a, b = ep["test"]
    if test_in_response:
        b = ep["response"][1]
    x[i[:, None], np.arange(a, b)[None, :], 1 + test[:, None]] = 1.0
    x[:, :b, 1:] += sigma / np.sqrt(dt) * rng.standard_normal((n_trials, b, 2))
    label = np.where(match, 1, 2)
    return _finish(x, label, ep, T, w_response, {"sample": sample, "test": test})


def choices(logits, batch: TrialBatch) -> np.ndarray:
    """The network's choice per trial: the choice class (``1..K``, not *fixate*) with the highest
    output averaged over the response epoch. ``logits``: (B, T, K+1)."""
    z = np.asarray(logits, float)
    r = batch.response[..., None]
    mean = (z * r).sum(1) / r.sum(1)
    return 1 + np.argmax(mean[:, 1:], axis=1)


def task_accuracy(logits, batch: TrialBatch) -> float:
    """Fraction of trials whose :func:`choices` equals the correct ``label``."""
    return float(np.mean(choices(logits, batch) == batch.label))
