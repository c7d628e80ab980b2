"""The Pinsky--Rinzel two-compartment model of a CA3 pyramidal neuron."""
from __future__ import annotations

from typing import Any, ClassVar, Optional

import jax.numpy as jnp

from ..core import SpikingNeuron
from ..params import param
from .channels import _rate_lin

__all__ = ["PinskyRinzel", "pr_rates"]


def pr_rates(Vs, Vd, Ca):
    """Rates (1/ms) of the Pinsky--Rinzel gates; ``Vs``, ``Vd`` in mV, ``Ca`` in the model's
    arbitrary calcium units.

    .. math::
        \\alpha_m &= \\frac{0.32(-46.9 - V_s)}{e^{(-46.9 - V_s)/4} - 1}, &
        \\beta_m &= \\frac{0.28(V_s + 19.9)}{e^{(V_s + 19.9)/5} - 1} \\\\
        \\alpha_h &= 0.128\\, e^{(-43 - V_s)/18}, &
        \\beta_h &= \\frac{4}{1 + e^{(-20 - V_s)/5}} \\\\
        \\alpha_n &= \\frac{0.016(-24.9 - V_s)}{e^{(-24.9 - V_s)/5} - 1}, &
        \\beta_n &= 0.25\\, e^{-1 - 0.025 V_s} \\\\
        \\alpha_s &= \\frac{1.6}{1 + e^{-0.072 (V_d - 5)}}, &
        \\beta_s &= \\frac{0.02 (V_d + 8.9)}{e^{(V_d + 8.9)/5} - 1} \\\\
        \\alpha_c &= \\begin{cases} e^{(V_d + 50)/11 - (V_d + 53.5)/27}/18.975 & V_d \\le -10 \\\\
                                   2 e^{(-53.5 - V_d)/27} & V_d > -10 \\end{cases}, &
        \\beta_c &= \\begin{cases} 2 e^{(-53.5 - V_d)/27} - \\alpha_c & V_d \\le -10 \\\\ 0 & V_d > -10 \\end{cases} \\\\
        \\alpha_q &= \\min(2\\cdot 10^{-5}\\, Ca,\\ 0.01), & \\beta_q &= 0.001

    (Traub et al. 1991 rates shifted by -60 mV, as in Pinsky & Rinzel 1994.)

    Example
    -------
    >>> r = pr_rates(-60.0, -60.0, 0.0)
    >>> round(float(r["alpha_q"]), 6), round(float(r["beta_q"]), 6)
    (0.0, 0.001)
    """
    am = _rate_lin(Vs, 0.32, -46.9, 4.0)
    bm = _rate_lin(-Vs, 0.28, 19.9, 5.0)
    ah = 0.128 * jnp.exp((-43.0 - Vs) / 18.0)
    bh = 4.0 / (1.0 + jnp.exp((-20.0 - Vs) / 5.0))
    an = _rate_lin(Vs, 0.016, -24.9, 5.0)
    bn = 0.25 * jnp.exp((-40.0 - Vs) / 40.0)
    as_ = 1.6 / (1.0 + jnp.exp(-0.072 * (Vd - 5.0)))
    bs = _rate_lin(-Vd, 0.02, 8.9, 5.0)
    low = Vd <= -10.0
    Vl = jnp.minimum(Vd, -10.0)  # keep the unused branch finite
    a_low = jnp.exp((Vl + 50.0) / 11.0 - (Vl + 53.5) / 27.0) / 18.975
    a_high = 2.0 * jnp.exp((-53.5 - Vd) / 27.0)
    ac = jnp.where(low, a_low, a_high)
    bc = jnp.where(low, a_high - a_low, 0.0)
    aq = jnp.minimum(2e-5 * Ca, 0.01)
    return {"alpha_m": am, "beta_m": bm, "alpha_h": ah, "beta_h": bh, "alpha_n": an, "beta_n": bn,
            "alpha_s": as_, "beta_s": bs, "alpha_c": ac, "beta_c": bc, "alpha_q": aq,
            "beta_q": jnp.full_like(aq, 0.001)}


class PinskyRinzel(SpikingNeuron):
    """Pinsky--Rinzel two-compartment CA3 pyramidal neuron (P. F. Pinsky & J. Rinzel 1994,
    J Comput Neurosci 1:39--60), a reduction of the 19-compartment Traub et al. (1991) cell
    to a soma (fast Na, K-DR) and a dendrite (Ca, K-AHP, K-C, calcium), coupled by the
    conductance :math:`g_c` with the somatic area fraction :math:`p`:

    .. math::
        C \\dot V_s &= -g_L (V_s - E_L) - g_{Na} m_\\infty^2(V_s)\\, h\\,(V_s - E_{Na})
                      - g_{KDR}\\, n\\,(V_s - E_K) + \\frac{g_c}{p}(V_d - V_s) + \\frac{I_s}{p} \\\\
        C \\dot V_d &= -g_L (V_d - E_L) - g_{Ca} s^2 (V_d - E_{Ca}) - g_{KAHP}\\, q\\,(V_d - E_K)
                      - g_{KC}\\, c\\, \\chi(Ca)(V_d - E_K) + \\frac{g_c}{1-p}(V_s - V_d) + \\frac{I_d}{1-p} \\\\
        \\dot{Ca} &= -0.13\\, g_{Ca} s^2 (V_d - E_{Ca}) - 0.075\\, Ca, \\qquad
        \\chi(Ca) = \\min(Ca/250, 1) \\\\
        \\dot x &= \\alpha_x (1 - x) - \\beta_x x, \\quad x \\in \\{h, n, s, c, q\\}, \\qquad
        m_\\infty = \\alpha_m/(\\alpha_m + \\beta_m)

    with the rates of :func:`pr_rates` (voltages in absolute mV: the published rest-at-0
    values shifted by -60 mV). ``I`` (the run's input) is the somatic current :math:`I_s`;
    an input ``"I_d"`` (dict input) is the dendritic current. Spikes are upward crossings of
    ``V_th`` by the soma. Strong coupling (``g_c`` ~ 10 or more) makes the cell fire single
    spikes like one compartment; weak coupling (about 2) gives bursts in which a dendritic
    calcium spike drives several somatic spikes.

    In the terms of :mod:`braindyn.compartments` this is a two-compartment tree whose axial
    conductance, per unit of total membrane area, is :math:`g_c`, with compartment areas in the
    ratio :math:`p : 1-p`; it is written here as one ODE model so that it runs, vmaps and
    analyses like every other single neuron.

    Step size: the Na activation is instantaneous and h, n are fast; exponential Euler at
    dt = 0.01 ms or ``rk4`` at 0.02 ms resolve the spikes (spike times within 0.1 ms of a
    tight solve_ivp reference in the tests).

    Parameters
    ----------
    gL, gNa, gKDR, gCa, gKAHP, gKC : float
        Conductances (mS/cm^2): 0.1, 30, 15, 10, 0.8, 15.
    EL, ENa, EK, ECa : float
        Reversal potentials (mV): -60, 60, -75, 80.
    gc : float
        Coupling conductance (mS/cm^2): 2.1.
    p : float
        Somatic fraction of the membrane area (0 < p < 1): 0.5.
    C : float
        Capacitance (uF/cm^2): 3.
    V_th : float
        Somatic spike detection level (mV): -20 (low enough to count the spikelets of a
        complex burst, whose peaks stay below 0 mV).
    V_init : float or None
        Initial soma and dendrite potential (mV); None: -64.6 (the rest of the published
        parameters). The gates start at their steady state there, Ca at 0.2.

    Currents in uA/cm^2 (of the whole cell: ``I_s/p`` per somatic area), t in ms.

    Example
    -------
    >>> import braindyn as bd
    >>> pr = bd.neurons.PinskyRinzel(gc=2.1, method="rk4")
    >>> pr.variables
    ('Vs', 'Vd', 'h', 'n', 's', 'c', 'q', 'Ca')

    Bursts at weak coupling (``braindyn run pinsky-rinzel``)::

        res = bd.run(pr, duration=500.0, dt=0.02, inputs=1.5, record=["Vs", "spike"])
        res.spike_times()   # 20 spikes in 6 bursts of 2-4 spikes; gc=10.5: 6 single spikes
    """

    variables: ClassVar[tuple[str, ...]] = ("Vs", "Vd", "h", "n", "s", "c", "q", "Ca")
    refractory_vars: ClassVar[tuple[str, ...]] = ()
    spike_var: ClassVar[str] = "Vs"
    membrane_var: ClassVar[str] = "Vs"
    gL: Any = param(0.1, bound="nonnegative", unit="mS/cm^2", doc="leak conductance")
    gNa: Any = param(30.0, bound="nonnegative", unit="mS/cm^2", doc="somatic sodium conductance")
    gKDR: Any = param(15.0, bound="nonnegative", unit="mS/cm^2", doc="somatic delayed-rectifier conductance")
    gCa: Any = param(10.0, bound="nonnegative", unit="mS/cm^2", doc="dendritic calcium conductance")
    gKAHP: Any = param(0.8, bound="nonnegative", unit="mS/cm^2", doc="dendritic K-AHP conductance")
    gKC: Any = param(15.0, bound="nonnegative", unit="mS/cm^2", doc="dendritic Ca-activated K-C conductance")
    EL: Any = param(-60.0, unit="mV", doc="leak reversal potential")
    ENa: Any = param(60.0, unit="mV", doc="sodium reversal potential")
    EK: Any = param(-75.0, unit="mV", doc="potassium reversal potential")
    ECa: Any = param(80.0, unit="mV", doc="calcium reversal potential")
    gc: Any = param(2.1, bound="positive", unit="mS/cm^2", doc="soma-dendrite coupling conductance")
    p: Any = param(0.5, bound="positive", unit="1", doc="somatic area fraction (0 < p < 1)")
    C: Any = param(3.0, bound="positive", unit="uF/cm^2", doc="membrane capacitance")
    V_th: Any = param(-20.0, unit="mV", doc="somatic spike detection level (upward crossing)")
    V_init: Optional[Any] = param(None, unit="mV", doc="initial potential of both compartments")

    def __check_init__(self):
        import numpy as np

        from .._errors import BraindynError

        try:
            p = np.asarray(self.p)
        except Exception:  # traced
            return
        if np.any(p >= 1.0):
            raise BraindynError(f"PinskyRinzel: parameter 'p' (somatic area fraction) must be < 1, got {self.p!r}. "
                                f"Fix: e.g. p=0.5.")

    def initial(self):
        V0 = jnp.asarray(-64.6 if self.V_init is None else self.V_init)
        r = pr_rates(V0, V0, 0.2)
        inf = {x: r[f"alpha_{x}"] / (r[f"alpha_{x}"] + r[f"beta_{x}"]) for x in "hnsc"}
        return {"Vs": V0, "Vd": V0, **inf, "q": r["alpha_q"] / (r["alpha_q"] + r["beta_q"]), "Ca": jnp.asarray(0.2)}

    def currents(self, y):
        """Ionic currents (uA/cm^2 of each compartment's membrane, outward positive):
        ``{"Na", "KDR", "Ls", "Ca", "KAHP", "KC", "Ld"}``."""
        Vs, Vd = y["Vs"], y["Vd"]
        r = pr_rates(Vs, Vd, y["Ca"])
        m_inf = r["alpha_m"] / (r["alpha_m"] + r["beta_m"])
        chi = jnp.minimum(y["Ca"] / 250.0, 1.0)
        return {"Na": self.gNa * m_inf ** 2 * y["h"] * (Vs - self.ENa), "KDR": self.gKDR * y["n"] * (Vs - self.EK),
                "Ls": self.gL * (Vs - self.EL), "Ca": self.gCa * y["s"] ** 2 * (Vd - self.ECa),
                "KAHP": self.gKAHP * y["q"] * (Vd - self.EK), "KC": self.gKC * y["c"] * chi * (Vd - self.EK),
                "Ld": self.gL * (Vd - self.EL)}

    def vector_field(self, t, y, args):
        Vs, Vd = y["Vs"], y["Vd"]
        r = pr_rates(Vs, Vd, y["Ca"])
        I = self.currents(y)
        Is, Id = args["I"], args.get("I_d", 0.0)
        dVs = (-I["Ls"] - I["Na"] - I["KDR"] + self.gc / self.p * (Vd - Vs) + Is / self.p) / self.C
        dVd = (-I["Ld"] - I["Ca"] - I["KAHP"] - I["KC"] + self.gc / (1.0 - self.p) * (Vs - Vd)
               + Id / (1.0 - self.p)) / self.C
        out = {"Vs": dVs, "Vd": dVd, "Ca": -0.13 * I["Ca"] - 0.075 * y["Ca"]}
        for x in "hnscq":
            out[x] = r[f"alpha_{x}"] * (1.0 - y[x]) - r[f"beta_{x}"] * y[x]
        return out

    def spike_distance(self, y_old, y_new):
        return jnp.where(y_old["Vs"] <= self.V_th, y_new["Vs"] - self.V_th, -1.0)
