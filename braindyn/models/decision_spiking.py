r"""The spiking decision-making network of Wang (2002), built from braindyn's public blocks.

Wang, X.-J. (2002) *Probabilistic decision making by slow reverberation in cortical circuits*,
Neuron 36:955--968; parameters as in the book's code (``c-xy17/NeuralModeling``,
``network_models/decision_making_spiking_model.py``), which follows the paper.

Structure (``scale`` = 1): :math:`N_E = 1600` pyramidal cells -- two selective groups A and B
of :math:`f N_E = 240` each and a non-selective group N of 1120 -- and :math:`N_I = 400`
interneurons, all leaky integrate-and-fire,

.. math::
    C_m \frac{dV}{dt} = -g_L (V - V_L) - I_{syn}, \qquad
    I_{syn} = I_{ext,AMPA} + I_{rec,AMPA} + I_{NMDA} + I_{GABA},

with :math:`V_L = -70`, :math:`V_{th} = -50`, :math:`V_{reset} = -55` mV, pyramidal
:math:`C_m = 0.5` nF, :math:`g_L = 25` nS (:math:`\tau = 20` ms, :math:`R = 0.04`
G\ :math:`\Omega`), refractory 2 ms; interneurons :math:`C_m = 0.2` nF, :math:`g_L = 20` nS
(:math:`\tau = 10` ms, :math:`R = 0.05` G\ :math:`\Omega`), refractory 1 ms. Synapses (0.5 ms
delay): AMPA :math:`I = g\,s\,(V - 0)`, :math:`\tau = 2` ms; GABA\ :sub:`A`
:math:`I = g\,s\,(V + 70)`, :math:`\tau = 5` ms; NMDA
:math:`I = g\,s\,(V - 0)/(1 + [\mathrm{Mg}^{2+}]e^{-0.062V}/3.57)` with
:math:`ds/dt = -s/100 + 0.5\,x(1 - s)`, :math:`dx/dt = -x/2 + \sum_k\delta(t - t_k)`
(:class:`~braindyn.synapses.WangNMDA`, :class:`~braindyn.synapses.MgBlockOutput`).
Peak conductances (nS), divided by ``scale``: E->E AMPA 0.05, NMDA 0.165, E->I AMPA 0.04,
NMDA 0.13, I->E GABA 1.3, I->I 1.0; external AMPA 2.1 (E) and 1.62 (I), not scaled.
Weights inside a selective group :math:`w_+ = 1.7`, from the other selective group and from N
:math:`w_- = 1 - f(w_+ - 1)/(1 - f)`, all others 1. Every neuron receives background Poisson
spikes at 2.4 kHz (800 inputs at 3 Hz) through external AMPA synapses; during the stimulus,
group A (B) receives an extra Poisson train whose rate is redrawn every 50 ms from a Gaussian
of mean :math:`\mu_0(1 \pm c/100)` and standard deviation :math:`\sigma` (Hz; 40 and 10 as in
the book's code; the paper uses :math:`\sigma = 4`).

Every block is all-to-all with one weight, so each projection is built over
:func:`braindyn.connect.full`: the presynaptic signal (spikes for AMPA/GABA, the saturating
gating :math:`s_j` for NMDA) is summed once per presynaptic group, and a step costs
:math:`O(N)`, not :math:`O(N^2)` (the 4 million E->E synapses are never stored).

Measured here (``braindyn run decision-spiking``; dt 0.1 ms): spontaneous rates 2.5 Hz
(pyramidal) and 8.1 Hz (interneurons) over 1-3 s of spontaneous activity, against about 2 and
8 Hz described by Wang (2002) (+26 % and +1 %); at c = 25.6 % the winning group ends the
stimulus at about 44 Hz (paper: about 40 Hz), the losing group below 1 Hz, the interneurons at
about 15 Hz.

:func:`wang2002` builds the :class:`~braindyn.Network`; :func:`stimulus_rates` draws a trial's
stimulus; :func:`trial_batch` returns a compiled function that runs a batch of trials (one
``jax.vmap`` of :func:`braindyn.simulate`) and returns the population spike counts per step.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .. import connect as _connect
from .. import inputs as _inputs
from ..network import Network
from ..neurons import LIF, PoissonGroup
from ..run import simulate
from ..synapses import ConductanceOutput, Exponential, MgBlockOutput, SynapticProjection, WangNMDA

__all__ = ["wang2002", "stimulus_rates", "population_sizes", "trial_batch", "window_rates", "WANG2002"]

#: Parameters of Wang (2002) as used by the book's code (conductances in nS, times in ms, rates in Hz).
WANG2002 = dict(N_E=1600, N_I=400, f=0.15, w_plus=1.7, g_ext_E=2.1, g_ext_I=1.62, g_EE_AMPA=0.05,
                g_EI_AMPA=0.04, g_EE_NMDA=0.165, g_EI_NMDA=0.13, g_IE_GABA=1.3, g_II_GABA=1.0,
                background_hz=2400.0, delay=0.5, mu0=40.0, sigma=10.0, interval=50.0)

_E_CELL = dict(V_rest=-70.0, V_reset=-55.0, V_th=-50.0, tau=20.0, R=0.04, t_ref=2.0, V_init=-70.0)
_I_CELL = dict(V_rest=-70.0, V_reset=-55.0, V_th=-50.0, tau=10.0, R=0.05, t_ref=1.0, V_init=-70.0)


def population_sizes(scale=1.0, f=WANG2002["f"]):
    """``{"A": ..., "B": ..., "N": ..., "I": ...}`` for a network of ``scale`` x 2000 neurons."""
    n_e, n_i = int(1600 * scale), int(400 * scale)
    n_a = int(f * n_e)
    return {"A": n_a, "B": n_a, "N": n_e - 2 * n_a, "I": n_i}


def wang2002(*, scale=1.0, dt=0.1, **overrides):
    r"""The network of Wang (2002) (see the module docstring for the equations and values).

    Parameters
    ----------
    scale : float
        Network size relative to 2000 neurons; recurrent conductances are divided by it (so the
        mean recurrent input is the same at every size; fluctuations grow as the size shrinks).
    dt : float
        Time step (ms) for which the 0.5 ms delays are converted.
    **overrides
        Any key of :data:`WANG2002` except the sizes (e.g. ``w_plus=1.8``, ``g_IE_GABA=1.4``).

    Returns
    -------
    Network
        Populations ``A``, ``B``, ``N`` (pyramidal), ``I`` (interneurons), ``bgA``... ``bgI``
        (background Poisson groups, one train per neuron) and ``stimA``, ``stimB`` (stimulus
        Poisson groups at rate 0 unless the run gives them an input ``"rate"``, Hz).

    Example
    -------
    >>> import braindyn as bd
    >>> from braindyn.models.decision_spiking import wang2002
    >>> net = wang2002(scale=0.1)
    >>> res = bd.run(net, 200.0, record=["pop.A.spike", "pop.I.spike"], key=1)
    >>> 0.0 < res.rate_hz("pop.I.spike") < 50.0
    True
    """
    p = dict(WANG2002)
    unknown = set(overrides) - set(p) | ({"N_E", "N_I"} & set(overrides))
    if unknown:
        from .._errors import BraindynError

        raise BraindynError(f"wang2002: unknown or fixed parameter(s) {sorted(unknown)}. Parameters: "
                            f"{sorted(set(p) - {'N_E', 'N_I'})}; the size is set by scale=.")
    p.update(overrides)
    n = population_sizes(scale, p["f"])
    f, wp = p["f"], p["w_plus"]
    wm = 1.0 - f * (wp - 1.0) / (1.0 - f)
    pops = {k: LIF(n=n[k], **(_I_CELL if k == "I" else _E_CELL)) for k in "ABNI"}
    for k in "ABNI":
        pops["bg" + k] = PoissonGroup(n=n[k], rate=p["background_hz"])
    pops["stimA"] = PoissonGroup(n=n["A"], rate=0.0)
    pops["stimB"] = PoissonGroup(n=n["B"], rate=0.0)

    def syn(kind):
        if kind == "ampa":
            return Exponential(2.0), ConductanceOutput(E=0.0)
        if kind == "nmda":
            return WangNMDA(tau_decay=100.0, tau_rise=2.0, a=0.5), MgBlockOutput(E=0.0, Mg=1.0)
        return Exponential(5.0), ConductanceOutput(E=-70.0)

    projs = {}

    def add(pre, post, kind, g, conn, delay):
        s, o = syn(kind)
        projs[f"{pre}_{post}_{kind}"] = SynapticProjection(pre, post, conn, g, s, o, delay=delay, dt=dt)

    w_sel = {("A", "A"): wp, ("B", "B"): wp, ("A", "B"): wm, ("B", "A"): wm, ("N", "A"): wm, ("N", "B"): wm}
    for pre in "ABN":
        for post in "ABNI":
            w = w_sel.get((pre, post), 1.0)
            to_i = post == "I"
            conn = _connect.full(n[pre], n[post])
            add(pre, post, "ampa", (p["g_EI_AMPA"] if to_i else p["g_EE_AMPA"] * w) / scale, conn, p["delay"])
            add(pre, post, "nmda", (p["g_EI_NMDA"] if to_i else p["g_EE_NMDA"] * w) / scale, conn, p["delay"])
    for post in "ABNI":
        g = (p["g_II_GABA"] if post == "I" else p["g_IE_GABA"]) / scale
        add("I", post, "gaba", g, _connect.full(n["I"], n[post]), p["delay"])
        add("bg" + post, post, "ampa", p["g_ext_I"] if post == "I" else p["g_ext_E"],
            _connect.one_to_one(n[post]), p["delay"])
    add("stimA", "A", "ampa", p["g_ext_E"], _connect.one_to_one(n["A"]), p["delay"])
    add("stimB", "B", "ampa", p["g_ext_E"], _connect.one_to_one(n["B"]), p["delay"])
    return Network(pops, projs)


def stimulus_rates(key, coherence, n_steps, dt, *, t_on, t_stim, mu0=WANG2002["mu0"],
                   sigma=WANG2002["sigma"], interval=WANG2002["interval"]):
    r"""Per-step stimulus rates (Hz) of groups A and B for one trial: arrays of shape ``(n_steps,)``.

    Zero outside :math:`[t_{on}, t_{on} + t_{stim})`; inside, every ``interval`` ms a new value
    :math:`\max(0, \mu_0(1 \pm c/100) + \sigma\xi)` with independent standard normal :math:`\xi`
    for A (+) and B (-). Traceable: ``coherence`` and ``key`` may be batched with ``jax.vmap``.
    """
    t = dt * jnp.arange(n_steps)
    n_seg = int(np.ceil(t_stim / interval))
    xi = jax.random.normal(key, (2, n_seg))
    c = jnp.asarray(coherence) / 100.0
    means = jnp.stack([mu0 * (1 + c), mu0 * (1 - c)])[:, None]
    seg_rates = jnp.maximum(means + sigma * xi, 0.0)
    k = jnp.clip(jnp.floor((t - t_on) / interval + 1e-9).astype(jnp.int32), 0, n_seg - 1)
    on = (t >= t_on - 1e-9) & (t < t_on + t_stim - 1e-9)
    r = jnp.where(on[None, :], seg_rates[:, k], 0.0)
    return r[0], r[1]


def window_rates(counts, n_neurons, dt, window=50.0, every=1.0):
    r"""Population rate (Hz) in a causal window from per-step spike counts.

    ``counts``: ``(..., n_steps)`` spikes of the population per step; returns ``(ts, rates)`` with
    ``ts`` the window ends (every ``every`` ms, from ``window``) and
    :math:`r(t) = (\#\text{spikes in } (t - w, t]) / (N\, w)`.
    """
    k = int(round(window / dt))
    e = int(round(every / dt))
    c = jnp.cumsum(counts, axis=-1)
    c = jnp.concatenate([jnp.zeros(c.shape[:-1] + (1,), c.dtype), c], axis=-1)
    idx = np.arange(k, counts.shape[-1] + 1, e)
    r = (c[..., idx] - c[..., idx - k]) / (n_neurons * window / 1000.0)
    return dt * idx, r


def trial_batch(net, n_steps, dt, *, t_on, t_stim, mu0=WANG2002["mu0"], sigma=WANG2002["sigma"],
                interval=WANG2002["interval"]):
    """A jitted function ``(state0, coherences, keys) -> counts``: one trial per (coherence, key)
    pair, all from ``state0``, as one ``jax.vmap`` of :func:`braindyn.simulate`; ``counts`` maps
    ``"A", "B", "N", "I"`` to the population spike counts per step, shape ``(trials, n_steps)``."""

    def trial(state0, c, key):
        k_stim, k_run = jax.random.split(key)
        ra, rb = stimulus_rates(k_stim, c, n_steps, dt, t_on=t_on, t_stim=t_stim, mu0=mu0, sigma=sigma,
                                interval=interval)
        inputs = {"stimA": {"rate": _inputs.from_array(ra[:, None], dt)},
                  "stimB": {"rate": _inputs.from_array(rb[:, None], dt)}}
        _, rec, _ = simulate(net, state0, n_steps, dt, inputs=inputs, key=k_run,
                             record=lambda s: {k: jnp.sum(s["pop"][k]["spike"]) for k in "ABNI"})
        return rec

    @jax.jit
    def batch(state0, cs, keys):
        return jax.vmap(trial, in_axes=(None, 0, 0))(state0, cs, keys)

    return batch
