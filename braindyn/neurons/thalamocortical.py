"""A thalamocortical (TC) relay neuron with T-, L- and N-type calcium currents, I_AHP, I_h,
K_DR, Na and calcium dynamics: rebound bursting after hyperpolarisation.

The neuron is a :class:`~braindyn.neurons.ConductanceNeuron` assembled from channel pieces:
the new ones are defined here (:class:`INa_TM`, :class:`IK_TM`, :class:`IT_HM`,
:class:`ICaL_M`, :class:`ICaN_M`); the Ih of Huguenard & McCormick
(:class:`~braindyn.neurons.channels_extra.Ih_HM`), the calcium-activated potassium current
(:class:`~braindyn.neurons.channels.IK_Ca`, the AHP current) and the calcium pool with
first-order removal (:class:`~braindyn.neurons.channels.CalciumPool`, influx through a
submembrane shell, :func:`braindyn.biophysics.calcium_influx_factor`) are reused. Every
calcium current has ``ion = "Ca"`` and feeds the pool; :func:`thalamocortical` builds the
neuron.

Units: V in mV, t in ms, conductances in mS/cm^2, currents in uA/cm^2, [Ca] in uM.
"""
from __future__ import annotations

from typing import Any, ClassVar

import jax
import jax.numpy as jnp

from ..params import param
from .channels import CalciumPool, IK_Ca, Leak, RateChannel, _rate_lin
from .channels_extra import Ih_HM
from .conductance import ConductanceNeuron

__all__ = ["INa_TM", "IK_TM", "IT_HM", "ICaL_M", "ICaN_M", "thalamocortical", "TC_DEFAULTS"]


class INa_TM(RateChannel):
    """Traub--Miles sodium current :math:`g\\, m^3 h (V - E)` (R. D. Traub & R. Miles 1991, in
    the form of Destexhe et al. 1996/1998 for thalamic cells, with threshold ``VT``):

    .. math::
        \\alpha_m = \\frac{0.32\\,(13 - u)}{e^{(13 - u)/4} - 1},\\;
        \\beta_m = \\frac{0.28\\,(u - 40)}{e^{(u - 40)/5} - 1},\\;
        \\alpha_h = 0.128\\, e^{(17 - u)/18},\\; \\beta_h = \\frac{4}{1 + e^{(40 - u)/5}},\\;
        u = V - V_T

    Parameters: ``g`` 90 mS/cm^2, ``E`` 50 mV, ``VT`` -52 mV, ``phi`` 1.
    """

    gates: ClassVar[tuple[str, ...]] = ("m", "h")
    ion: ClassVar[str] = "Na"
    g: Any = param(90.0, bound="nonnegative", unit="mS/cm^2", doc="maximal conductance")
    E: Any = param(50.0, unit="mV", doc="reversal potential")
    VT: Any = param(-52.0, unit="mV", doc="threshold shift of the rates")
    phi: Any = param(1.0, bound="positive", unit="1", doc="temperature factor of the gates")

    def gate_rates(self, V):
        u = V - self.VT
        return {"m": (_rate_lin(u, 0.32, 13.0, 4.0), _rate_lin(-u, 0.28, -40.0, 5.0)),
                "h": (0.128 * jnp.exp((17.0 - u) / 18.0), 4.0 / (1.0 + jnp.exp((40.0 - u) / 5.0)))}

    def current(self, V, s, env):
        return self.g * s["m"] ** 3 * s["h"] * (V - self.E)

    def conductance(self, V, s, env):
        return self.g * s["m"] ** 3 * s["h"]


class IK_TM(RateChannel):
    """Traub--Miles delayed-rectifier potassium current :math:`g\\, n^4 (V - E)`:
    :math:`\\alpha_n = \\frac{0.032\\,(15 - u)}{e^{(15 - u)/5} - 1}`,
    :math:`\\beta_n = 0.5\\, e^{(10 - u)/40}`, :math:`u = V - V_T`.

    Parameters: ``g`` 10 mS/cm^2, ``E`` -100 mV, ``VT`` -52 mV, ``phi`` 1.
    """

    gates: ClassVar[tuple[str, ...]] = ("n",)
    ion: ClassVar[str] = "K"
    g: Any = param(10.0, bound="nonnegative", unit="mS/cm^2", doc="maximal conductance")
    E: Any = param(-100.0, unit="mV", doc="reversal potential")
    VT: Any = param(-52.0, unit="mV", doc="threshold shift of the rates")
    phi: Any = param(1.0, bound="positive", unit="1", doc="temperature factor of the gates")

    def gate_rates(self, V):
        u = V - self.VT
        return {"n": (_rate_lin(u, 0.032, 15.0, 5.0), 0.5 * jnp.exp((10.0 - u) / 40.0))}

    def current(self, V, s, env):
        return self.g * s["n"] ** 4 * (V - self.E)

    def conductance(self, V, s, env):
        return self.g * s["n"] ** 4


class IT_HM(RateChannel):
    """Low-threshold (T-type) calcium current of TC neurons, :math:`g\\, m_\\infty^2(V)\\, h\\,(V - E)`,
    with instantaneous activation (J. R. Huguenard & D. A. McCormick 1992, J Neurophysiol
    68:1373; the form of Destexhe et al. 1998, J Neurophysiol 79:999):

    .. math::
        m_\\infty = \\frac{1}{1 + e^{-(V + 57)/6.2}},\\quad
        h_\\infty = \\frac{1}{1 + e^{(V + 81)/4}},\\quad
        \\tau_h = \\frac{1}{\\phi_h}\\left(30.8 + \\frac{211.4 + e^{(V + 113.2)/5}}{1 + e^{(V + 84)/3.2}}\\right)

    with :math:`\\phi_h = 3^{(36 - 24)/10}` (the rates were measured at 24 C). Written as rate
    kinetics with :math:`\\alpha_h = h_\\infty/\\tau_h`, :math:`\\beta_h = (1 - h_\\infty)/\\tau_h`.
    Hyperpolarisation removes the inactivation (h grows); on release the current opens and
    gives a low-threshold calcium spike.

    Parameters: ``g`` 2 mS/cm^2, ``E`` 120 mV (fixed), ``phi`` 3^1.2 (the factor of tau_h).
    """

    gates: ClassVar[tuple[str, ...]] = ("h",)
    ion: ClassVar[str] = "Ca"
    g: Any = param(2.0, bound="nonnegative", unit="mS/cm^2", doc="maximal conductance")
    E: Any = param(120.0, unit="mV", doc="calcium reversal potential")
    phi: Any = param(3.0 ** 1.2, bound="positive", unit="1", doc="temperature factor of tau_h")

    @staticmethod
    def m_inf(V):
        return jax.nn.sigmoid((V + 57.0) / 6.2)

    def gate_rates(self, V):
        h_inf = jax.nn.sigmoid(-(V + 81.0) / 4.0)
        tau = 30.8 + (211.4 + jnp.exp((V + 113.2) / 5.0)) / (1.0 + jnp.exp((V + 84.0) / 3.2))
        return {"h": (h_inf / tau, (1.0 - h_inf) / tau)}

    def current(self, V, s, env):
        return self.g * self.m_inf(V) ** 2 * s["h"] * (V - self.E)

    def conductance(self, V, s, env):
        return self.g * self.m_inf(V) ** 2 * s["h"]


class ICaL_M(RateChannel):
    """High-voltage-activated L-type calcium current with calcium-dependent inactivation,
    :math:`g\\, m^2 \\frac{K_i}{K_i + [Ca]} (V - E)` (the rates of M. Migliore et al. 1995,
    J Neurophysiol 73:1055, with a fixed reversal potential instead of the GHK driving force):

    .. math::
        \\alpha_m = \\frac{0.055\\,(-27.01 - V)}{e^{(-27.01 - V)/3.8} - 1},\\quad
        \\beta_m = 0.94\\, e^{(-63.01 - V)/17}

    Parameters: ``g`` 0.5 mS/cm^2, ``E`` 120 mV, ``Ki`` 1 uM, ``phi`` 1. Needs a calcium pool.
    """

    gates: ClassVar[tuple[str, ...]] = ("m",)
    ion: ClassVar[str] = "Ca"
    g: Any = param(0.5, bound="nonnegative", unit="mS/cm^2", doc="maximal conductance")
    E: Any = param(120.0, unit="mV", doc="calcium reversal potential")
    Ki: Any = param(1.0, bound="positive", unit="uM", doc="half-inactivation concentration")
    phi: Any = param(1.0, bound="positive", unit="1", doc="temperature factor of the gates")

    def gate_rates(self, V):
        return {"m": (_rate_lin(V, 0.055, -27.01, 3.8), 0.94 * jnp.exp((-63.01 - V) / 17.0))}

    def current(self, V, s, env):
        return self.g * s["m"] ** 2 * self.Ki / (self.Ki + env["Ca"]) * (V - self.E)


class ICaN_M(RateChannel):
    """High-voltage-activated N-type calcium current, :math:`g\\, m^2 h \\frac{K_i}{K_i + [Ca]} (V - E)`
    (rates of M. Migliore et al. 1995, J Neurophysiol 73:1055; fixed reversal potential):

    .. math::
        \\alpha_m = \\frac{0.1967\\,(19.88 - V)}{e^{(19.88 - V)/10} - 1},\\;
        \\beta_m = 0.046\\, e^{-V/20.73},\\;
        \\alpha_h = 1.6\\cdot 10^{-4} e^{-V/48.4},\\;
        \\beta_h = \\frac{1}{1 + e^{(39 - V)/10}}

    Parameters: ``g`` 0.5 mS/cm^2, ``E`` 120 mV, ``Ki`` 1 uM, ``phi`` 1. Needs a calcium pool.
    """

    gates: ClassVar[tuple[str, ...]] = ("m", "h")
    ion: ClassVar[str] = "Ca"
    g: Any = param(0.5, bound="nonnegative", unit="mS/cm^2", doc="maximal conductance")
    E: Any = param(120.0, unit="mV", doc="calcium reversal potential")
    Ki: Any = param(1.0, bound="positive", unit="uM", doc="half-inactivation concentration")
    phi: Any = param(1.0, bound="positive", unit="1", doc="temperature factor of the gates")

    def gate_rates(self, V):
        return {"m": (_rate_lin(V, 0.1967, 19.88, 10.0), 0.046 * jnp.exp(-V / 20.73)),
                "h": (1.6e-4 * jnp.exp(-V / 48.4), 1.0 / (1.0 + jnp.exp((39.0 - V) / 10.0)))}

    def current(self, V, s, env):
        return self.g * s["m"] ** 2 * s["h"] * self.Ki / (self.Ki + env["Ca"]) * (V - self.E)


#: Default parameters of :func:`thalamocortical` (conductances in mS/cm^2, potentials in mV,
#: ``depth`` in um, ``tau_Ca`` in ms, ``Ca_rest`` and ``Kd_AHP`` in uM).
TC_DEFAULTS = dict(gNa=90.0, gK=10.0, gT=2.0, gCaL=0.5, gCaN=0.5, gAHP=0.05, gh=0.02, gLeak=0.05, ENa=50.0,
                   EK=-100.0, ECa=120.0, Eh=-43.0, ELeak=-70.0, VT=-52.0, depth=0.1, tau_Ca=5.0, Ca_rest=0.05,
                   Kd_AHP=1.0)


def thalamocortical(n: int = 1, method: str = "exp_euler", V_init=None, V_th: float = 0.0,
                    **params) -> ConductanceNeuron:
    """A thalamocortical relay neuron (one compartment, C = 1 uF/cm^2):

    .. math::
        C\\dot V = -I_{Na} - I_{K} - I_T - I_{CaL} - I_{CaN} - I_{AHP} - I_h - I_{L} + I(t),
        \\qquad \\frac{d[Ca]}{dt} = -k\\,(I_T + I_{CaL} + I_{CaN}) - \\frac{[Ca] - [Ca]_{rest}}{\\tau_{Ca}}

    with the channels :class:`INa_TM` (``"Na"``), :class:`IK_TM` (``"K"``), :class:`IT_HM`
    (``"T"``), :class:`ICaL_M` (``"CaL"``), :class:`ICaN_M` (``"CaN"``),
    :class:`~braindyn.neurons.channels.IK_Ca` (``"AHP"``: :math:`g\\,[Ca]/([Ca] + K_d)(V - E_K)`),
    :class:`~braindyn.neurons.channels_extra.Ih_HM` (``"h"``), a leak (``"L"``) and the pool
    :class:`~braindyn.neurons.channels.CalciumPool` (``"pool"``, influx factor
    :math:`k = 10^4/(2 F d)` for a shell of depth :math:`d`).

    The T current is inactivated at rest; a hyperpolarising step de-inactivates it (and opens
    Ih), and on release the neuron fires a rebound burst of sodium spikes on a low-threshold
    calcium spike, ended by the inactivation of I_T and the AHP.

    Parameters
    ----------
    n : int
        Number of neurons.
    method : str
        Integration method (exponential Euler by default; dt = 0.01--0.025 ms resolves the spikes).
    V_init : float or None
        Initial V (mV); None: the resting potential.
    V_th : float
        Spike detection level (mV, upward crossing).
    **params
        Any entry of :data:`TC_DEFAULTS` (conductances ``gNa, gK, gT, gCaL, gCaN, gAHP, gh,
        gLeak`` in mS/cm^2; reversal potentials ``ENa, EK, ECa, Eh, ELeak`` and the Na/K rate
        shift ``VT`` in mV; the shell ``depth`` in um, ``tau_Ca`` in ms, ``Ca_rest`` and
        ``Kd_AHP`` in uM).

    Example
    -------
    >>> import braindyn as bd
    >>> tc = bd.neurons.thalamocortical(gh=0.5)
    >>> sorted(tc.channels)
    ['AHP', 'CaL', 'CaN', 'K', 'L', 'Na', 'T', 'h', 'pool']
    >>> float(tc.channels["h"].g)
    0.5

    The rebound burst (``braindyn run thalamocortical``)::

        step = bd.inputs.section([0.0, -1.5, 0.0], [100.0, 300.0, 100.0])
        res = bd.run(bd.neurons.thalamocortical(method="rk4"), 500.0, 0.02, inputs=step,
                     record=["V", "spike"])
        res.spike_times()   # 5 spikes between 422 and 432 ms, none before the release at 400 ms
    """
    from .._errors import BraindynError
    from ..biophysics import calcium_influx_factor

    unknown = sorted(set(params) - set(TC_DEFAULTS))
    if unknown:
        raise BraindynError(f"thalamocortical: unknown parameter(s) {unknown}. Valid: {sorted(TC_DEFAULTS)}.")
    p = {**TC_DEFAULTS, **params}
    channels = {
        "Na": INa_TM(g=p["gNa"], E=p["ENa"], VT=p["VT"]),
        "K": IK_TM(g=p["gK"], E=p["EK"], VT=p["VT"]),
        "T": IT_HM(g=p["gT"], E=p["ECa"]),
        "CaL": ICaL_M(g=p["gCaL"], E=p["ECa"]),
        "CaN": ICaN_M(g=p["gCaN"], E=p["ECa"]),
        "AHP": IK_Ca(g=p["gAHP"], E=p["EK"], Kd=p["Kd_AHP"]),
        "h": Ih_HM(g=p["gh"], E=p["Eh"]),
        "L": Leak(g=p["gLeak"], E=p["ELeak"]),
        "pool": CalciumPool(k=calcium_influx_factor(p["depth"]), tau=p["tau_Ca"], Ca_rest=p["Ca_rest"]),
    }
    return ConductanceNeuron(channels, n=n, method=method, V_init=V_init, V_th=V_th)
