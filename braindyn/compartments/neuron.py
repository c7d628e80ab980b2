r"""Compartmental neurons: the cable equation on a morphology, with channels per section.

For compartment :math:`i` of membrane area :math:`A_i` (cm²), capacitance
:math:`C_i = c_m A_i`, and axial conductance :math:`g_{ij} = 1/R_{ij}` to each neighbour
(:class:`~braindyn.compartments.Morphology`; :math:`R \propto R_a`):

.. math::
    C_i \frac{dV_i}{dt} = -A_i \sum_k I_k(V_i, s_{k,i}) + \sum_{j \sim i} g_{ij}(V_j - V_i)
    + I_{inj,i} + g_{syn,i}(E_{syn,i} - V_i), \qquad
    \frac{ds_{k,i}}{dt} = f_k(V_i, s_{k,i}).

Units: V mV, t ms, :math:`c_m` µF/cm², :math:`R_a` Ω·cm, channel currents µA/cm² (the
:mod:`braindyn.neurons.channels` convention); injected currents nA, synaptic conductances µS
(NEURON's point-process units).

**Integrator** (``scheme``). Fine meshes make the cable stiff (the axial time constant
:math:`C_i/\sum_j g_{ij}` falls as :math:`\Delta x^2`), so an explicit method would need
:math:`\Delta t \propto \Delta x^2`. The voltage is therefore implicit:

* ``"backward_euler"`` (default, NEURON's default): the membrane current is linearised about
  :math:`V^n` (:math:`I(V^{n+1}) \approx I(V^n) + \partial_V I\,\Delta V`, exact for ohmic
  channels, the slope from one Jacobian--vector product otherwise) and
  :math:`(C/\Delta t + \partial_V I + g_{syn} + G_{ax})\,\Delta V = \text{rhs}` is solved for the whole
  tree at once by Hines elimination (:func:`~braindyn.compartments.hines_solve`, O(N)).
  First order, L-stable: no oscillation at any :math:`\Delta t` or mesh.
* ``"crank_nicolson"``: the same solve over :math:`\Delta t/2`, then
  :math:`V^{n+1} = 2V^{n+1/2} - V^n` (NEURON's ``secondorder = 2``). Second order in
  :math:`\Delta t`; A-stable but not L-stable (a very coarse :math:`\Delta t` on a very fine
  mesh can ring at the fastest axial modes).

Gating variables are staggered half a step from V (as in NEURON): after the voltage solve
each gate advances by exponential Euler at the *new* voltage,
:math:`x^{n+3/2} = x + \Delta t\,\varphi_1(a\Delta t)(a x + b)` with
:math:`\dot x = a x + b` frozen at :math:`V^{n+1}` (:math:`\varphi_1(z) = (e^z-1)/z`). This is
exact for the linear gate kinetics at fixed V, unconditionally stable for the fast gates,
and with the staggering keeps Crank--Nicolson second order.

**Inputs** of a step are a dict: ``"I"`` is a current (nA) or a
:class:`~braindyn.core.Conductance` (µS, µS·mV) at the spike site; a *site name* (declared
with ``sites=``) puts its value at that location, which is how synapses attach: a projection
with ``target="<site>"`` in a :class:`~braindyn.Network`; ``"I_comp"`` is a current per
compartment (nA, shape ``(N,)`` or ``(n, N)``). The state holds ``V`` (``(n, N)``), the gates
``<channel>_<gate>`` (``(n, M)`` over the channel's M compartments), ``V_<site>`` (``(n,)``,
for outputs that read the local potential, e.g. ``MgBlockOutput(var="V_<site>")``) and ``spike``.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Optional

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._errors import BraindynError
from ..core import Conductance, Dynamics
from ..integrators.exp import exprel
from ..neurons.channels import Channel
from ..params import default_float, param
from ..surrogate import Sigmoid, Surrogate
from .morphology import Morphology, Section
from .solve import tree_solve

__all__ = ["CompartmentalNeuron"]


def _stack_channels(morph: Morphology, channels: dict):
    """``{mechanism: (Channel with per-compartment parameter arrays, compartment indices)}``."""
    placed = {}
    for where, chans in channels.items():
        if not isinstance(chans, dict):
            raise BraindynError(f"CompartmentalNeuron: channels[{where!r}] must be a dict {{name: Channel}}, "
                                f"got {type(chans).__name__}.")
        secs = list(morph.sections) if where == "all" else [where]
        for s in secs:
            if s not in morph.sections:
                raise BraindynError(f"CompartmentalNeuron: channels placed on {where!r}, which is not a section "
                                    f"(sections: {list(morph.sections)}, or 'all').")
            for name, c in chans.items():
                if not isinstance(c, Channel):
                    raise BraindynError(f"CompartmentalNeuron: channel {name!r} on {s!r} is a {type(c).__name__}, "
                                        f"not a braindyn.neurons.channels.Channel.")
                if not str(name).isidentifier() or "_" in str(name):
                    raise BraindynError(f"CompartmentalNeuron: channel name {name!r} must be an identifier without "
                                        f"'_'. Fix: e.g. 'Na', 'K', 'L'.")
                placed.setdefault(name, {})[s] = c  # a later placement on a section overrides 'all'
    mechs, index = {}, {}
    for name, per_sec in placed.items():
        classes = {type(c) for c in per_sec.values()}
        if len(classes) > 1:
            raise BraindynError(f"CompartmentalNeuron: channel name {name!r} is used for different classes "
                                f"{sorted(k.__name__ for k in classes)}. Fix: one name per channel type.")
        cls = classes.pop()
        secs = [s for s in morph.sections if s in per_sec]
        idx = np.concatenate([morph.indices(s) for s in secs])
        kwargs = {}
        for f in dataclasses.fields(cls):
            if "param" not in f.metadata:
                continue
            vals = []
            for s in secs:
                v = getattr(per_sec[s], f.name)
                if v is not None and np.ndim(v) not in (0,):
                    raise BraindynError(f"CompartmentalNeuron: parameter {f.name!r} of channel {name!r} on {s!r} "
                                        f"must be a scalar (one value per section), got shape {np.shape(v)}.")
                vals.append(v)
            if any(v is None for v in vals):
                kwargs[f.name] = None
                continue
            kwargs[f.name] = jnp.concatenate([jnp.full((morph.sections[s].nseg,), v, default_float())
                                              for s, v in zip(secs, vals)])
        mechs[name] = cls(**kwargs)
        index[name] = tuple(int(i) for i in idx)
    return mechs, index


class CompartmentalNeuron(Dynamics):
    r"""A population of ``n`` identical multi-compartment neurons (equations and scheme: module docstring).

    Parameters
    ----------
    morphology : Morphology
        Sections and compartments.
    channels : dict
        ``{section or "all": {name: Channel}}``: the channels of each section
        (:mod:`braindyn.neurons.channels`: ``Leak``, ``INa_HH``, ``IK_HH`` ...; one class per
        name). Their parameters become per-compartment arrays (``model.mechs[name].g``: one
        value per compartment that holds the channel, in the order of ``model.comps[name]``),
        differentiable and sweepable.
    cm : float or array (N,)
        Specific membrane capacitance (µF/cm², > 0). Default 1.
    Ra : float
        Axial resistivity (Ω·cm, > 0). Default 35.4 (NEURON's).
    V_init : float or array (N,)
        Initial potential (mV); gates start at their steady state there. Default -65.
    sites : dict
        ``{name: (section, x)}``: named locations for inputs and synapses (``x`` in [0, 1]).
    spike_site : (section, x)
        Where spikes are detected (upward crossing of ``V_th``) and where ``"I"`` enters.
        Default: the middle of the root section.
    V_th : float
        Spike detection level (mV). Default 0.
    n : int
        Number of neurons (all share the morphology and parameters; inputs may differ).
    scheme : {"backward_euler", "crank_nicolson"}
    spike_fn : Surrogate
        Heaviside forward, surrogate gradient backward, for the spike output.

    Example
    -------
    >>> import braindyn as bd
    >>> from braindyn.compartments import Section, Morphology, CompartmentalNeuron
    >>> from braindyn.neurons import channels as ch
    >>> m = Morphology([Section("soma", 20.0, 20.0), Section("dend", 200.0, 1.0, "soma", nseg=9)])
    >>> cell = CompartmentalNeuron(m, {"soma": {"Na": ch.INa_HH(), "K": ch.IK_HH(), "L": ch.Leak(g=0.3, E=-54.3)},
    ...                                "dend": {"L": ch.Leak(g=0.1, E=-65.0)}}, sites={"tip": ("dend", 1.0)})
    >>> res = bd.run(cell, 30.0, dt=0.025, inputs={"I": bd.inputs.section([0.0, 0.3], [5.0, 25.0])})
    >>> res.spike_count() >= 1
    True
    """

    morphology: Morphology = eqx.field(static=True)
    mechs: dict
    comp_index: tuple = eqx.field(static=True)
    cm: Any = param(1.0, bound="positive", unit="uF/cm^2", per_neuron=False, doc="membrane capacitance")
    Ra: Any = param(35.4, bound="positive", unit="ohm cm", per_neuron=False, doc="axial resistivity")
    V_init: Any = param(-65.0, unit="mV", per_neuron=False, doc="initial potential")
    V_th: Any = param(0.0, unit="mV", doc="spike detection level (upward crossing)")
    sites: tuple = eqx.field(static=True)
    spike_index: int = eqx.field(static=True)
    n: int = eqx.field(static=True)
    scheme: str = eqx.field(static=True)
    spike_fn: Surrogate

    @classmethod
    def example(cls) -> "CompartmentalNeuron":
        """A small cell for the component harness: an HH soma and a passive 3-compartment dendrite."""
        from ..neurons import channels as ch

        m = Morphology([Section("soma", 20.0, 20.0), Section("dend", 100.0, 1.0, "soma", 1.0, 3)])
        return cls(m, {"soma": {"Na": ch.INa_HH(), "K": ch.IK_HH(), "L": ch.Leak(g=0.3, E=-54.3)},
                       "dend": {"L": ch.Leak(g=0.1, E=-65.0)}}, V_init=-65.0)

    def __init__(self, morphology: Morphology, channels: dict, *, cm=1.0, Ra=35.4, V_init=-65.0,
                 sites: Optional[dict] = None, spike_site=None, V_th=0.0, n: int = 1,
                 scheme: str = "backward_euler", spike_fn: Surrogate = Sigmoid(1.0)):
        if not isinstance(morphology, Morphology):
            raise BraindynError(f"CompartmentalNeuron: 'morphology' must be a braindyn.compartments.Morphology, got "
                                f"{type(morphology).__name__}. Fix: Morphology([Section(...), ...]) or load_swc(path).")
        if not isinstance(channels, dict):
            raise BraindynError("CompartmentalNeuron: 'channels' must be a dict {section or 'all': {name: Channel}}.")
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise BraindynError(f"parameter 'n' of CompartmentalNeuron must be a positive integer, got {n!r}.")
        if scheme not in ("backward_euler", "crank_nicolson"):
            raise BraindynError(f"parameter 'scheme' of CompartmentalNeuron must be 'backward_euler' or "
                                f"'crank_nicolson', got {scheme!r}.")
        self.morphology = morphology
        self.mechs, comps = _stack_channels(morphology, channels)
        self.comp_index = tuple(comps.items())  # hashable (static) form of {channel: compartments}
        N = morphology.n_comp
        for k, v in (("cm", cm), ("V_init", V_init)):
            if np.ndim(v) not in (0,) and np.shape(v) != (N,):
                raise BraindynError(f"parameter {k!r} of CompartmentalNeuron must be a scalar or one value per "
                                    f"compartment ({N},), got shape {np.shape(v)}.")
        self.cm, self.Ra, self.V_init, self.V_th = cm, Ra, V_init, V_th
        root = next(iter(morphology.sections))
        spike_site = (root, 0.5) if spike_site is None else spike_site
        self.spike_index = morphology.index(*spike_site)
        sites = {} if sites is None else dict(sites)
        out = []
        for name, loc in sites.items():
            if not isinstance(name, str) or not name.isidentifier() or name in ("I", "I_comp"):
                raise BraindynError(f"CompartmentalNeuron: site name {name!r} must be an identifier other than "
                                    f"'I' and 'I_comp'.")
            if not (isinstance(loc, (tuple, list)) and len(loc) == 2):
                raise BraindynError(f"CompartmentalNeuron: site {name!r} must be (section, x), got {loc!r}.")
            out.append((name, morphology.index(*loc)))
        self.sites = tuple(out)
        self.n = n
        self.scheme = scheme
        self.spike_fn = spike_fn

    # ---- helpers ------------------------------------------------------------------------------
    @property
    def comps(self) -> dict:
        """``{channel name: tuple of the compartments that hold it}`` (the order of its parameter arrays)."""
        return dict(self.comp_index)

    @property
    def n_comp(self) -> int:
        return self.morphology.n_comp

    def site_index(self, name: str) -> int:
        """Compartment of the site ``name`` (``"I"``: the spike site)."""
        if name == "I":
            return self.spike_index
        for k, i in self.sites:
            if k == name:
                return i
        raise BraindynError(f"CompartmentalNeuron has no site {name!r}. Sites: {['I'] + [k for k, _ in self.sites]} "
                            f"(declare one with sites={{{name!r}: ('dend', 0.5)}}); per-compartment currents: "
                            f"'I_comp'.")

    def _split(self, state):
        return {m: {g: state[f"{m}_{g}"] for g in c.gates} for m, c in self.mechs.items()}

    def _env(self, V, parts):
        """Concentrations (full (n, N) arrays) and the per-ion currents; the total current (uA/cm^2)."""
        env = {}
        for m, c in self.mechs.items():
            for k, v in c.concentrations(parts[m]).items():
                env[k] = jnp.zeros_like(V).at[:, self.comps[m]].set(v)
        total = jnp.zeros_like(V)
        ion = {}
        for m, c in self.mechs.items():
            idx = self.comps[m]
            I = c.current(V[:, idx], parts[m], {k: v[:, idx] for k, v in env.items()})
            total = total.at[:, idx].add(I)
            if c.ion:
                ion[c.ion] = ion.get(c.ion, jnp.zeros_like(V)).at[:, idx].add(I)
        env.update({f"I_{k}": v for k, v in ion.items()})
        return env, total

    def _gates_inf(self, V):
        parts = {m: {} for m in self.mechs}
        env = {}
        for _ in range(2):  # pools first provide their rest concentrations, then the others see them
            for m, c in self.mechs.items():
                idx = self.comps[m]
                parts[m] = c.gates_inf(V[:, idx], {k: v[:, idx] for k, v in env.items()})
            for m, c in self.mechs.items():
                if c.gates and all(g in parts[m] for g in c.gates):
                    for k, v in c.concentrations(parts[m]).items():
                        env[k] = jnp.zeros_like(V).at[:, self.comps[m]].set(v)
        return parts

    def axial_conductance(self):
        """Axial conductance of each compartment to its parent (µS; 0 at the root)."""
        r = jnp.asarray(self.morphology.r_axial)
        return jnp.where(r > 0, 1e6 / (self.Ra * jnp.where(r > 0, r, 1.0)), 0.0)

    # ---- Dynamics interface --------------------------------------------------------------------
    def init_state(self, *, key=None, dtype=None, **initial) -> dict:
        dtype = dtype or default_float()
        N = self.n_comp
        V = initial.pop("V", None)
        if initial:
            raise BraindynError(f"CompartmentalNeuron.init_state: unknown initial value(s) {sorted(initial)}; only "
                                f"'V' (mV, scalar, (N,) or (n, N)) can be set (gates start at steady state).")
        V = self.V_init if V is None else V
        V = jnp.broadcast_to(jnp.asarray(V, dtype), (self.n, N))
        state = {"V": V}
        for m, gates in self._gates_inf(V).items():
            for g, v in gates.items():
                state[f"{m}_{g}"] = jnp.broadcast_to(jnp.asarray(v, dtype), (self.n, len(self.comps[m])))
        for name, i in self.sites:
            state[f"V_{name}"] = V[:, i]
        state["spike"] = jnp.zeros((self.n,), dtype)
        return state

    def _inputs(self, inputs, V):
        if inputs is None:
            inputs = {}
        elif not isinstance(inputs, dict):
            inputs = {"I": inputs}
        n, N = V.shape
        J = jnp.zeros_like(V)
        G = jnp.zeros_like(V)
        GE = jnp.zeros_like(V)
        for k, v in inputs.items():
            if k == "I_comp":
                J = J + jnp.broadcast_to(jnp.asarray(v, V.dtype), (n, N))
                continue
            i = self.site_index(k)
            if isinstance(v, Conductance):
                G = G.at[:, i].add(jnp.broadcast_to(v.g, (n,)).astype(V.dtype))
                GE = GE.at[:, i].add(jnp.broadcast_to(v.gE, (n,)).astype(V.dtype))
            else:
                if np.ndim(v) not in (0, 1) or (np.ndim(v) == 1 and np.shape(v)[0] not in (1, n)):
                    raise BraindynError(f"CompartmentalNeuron: input {k!r} must be a scalar or one value per neuron "
                                        f"({n},), got shape {np.shape(v)}.")
                J = J.at[:, i].add(jnp.broadcast_to(jnp.asarray(v, V.dtype), (n,)))
        return J, G, GE

    def step(self, state, inputs, t, dt, key=None):
        """One step of ``scheme`` (voltage implicit on the tree, then gates by exponential Euler)."""
        V = state["V"]
        dtype = V.dtype
        parts = self._split(state)
        morph = self.morphology
        area = jnp.asarray(morph.area, dtype) * 1e3  # cm^2 * 1e3: uA/cm^2 -> nA
        J, G, GE = self._inputs(inputs, V)

        def total(Vx):
            return self._env(Vx, parts)[1]

        I, dI = jax.jvp(total, (V,), (jnp.ones_like(V),))
        gax = self.axial_conductance().astype(dtype)  # (N,)
        par = morph.parent
        child = np.arange(1, self.n_comp)
        pidx = par[1:]
        flow = gax[1:] * (V[:, pidx] - V[:, 1:])  # nA into each child from its parent
        axial = jnp.zeros_like(V).at[:, 1:].add(flow).at[:, pidx].add(-flow) if self.n_comp > 1 else jnp.zeros_like(V)
        gsum = gax.at[pidx].add(gax[child]) if self.n_comp > 1 else gax
        rhs = -area * I + J + GE - G * V + axial
        h = dt if self.scheme == "backward_euler" else 0.5 * dt
        cmA = jnp.broadcast_to(jnp.asarray(self.cm, dtype), (self.n_comp,)) * area  # nF
        diag = cmA / h + area * dI + G + gsum
        dV = tree_solve(diag.T, -gax, rhs.T, par, morph.is_chain).T
        V_new = V + dV if self.scheme == "backward_euler" else V + 2.0 * dV
        # gates at the new voltage (staggered), exponential Euler on the frozen-V linear kinetics
        env, _ = self._env(V_new, parts)
        new = dict(state)
        new["V"] = V_new
        for m, c in self.mechs.items():
            if not c.gates:
                continue
            idx = self.comps[m]
            Vi = V_new[:, idx]
            envi = {k: v[:, idx] for k, v in env.items()}
            f = lambda s, c=c, Vi=Vi, envi=envi: c.derivs(Vi, s, envi)
            s = parts[m]
            fs, a = jax.jvp(f, (s,), ({g: jnp.ones_like(x) for g, x in s.items()},))
            for g in c.gates:
                new[f"{m}_{g}"] = (s[g] + dt * exprel(a[g] * dt) * fs[g]).astype(dtype)
        for name, i in self.sites:
            new[f"V_{name}"] = V_new[:, i]
        v0, v1 = V[:, self.spike_index], V_new[:, self.spike_index]
        spike = self.spike_fn(jnp.where(v0 <= self.V_th, v1 - self.V_th, -1.0).astype(dtype))
        new["spike"] = spike
        return new, {"spike": spike}
