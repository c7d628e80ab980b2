r"""The COBA, CUBA and COBA-HH benchmark networks (Brette et al. 2007), built from public blocks.

Every number below is the one the peer scripts (Brian2, BrainPy, NEST) use, so braindyn can be
timed side by side with them (``braindyn bench NAME``, ``benchmarks/run_peers.py``). The networks
are assembled exactly as a user would write them: two populations ``E`` and ``I`` of public
neurons, four :class:`~braindyn.synapses.SynapticProjection` (``EE``, ``EI``, ``IE``, ``II``) with
:class:`~braindyn.synapses.Exponential` kinetics and CSR connectivity from
:mod:`braindyn.connect`, the constant drive as a run input, and the random initial state through
``init_state``. There is no benchmark-only neuron class and no hand-written update: the speed is
the library's.

* **COBA** (Vogels & Abbott 2005; Brette et al. 2007 benchmark 1): :math:`N` LIF neurons
  (:class:`braindyn.neurons.LIF`), 80 % excitatory, connection probability :math:`80/N`
  (0.02 at 4000), conductance-based exponential synapses
  (:class:`~braindyn.synapses.ConductanceOutput`) in units of the leak conductance:

  .. math::
      \tau_m \frac{dV}{dt} = -(V - E_L) + g_e (E_e - V) + g_i (E_i - V) + I_b,\quad
      \frac{dg_{e,i}}{dt} = -\frac{g_{e,i}}{\tau_{e,i}},\quad g_{e,i} \mathrel{+}= w_{e,i}

  :math:`\tau_m` 20, :math:`E_L` -60, :math:`V_{th}` -50, :math:`V_{reset}` -60 mV,
  :math:`t_{ref}` 5 ms, :math:`\tau_e` 5, :math:`\tau_i` 10 ms, :math:`E_e` 0, :math:`E_i` -80 mV,
  :math:`w_e` 0.6, :math:`w_i` 6.7, :math:`I_b` 20 mV, :math:`V_0 \sim N(-55, 2)` mV.
* **CUBA** (Brian2's ``examples/CUBA.py``; benchmark 2): :math:`\tau_m \dot V = -(V - E_L) + g_e + g_i`
  (:class:`~braindyn.synapses.CurrentOutput`) with :math:`E_L` -49 mV (so the neurons are
  driven), :math:`w_e` 1.62, :math:`w_i` -9 mV, :math:`V_0 \sim U(V_{reset}, V_{th})`.
* **COBA-HH** (benchmark 3, Traub--Miles HH): a :class:`braindyn.neurons.ConductanceNeuron` of a
  leak and the Traub--Miles sodium and potassium channels (:class:`INa_TM`, :class:`IK_TM`,
  channel pieces written on the public :class:`~braindyn.neurons.channels.RateChannel`),
  :math:`C_m` 200 pF, :math:`g_L` 10 nS, :math:`g_{Na}` 20 uS, :math:`g_K` 6 uS,
  :math:`V_T` -63 mV, :math:`w_e` 6, :math:`w_i` 67 nS, spike when :math:`V` crosses -20 mV
  outside a 3 ms refractory period (no reset):

  .. math::
      C_m \dot V = g_L (E_L - V) + g_e (E_e - V) + g_i (E_i - V) - g_{Na} m^3 h (V - E_{Na})
                   - g_K n^4 (V - E_K)

  Initial state as the peers: :math:`V = E_L - 5 + 5\xi` mV, :math:`m = h = n = 0`,
  :math:`g_e = 10 (4 + 1.5\xi)` nS, :math:`g_i = 10 (20 + 12\xi)` nS.

Integration: the neurons' default exponential Euler. The conductance outputs hand the neuron
their :math:`(g, E)` pairs (:class:`braindyn.Conductance`), which the neuron resolves at its own
potential inside the step, so exponential Euler sees the total conductance in its
linearisation: the update is exact for the LIF equations with the conductances held over the
step, and it is Brian2's ``exponential_euler`` for these equations. Refractoriness follows
Brian2's rule (``refractory_rule="exact"``).

Example
-------
>>> from braindyn.models.benchmarks import build
>>> b = build("coba", n=400)
>>> sorted(b.network.populations), sorted(b.network.projections)
(['E', 'I'], ['EE', 'EI', 'IE', 'II'])
>>> b.inputs
{'E': 20.0, 'I': 20.0}
"""
from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .. import connect as bc
from .. import neurons
from .._errors import BraindynError, check_choice
from ..integrators import exprel
from ..network import Network
from ..neurons.channels import Leak, RateChannel
from ..params import default_float, param
from ..synapses import ConductanceOutput, CurrentOutput, Exponential, SynapticProjection

__all__ = ["DT", "SYN_PER_NEURON", "FRAC_EXC", "COBA", "CUBA", "COBAHH", "NAMES", "STORAGES", "sizes",
           "traub_rates", "INa_TM", "IK_TM", "Benchmark", "build"]

# ---- parameters: the same numbers as the peers' params.py (units: ms, mV, nS, pF) -----------
DT = 0.1
SYN_PER_NEURON = 80
FRAC_EXC = 0.8
COBA = dict(tau_m=20.0, E_L=-60.0, V_th=-50.0, V_reset=-60.0, t_ref=5.0,
            tau_e=5.0, tau_i=10.0, E_e=0.0, E_i=-80.0, we=0.6, wi=6.7, I_b=20.0,
            C_m=200.0, g_L=10.0, V0_mean=-55.0, V0_std=2.0)
CUBA = dict(tau_m=20.0, E_L=-49.0, V_th=-50.0, V_reset=-60.0, t_ref=5.0,
            tau_e=5.0, tau_i=10.0, we=1.62, wi=-9.0, C_m=250.0)
COBAHH = dict(C_m=200.0, g_L=10.0, E_L=-60.0, E_K=-90.0, E_Na=50.0, g_Na=20000.0, g_K=6000.0, V_T=-63.0,
              tau_e=5.0, tau_i=10.0, E_e=0.0, E_i=-80.0, we=6.0, wi=67.0, V_spike=-20.0, t_ref=3.0)
NAMES = ("coba", "cuba", "cobahh")
#: Connectivity storages: ``"csr"`` (:func:`braindyn.connect.fixed_prob`), ``"procedural"``
#: (:class:`braindyn.connect.ProceduralConn`, regenerated every step), and the procedural
#: synapses stored as a CSR (``"csr-procedural"``) or a dense matrix (``"dense-procedural"``).
STORAGES = ("csr", "procedural", "csr-procedural", "dense-procedural")


def sizes(n):
    """``(n_exc, n_inh, p)`` for a network of ``n`` neurons (80 expected inputs per neuron)."""
    ne = int(round(FRAC_EXC * n))
    return ne, n - ne, SYN_PER_NEURON / n


# --------------------------------------------------------------------------------------------
# Traub--Miles channel pieces (public RateChannel pieces, as a user adds a channel)
# --------------------------------------------------------------------------------------------
def traub_rates(V, V_T):
    r"""Traub--Miles rates (1/ms) of the COBA-HH benchmark (Brette et al. 2007), ``V`` in mV.

    .. math::
        \alpha_m = \frac{0.32 (13 - V + V_T)}{e^{(13 - V + V_T)/4} - 1},\;
        \beta_m = \frac{0.28 (V - V_T - 40)}{e^{(V - V_T - 40)/5} - 1},\;
        \alpha_h = 0.128 e^{(17 - V + V_T)/18},\;
        \beta_h = \frac{4}{1 + e^{(40 - V + V_T)/5}},\;
        \alpha_n = \frac{0.032 (15 - V + V_T)}{e^{(15 - V + V_T)/5} - 1},\;
        \beta_n = 0.5 e^{(10 - V + V_T)/40}

    The removable singularities are evaluated exactly through :math:`x/(e^x - 1) = 1/\varphi_1(x)`.

    Example
    -------
    >>> round(float(traub_rates(-50.0, -63.0)["alpha_m"]), 4)      # 0.32 * 4 at V = V_T + 13
    1.28
    """
    return {
        "alpha_m": 0.32 * 4.0 / exprel((13.0 - V + V_T) / 4.0),
        "beta_m": 0.28 * 5.0 / exprel((V - V_T - 40.0) / 5.0),
        "alpha_h": 0.128 * jnp.exp((17.0 - V + V_T) / 18.0),
        "beta_h": 4.0 / (1.0 + jnp.exp((40.0 - V + V_T) / 5.0)),
        "alpha_n": 0.032 * 5.0 / exprel((15.0 - V + V_T) / 5.0),
        "beta_n": 0.5 * jnp.exp((10.0 - V + V_T) / 40.0),
    }


class INa_TM(RateChannel):
    r"""Traub--Miles sodium current :math:`I_{Na} = g\, m^3 h\, (V - E)` (gates of :func:`traub_rates`).

    Parameters: ``g`` (conductance, the unit of the neuron's, here nS), ``E`` (mV), ``V_T`` (mV),
    ``phi`` (temperature factor, 1).
    """

    gates: ClassVar[tuple[str, ...]] = ("m", "h")
    ion: ClassVar[str] = "Na"
    g: Any = param(COBAHH["g_Na"], bound="nonnegative", doc="maximal conductance")
    E: Any = param(COBAHH["E_Na"], unit="mV", doc="reversal potential")
    V_T: Any = param(COBAHH["V_T"], unit="mV", doc="threshold shift of the rates")
    phi: Any = param(1.0, bound="positive", doc="temperature factor of the gates")

    def gate_rates(self, V):
        r = traub_rates(V, self.V_T)
        return {"m": (r["alpha_m"], r["beta_m"]), "h": (r["alpha_h"], r["beta_h"])}

    def current(self, V, s, env):
        m = s["m"]
        return self.g * (m * m * m) * s["h"] * (V - self.E)

    def conductance(self, V, s, env):
        m = s["m"]
        return self.g * (m * m * m) * s["h"]


class IK_TM(RateChannel):
    r"""Traub--Miles delayed-rectifier potassium current :math:`I_K = g\, n^4 (V - E)`.

    Parameters: ``g`` (here nS), ``E`` (mV), ``V_T`` (mV), ``phi`` (1).
    """

    gates: ClassVar[tuple[str, ...]] = ("n",)
    ion: ClassVar[str] = "K"
    g: Any = param(COBAHH["g_K"], bound="nonnegative", doc="maximal conductance")
    E: Any = param(COBAHH["E_K"], unit="mV", doc="reversal potential")
    V_T: Any = param(COBAHH["V_T"], unit="mV", doc="threshold shift of the rates")
    phi: Any = param(1.0, bound="positive", doc="temperature factor of the gates")

    def gate_rates(self, V):
        r = traub_rates(V, self.V_T)
        return {"n": (r["alpha_n"], r["beta_n"])}

    def current(self, V, s, env):
        n2 = s["n"] * s["n"]
        return self.g * (n2 * n2) * (V - self.E)

    def conductance(self, V, s, env):
        n2 = s["n"] * s["n"]
        return self.g * (n2 * n2)


# --------------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------------
class Benchmark(NamedTuple):
    """What :func:`build` returns: run it with ``bd.run(network, T, state0=state0, inputs=inputs)``."""

    network: Network
    state0: dict
    inputs: Any


def _conn(storage, n_pre, n_post, p, seed):
    """An ``n_pre x n_post`` random connectivity of probability ``p`` in ``storage``."""
    if storage == "csr":
        return bc.fixed_prob(n_pre, n_post, p, seed=seed)
    pc = bc.ProceduralConn(n_pre, n_post, p, seed=seed)
    if storage == "procedural":
        return pc
    csr = pc.to_csr()
    return csr if storage == "csr-procedural" else csr.to_dense(dtype=np.float32)


def _neurons(name, ne, ni):
    if name == "coba":
        P = COBA
        kw = dict(V_rest=P["E_L"], V_reset=P["V_reset"], V_th=P["V_th"], tau=P["tau_m"], t_ref=P["t_ref"],
                  refractory_rule="exact")
        return neurons.LIF(n=ne, **kw), neurons.LIF(n=ni, **kw)
    if name == "cuba":
        P = CUBA
        kw = dict(V_rest=P["E_L"], V_reset=P["V_reset"], V_th=P["V_th"], tau=P["tau_m"], t_ref=P["t_ref"],
                  refractory_rule="exact")
        return neurons.LIF(n=ne, **kw), neurons.LIF(n=ni, **kw)
    P = COBAHH

    def hh(n):
        channels = {"Na": INa_TM(g=P["g_Na"], E=P["E_Na"], V_T=P["V_T"]),
                    "K": IK_TM(g=P["g_K"], E=P["E_K"], V_T=P["V_T"]),
                    "L": Leak(g=P["g_L"], E=P["E_L"])}
        return neurons.ConductanceNeuron(channels, C=P["C_m"], V_th=P["V_spike"], V_init=P["E_L"] - 5.0, n=n,
                                         t_ref=P["t_ref"], refractory_rule="exact")

    return hh(ne), hh(ni)


def _initial(name, key, ne, ni, dtype):
    """Initial values per population, given to ``init_state`` (the public path)."""
    out = {}
    for pop, k, n in (("E", jax.random.fold_in(key, 0), ne), ("I", jax.random.fold_in(key, 1), ni)):
        if name == "coba":
            V = COBA["V0_mean"] + COBA["V0_std"] * jax.random.normal(k, (n,), dtype)
            out[pop] = {"V": V}
        elif name == "cuba":
            V = CUBA["V_reset"] + (CUBA["V_th"] - CUBA["V_reset"]) * jax.random.uniform(k, (n,), dtype)
            out[pop] = {"V": V}
        else:
            V = COBAHH["E_L"] - 5.0 + 5.0 * jax.random.normal(k, (n,), dtype)
            out[pop] = {"V": V, "Na_m": 0.0, "Na_h": 0.0, "K_n": 0.0}
    return out


def build(name: str, n: int = 4000, *, seed: int = 1, dtype=None, storage: str = "csr", key=None) -> Benchmark:
    """Build a benchmark network, its initial state and its inputs, from public building blocks.

    Parameters
    ----------
    name : {"coba", "cuba", "cobahh"}
    n : int
        Number of neurons (80 % excitatory in population ``E``, the rest in ``I``; connection
        probability 80/n).
    seed : int
        Seed of the connectivity (projection ``k`` of ``EE, EI, IE, II`` uses ``seed * 10 + k``)
        and, unless ``key`` is given, of the initial state.
    dtype : dtype
        Float type of the state (default: JAX's default, float32).
    storage : str
        One of :data:`STORAGES`.
    key : PRNG key, optional
        Key of the initial state (default ``PRNGKey(seed)``).

    Returns
    -------
    :class:`Benchmark` ``(network, state0, inputs)``: ``inputs`` is the constant drive
    (``{"E": 20.0, "I": 20.0}`` for COBA, ``None`` for the others).
    """
    check_choice("benchmark", name, NAMES, "build")
    check_choice("storage", storage, STORAGES, "build")
    if not isinstance(n, int) or isinstance(n, bool) or n < 10:
        raise BraindynError(f"benchmark size n must be an integer >= 10, got {n!r}. Fix: e.g. n=4000.")
    dtype = dtype or default_float()
    ne, ni, p = sizes(n)
    P = {"coba": COBA, "cuba": CUBA, "cobahh": COBAHH}[name]
    E, I = _neurons(name, ne, ni)
    size = {"E": ne, "I": ni}
    projs = {}
    for k, (a, b) in enumerate((("E", "E"), ("E", "I"), ("I", "E"), ("I", "I"))):
        exc = a == "E"
        if name == "cuba":
            output = CurrentOutput()
        else:
            output = ConductanceOutput(E=P["E_e"] if exc else P["E_i"])
        projs[a + b] = SynapticProjection(a, b, _conn(storage, size[a], size[b], p, seed * 10 + k),
                                          P["we"] if exc else P["wi"],
                                          Exponential(P["tau_e"] if exc else P["tau_i"]), output)
    net = Network({"E": E, "I": I}, projs)
    key = jax.random.PRNGKey(seed) if key is None else key
    k_init, k_syn = jax.random.split(key)
    state = net.init_state(key=k_init, dtype=dtype, **_initial(name, k_init, ne, ni, dtype))
    if name == "cobahh":
        # the peers' initial conductances (nS), clipped at 0: the excitatory projections onto a
        # population hold its g_e, the inhibitory ones its g_i
        for proj, k, mean, sd in (("EE", 0, 4.0, 1.5), ("EI", 1, 4.0, 1.5), ("IE", 2, 20.0, 12.0),
                                  ("II", 3, 20.0, 12.0)):
            m = size[projs[proj].post]
            g = 10.0 * (mean + sd * jax.random.normal(jax.random.fold_in(k_syn, k), (m,), dtype))
            state["proj"][proj]["syn"]["g"] = jnp.maximum(g, 0.0).astype(dtype)
    inputs = {"E": P["I_b"], "I": P["I_b"]} if name == "coba" else None
    return Benchmark(net, state, inputs)
