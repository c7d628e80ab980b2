r"""The excitatory-inhibitory networks of chapter 6, built from public blocks.

* :func:`ei_rate_network`: the course's rate version of the balanced network. ``n_e`` and
  ``n_i`` threshold-linear rate units; every unit receives exactly ``K_E`` excitatory and
  ``K_I`` inhibitory inputs (fixed in-degree); couplings scale as :math:`1/\sqrt{K}`
  (:math:`K` = ``K_E``) and the external drive as :math:`\sqrt{K}`:

  .. math::
      \tau_a \dot r_i = -r_i + \Big[\sum_{b} \sum_{j \in \mathcal{K}_b(i)} \frac{j_{ab}}{\sqrt K}\, r_j
      + \sqrt{K}\, I_a\Big]_+ .

  The mean input to population :math:`a` is :math:`\sqrt K\,(\sum_b A_{ab} r_b + I_a)` with
  :math:`A_{ab} = j_{ab} K_b / K`: each part (excitation :math:`K_E J_{aE} r_E`, inhibition
  :math:`K_I J_{aI} r_I`, external) grows as :math:`\sqrt K`, and for the input to stay finite
  they must cancel. In the large-K limit the rates solve the linear balance equations
  (van Vreeswijk & Sompolinsky 1996)

  .. math:: A\, r + I = 0 \quad\Rightarrow\quad r_\infty = -A^{-1} I,

  and at finite K (fixed in-degree, every unit of a population sees the same mean input, so the
  fixed point is homogeneous) they solve :math:`r = \sqrt K (A r + I)` exactly:
  :math:`r_K = (I/\sqrt K - A)^{-1} I`, which tends to :math:`r_\infty` as :math:`1/\sqrt K`
  (:func:`balanced_rates`).

* :func:`plastic_inhibition_network`: a population that receives feedforward excitation and
  feedforward inhibition whose synapses learn with :class:`~braindyn.plasticity.InhibitorySTDP`
  (Vogels et al. 2011): in the spike form (LIF neurons, Poisson inputs, conductance synapses)
  the postsynaptic rate is driven to the target :math:`\rho_0 = \alpha / (2\tau)`; in the rate
  form (threshold-linear units, :math:`\Delta w = \eta(x\,y - \rho_0 x)`) the fixed point is
  :math:`y = \rho_0` exactly.

The spiking E-I network itself is :func:`braindyn.gallery.networks_bench.ei_balance`.
"""
from __future__ import annotations

import numpy as np

from .. import connect as bc
from .. import neurons
from .._errors import BraindynError
from ..network import Network
from ..plasticity import InhibitorySTDP
from ..synapses import ConductanceOutput, CurrentOutput, Exponential, Instant, SynapticProjection

__all__ = ["ei_rate_network", "balanced_rates", "plastic_inhibition_network", "LIF_BOOK"]

#: The book's LIF parameters of the E-I network (mV, ms).
LIF_BOOK = dict(V_rest=-60.0, V_reset=-60.0, V_th=-50.0, tau=20.0, t_ref=5.0)


def _coupling(j, K_E, K_I):
    j = np.asarray(j, float)
    if j.shape != (2, 2):
        raise BraindynError(f"ei_rate_network: j must be a 2 x 2 matrix [[j_EE, j_EI], [j_IE, j_II]], got shape "
                            f"{j.shape}. Fix: e.g. j=[[0.2, -1.6], [0.2, -1.44]].")
    return j * np.array([K_E, K_I], float)[None, :] / K_E


def balanced_rates(j, I_ext, K_E, K_I, *, finite=True):
    r"""Population rates ``(r_E, r_I)`` of :func:`ei_rate_network` at its fixed point.

    ``finite=False``: the large-K balanced state :math:`r_\infty = -A^{-1} I`; ``finite=True``:
    the exact finite-K fixed point :math:`(I/\sqrt K - A)^{-1} I` (both assume every unit is
    above threshold, which holds when the returned rates are positive). :math:`A_{ab} = j_{ab}
    K_b / K_E`; ``I_ext`` is the pair :math:`(I_E, I_I)` (before the :math:`\sqrt K` scale).

    Example
    -------
    >>> [round(float(r), 4) for r in balanced_rates([[0.2, -1.6], [0.2, -1.44]], [0.2, 0.16], 400, 100,
    ...                                              finite=False)]
    [1.0, 1.0]
    """
    A = _coupling(j, K_E, K_I)
    I = np.asarray(I_ext, float)
    if not finite:
        return np.linalg.solve(A, -I)
    return np.linalg.solve(np.eye(2) / np.sqrt(K_E) - A, I)


def ei_rate_network(n_e=2000, n_i=500, K_E=400, K_I=100, j=((0.2, -1.6), (0.2, -1.44)), tau_e=10.0, tau_i=10.0,
                    *, seed=0, dt=0.1, r0=None):
    r"""The course's rate E-I network (module equations), and its external drive.

    Parameters
    ----------
    n_e, n_i : int
        Number of excitatory and inhibitory threshold-linear units.
    K_E, K_I : int
        Excitatory and inhibitory inputs per unit (fixed in-degree).
    j : 2 x 2
        :math:`j_{ab}` (``[[j_EE, j_EI], [j_IE, j_II]]``), the synaptic weights being
        :math:`J_{ab} = j_{ab}/\sqrt{K_E}`. Default: :math:`A` = [[0.2, -0.4], [0.2, -0.36]],
        whose balanced rates for :math:`I = (0.2, 0.16)` are (1, 1); the random part of the
        coupling has spectral radius about 0.7 < 1 (a stable fixed point).
    tau_e, tau_i : float
        Time constants (ms).
    seed : int
        Seed of the connectivity.
    r0 : dict, optional
        Initial rates ``{"E": array, "I": array}`` (then pass ``state0=net.init_state(**r0)``).

    Returns
    -------
    ``(network, scale)``: drive it with ``inputs={"E": scale * I_E, "I": scale * I_I}``,
    ``scale`` = :math:`\sqrt{K_E}`; the rates are the variable ``r`` of populations ``E``, ``I``.

    Example
    -------
    >>> import braindyn as bd
    >>> net, s = ei_rate_network(n_e=200, n_i=50, K_E=40, K_I=10)
    >>> res = bd.run(net, 100.0, inputs={"E": s * 0.2, "I": s * 0.16}, record="pop.E.r")
    >>> r = balanced_rates([[0.2, -1.6], [0.2, -1.44]], [0.2, 0.16], 40, 10)
    >>> bool(abs(float(res["pop.E.r"][-1].mean()) - r[0]) < 1e-3)
    True
    """
    for name, v in (("n_e", n_e), ("n_i", n_i), ("K_E", K_E), ("K_I", K_I)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise BraindynError(f"ei_rate_network: {name} must be a positive integer, got {v!r}.")
    if K_E > n_e or K_I > n_i:
        raise BraindynError(f"ei_rate_network: K_E={K_E} > n_e={n_e} or K_I={K_I} > n_i={n_i}: a unit cannot receive "
                            f"more distinct inputs than there are units. Fix: raise n_e/n_i or lower K_E/K_I.")
    j = np.asarray(j, float)
    _coupling(j, K_E, K_I)
    sq = float(np.sqrt(K_E))
    pops = {"E": neurons.ThresholdLinear(n=int(n_e), tau=tau_e), "I": neurons.ThresholdLinear(n=int(n_i), tau=tau_i)}
    sizes = {"E": int(n_e), "I": int(n_i)}
    K = {"E": int(K_E), "I": int(K_I)}
    projs = {}
    for a_i, a in enumerate("EI"):
        for b_i, b in enumerate("EI"):
            conn = bc.fixed_in_degree(sizes[b], sizes[a], K[b], seed=seed * 10 + 2 * a_i + b_i)
            projs[b + a] = SynapticProjection(b, a, conn, float(j[a_i, b_i]) / sq, Instant(), CurrentOutput(),
                                              signal="r", dt=dt)
    return Network(pops, projs), sq


def plastic_inhibition_network(n_post=100, n_exc=400, n_inh=400, *, form="spike", p=0.2, rate_exc=10.0,
                               rate_inh=10.0, w_exc=0.3, w_inh=0.01, eta=0.2, rho0=5.0, tau_stdp=20.0, seed=0,
                               dt=0.1):
    r"""Feedforward excitation balanced by plastic feedforward inhibition (Vogels et al. 2011).

    ``form="spike"``: ``n_post`` LIF neurons (:data:`LIF_BOOK`) receive ``n_exc`` excitatory
    and ``n_inh`` inhibitory Poisson trains (``rate_exc``, ``rate_inh`` Hz) through random
    connectivity of probability ``p`` and conductance synapses (E: ``w_exc``, 5 ms, 0 mV;
    I: ``w_inh`` initial, 10 ms, -80 mV). The inhibitory synapses learn with
    :class:`~braindyn.plasticity.InhibitorySTDP` (``eta``, target ``rho0`` Hz, traces of
    ``tau_stdp`` ms: :math:`\alpha = 2\rho_0\tau`); drive with no external input.

    ``form="rate"``: ``n_post`` threshold-linear units (:math:`\tau` = 10 ms) with
    :math:`y = [\sum w^E x^E - \sum w^I x^I]_+`, the inputs being rate units held at
    ``rate_exc`` and ``rate_inh`` (drive ``inputs={"X": rate_exc, "Y": rate_inh}`` after
    creating them with ``r_init``); the inhibitory weights (``w_inh``, entering with a minus
    sign through a negative :class:`CurrentOutput` scale) learn with the rate form
    :math:`\dot w = \eta (x y - \rho_0 x)`, so :math:`y \to \rho_0`.

    Returns the :class:`~braindyn.Network`; populations ``"post"``, ``"X"`` (excitatory
    inputs), ``"Y"`` (inhibitory inputs); the plastic projection is ``"YP"``.

    Example
    -------
    >>> import braindyn as bd
    >>> net = plastic_inhibition_network(n_post=3, n_exc=50, n_inh=20, form="rate", eta=1e-3, rho0=2.0,
    ...                                  dt=1.0)
    >>> res = bd.run(net, 2000.0, 1.0, record="pop.post.r")
    >>> [round(float(v), 2) for v in res["pop.post.r"][-1]]
    [2.0, 2.0, 2.0]
    """
    if form not in ("spike", "rate"):
        raise BraindynError(f"plastic_inhibition_network: form must be 'spike' or 'rate', got {form!r}.")
    cx = bc.fixed_prob(n_exc, n_post, p, seed=seed * 10 + 1)
    cy = bc.fixed_prob(n_inh, n_post, p, seed=seed * 10 + 2)
    if form == "spike":
        pops = {"post": neurons.LIF(n=n_post, **LIF_BOOK, V_init=-60.0),
                "X": neurons.PoissonGroup(n=n_exc, rate=rate_exc), "Y": neurons.PoissonGroup(n=n_inh, rate=rate_inh)}
        rule = InhibitorySTDP(eta=eta, rho0=rho0 / 1000.0, tau=tau_stdp)
        projs = {"XP": SynapticProjection("X", "post", cx, w_exc, Exponential(5.0), ConductanceOutput(E=0.0), dt=dt),
                 "YP": SynapticProjection("Y", "post", cy, w_inh, Exponential(10.0), ConductanceOutput(E=-80.0),
                                          plasticity=rule, dt=dt)}
        return Network(pops, projs)
    pops = {"post": neurons.ThresholdLinear(n=n_post, tau=10.0),
            "X": neurons.ThresholdLinear(n=n_exc, tau=1e9, r_init=rate_exc),
            "Y": neurons.ThresholdLinear(n=n_inh, tau=1e9, r_init=rate_inh)}
    rule = InhibitorySTDP(eta=eta, rho0=rho0, form="rate")
    projs = {"XP": SynapticProjection("X", "post", cx, w_exc, Instant(), CurrentOutput(), signal="r", dt=dt),
             "YP": SynapticProjection("Y", "post", cy, w_inh, Instant(), CurrentOutput(scale=-1.0), signal="r",
                                      plasticity=rule, learn_pre="r", learn_post="r", dt=dt)}
    return Network(pops, projs)
