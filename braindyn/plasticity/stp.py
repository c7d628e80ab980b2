r"""Short-term plasticity: the Tsodyks--Markram model, spike-based and rate-based.

Spike-based (Tsodyks & Markram 1997; Tsodyks, Pawelzik & Markram 1998; Mongillo et al. 2008),
one :math:`(u, x)` pair per presynaptic neuron:

.. math::
    \frac{du}{dt} = -\frac{u}{\tau_f}, \qquad \frac{dx}{dt} = \frac{1 - x}{\tau_d},

and at each presynaptic spike

.. math::
    u^+ = u^- + U (1 - u^-), \qquad \text{efficacy} = u^+ x^-, \qquad x^+ = x^- - u^+ x^-.

The postsynaptic response (EPSC) of a spike is :math:`A\, u^+ x^-`: the projection multiplies
the spike by its efficacy before propagation. Between spikes the decays are integrated exactly.
``tau_f = 0`` gives pure depression (:math:`u^+ = U` at every spike). A regular train of
interval :math:`D` reaches

.. math::
    u^-_\infty = \frac{U e^{-D/\tau_f}}{1 - (1 - U) e^{-D/\tau_f}}, \qquad
    x^-_\infty = \frac{1 - e^{-D/\tau_d}}{1 - (1 - u^+_\infty) e^{-D/\tau_d}}.

Rate-based (mean field of the same model for a Poisson rate :math:`r`):

.. math::
    \frac{du}{dt} = -\frac{u}{\tau_f} + U (1 - u)\, r, \qquad
    \frac{dx}{dt} = \frac{1 - x}{\tau_d} - u^+ x\, r, \qquad u^+ = u + U(1 - u),

with the transmitted rate :math:`u^+ x\, r`.
"""
from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from ..integrators.exp import exprel
from ..params import Parametrized, param

__all__ = ["TsodyksMarkram", "TsodyksMarkramRate"]


def _decay(dt, tau, dtype):
    tau = jnp.asarray(tau, dtype)
    # tau = 0: instantaneous decay (pure depression); exp(-inf) = 0
    return jnp.where(tau > 0, jnp.exp(-dt / jnp.where(tau > 0, tau, 1.0)), 0.0).astype(dtype)


def _params():
    return (param(0.15, bound="probability", per_neuron=False, doc="utilisation increment"),
            param(1500.0, bound="nonnegative", unit="ms", per_neuron=False, doc="facilitation time constant (0: none)"),
            param(200.0, bound="positive", unit="ms", per_neuron=False, doc="recovery time constant"))


class TsodyksMarkram(Parametrized):
    r"""Spike-based Tsodyks--Markram short-term plasticity (see the module equations).

    Parameters
    ----------
    U : float
        Utilisation increment in (0, 1].
    tau_f : float
        Facilitation time constant (ms, >= 0; 0 = no facilitation).
    tau_d : float
        Recovery (depression) time constant (ms, > 0).

    Depression-dominated: ``TsodyksMarkram(U=0.15, tau_f=10, tau_d=500)``;
    facilitation-dominated: ``TsodyksMarkram(U=0.15, tau_f=500, tau_d=10)``.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> stp = TsodyksMarkram(U=0.5, tau_f=0.0, tau_d=100.0)
    >>> st = stp.init_state(1, jnp.float32)
    >>> st, eff = stp(st, jnp.array([1.0]), 0.1)
    >>> float(eff[0])                     # first spike: U
    0.5
    >>> st, eff = stp(st, jnp.array([1.0]), 0.1)
    >>> round(float(eff[0]), 3)           # second spike 0.1 ms later: U x, x ~ 0.5
    0.25
    """

    U: Any
    tau_f: Any
    tau_d: Any
    U, tau_f, tau_d = _params()

    def init_state(self, n, dtype):
        return {"u": jnp.zeros((n,), dtype), "x": jnp.ones((n,), dtype)}

    def __call__(self, state, spikes, dt):
        """Advance ``(u, x)`` over one step to the arrival time, then apply the spikes.

        Returns ``(state, efficacy)`` with ``efficacy = spikes * u+ x-`` (0 where no spike).
        """
        u, x = state["u"], state["x"]
        dtype = u.dtype
        u = u * _decay(dt, self.tau_f, dtype)
        x = 1.0 - (1.0 - x) * _decay(dt, self.tau_d, dtype)
        s = spikes.astype(dtype)
        u_plus = u + self.U * (1.0 - u)
        eff = u_plus * x
        u_new = u + s * (u_plus - u)
        x_new = x - s * eff
        return {"u": u_new.astype(dtype), "x": x_new.astype(dtype)}, (s * eff).astype(dtype)

    def steady_state(self, interval):
        """Closed-form ``(u_minus, x_minus, efficacy)`` of a regular train with ``interval`` ms."""
        D = jnp.asarray(interval, jnp.result_type(self.U))
        ef = _decay(D, self.tau_f, D.dtype)
        ed = jnp.exp(-D / self.tau_d)
        u_m = self.U * ef / (1 - (1 - self.U) * ef)
        u_p = u_m + self.U * (1 - u_m)
        x_m = (1 - ed) / (1 - (1 - u_p) * ed)
        return u_m, x_m, u_p * x_m


class TsodyksMarkramRate(Parametrized):
    r"""Rate-based Tsodyks--Markram model (mean field; see the module equations).

    ``step(state, rate, dt) -> (state, transmitted)`` with ``rate`` in Hz and ``transmitted``
    :math:`= u^+ x\, r` in Hz. Each variable is advanced by exponential Euler (exact for a
    constant rate when the other variable is held).

    Example
    -------
    >>> import jax.numpy as jnp
    >>> m = TsodyksMarkramRate(U=0.2, tau_f=0.0, tau_d=200.0)
    >>> st = m.init_state(1, jnp.float32)
    >>> for _ in range(1500):
    ...     st, out = m.step(st, jnp.array([20.0]), 1.0)
    >>> u, x, eff = m.steady_state(20.0)
    >>> round(float(st["x"][0]), 4) == round(float(x), 4)
    True
    """

    U: Any
    tau_f: Any
    tau_d: Any
    U, tau_f, tau_d = _params()

    def init_state(self, n, dtype):
        return {"u": jnp.zeros((n,), dtype), "x": jnp.ones((n,), dtype)}

    def step(self, state, rate, dt):
        u, x = state["u"], state["x"]
        dtype = u.dtype
        r = jnp.asarray(rate, dtype) / 1000.0  # 1/ms
        # tau_f = 0: no facilitation, u = 0 (a safe tau keeps the unused branch finite)
        facilitating = self.tau_f > 0
        tau_f = jnp.where(facilitating, self.tau_f, 1.0)
        a_u = -1.0 / tau_f - self.U * r
        f_u = -u / tau_f + self.U * (1.0 - u) * r
        u_new = jnp.where(facilitating, u + dt * exprel(a_u * dt) * f_u, jnp.zeros_like(u))
        u_plus = u + self.U * (1.0 - u)
        a_x = -1.0 / self.tau_d - u_plus * r
        f_x = (1.0 - x) / self.tau_d - u_plus * x * r
        x_new = x + dt * exprel(a_x * dt) * f_x
        out = u_plus * x * r * 1000.0
        return {"u": u_new.astype(dtype), "x": x_new.astype(dtype)}, out.astype(dtype)

    def steady_state(self, rate):
        """Fixed point ``(u, x, transmitted_rate_hz)`` for a constant ``rate`` (Hz)."""
        r = jnp.asarray(rate, jnp.result_type(self.U)) / 1000.0
        u = self.U * r * self.tau_f / (1 + self.U * r * self.tau_f)     # 0 for tau_f = 0
        u_p = u + self.U * (1 - u)
        x = 1.0 / (1.0 + u_p * r * self.tau_d)
        return u, x, u_p * x * r * 1000.0
