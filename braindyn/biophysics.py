"""Ion equilibria: Nernst and Goldman--Hodgkin--Katz (GHK) potentials and currents, the
resting potential of a membrane with several permeabilities, and ion concentrations.

Units: temperature ``T`` in degrees Celsius, concentrations in mM, potentials in mV,
permeabilities in cm/s, GHK current densities in uA/cm^2 (outward positive, the convention of
every conductance model of braindyn). Physical constants (CODATA 2018):
:data:`FARADAY` (C/mol) and :data:`GAS_CONSTANT` (J/(mol K)).

The defaults of the gallery entry ``nernst-ghk`` are the squid giant axon's concentrations
(Hodgkin's values as tabulated by B. Hille, *Ion Channels of Excitable Membranes*, 3rd ed.,
2001, table 1.1 / A. L. Hodgkin 1964): K 400 (in) / 20 (out) mM, Na 50 / 440 mM, Cl 52 / 560
mM, at 6.3 C (the temperature of the Hodgkin--Huxley experiments), and the resting
permeability ratios :math:`P_K : P_{Na} : P_{Cl} = 1 : 0.04 : 0.45` of Hodgkin & Katz (1949,
J Physiol 108:37).

Dynamic concentrations: :class:`braindyn.neurons.channels.CalciumPool` is the calcium pool
with first-order removal (decay) of every conductance neuron; :class:`CalciumPumpPool` adds a
saturable (Michaelis--Menten) pump; :func:`calcium_influx_factor` gives the influx factor of
either for a submembrane shell of given depth.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import jax.numpy as jnp

from ._errors import BraindynError
from .integrators.exp import exprel
from .neurons.channels import Channel
from .params import param

__all__ = [
    "FARADAY", "GAS_CONSTANT", "ZERO_CELSIUS", "Ion", "SQUID_IONS", "SQUID_PERMEABILITY", "thermal_voltage",
    "nernst", "ghk_current", "ghk_voltage", "ghk_net_current", "calcium_influx_factor", "CalciumPumpPool",
]

#: Faraday constant (C/mol).
FARADAY = 96485.33212
#: Molar gas constant (J/(mol K)).
GAS_CONSTANT = 8.314462618
#: 0 degrees Celsius in kelvin.
ZERO_CELSIUS = 273.15


def _check_T(T, fn):
    if jnp.ndim(T) == 0 and not isinstance(T, jnp.ndarray) and not (float(T) > -ZERO_CELSIUS):
        raise BraindynError(f"{fn}: temperature T={T!r} C is at or below absolute zero. "
                            f"Fix: give T in degrees Celsius, e.g. T=6.3.")


def _check_conc(name, c, fn):
    try:
        bad = not bool(jnp.all(jnp.asarray(c) > 0))
    except Exception:  # traced values are not checked
        return
    if bad:
        raise BraindynError(f"{fn}: concentration {name}={c!r} must be > 0 (mM). "
                            f"Fix: give positive concentrations in mM, e.g. {name}=20.0.")


def _check_z(z, fn):
    if isinstance(z, bool) or not isinstance(z, (int, float)) or z == 0:
        raise BraindynError(f"{fn}: valence z={z!r} must be a non-zero number (e.g. 1 for K+, 2 for Ca2+, "
                            f"-1 for Cl-).")


def thermal_voltage(T=6.3):
    """:math:`RT/F` in mV at temperature ``T`` (C): 24.08 mV at 6.3 C, 26.7 mV at 36.85 C.

    Example
    -------
    >>> round(float(thermal_voltage(6.3)), 2)
    24.08
    """
    _check_T(T, "thermal_voltage")
    return 1000.0 * GAS_CONSTANT * (jnp.asarray(T) + ZERO_CELSIUS) / FARADAY


def nernst(c_out, c_in, z=1, T=6.3):
    """Nernst equilibrium potential (mV).

    .. math:: E = \\frac{RT}{zF} \\ln \\frac{[C]_{out}}{[C]_{in}}

    Parameters
    ----------
    c_out, c_in : float or array
        Extra- and intracellular concentrations (mM, > 0).
    z : int
        Valence (1 for K+ and Na+, 2 for Ca2+, -1 for Cl-).
    T : float
        Temperature (C).

    Example
    -------
    >>> round(float(nernst(20.0, 400.0, 1, 6.3)), 2)   # squid K+
    -72.14
    """
    _check_z(z, "nernst")
    _check_conc("c_out", c_out, "nernst")
    _check_conc("c_in", c_in, "nernst")
    return thermal_voltage(T) / z * jnp.log(jnp.asarray(c_out) / jnp.asarray(c_in))


def ghk_current(V, P, c_in, c_out, z=1, T=6.3):
    """GHK current density (uA/cm^2, outward positive) of one ion through a membrane of
    permeability ``P``.

    .. math::
        I = P\\, z F\\, u\\, \\frac{[C]_{in} - [C]_{out}\\, e^{-u}}{1 - e^{-u}}, \\qquad
        u = \\frac{z F V}{R T}

    With ``P`` in cm/s and concentrations in mM (= umol/cm^3) the product is in uA/cm^2
    (the factors 1e-6 of the concentration and 1e6 of the current cancel). The removable
    singularity at ``V = 0`` (:math:`I = P z F ([C]_{in} - [C]_{out})`) is evaluated exactly.
    The current vanishes at the Nernst potential.

    Parameters
    ----------
    V : float or array
        Membrane potential (mV).
    P : float or array
        Permeability (cm/s, >= 0).
    c_in, c_out : float or array
        Concentrations (mM).
    z : int
        Valence.
    T : float
        Temperature (C).

    Example
    -------
    >>> E = nernst(20.0, 400.0)
    >>> abs(float(ghk_current(E, 1e-6, 400.0, 20.0))) < 1e-3
    True
    """
    _check_z(z, "ghk_current")
    u = z * jnp.asarray(V) / thermal_voltage(T)
    # u / (1 - e^{-u}) = 1 / exprel(-u)
    return P * z * FARADAY * (c_in - c_out * jnp.exp(-u)) / exprel(-u)


@dataclass(frozen=True)
class Ion:
    """An ion species with fixed concentrations (the fixed-concentration model).

    Attributes
    ----------
    name : str
        Label (``"K"``, ``"Na"``, ``"Cl"``, ``"Ca"``).
    z : int
        Valence.
    c_in, c_out : float
        Intra- and extracellular concentrations (mM, > 0).

    Example
    -------
    >>> round(float(Ion("Na", 1, 50.0, 440.0).reversal(6.3)), 2)
    52.37
    """

    name: str
    z: int
    c_in: float
    c_out: float

    def __post_init__(self):
        _check_z(self.z, f"Ion({self.name!r})")
        _check_conc("c_in", self.c_in, f"Ion({self.name!r})")
        _check_conc("c_out", self.c_out, f"Ion({self.name!r})")

    def reversal(self, T=6.3):
        """Nernst potential (mV) at ``T`` (C)."""
        return nernst(self.c_out, self.c_in, self.z, T)

    def current(self, V, P, T=6.3):
        """GHK current density (uA/cm^2) at ``V`` (mV) for permeability ``P`` (cm/s)."""
        return ghk_current(V, P, self.c_in, self.c_out, self.z, T)


#: Squid giant axon (Hille 2001, table 1.1, after Hodgkin 1964), mM.
SQUID_IONS = {"K": Ion("K", 1, 400.0, 20.0), "Na": Ion("Na", 1, 50.0, 440.0), "Cl": Ion("Cl", -1, 52.0, 560.0)}
#: Resting permeability ratios of the squid axon (Hodgkin & Katz 1949), relative to P_K.
SQUID_PERMEABILITY = {"K": 1.0, "Na": 0.04, "Cl": 0.45}


def _ions_and_P(ions, permeabilities, fn):
    if not isinstance(ions, dict) or not ions:
        raise BraindynError(f"{fn}: 'ions' must be a non-empty dict {{name: Ion}}, got {ions!r}. "
                            f"Fix: e.g. braindyn.biophysics.SQUID_IONS.")
    missing = sorted(set(ions) - set(permeabilities))
    extra = sorted(set(permeabilities) - set(ions))
    if missing or extra:
        raise BraindynError(f"{fn}: permeabilities must name exactly the ions {sorted(ions)}; "
                            f"missing {missing}, unknown {extra}.")
    return [(ions[k], permeabilities[k]) for k in ions]


def ghk_voltage(ions=None, permeabilities=None, T=6.3):
    """Resting potential (mV) of a membrane permeable to several monovalent ions (the GHK
    voltage equation): the potential where the total GHK current is zero.

    .. math::
        V = \\frac{RT}{F} \\ln \\frac{\\sum_{cations} P_i [C_i]_{out} + \\sum_{anions} P_j [A_j]_{in}}
                                      {\\sum_{cations} P_i [C_i]_{in} + \\sum_{anions} P_j [A_j]_{out}}

    Parameters
    ----------
    ions : dict
        ``{name: Ion}`` with valences +1 or -1 (default: :data:`SQUID_IONS`).
    permeabilities : dict
        ``{name: P}`` (any common unit: only ratios matter; default :data:`SQUID_PERMEABILITY`).
    T : float
        Temperature (C).

    Example
    -------
    >>> round(float(ghk_voltage()), 2)          # squid axon at rest, P_K:P_Na:P_Cl = 1:0.04:0.45
    -57.13
    """
    ions = SQUID_IONS if ions is None else ions
    permeabilities = SQUID_PERMEABILITY if permeabilities is None else permeabilities
    num, den = 0.0, 0.0
    for ion, P in _ions_and_P(ions, permeabilities, "ghk_voltage"):
        if ion.z == 1:
            num, den = num + P * ion.c_out, den + P * ion.c_in
        elif ion.z == -1:
            num, den = num + P * ion.c_in, den + P * ion.c_out
        else:
            raise BraindynError(
                f"ghk_voltage: ion {ion.name!r} has valence {ion.z}; the GHK voltage equation is closed-form "
                f"for monovalent ions only. Fix: leave it out, or find the zero of ghk_net_current numerically.")
    return thermal_voltage(T) * jnp.log(num / den)


def ghk_net_current(V, ions=None, permeabilities=None, T=6.3):
    """Total GHK current density (uA/cm^2) of several ions at ``V`` (mV); ``permeabilities`` in
    cm/s. Zero at :func:`ghk_voltage` (for monovalent ions).

    .. math:: I(V) = \\sum_i I_{GHK}(V; P_i, z_i, [C_i]_{in}, [C_i]_{out})

    Example
    -------
    >>> P = {"K": 1e-6, "Na": 4e-8, "Cl": 4.5e-7}
    >>> abs(float(ghk_net_current(ghk_voltage(SQUID_IONS, P), SQUID_IONS, P))) < 1e-3   # uA/cm2, vs ~37 for K alone
    True
    """
    ions = SQUID_IONS if ions is None else ions
    permeabilities = SQUID_PERMEABILITY if permeabilities is None else permeabilities
    return sum(ion.current(V, P, T) for ion, P in _ions_and_P(ions, permeabilities, "ghk_net_current"))


def calcium_influx_factor(depth=1.0, z=2):
    """Influx factor ``k`` (uM/ms per uA/cm^2) of a submembrane shell of ``depth`` (um) for
    :class:`braindyn.neurons.channels.CalciumPool`, whose concentration obeys
    :math:`d[Ca]/dt = -k I_{Ca} - ([Ca] - [Ca]_{rest})/\\tau` (first-order pump/decay):

    .. math:: k = \\frac{1}{z F d} = \\frac{10^4}{z F\\, d[\\mu m]}\\ \\mu M\\,ms^{-1}/(\\mu A\\,cm^{-2})

    Example
    -------
    >>> round(calcium_influx_factor(1.0), 5)
    0.05182
    """
    if not (depth > 0):
        raise BraindynError(f"calcium_influx_factor: depth={depth!r} um must be > 0. Fix: e.g. depth=1.0.")
    _check_z(z, "calcium_influx_factor")
    return 1e4 / (z * FARADAY * depth)


class CalciumPumpPool(Channel):
    """Submembrane calcium with a saturable pump and first-order recovery (the ``cadecay``
    scheme of A. Destexhe et al. 1993, Biophys J 65:2473), a piece of
    :class:`~braindyn.neurons.ConductanceNeuron` like :class:`~braindyn.neurons.channels.CalciumPool`:

    .. math::
        \\frac{d[Ca]}{dt} = -k\\, I_{Ca} - \\frac{v_{max} [Ca]}{[Ca] + K_m}
                           + \\frac{[Ca]_\\infty - [Ca]}{\\tau}, \\qquad k = \\frac{10^4}{2 F d}

    Reads the total calcium current ``env["I_Ca"]`` (uA/cm^2) and provides ``env["Ca"]`` (uM).
    Without current the pool rests at the positive root of
    :math:`[Ca]^2 + (K_m - [Ca]_\\infty + v_{max}\\tau)[Ca] - [Ca]_\\infty K_m = 0`.

    Parameters: ``k`` influx factor (uM/ms per uA/cm^2) 0.518 (a 0.1 um shell), ``v_max`` pump
    rate (uM/ms) 0, ``Km`` pump half-saturation (uM) 0.1, ``tau`` recovery time constant (ms)
    5, ``Ca_inf`` (uM) 0.24.

    Example
    -------
    >>> pool = CalciumPumpPool(v_max=0.5)
    >>> c0 = pool.gates_inf(jnp.zeros(1), {})["c"]
    >>> bool(abs(pool.derivs(jnp.zeros(1), {"c": c0}, {})["c"][0]) < 1e-6)
    True
    """

    gates: ClassVar[tuple[str, ...]] = ("c",)
    k: Any = param(1e4 / (2 * FARADAY * 0.1), bound="nonnegative", unit="uM/ms per uA/cm^2",
                   doc="calcium influx per unit current")
    v_max: Any = param(0.0, bound="nonnegative", unit="uM/ms", doc="maximal pump rate")
    Km: Any = param(0.1, bound="positive", unit="uM", doc="pump half-saturation concentration")
    tau: Any = param(5.0, bound="positive", unit="ms", doc="recovery time constant")
    Ca_inf: Any = param(0.24, bound="nonnegative", unit="uM", doc="concentration reached without pump or current")

    def rest(self):
        """Resting concentration (uM) without calcium current."""
        b = self.Km - self.Ca_inf + self.v_max * self.tau
        return 0.5 * (-b + jnp.sqrt(b * b + 4.0 * self.Ca_inf * self.Km))

    def gates_inf(self, V, env):
        return {"c": jnp.broadcast_to(self.rest(), jnp.shape(V)).astype(jnp.result_type(V, float))}

    def derivs(self, V, s, env):
        c = s["c"]
        return {"c": -self.k * env.get("I_Ca", 0.0) - self.v_max * c / (c + self.Km) + (self.Ca_inf - c) / self.tau}

    def concentrations(self, s):
        return {"Ca": s["c"]}
