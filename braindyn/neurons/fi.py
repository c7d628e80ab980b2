"""f-I curves (firing rate against constant current) and rheobases, in one vmapped run.

:func:`fi_curve` runs one neuron per current, all in a single ``jax.vmap`` of a
``lax.scan`` (one compilation, one run), and returns the rate from the spike count in a
window and from the last inter-spike interval. :func:`rheobase` refines a grid of currents
around the onset of firing with a few such runs.

Example
-------
>>> import numpy as np, braindyn as bd
>>> fi = bd.neurons.fi_curve(bd.neurons.LIF(), np.array([10.0, 25.0, 40.0]), duration=500.0)
>>> [int(c) for c in fi.counts]
[0, 21, 38]
"""
from __future__ import annotations

from dataclasses import dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._errors import BraindynError, check_finite, check_number, check_positive

__all__ = ["FICurve", "fi_curve", "rheobase"]


@dataclass
class FICurve:
    """Result of :func:`fi_curve` (NumPy arrays, one entry per current).

    Attributes
    ----------
    currents : input currents (units of the model's ``I``).
    counts : spikes in the counting window ``[t_discard, duration)``.
    rate_hz : ``counts`` / window (Hz).
    rate_isi_hz : 1000 / (last inter-spike interval, ms); 0 with fewer than two spikes.
    first_spike_ms : time of the first spike (ms; ``inf`` if none).
    """

    currents: np.ndarray
    counts: np.ndarray
    rate_hz: np.ndarray
    rate_isi_hz: np.ndarray
    first_spike_ms: np.ndarray


@eqx.filter_jit
def _fi_run(model, currents, n_steps, dt, n_discard, key):
    def one(I, k):
        s0 = model.init_state(dtype=currents.dtype)

        def body(c, i):
            s, cnt, first, last, prev = c
            t = (i * dt).astype(currents.dtype)
            s, _ = model.step(s, {"I": I}, t, dt, jax.random.fold_in(k, i))
            sp = s["spike"][0] > 0
            te = t + dt
            cnt = cnt + jnp.where(sp & (i >= n_discard), 1, 0)
            first = jnp.where(sp & ~jnp.isfinite(first), te, first)
            prev = jnp.where(sp, last, prev)
            last = jnp.where(sp, te, last)
            return (s, cnt, first, last, prev), None

        inf = jnp.asarray(jnp.inf, currents.dtype)
        c0 = (s0, jnp.asarray(0, jnp.int32), inf, -inf, -inf)
        (_, cnt, first, last, prev), _ = jax.lax.scan(body, c0, jnp.arange(n_steps))
        isi = last - prev
        return cnt, first, jnp.where(jnp.isfinite(isi), 1000.0 / isi, 0.0)

    keys = jax.random.split(key, currents.shape[0])
    return jax.vmap(one)(currents, keys)


def _check_single(model, fname):
    if getattr(model, "n", 1) != 1:
        raise BraindynError(f"{fname}: pass a model with n=1 (one neuron per current is made by vmap), got n={model.n}.")
    if not hasattr(model, "spike_distance"):
        raise BraindynError(f"{fname}: {type(model).__name__} is not a spiking neuron.")


def fi_curve(model, currents, duration: float = 1000.0, dt: float = 0.1, *, t_discard: float = 0.0,
             key=0, dtype=None) -> FICurve:
    """Firing rate of ``model`` (one neuron, ``n=1``) for each constant current, in one vmapped run.

    Parameters
    ----------
    model : SpikingNeuron
        The neuron (its initial state is its default one).
    currents : array
        Constant currents (units of the model's ``I``).
    duration : float
        Simulated time per current (ms).
    dt : float
        Time step (ms).
    t_discard : float
        Spikes before this time (ms) are not counted in ``counts`` / ``rate_hz``.
    key : int or PRNG key
        Randomness of noisy models.
    dtype : dtype, optional
        Float type (default: JAX's default float).
    """
    _check_single(model, "fi_curve")
    check_positive("duration", check_number("duration", duration, "fi_curve", "ms"), "fi_curve", "ms")
    check_positive("dt", check_number("dt", dt, "fi_curve", "ms"), "fi_curve", "ms")
    check_finite("currents", currents, "fi_curve")
    if np.ndim(currents) > 1:
        raise BraindynError(f"fi_curve: 'currents' must be a number or a 1-D array, got shape {np.shape(currents)}. "
                            f"Fix: e.g. currents=np.linspace(0, 40, 21).")
    if np.size(currents) == 0:
        raise BraindynError("fi_curve: 'currents' is empty. Fix: pass at least one current.")
    t_discard = check_number("t_discard", t_discard, "fi_curve", "ms")
    if dt > duration:
        raise BraindynError(f"fi_curve: dt={dt} ms is longer than duration={duration} ms. Fix: a shorter dt.")
    if not 0 <= t_discard < duration:
        raise BraindynError(f"fi_curve: t_discard={t_discard} must lie in [0, duration={duration}) ms.")
    n_steps = int(round(duration / dt))
    n_discard = int(round(t_discard / dt))
    from ..core import default_float

    cur = jnp.atleast_1d(jnp.asarray(currents, dtype or default_float()))
    key = jax.random.PRNGKey(key) if isinstance(key, int) else key
    cnt, first, rate_isi = _fi_run(model, cur, n_steps, dt, n_discard, key)
    cnt = np.asarray(cnt)
    return FICurve(currents=np.asarray(cur), counts=cnt, rate_hz=1000.0 * cnt / (duration - t_discard),
                   rate_isi_hz=np.asarray(rate_isi), first_spike_ms=np.asarray(first))


def rheobase(model, I_low: float, I_high: float, duration: float = 1000.0, dt: float = 0.1, *, min_spikes: int = 2,
             n_grid: int = 17, rounds: int = 3, key=0, dtype=None) -> float:
    """Smallest constant current that makes ``model`` fire at least ``min_spikes`` spikes in
    ``duration`` ms (repetitive firing), bracketed in ``[I_low, I_high]``.

    Each round is one vmapped run over ``n_grid`` currents; the bracket shrinks by a factor
    ``n_grid - 1`` per round, so the result is within ``(I_high - I_low) / (n_grid-1)**rounds``.
    The finite duration biases the result upwards where the period diverges at onset
    (saddle-node on invariant circle): by the current whose period equals ``duration``.
    """
    lo = check_number("I_low", I_low, "rheobase")
    hi = check_number("I_high", I_high, "rheobase")
    check_finite("I_low", lo, "rheobase")
    check_finite("I_high", hi, "rheobase")
    for name, v, least in (("n_grid", n_grid, 3), ("rounds", rounds, 1), ("min_spikes", min_spikes, 1)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < least:
            raise BraindynError(f"rheobase: {name!r} must be an integer >= {least}, got {v!r}.")
    if not hi > lo:
        raise BraindynError(f"rheobase: need I_high > I_low, got [{lo}, {hi}].")
    for _ in range(rounds):
        grid = np.linspace(lo, hi, n_grid)
        fi = fi_curve(model, grid, duration, dt, key=key, dtype=dtype)
        fires = fi.counts >= min_spikes
        if not fires[-1]:
            raise BraindynError(f"rheobase: the neuron does not fire at I_high={hi}. Fix: raise I_high.")
        if fires[0]:
            raise BraindynError(f"rheobase: the neuron already fires at I_low={lo}. Fix: lower I_low.")
        j = int(np.argmax(fires))
        lo, hi = grid[j - 1], grid[j]
    return 0.5 * (lo + hi)
