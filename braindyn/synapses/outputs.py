r"""Synaptic outputs: how a conductance :math:`g` becomes an input of the postsynaptic neuron.

Outputs are separate, composable pieces: any kinetics (:mod:`braindyn.synapses.kinetics`) with
any output. An output is called as ``output(g, post_state)`` and returns the contribution
(e.g. a current) computed from the postsynaptic state at the start of the step.

* :class:`CurrentOutput` — :math:`I = g` (current-based synapse; also passes a conductance
  unchanged to a neuron that takes conductances as inputs, e.g. the COBA benchmark neuron);
* :class:`ConductanceOutput` — :math:`I = g\,(E - V)`;
* :class:`MgBlockOutput` — :math:`I = g\,B(V)\,(E - V)` with the NMDA magnesium block
  :math:`B(V) = 1 / (1 + e^{-0.062 V} [\mathrm{Mg}^{2+}]/3.57)` (Jahr & Stevens 1990; V in mV,
  [Mg] in mM).

Example
-------
>>> import jax.numpy as jnp
>>> out = ConductanceOutput(E=0.0)
>>> out(jnp.array([2.0]), {"V": jnp.array([-60.0])}).tolist()
[120.0]
"""
from __future__ import annotations

from typing import Any

import equinox as eqx
import jax.numpy as jnp

from .._errors import BraindynError, check_finite, check_nonnegative, check_positive

__all__ = ["Output", "CurrentOutput", "ConductanceOutput", "MgBlockOutput"]


class Output(eqx.Module):
    """Abstract synaptic output ``(g, post_state) -> contribution``."""

    var: str = eqx.field(static=True, default="V")

    def __call__(self, g, post_state):
        raise NotImplementedError

    def _V(self, post_state):
        if self.var not in post_state:
            raise BraindynError(
                f"{type(self).__name__} reads the postsynaptic variable {self.var!r}, which is not in the "
                f"postsynaptic state (it has {sorted(post_state)}). Fix: pass var='<name of the membrane "
                f"potential>' to the output."
            )
        return post_state[self.var]


class CurrentOutput(Output):
    r"""Current-based output: :math:`I = s\, g` (``scale`` :math:`s`, default 1).

    Example
    -------
    >>> import jax.numpy as jnp
    >>> CurrentOutput(scale=2.0)(jnp.array([1.5]), {}).tolist()
    [3.0]
    """

    scale: Any = 1.0

    def __check_init__(self):
        check_finite("scale", self.scale, "CurrentOutput")

    def __call__(self, g, post_state):
        if isinstance(self.scale, (int, float)) and self.scale == 1.0:
            return g
        return g * self.scale


class ConductanceOutput(Output):
    r"""Conductance-based output with reversal potential :math:`E` (mV):
    :math:`I = g\, (E - V)`.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> ConductanceOutput(E=-80.0)(jnp.array([0.5]), {"V": jnp.array([-60.0])}).tolist()
    [-10.0]
    """

    E: Any = 0.0

    def __check_init__(self):
        check_finite("E", self.E, type(self).__name__)

    def __call__(self, g, post_state):
        V = self._V(post_state)
        return g * (self.E - V)


class MgBlockOutput(ConductanceOutput):
    r"""NMDA output with voltage-dependent magnesium block.

    .. math:: I = g\, B(V)\, (E - V), \qquad
              B(V) = \frac{1}{1 + e^{-a V}\, [\mathrm{Mg}^{2+}] / K}

    with :math:`a` = 0.062 /mV and :math:`K` = 3.57 mM (Jahr & Stevens 1990). For
    [Mg] = 1.2 mM: B(-65) = 0.05022, B(-40) = 0.19945, B(0) = 0.74843.

    Parameters
    ----------
    E : float
        Reversal potential (mV), 0.
    Mg : float
        Extracellular magnesium concentration (mM, >= 0), 1.2.
    a, K : float
        Steepness (1/mV) and dissociation constant (mM) of the block.

    Example
    -------
    >>> round(float(MgBlockOutput().block(-40.0)), 5)
    0.19945
    """

    Mg: Any = 1.2
    a: Any = 0.062
    K: Any = 3.57

    def __check_init__(self):
        check_finite("E", self.E, "MgBlockOutput")
        check_nonnegative("Mg", self.Mg, "MgBlockOutput", "mM")
        check_positive("K", self.K, "MgBlockOutput", "mM")
        check_finite("a", self.a, "MgBlockOutput")

    def block(self, V):
        """Fraction of unblocked channels :math:`B(V)` (increases with V)."""
        V = jnp.asarray(V)
        return 1.0 / (1.0 + jnp.exp(-self.a * V) * (self.Mg / self.K))

    def __call__(self, g, post_state):
        V = self._V(post_state)
        return g * self.block(V) * (self.E - V)
