r"""Synaptic kinetics: the conductance :math:`g(t)` that presynaptic spikes produce.

Every kinetic model is a small immutable module with

* ``init_state(n, dtype) -> dict`` — the state of ``n`` synaptic units;
* ``update(state, arriving, dt) -> state`` — advance the state from :math:`t - \Delta t` to
  :math:`t` *exactly* (closed-form solution of the linear equations over one step), then apply
  the events arriving at :math:`t`;
* ``conductance(state) -> g`` — the (dimensionless, or in the unit of the weights) conductance
  at :math:`t`, held constant by the postsynaptic neuron over the step :math:`[t, t + \Delta t)`;
* ``step(state, arriving, dt) -> (state, g)`` — both at once (what the projection calls; a
  stateless kinetics such as :class:`Instant` only defines this).

Every time constant and rate is a declared parameter (:func:`braindyn.params.param`): an array
leaf with its bound and unit, checked once at construction, traced (no recompilation for a new
value) and reached by ``jax.grad``.

So after one spike arriving at step :math:`n` (time :math:`t_n`), ``conductance`` at step
:math:`n + k` is the exact solution at :math:`t_n + k\Delta t` (for the transmitter models the
transmitter pulse starts at :math:`t_n` and lasts exactly ``T_dur``, even when ``T_dur`` is not a
multiple of :math:`\Delta t`: no off-by-one window).

Two alignments (the class attribute ``align``):

``"post"`` (linear kinetics: :class:`Instant`, :class:`Delta`, :class:`Exponential`,
:class:`Alpha`, :class:`DualExponential`)
    The equations are linear in the arriving weights, so one state per *postsynaptic* neuron
    holds the sum over all its synapses; ``arriving`` is the summed weight of the spikes that
    arrive at the step (from :func:`braindyn.ops.event_matvec`): the cost of a spike is
    proportional to its targets.
``"pre"`` (saturating kinetics: :class:`AMPA`, :class:`GABAa`, :class:`NMDA`, :class:`GABAb`,
:class:`WangNMDA`)
    The gating :math:`s` saturates (:math:`\alpha T (1 - s)`), so sums do not commute with the
    kinetics; but every synapse of one presynaptic neuron sees the same transmitter pulse, so one
    state per *presynaptic* neuron is exact, and the postsynaptic conductance is
    :math:`g_i = \sum_j w_{ji} s_j` (``arriving`` is the presynaptic spike vector).

Example
-------
>>> import jax.numpy as jnp
>>> from braindyn.synapses import Exponential
>>> syn = Exponential(tau=5.0)
>>> st = syn.init_state(1, jnp.float32)
>>> st = syn.update(st, jnp.array([0.6]), 0.1)      # a spike of weight 0.6 arrives
>>> st, g = syn.step(st, jnp.array([0.0]), 0.1)     # one step later
>>> round(float(g[0]), 5)                           # 0.6 exp(-0.1/5)
0.58812
"""
from __future__ import annotations

from typing import Any, ClassVar

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from .._errors import BraindynError
from ..integrators.exp import exprel
from ..params import Parametrized, param

__all__ = ["Synapse", "Instant", "Delta", "Exponential", "Alpha", "DualExponential", "TransmitterKinetics",
           "AMPA", "GABAa", "NMDA", "GABAb", "WangNMDA"]


class Synapse(Parametrized):
    """Abstract synaptic kinetics (see the module documentation for the contract)."""

    align: ClassVar[str] = "post"

    def init_state(self, n: int, dtype) -> dict:
        raise NotImplementedError

    def update(self, state: dict, arriving, dt) -> dict:
        raise NotImplementedError

    def conductance(self, state: dict):
        raise NotImplementedError

    def step(self, state: dict, arriving, dt):
        """Advance to the arrival time and apply the arrivals; returns ``(state, g)``."""
        state = self.update(state, arriving, dt)
        return state, self.conductance(state)


def _decay(dt, tau):
    return jnp.exp(-dt / jnp.asarray(tau))


class Instant(Synapse):
    r"""Instantaneous coupling: no dynamics, the conductance is the arriving drive itself.

    .. math:: g_i(t) = \sum_j w_{ji}\, x_j(t)

    For a continuous presynaptic signal (a rate :math:`r_j`) a projection with
    ``synapse=Instant()`` and :class:`~braindyn.synapses.CurrentOutput` gives the coupling of
    a rate network, :math:`I_i = \sum_j w_{ji} r_j = (W^\top r)_i`, read at the start of the step
    and held over it. (For spikes it is a pulse of height :math:`w` during the arrival step, i.e.
    a charge :math:`w\,\Delta t`; use :class:`Delta` for a charge :math:`w`.) Stateless: only
    :meth:`step` is defined.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> st, g = Instant().step({}, jnp.array([0.5, 2.0]), 0.1)
    >>> g.tolist(), st
    ([0.5, 2.0], {})
    """

    def init_state(self, n, dtype):
        return {}

    def step(self, state, arriving, dt):
        return state, arriving

    def update(self, state, arriving, dt):
        return state

    def conductance(self, state):  # pragma: no cover - stateless: the projection calls step
        raise BraindynError("Instant has no state: its conductance is the arriving drive (use step()).")


class Delta(Synapse):
    r"""Delta synapse: each spike of weight :math:`w` injects a charge :math:`w` at once.

    .. math:: g(t) = \sum_k w_k\, \delta(t - t_k)

    Discretised as a rectangular pulse of height :math:`w/\Delta t` during the one step that
    starts at the arrival (its integral is exactly :math:`w`). With :class:`CurrentOutput` into a
    LIF (:math:`\tau \dot V = -(V - V_{rest}) + R I`) the membrane jumps by
    :math:`R w/\tau` (Euler) or :math:`R w\,\varphi_1(-\Delta t/\tau)/\tau` (exponential Euler;
    the two agree as :math:`\Delta t \to 0`): to make ``V`` jump by ``J`` mV use
    ``w = J * tau / R``.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> syn = Delta()
    >>> st = syn.update(syn.init_state(1, jnp.float32), jnp.array([2.0]), 0.1)
    >>> float(syn.conductance(st)[0])
    20.0
    """

    def init_state(self, n, dtype):
        return {"g": jnp.zeros((n,), dtype)}

    def update(self, state, arriving, dt):
        return {"g": (arriving / dt).astype(state["g"].dtype)}

    def conductance(self, state):
        return state["g"]


class Exponential(Synapse):
    r"""Single-exponential synapse (instantaneous rise).

    .. math:: \frac{dg}{dt} = -\frac{g}{\tau}, \qquad g \leftarrow g + w \text{ at each arrival}

    After one spike of weight :math:`w` at :math:`t_0`: :math:`g(t) = w\, e^{-(t - t_0)/\tau}`
    (the update is exact at every step).

    Parameters
    ----------
    tau : float
        Decay time constant (ms, > 0). The COBA benchmark uses 5 (excitatory) and 10 (inhibitory).

    Example
    -------
    >>> import jax.numpy as jnp
    >>> syn = Exponential(tau=10.0)
    >>> st = syn.update(syn.init_state(2, jnp.float32), jnp.array([1.0, 0.0]), 0.1)
    >>> syn.conductance(st).tolist()
    [1.0, 0.0]
    """

    tau: Any = param(5.0, bound="positive", unit="ms", doc="decay time constant")

    def init_state(self, n, dtype):
        return {"g": jnp.zeros((n,), dtype)}

    def update(self, state, arriving, dt):
        g = state["g"]
        return {"g": (g * _decay(dt, self.tau).astype(g.dtype) + arriving).astype(g.dtype)}

    def conductance(self, state):
        return state["g"]


def _dual_peak(tau_rise, tau_decay):
    r"""Peak time and peak value of the unnormalised dual exponential after a unit jump of ``h``
    (traceable; exact at :math:`\tau_r = \tau_d`).

    :math:`t^* = \tau_d \ln(1 + x)/x` with :math:`x = \tau_d/\tau_r - 1`, and
    :math:`g(s) = s\, e^{-s/\tau_d} \varphi_1((1/\tau_d - 1/\tau_r) s)`.
    """
    tr, td = jnp.asarray(tau_rise), jnp.asarray(tau_decay)
    x = td / tr - 1.0
    small = jnp.abs(x) < 1e-6
    xs = jnp.where(small, 1.0, x)
    t_peak = td * jnp.where(small, 1.0 - 0.5 * x, jnp.log1p(xs) / xs)
    value = t_peak * jnp.exp(-t_peak / td) * exprel((1.0 / td - 1.0 / tr) * t_peak)
    return t_peak, value


class DualExponential(Synapse):
    r"""Dual-exponential synapse (rise :math:`\tau_r`, decay :math:`\tau_d`), the book's form.

    .. math::
        \frac{dg}{dt} = -\frac{g}{\tau_d} + h, \qquad \frac{dh}{dt} = -\frac{h}{\tau_r},
        \qquad h \leftarrow h + a\, w \text{ at each arrival}

    After one spike at :math:`t_0` (with :math:`s = t - t_0`):
    :math:`g = a w \frac{\tau_d \tau_r}{\tau_d - \tau_r}(e^{-s/\tau_d} - e^{-s/\tau_r})`, peaking at
    :math:`s^* = \frac{\tau_d\tau_r}{\tau_d-\tau_r}\ln\frac{\tau_d}{\tau_r}`. With
    ``normalize=False`` :math:`a = 1` (peak :math:`1.5485\,w` for 2/20 ms); with
    ``normalize=True`` :math:`a` makes the peak equal to :math:`w` (:math:`a = 1.49535` for 1/5 ms).
    The update over a step is the exact solution of the linear system, including
    :math:`\tau_r = \tau_d` (the alpha function, see :class:`Alpha`).

    Parameters
    ----------
    tau_rise, tau_decay : float
        Time constants (ms, > 0).
    normalize : bool
        Scale the jump so that the peak conductance equals the weight (structure: static).

    Example
    -------
    >>> syn = DualExponential(tau_rise=1.0, tau_decay=5.0, normalize=True)
    >>> round(float(syn.jump), 5)
    1.49535
    """

    tau_rise: Any = param(1.0, bound="positive", unit="ms", doc="rise time constant")
    tau_decay: Any = param(5.0, bound="positive", unit="ms", doc="decay time constant")
    normalize: bool = eqx.field(static=True, default=False)

    @property
    def jump(self):
        """Factor :math:`a` applied to the weight at each arrival (an array; 1 unnormalised)."""
        if not self.normalize:
            return jnp.ones((), jnp.result_type(self.tau_decay))
        return 1.0 / _dual_peak(self.tau_rise, self.tau_decay)[1]

    def peak(self):
        """``(time, value)`` of the peak after one spike of unit weight (arrays)."""
        t, v = _dual_peak(self.tau_rise, self.tau_decay)
        return t, v * self.jump

    def init_state(self, n, dtype):
        z = jnp.zeros((n,), dtype)
        return {"g": z, "h": z}

    def update(self, state, arriving, dt):
        g, h = state["g"], state["h"]
        dtype = g.dtype
        td = jnp.asarray(self.tau_decay, dtype)
        tr = jnp.asarray(self.tau_rise, dtype)
        ed = jnp.exp(-dt / td)
        # int_0^dt e^{-(dt-s)/td} e^{-s/tr} ds = e^{-dt/td} dt phi1((1/td - 1/tr) dt)
        cross = ed * dt * exprel((1.0 / td - 1.0 / tr) * dt)
        g_new = g * ed + h * cross
        h_new = h * jnp.exp(-dt / tr) + self.jump.astype(dtype) * arriving
        return {"g": g_new.astype(dtype), "h": h_new.astype(dtype)}

    def conductance(self, state):
        return state["g"]


class Alpha(DualExponential):
    r"""Alpha synapse: the dual exponential with equal rise and decay times :math:`\tau`.

    .. math:: g(s) = a\, w\, s\, e^{-s/\tau} \quad (s = t - t_0),

    peak :math:`a w \tau / e` at :math:`s = \tau` (2.2073 w for :math:`\tau` = 6 ms unnormalised;
    ``normalize=True`` makes it :math:`w`).

    Example
    -------
    >>> syn = Alpha(tau=6.0)
    >>> [round(float(x), 4) for x in syn.peak()]
    [6.0, 2.2073]
    """

    def __init__(self, tau: Any = 6.0, normalize: bool = False):
        self.tau_rise = tau
        self.tau_decay = tau
        self.normalize = normalize

    @property
    def tau(self):
        return self.tau_decay


# --------------------------------------------------------------------------------------------
# Transmitter-gated kinetic models (Destexhe, Mainen & Sejnowski 1994)
# --------------------------------------------------------------------------------------------
def _pulse(T=1.0, T_dur=1.0):
    """Declarations of the transmitter pulse (each model redeclares them with its defaults)."""
    return (param(T, bound="nonnegative", unit="mM", doc="transmitter concentration during the pulse"),
            param(T_dur, bound="positive", unit="ms", doc="duration of the transmitter pulse"))


class TransmitterKinetics(Synapse):
    r"""Base of the transmitter-gated models: a square transmitter pulse after each spike.

    A spike arriving at :math:`t_0` sets the transmitter concentration to :math:`T` (mM) during
    :math:`[t_0, t_0 + T_{dur})` (a spike during a pulse restarts it). Each step is split into
    the part with and the part without transmitter, and each part is integrated exactly, so the
    pulse lasts exactly ``T_dur`` for any ``dt``.
    """

    align: ClassVar[str] = "pre"
    T: Any
    T_dur: Any

    def _variables(self) -> tuple:
        raise NotImplementedError

    def _advance(self, y: dict, T, h) -> dict:
        """Exact solution over a duration ``h`` with transmitter ``T`` held constant."""
        raise NotImplementedError

    def init_state(self, n, dtype):
        st = {k: jnp.zeros((n,), dtype) for k in self._variables()}
        st["T_left"] = jnp.zeros((n,), dtype)
        return st

    def update(self, state, arriving, dt):
        dtype = state["T_left"].dtype
        left = state["T_left"]
        on = jnp.minimum(left, dt)
        y = {k: state[k] for k in self._variables()}
        T = jnp.asarray(self.T, dtype)
        y = self._advance(y, T, on)
        y = self._advance(y, jnp.zeros((), dtype), dt - on)
        left = left - on
        left = jnp.where(arriving > 0, jnp.asarray(self.T_dur, dtype), left)
        out = {k: v.astype(dtype) for k, v in y.items()}
        out["T_left"] = left.astype(dtype)
        return out


def _first_order(s, rate_on, beta, T, h):
    r"""Exact solution of :math:`\dot s = \alpha T (1 - s) - \beta s` over ``h`` (T constant)."""
    k = rate_on * T + beta
    s_inf = rate_on * T / k
    return s_inf + (s - s_inf) * jnp.exp(-k * h)


def _two_state(alpha, beta, T, T_dur):
    return (param(alpha, bound="positive", unit="1/(mM ms)", doc="binding rate"),
            param(beta, bound="positive", unit="1/ms", doc="unbinding rate")) + _pulse(T, T_dur)


class AMPA(TransmitterKinetics):
    r"""AMPA receptor, two-state kinetic model (Destexhe, Mainen & Sejnowski 1994).

    .. math:: \frac{ds}{dt} = \alpha\, [T](t)\, (1 - s) - \beta s

    with :math:`[T] = T` for ``T_dur`` ms after each presynaptic spike and 0 otherwise. The book's
    parameters: :math:`\alpha` = 0.98 /mM/ms, :math:`\beta` = 0.18 /ms, T = 0.5 mM for 0.5 ms
    (peak :math:`s` = 0.20819, then decay with :math:`1/\beta` = 5.556 ms). Use with
    :class:`ConductanceOutput` (``E = 0`` mV).

    Example
    -------
    >>> import jax.numpy as jnp
    >>> syn, dt = AMPA(), 0.1
    >>> st = syn.update(syn.init_state(1, jnp.float32), jnp.array([1.0]), dt)
    >>> for _ in range(5):
    ...     st = syn.update(st, jnp.array([0.0]), dt)
    >>> round(float(syn.conductance(st)[0]), 5)
    0.20819
    """

    alpha: Any
    beta: Any
    T: Any
    T_dur: Any
    alpha, beta, T, T_dur = _two_state(0.98, 0.18, 0.5, 0.5)

    def _variables(self):
        return ("s",)

    def _advance(self, y, T, h):
        return {"s": _first_order(y["s"], self.alpha, self.beta, T, h)}

    def conductance(self, state):
        return state["s"]


class GABAa(AMPA):
    r"""GABA_A receptor: the two-state kinetic model of :class:`AMPA` with the book's values
    :math:`\alpha` = 0.53 /mM/ms, :math:`\beta` = 0.18 /ms, T = 1 mM for 1 ms (peak 0.37948).
    Use with :class:`ConductanceOutput` (``E = -80`` mV).

    .. math:: \frac{ds}{dt} = \alpha\, [T](t)\, (1 - s) - \beta s

    Example
    -------
    >>> round(float(GABAa().alpha), 2)
    0.53
    """

    alpha: Any
    beta: Any
    T: Any
    T_dur: Any
    alpha, beta, T, T_dur = _two_state(0.53, 0.18, 1.0, 1.0)


class NMDA(AMPA):
    r"""NMDA receptor: two-state transmitter kinetics (Destexhe, Mainen & Sejnowski 1994).

    .. math:: \frac{ds}{dt} = \alpha\, [T](t)\, (1 - s) - \beta s,

    :math:`\alpha` = 0.072 /mM/ms, :math:`\beta` = 0.0066 /ms (decay about 150 ms),
    T = 1 mM for 1 ms. The voltage dependence is the output's: use :class:`MgBlockOutput`
    (:math:`I = g\, s\, B(V) (E - V)`, :math:`B(V) = 1/(1 + e^{-0.062 V}[\mathrm{Mg}]/3.57)`).
    See :class:`WangNMDA` for the form with a rise variable (Wang 2002).

    Example
    -------
    >>> from braindyn.synapses import MgBlockOutput
    >>> round(float(MgBlockOutput(E=0.0, Mg=1.2).block(-65.0)), 5)
    0.05022
    """

    alpha: Any
    beta: Any
    T: Any
    T_dur: Any
    alpha, beta, T, T_dur = _two_state(0.072, 0.0066, 1.0, 1.0)


class GABAb(TransmitterKinetics):
    r"""GABA_B receptor: second-messenger kinetic model (Destexhe et al. 1994, 1998).

    .. math::
        \frac{dr}{dt} = k_1 [T](t) (1 - r) - k_2 r, \qquad
        \frac{dG}{dt} = k_3 r - k_4 G, \qquad
        s = \frac{G^n}{G^n + K_d}

    :math:`r`: fraction of activated receptors; :math:`G`: G-protein concentration (uM);
    the conductance is :math:`g\,s` (use :class:`ConductanceOutput` with ``E = -95`` mV).
    Defaults (Destexhe, Mainen & Sejnowski 1998): :math:`k_1` 0.52 /mM/ms, :math:`k_2` 0.0013 /ms,
    :math:`k_3` 0.098 /ms, :math:`k_4` 0.033 /ms, :math:`K_d` 100 uM^4, n = 4, T = 0.5 mM for 0.3 ms.
    Over a step with constant :math:`[T]`, :math:`r` is exponential and :math:`G` follows in
    closed form (both exact). ``n`` (the Hill exponent, an integer) is structure.

    Example
    -------
    >>> GABAb().n
    4
    """

    # per_neuron=False: ``n`` here is the Hill exponent, not a number of units.
    k1: Any = param(0.52, bound="positive", unit="1/(mM ms)", per_neuron=False, doc="receptor activation rate")
    k2: Any = param(0.0013, bound="positive", unit="1/ms", per_neuron=False, doc="receptor deactivation rate")
    k3: Any = param(0.098, bound="positive", unit="uM/ms", per_neuron=False, doc="G-protein production rate")
    k4: Any = param(0.033, bound="positive", unit="1/ms", per_neuron=False, doc="G-protein removal rate")
    Kd: Any = param(100.0, bound="positive", unit="uM^n", per_neuron=False, doc="dissociation constant")
    n: int = eqx.field(static=True, default=4)
    T: Any = param(0.5, bound="nonnegative", unit="mM", per_neuron=False, doc="transmitter concentration")
    T_dur: Any = param(0.3, bound="positive", unit="ms", per_neuron=False, doc="duration of the pulse")

    def __check_init__(self):
        if not isinstance(self.n, int) or isinstance(self.n, bool) or self.n < 1:
            raise BraindynError(f"parameter 'n' of GABAb must be a positive integer (Hill exponent), got "
                                f"{self.n!r}. Fix: e.g. n=4.")

    def _variables(self):
        return ("r", "G")

    def _advance(self, y, T, h):
        r0, G0 = y["r"], y["G"]
        lam = self.k1 * T + self.k2
        r_inf = self.k1 * T / lam
        e_lam = jnp.exp(-lam * h)
        r1 = r_inf + (r0 - r_inf) * e_lam
        e4 = jnp.exp(-self.k4 * h)
        # G(h) = G0 e^{-k4 h} + k3 [ r_inf (1 - e^{-k4 h})/k4 + (r0 - r_inf) int_0^h e^{-k4 (h-u)} e^{-lam u} du ]
        # int = e^{-lam h} h phi1(-(k4 - lam) h)   (exact, no division by k4 - lam)
        cross = e_lam * h * exprel(-(self.k4 - lam) * h)
        G1 = G0 * e4 + self.k3 * (r_inf * h * exprel(-self.k4 * h) + (r0 - r_inf) * cross)
        return {"r": r1, "G": G1}

    def conductance(self, state):
        Gn = state["G"] ** self.n
        return Gn / (Gn + self.Kd)


# --------------------------------------------------------------------------------------------
# NMDA with a rise variable (Wang 2002)
# --------------------------------------------------------------------------------------------
#: Gauss--Legendre nodes (on [0, 1]) and weights of the 3-point rule used by :class:`WangNMDA`.
_GL3_NODES = 0.5 * (1.0 + np.array([-np.sqrt(0.6), 0.0, np.sqrt(0.6)]))
_GL3_WEIGHTS = 0.5 * np.array([5.0, 8.0, 5.0]) / 9.0


class WangNMDA(Synapse):
    r"""NMDA gating with a rise variable (Wang 2002; the form of BrainPy's NMDA).

    .. math::
        \frac{ds}{dt} = -\frac{s}{\tau_d} + a\, x\, (1 - s), \qquad
        \frac{dx}{dt} = -\frac{x}{\tau_r} + \sum_k \delta(t - t_k)

    one :math:`(s, x)` pair per *presynaptic* neuron (``align="pre"``: :math:`s` saturates, so
    the postsynaptic conductance is :math:`g_i = \sum_j w_{ji} s_j`). Defaults: :math:`\tau_d`
    100 ms, :math:`\tau_r` 2 ms, :math:`a` 0.5 /ms. Use with :class:`MgBlockOutput`
    (:math:`I = g\, B(V) (E - V)`, Wang's :math:`[\mathrm{Mg}]` = 1 mM, :math:`E` = 0 mV).

    Integration over a step of length :math:`h` (spikes arriving at the end of the step make
    :math:`x` jump by 1): :math:`x(u) = x_0 e^{-u/\tau_r}` exactly, and with
    :math:`K(u) = \int_0^u (1/\tau_d + a x)\,dv = u/\tau_d + a \tau_r x_0 (1 - e^{-u/\tau_r})`
    (closed form),

    .. math:: s(h) = s_0\, e^{-K(h)} + \int_0^h a\, x(u)\, e^{-(K(h) - K(u))}\, du,

    where the last integral (an incomplete gamma function) is taken by 3-point Gauss--Legendre
    quadrature (local error :math:`O(h^7)`; it is 0 exactly when :math:`x_0 = 0`, so a silent
    synapse decays exactly) and capped at its bound :math:`1 - e^{-K(h)}`, which keeps
    :math:`0 \le s \le 1` for any step.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> syn = WangNMDA()
    >>> st = syn.init_state(1, jnp.float32)
    >>> st, s = syn.step(st, jnp.array([1.0]), 0.1)          # a spike: x jumps to 1
    >>> for _ in range(100):                                 # 10 ms later
    ...     st, s = syn.step(st, jnp.array([0.0]), 0.1)
    >>> round(float(s[0]), 3), round(float(st["x"][0]), 4)   # x = e^{-5}
    (0.584, 0.0067)
    """

    align: ClassVar[str] = "pre"
    tau_decay: Any = param(100.0, bound="positive", unit="ms", doc="decay time constant of s")
    tau_rise: Any = param(2.0, bound="positive", unit="ms", doc="decay time constant of x (the rise of s)")
    a: Any = param(0.5, bound="positive", unit="1/ms", doc="rate of s per unit of x")

    def init_state(self, n, dtype):
        z = jnp.zeros((n,), dtype)
        return {"s": z, "x": z}

    def update(self, state, arriving, dt):
        s0, x0 = state["s"], state["x"]
        dtype = s0.dtype
        td = jnp.asarray(self.tau_decay, dtype)
        tr = jnp.asarray(self.tau_rise, dtype)
        a = jnp.asarray(self.a, dtype)
        h = jnp.asarray(dt, dtype)
        e_h = jnp.exp(-h / tr)
        K_h = h / td + a * tr * x0 * (1.0 - e_h)
        forcing = jnp.zeros_like(s0)
        for node, weight in zip(_GL3_NODES, _GL3_WEIGHTS):
            u = h * node
            e_u = jnp.exp(-u / tr)
            # K(h) - K(u) = (h - u)/td + a tr x0 (e^{-u/tr} - e^{-h/tr})
            forcing = forcing + weight * h * a * x0 * e_u * jnp.exp(-((h - u) / td + a * tr * x0 * (e_u - e_h)))
        forcing = jnp.minimum(forcing, -jnp.expm1(-K_h))
        s = s0 * jnp.exp(-K_h) + forcing
        x = x0 * e_h + arriving
        return {"s": s.astype(dtype), "x": x.astype(dtype)}

    def conductance(self, state):
        return state["s"]
