r"""The COBA, CUBA and COBA-HH benchmark networks (Brette et al. 2007), with the peers' parameters.

Every number below is the one the peer scripts (Brian2, BrainPy, NEST) use, so braindyn can be
timed side by side with them (``braindyn bench NAME``, ``benchmarks/run_peers.py``).

* **COBA** (Vogels & Abbott 2005; Brette et al. 2007 benchmark 1): :math:`N` LIF neurons, 80 %
  excitatory, connection probability :math:`80/N` (0.02 at 4000), conductance-based exponential
  synapses in units of the leak conductance:

  .. math::
      \tau_m \frac{dV}{dt} = -(V - E_L) + g_e (E_e - V) + g_i (E_i - V) + I_b,\quad
      \frac{dg_{e,i}}{dt} = -\frac{g_{e,i}}{\tau_{e,i}},\quad g_{e,i} \mathrel{+}= w_{e,i}

  :math:`\tau_m` 20, :math:`E_L` -60, :math:`V_{th}` -50, :math:`V_{reset}` -60 mV,
  :math:`t_{ref}` 5 ms, :math:`\tau_e` 5, :math:`\tau_i` 10 ms, :math:`E_e` 0, :math:`E_i` -80 mV,
  :math:`w_e` 0.6, :math:`w_i` 6.7, :math:`I_b` 20 mV, :math:`V_0 \sim N(-55, 2)` mV.
* **CUBA** (Brian2's ``examples/CUBA.py``; benchmark 2): :math:`\tau_m \dot V = -(V - E_L) + g_e + g_i`
  with :math:`E_L` -49 mV (so the neurons are driven), :math:`w_e` 1.62, :math:`w_i` -9 mV,
  :math:`V_0 \sim U(V_{reset}, V_{th})`.
* **COBA-HH** (benchmark 3, Traub--Miles HH): :math:`C_m` 200 pF, :math:`g_L` 10 nS,
  :math:`g_{Na}` 20 uS, :math:`g_K` 6 uS, :math:`V_T` -63 mV, :math:`w_e` 6, :math:`w_i` 67 nS, spike
  when :math:`V > -20` mV outside a 3 ms refractory period (no reset).

Integration: exponential Euler (the core's ``exp_euler``) with the synaptic conductances held
over the step, exactly Brian2's ``exponential_euler`` for these equations; for the LIF models it
is the exact solution over the step. The neuron models here take the conductances as inputs
``ge``, ``gi`` (projections with ``target="ge"/"gi"`` and :class:`~braindyn.synapses.CurrentOutput`),
so the conductances enter the linearisation (the exact update), rather than a current held
over the step.

Example
-------
>>> from braindyn.models.benchmarks import build
>>> net, state0 = build("coba", n=400)
>>> sorted(net.projections)
['syn']
"""
from __future__ import annotations

from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import BraindynError, check_choice
from ..connect import CSR, ProceduralConn, fixed_prob, from_ij
from ..core import SpikingNeuron, default_float
from ..integrators.exp import exprel
from ..network import Network
from ..synapses import CurrentOutput, Exponential, SynapticProjection

__all__ = ["DT", "SYN_PER_NEURON", "FRAC_EXC", "COBA", "CUBA", "COBAHH", "sizes", "COBALIF", "CUBALIF",
           "TraubHH", "build", "NAMES"]

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


def sizes(n):
    """``(n_exc, n_inh, p)`` for a network of ``n`` neurons (80 expected inputs per neuron)."""
    ne = int(round(FRAC_EXC * n))
    return ne, n - ne, SYN_PER_NEURON / n


def _g(args, name):
    return args.get(name, 0.0)


def _split_stacked(inputs, n):
    """Inputs with a stacked ``"g"`` of shape ``(2n,)`` -> ``"ge"`` (first half) and ``"gi"``."""
    if not isinstance(inputs, dict) or "g" not in inputs:
        return inputs
    out = dict(inputs)
    g = out.pop("g")
    for name, part in (("ge", g[:n]), ("gi", g[n:])):
        out[name] = out[name] + part if name in out else part
    return out


def _fast(model) -> bool:
    """The written-out exponential-Euler update applies (default method, no noise)."""
    return isinstance(model.method, str) and model.method in ("exp_euler", "exp_auto") and model.noise is None


class _StackedConductances:
    """Lets a neuron take its excitatory and inhibitory conductances either as inputs ``ge`` and
    ``gi`` or as one stacked input ``g = [ge, gi]`` of shape ``(2n,)``: the output of a single
    projection whose connectivity targets ``2n`` receptor channels (one event kernel call per
    step for both synapse types, see :func:`build`)."""

    def step(self, state, inputs, t, dt, key=None):
        return SpikingNeuron.step(self, state, _split_stacked(inputs, self.n), t, dt, key)


class COBALIF(_StackedConductances, SpikingNeuron):
    r"""LIF with excitatory and inhibitory conductances as inputs (COBA benchmark neuron).

    .. math:: \tau_m \dot V = -(V - E_L) + g_e (E_e - V) + g_i (E_i - V) + I_b + I

    Inputs ``ge``, ``gi`` (in units of the leak conductance) and ``I`` (mV). Exponential Euler is
    exact for conductances held over the step. Refractory: ``V`` frozen for exactly ``t_ref``
    (``refractory_rule="exact"``, Brian2's rule). ``V`` starts at :math:`N(V_{0}, \sigma_0^2)`.

    Example
    -------
    >>> import jax
    >>> nrn = COBALIF(n=3)
    >>> nrn.init_state(key=jax.random.PRNGKey(0))["V"].shape
    (3,)
    """

    variables: ClassVar[tuple[str, ...]] = ("V",)
    tau_m: Any = COBA["tau_m"]
    E_L: Any = COBA["E_L"]
    V_th: Any = COBA["V_th"]
    V_reset: Any = COBA["V_reset"]
    E_e: Any = COBA["E_e"]
    E_i: Any = COBA["E_i"]
    I_b: Any = COBA["I_b"]
    V0_mean: Any = COBA["V0_mean"]
    V0_std: Any = COBA["V0_std"]
    t_ref: Any = COBA["t_ref"]
    refractory_rule: str = "exact"

    def initial(self):
        return {"V": self.V0_mean}

    def init_state(self, *, key=None, dtype=None, **initial):
        st = SpikingNeuron.init_state(self, key=key, dtype=dtype, **initial)
        if "V" not in initial and key is not None:
            st["V"] = (self.V0_mean + self.V0_std * jax.random.normal(key, (self.n,))).astype(st["V"].dtype)
        return st

    def vector_field(self, t, y, args):
        V = y["V"]
        return {"V": (-(V - self.E_L) + _g(args, "ge") * (self.E_e - V) + _g(args, "gi") * (self.E_i - V)
                      + self.I_b + args["I"]) / self.tau_m}

    def integrate_continuous(self, y, args, t, dt, key):
        r"""Fast path of ``exp_euler`` (same update, written out): with the conductances held,
        :math:`V \to V_\infty + (V - V_\infty) e^{-(1 + g_e + g_i)\Delta t/\tau_m}`."""
        if not _fast(self):
            return SpikingNeuron.integrate_continuous(self, y, args, t, dt, key)
        ge, gi = _g(args, "ge"), _g(args, "gi")
        gt = 1.0 + ge + gi
        V_inf = (self.E_L + ge * self.E_e + gi * self.E_i + self.I_b + args["I"]) / gt
        return {"V": V_inf + (y["V"] - V_inf) * jnp.exp(-gt * (dt / self.tau_m))}

    def reset(self, y, spike):
        return {"V": self.reset_to(y["V"], self.V_reset, spike)}


class CUBALIF(_StackedConductances, SpikingNeuron):
    r"""LIF with current-based (voltage) synaptic inputs (CUBA benchmark neuron).

    .. math:: \tau_m \dot V = -(V - E_L) + g_e + g_i + I

    ``ge``, ``gi`` in mV; ``V`` starts uniform in :math:`[V_{reset}, V_{th}]`.

    Example
    -------
    >>> CUBALIF(n=2).E_L
    -49.0
    """

    variables: ClassVar[tuple[str, ...]] = ("V",)
    tau_m: Any = CUBA["tau_m"]
    E_L: Any = CUBA["E_L"]
    V_th: Any = CUBA["V_th"]
    V_reset: Any = CUBA["V_reset"]
    t_ref: Any = CUBA["t_ref"]
    refractory_rule: str = "exact"

    def initial(self):
        return {"V": self.V_reset}

    def init_state(self, *, key=None, dtype=None, **initial):
        st = SpikingNeuron.init_state(self, key=key, dtype=dtype, **initial)
        if "V" not in initial and key is not None:
            u = jax.random.uniform(key, (self.n,))
            st["V"] = (self.V_reset + u * (self.V_th - self.V_reset)).astype(st["V"].dtype)
        return st

    def vector_field(self, t, y, args):
        return {"V": (-(y["V"] - self.E_L) + _g(args, "ge") + _g(args, "gi") + args["I"]) / self.tau_m}

    def integrate_continuous(self, y, args, t, dt, key):
        """Fast path of ``exp_euler`` (exact for inputs held over the step)."""
        if not _fast(self):
            return SpikingNeuron.integrate_continuous(self, y, args, t, dt, key)
        V_inf = self.E_L + _g(args, "ge") + _g(args, "gi") + args["I"]
        return {"V": V_inf + (y["V"] - V_inf) * jnp.exp(-dt / self.tau_m)}

    def reset(self, y, spike):
        return {"V": self.reset_to(y["V"], self.V_reset, spike)}


def traub_rates(V, V_T):
    r"""Traub--Miles rates (1/ms) of the COBA-HH benchmark (Brette et al. 2007), ``V`` in mV.

    .. math::
        \alpha_m = \frac{0.32 (13 - V + V_T)}{e^{(13 - V + V_T)/4} - 1},\;
        \beta_m = \frac{0.28 (V - V_T - 40)}{e^{(V - V_T - 40)/5} - 1},\;
        \alpha_h = 0.128 e^{(17 - V + V_T)/18},\;
        \beta_h = \frac{4}{1 + e^{(40 - V + V_T)/5}},\;
        \alpha_n = \frac{0.032 (15 - V + V_T)}{e^{(15 - V + V_T)/5} - 1},\;
        \beta_n = 0.5 e^{(10 - V + V_T)/40}
    """
    return {
        "alpha_m": 0.32 * 4.0 / exprel((13.0 - V + V_T) / 4.0),
        "beta_m": 0.28 * 5.0 / exprel((V - V_T - 40.0) / 5.0),
        "alpha_h": 0.128 * jnp.exp((17.0 - V + V_T) / 18.0),
        "beta_h": 4.0 / (1.0 + jnp.exp((40.0 - V + V_T) / 5.0)),
        "alpha_n": 0.032 * 5.0 / exprel((15.0 - V + V_T) / 5.0),
        "beta_n": 0.5 * jnp.exp((10.0 - V + V_T) / 40.0),
    }


class TraubHH(_StackedConductances, SpikingNeuron):
    r"""Traub--Miles Hodgkin--Huxley neuron of the COBA-HH benchmark, conductances as inputs.

    .. math::
        C_m \dot V = g_L (E_L - V) + g_e (E_e - V) + g_i (E_i - V) - g_{Na} m^3 h (V - E_{Na})
                     - g_K n^4 (V - E_K) + I

    with the gates of :func:`traub_rates`; ``ge``, ``gi`` in nS, ``C_m`` in pF (so V in mV, t in
    ms). A spike is ``V > V_spike`` outside the refractory period; nothing is reset or frozen.
    ``V`` starts at :math:`E_L - 5 + 5\,\xi` mV, the gates at 0 (as the peers do).

    Example
    -------
    >>> TraubHH(n=2).V_th
    -20.0
    """

    variables: ClassVar[tuple[str, ...]] = ("V", "m", "h", "n")
    refractory_vars: ClassVar[tuple[str, ...]] = ()
    C_m: Any = COBAHH["C_m"]
    g_L: Any = COBAHH["g_L"]
    E_L: Any = COBAHH["E_L"]
    E_K: Any = COBAHH["E_K"]
    E_Na: Any = COBAHH["E_Na"]
    g_Na: Any = COBAHH["g_Na"]
    g_K: Any = COBAHH["g_K"]
    V_T: Any = COBAHH["V_T"]
    E_e: Any = COBAHH["E_e"]
    E_i: Any = COBAHH["E_i"]
    V_th: Any = COBAHH["V_spike"]
    t_ref: Any = COBAHH["t_ref"]
    refractory_rule: str = "exact"

    def initial(self):
        return {"V": self.E_L - 5.0, "m": 0.0, "h": 0.0, "n": 0.0}

    def init_state(self, *, key=None, dtype=None, **initial):
        st = SpikingNeuron.init_state(self, key=key, dtype=dtype, **initial)
        if "V" not in initial and key is not None:
            st["V"] = (self.E_L - 5.0 + 5.0 * jax.random.normal(key, (self.n,))).astype(st["V"].dtype)
        return st

    def vector_field(self, t, y, args):
        V, m, h, n = y["V"], y["m"], y["h"], y["n"]
        r = traub_rates(V, self.V_T)
        I = (self.g_L * (self.E_L - V) + _g(args, "ge") * (self.E_e - V) + _g(args, "gi") * (self.E_i - V)
             - self.g_Na * m ** 3 * h * (V - self.E_Na) - self.g_K * n ** 4 * (V - self.E_K) + args["I"])
        return {
            "V": I / self.C_m,
            "m": r["alpha_m"] * (1.0 - m) - r["beta_m"] * m,
            "h": r["alpha_h"] * (1.0 - h) - r["beta_h"] * h,
            "n": r["alpha_n"] * (1.0 - n) - r["beta_n"] * n,
        }

    def integrate_continuous(self, y, args, t, dt, key):
        r"""Fast path of ``exp_euler``: the same per-variable update (each equation is linear in its
        own variable with the others held), written out so that the rates are computed once:
        :math:`x \to x_\infty + (x - x_\infty) e^{-\Delta t/\tau_x}` for the gates and for ``V``
        (:math:`V_\infty = \sum_k g_k E_k / \sum_k g_k`, :math:`\tau_V = C_m / \sum_k g_k`)."""
        if not _fast(self):
            return SpikingNeuron.integrate_continuous(self, y, args, t, dt, key)
        V, m, h, n = y["V"], y["m"], y["h"], y["n"]
        r = traub_rates(V, self.V_T)
        ge, gi = _g(args, "ge"), _g(args, "gi")
        gna = self.g_Na * m ** 3 * h
        gk = self.g_K * (n * n) * (n * n)
        gt = self.g_L + ge + gi + gna + gk
        V_inf = (self.g_L * self.E_L + ge * self.E_e + gi * self.E_i + gna * self.E_Na + gk * self.E_K
                 + args["I"]) / gt
        out = {"V": V_inf + (V - V_inf) * jnp.exp(-gt * (dt / self.C_m))}
        for x in ("m", "h", "n"):
            a, b = r[f"alpha_{x}"], r[f"beta_{x}"]
            x_inf = a / (a + b)
            out[x] = x_inf + (y[x] - x_inf) * jnp.exp(-(a + b) * dt)
        return out


# --------------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------------
def _rows_block(csr: CSR, n_total: int, offset: int) -> CSR:
    """Embed a CSR of ``csr.n_pre`` rows at row ``offset`` of an ``n_total``-row CSR (other rows empty)."""
    ip = np.asarray(csr.indptr, np.int64)
    full = np.concatenate([np.zeros(offset, np.int64), ip, np.full(n_total - offset - csr.n_pre, ip[-1], np.int64)])
    return CSR(full.astype(np.int32), np.asarray(csr.indices), n_total, csr.n_post, max_row=csr.max_row,
               validate=False)


def _connectivity(storage, n, lo, hi, p, seed):
    """Rows ``lo:hi`` of an ``n x n`` random connectivity (probability ``p``) in ``storage``."""
    if storage == "procedural":
        return ProceduralConn(n, n, p, seed=seed), (lo, hi)
    # the same synapses as the procedural storage would give, or a fast host generator
    if storage in ("csr", "dense"):
        full = _rows_block(fixed_prob(hi - lo, n, p, seed=seed), n, lo)
    else:  # "csr-procedural", "dense-procedural": rows lo:hi of the procedural synapses, stored
        pre, post = ProceduralConn(n, n, p, seed=seed).to_csr().to_ij()
        keep = (pre >= lo) & (pre < hi)
        full = from_ij(pre[keep], post[keep], n, n)
    if storage.startswith("dense"):
        return full.to_dense(dtype=np.float32), None
    return full, None


STORAGES = ("csr", "dense", "procedural", "csr-procedural", "dense-procedural")


def _fused_conn(n, ne, p, seed):
    """One CSR ``n x 2n``: excitatory rows target channels ``0:n`` (ge), inhibitory rows ``n:2n`` (gi).

    The same synapses as the two separate projections of ``fused=False`` (same seeds)."""
    ce = fixed_prob(ne, n, p, seed=seed)
    ci = fixed_prob(n - ne, n, p, seed=seed + 1)
    ipe, ipi = np.asarray(ce.indptr, np.int64), np.asarray(ci.indptr, np.int64)
    indptr = np.concatenate([ipe, ipi[1:] + ipe[-1]])
    indices = np.concatenate([np.asarray(ce.indices, np.int64), np.asarray(ci.indices, np.int64) + n])
    conn = CSR(indptr.astype(np.int32), indices.astype(np.int32), n, 2 * n, max_row=max(ce.max_row, ci.max_row),
               validate=False)
    return conn, ce.nnz


def build(name: str, n: int = 4000, *, seed: int = 1, dtype=None, storage: str = "csr", fused: bool | None = None,
          key=None):
    """Build a benchmark network and its initial state.

    Parameters
    ----------
    name : {"coba", "cuba", "cobahh"}
    n : int
        Number of neurons (80 % excitatory; connection probability 80/n).
    seed : int
        Seed of the connectivity and of the initial state.
    dtype : dtype
        Float type of the state (default: JAX's default, float32).
    storage : str
        ``"csr"`` (default), ``"dense"``, ``"procedural"`` (regenerated every step),
        ``"csr-procedural"``/``"dense-procedural"`` (the procedural synapses, stored).
    fused : bool, optional
        One projection ``"syn"`` whose CSR targets ``2n`` channels (``ge`` then ``gi``, with one
        per-synapse weight and one time constant per channel), delivered as the stacked input
        ``g``: one event-kernel call per step instead of two. Default: True for ``storage="csr"``.
        Otherwise two projections ``"exc"`` (rows ``0:n_exc``, target ``ge``) and ``"inh"``
        (target ``gi``). Both forms hold the same synapses and give the same activity.

    Returns
    -------
    ``(network, state0)``. The population is ``"P"`` (excitatory neurons first).
    """
    check_choice("benchmark", name, NAMES, "build")
    check_choice("storage", storage, STORAGES, "build")
    if not isinstance(n, int) or n < 10:
        raise BraindynError(f"benchmark size n must be an integer >= 10, got {n!r}. Fix: e.g. n=4000.")
    fused = (storage == "csr") if fused is None else bool(fused)
    if fused and storage != "csr":
        raise BraindynError(f"build: fused=True needs storage='csr', got storage={storage!r}. Fix: fused=False.")
    dtype = dtype or default_float()
    ne, ni, p = sizes(n)
    P, neuron = {"coba": (COBA, COBALIF), "cuba": (CUBA, CUBALIF), "cobahh": (COBAHH, TraubHH)}[name]
    neuron = neuron(n=n)
    if fused:
        conn, n_exc_syn = _fused_conn(n, ne, p, seed)
        w = np.where(np.arange(conn.nnz) < n_exc_syn, P["we"], P["wi"]).astype(np.float32)
        tau = np.concatenate([np.full(n, P["tau_e"]), np.full(n, P["tau_i"])]).astype(np.float32)
        projs = {"syn": SynapticProjection("P", "P", conn, w, Exponential(jnp.asarray(tau)), CurrentOutput(),
                                           target="g", channels=2)}
    else:
        ce, re_ = _connectivity(storage, n, 0, ne, p, seed)
        ci, ri = _connectivity(storage, n, ne, n, p, seed + 1)
        projs = {"exc": SynapticProjection("P", "P", ce, P["we"], Exponential(P["tau_e"]), CurrentOutput(),
                                           target="ge", pre_range=re_),
                 "inh": SynapticProjection("P", "P", ci, P["wi"], Exponential(P["tau_i"]), CurrentOutput(),
                                           target="gi", pre_range=ri)}
    net = Network({"P": neuron}, projs)
    key = jax.random.PRNGKey(seed) if key is None else key
    state = net.init_state(key=key, dtype=dtype)
    if name == "cobahh":
        k1, k2 = jax.random.split(jax.random.fold_in(key, 7))
        ge = jnp.clip((jax.random.normal(k1, (n,)) * 1.5 + 4.0) * 10.0, 0.0, None).astype(dtype)
        gi = jnp.clip((jax.random.normal(k2, (n,)) * 12.0 + 20.0) * 10.0, 0.0, None).astype(dtype)
        if fused:
            state["proj"]["syn"]["syn"]["g"] = jnp.concatenate([ge, gi])
        else:
            state["proj"]["exc"]["syn"]["g"] = ge
            state["proj"]["inh"]["syn"]["g"] = gi
    return net, state
