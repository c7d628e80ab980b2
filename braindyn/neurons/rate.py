"""Rate units for networks: a leaky rate unit with a chosen transfer function, the
threshold-linear unit, and the Wilson--Cowan excitatory-inhibitory pair.

Rate units are :class:`~braindyn.core.ODEModel` s: a pure ``vector_field(t, y, args)`` with
the input in ``args["I"]``; coupling between units comes in as an input (a projection), so
exponential Euler (the default) stays exact for the leak. Noise is the core's
``noise={"r": sigma}``.
"""
from __future__ import annotations

from typing import Any, Callable, ClassVar, Optional, Union

import equinox as eqx
import jax
import jax.numpy as jnp

from .._errors import check_choice
from ..core import ODEModel
from ..params import param

__all__ = ["RateUnit", "ThresholdLinear", "WilsonCowan", "TRANSFER_FUNCTIONS", "transfer"]

#: Transfer functions :math:`f(x)` of a rate unit, applied to :math:`x = g\\,(I - \\theta)`.
TRANSFER_FUNCTIONS = {
    "sigmoid": jax.nn.sigmoid,
    "tanh": jnp.tanh,
    "relu": jax.nn.relu,
    "linear": lambda x: x,
    "softplus": jax.nn.softplus,
}


def transfer(name_or_fn) -> Callable:
    """The transfer function called ``name`` (see :data:`TRANSFER_FUNCTIONS`), or ``fn`` itself."""
    if callable(name_or_fn):
        return name_or_fn
    check_choice("transfer function", name_or_fn, list(TRANSFER_FUNCTIONS), "RateUnit")
    return TRANSFER_FUNCTIONS[name_or_fn]


class RateUnit(ODEModel):
    """Leaky rate unit with a chosen transfer function.

    .. math::
        \\tau \\frac{dr}{dt} = -r + r_{max}\\, f\\big(g\\,(I(t) - \\theta)\\big)

    For a constant input the rate relaxes exponentially to :math:`r_{max} f(g(I - \\theta))`
    with time constant :math:`\\tau` (see :meth:`steady_state`).

    Parameters
    ----------
    tau : float
        Time constant (ms, > 0): 10.
    f : str or callable
        Transfer function: ``"sigmoid"`` (default), ``"tanh"``, ``"relu"``, ``"linear"``,
        ``"softplus"``, or a function of one array (hashable, e.g. a module-level function).
    gain : float
        Gain :math:`g` (1/unit of I): 1.
    theta : float
        Threshold (unit of I): 0.
    r_max : float
        Scale of the rate (Hz, or dimensionless): 1.
    r_init : float or None
        Initial rate; None: 0.

    Example
    -------
    >>> import braindyn as bd
    >>> res = bd.run(bd.neurons.RateUnit(f="relu"), duration=100.0, inputs=2.0)
    >>> round(float(res["r"][-1, 0]), 4)     # 2 (1 - e^{-10})
    1.9999
    """

    variables: ClassVar[tuple[str, ...]] = ("r",)
    tau: Any = param(10.0, bound="positive", unit="ms", doc="time constant")
    f: Union[str, Callable] = eqx.field(static=True, default="sigmoid")
    gain: Any = param(1.0, unit="1/unit of I", doc="gain of the transfer function")
    theta: Any = param(0.0, unit="unit of I", doc="threshold of the transfer function")
    r_max: Any = param(1.0, unit="Hz or 1", doc="scale of the rate")
    r_init: Optional[Any] = param(None, unit="Hz or 1", doc="initial rate; None = 0")

    def __check_init__(self):
        transfer(self.f)

    def initial(self):
        return {"r": 0.0 if self.r_init is None else self.r_init}

    def rate_function(self, I):
        """:math:`r_{max} f(g (I - \\theta))`, the steady-state rate for input ``I``."""
        return self.r_max * transfer(self.f)(self.gain * (I - self.theta))

    def steady_state(self, I):
        return self.rate_function(jnp.asarray(I))

    def vector_field(self, t, y, args):
        return {"r": (-y["r"] + self.rate_function(args["I"])) / self.tau}


class ThresholdLinear(RateUnit):
    """Threshold-linear rate unit: a :class:`RateUnit` with :math:`f(x) = [x]_+`.

    .. math:: \\tau \\frac{dr}{dt} = -r + \\beta\\, [I(t) - \\theta]_+

    Parameters: ``tau`` (ms) 10, ``gain`` :math:`\\beta` (rate per unit of I) 1, ``theta``
    (unit of I) 0, ``r_init`` 0.

    Example
    -------
    >>> import braindyn as bd
    >>> res = bd.run(bd.neurons.ThresholdLinear(theta=1.0), duration=200.0, inputs=3.0)
    >>> round(float(res["r"][-1, 0]), 3)
    2.0
    """

    f: Union[str, Callable] = eqx.field(static=True, default="relu")

    def __check_init__(self):
        check_choice("transfer function of ThresholdLinear", self.f, ["relu"], "ThresholdLinear")


def _wc_sigmoid(x, a, theta):
    return jax.nn.sigmoid(a * (x - theta)) - jax.nn.sigmoid(-a * theta)


class WilsonCowan(ODEModel):
    """Wilson--Cowan excitatory-inhibitory rate model (Wilson & Cowan 1972).

    .. math::
        \\tau_E \\frac{dE}{dt} &= -E + (1 - r E)\\, S_E(w_{EE} E - w_{EI} I + I_E(t)) \\\\
        \\tau_I \\frac{dI}{dt} &= -I + (1 - r I)\\, S_I(w_{IE} E - w_{II} I + I_I(t)) \\\\
        S(x) &= \\frac{1}{1 + e^{-a(x - \\theta)}} - \\frac{1}{1 + e^{a\\theta}}

    State variables are ``rE`` and ``rI`` (fractions of active cells); the inputs are
    ``args["I"]`` (to E) and ``args["I_inh"]`` (to I, default 0).

    Parameters
    ----------
    tau_E, tau_I : float
        Time constants (ms): 1, 1.
    a_E, theta_E, a_I, theta_I : float
        Slopes and thresholds of the sigmoids (dimensionless): 1.2, 2.8, 1, 4.
    w_EE, w_EI, w_IE, w_II : float
        Coupling strengths (to-from; dimensionless): 12, 13, 4, 11.
    r : float
        Refractory factor (dimensionless): 1.
    rE_init, rI_init : float or None
        Initial fractions (None: 0).

    Example
    -------
    >>> import braindyn as bd
    >>> res = bd.run(bd.neurons.WilsonCowan(), duration=50.0, dt=0.01, inputs=0.0)
    >>> abs(float(res["rE"][-1, 0])) < 1e-6      # the origin is a fixed point at zero input
    True
    """

    variables: ClassVar[tuple[str, ...]] = ("rE", "rI")
    tau_E: Any = param(1.0, bound="positive", unit="ms", doc="time constant of E")
    tau_I: Any = param(1.0, bound="positive", unit="ms", doc="time constant of I")
    a_E: Any = param(1.2, bound="positive", unit="1", doc="slope of the E sigmoid")
    theta_E: Any = param(2.8, unit="1", doc="threshold of the E sigmoid")
    a_I: Any = param(1.0, bound="positive", unit="1", doc="slope of the I sigmoid")
    theta_I: Any = param(4.0, unit="1", doc="threshold of the I sigmoid")
    w_EE: Any = param(12.0, unit="1", doc="coupling E to E")
    w_EI: Any = param(13.0, unit="1", doc="coupling I to E")
    w_IE: Any = param(4.0, unit="1", doc="coupling E to I")
    w_II: Any = param(11.0, unit="1", doc="coupling I to I")
    r: Any = param(1.0, unit="1", doc="refractory factor")
    rE_init: Optional[Any] = param(None, unit="1", doc="initial fraction of active E cells; None = 0")
    rI_init: Optional[Any] = param(None, unit="1", doc="initial fraction of active I cells; None = 0")

    def initial(self):
        return {"rE": 0.0 if self.rE_init is None else self.rE_init,
                "rI": 0.0 if self.rI_init is None else self.rI_init}

    def vector_field(self, t, y, args):
        E, I = y["rE"], y["rI"]
        xE = self.w_EE * E - self.w_EI * I + args["I"]
        xI = self.w_IE * E - self.w_II * I + args.get("I_inh", 0.0)
        return {"rE": (-E + (1.0 - self.r * E) * _wc_sigmoid(xE, self.a_E, self.theta_E)) / self.tau_E,
                "rI": (-I + (1.0 - self.r * I) * _wc_sigmoid(xI, self.a_I, self.theta_I)) / self.tau_I}
