r"""Synaptic outputs: how a conductance :math:`g` becomes an input of the postsynaptic neuron.

Outputs are separate, composable pieces: any kinetics (:mod:`braindyn.synapses.kinetics`) with
any output. An output is called as ``output(g, post_state)`` and returns the contribution:

* :class:`CurrentOutput` — a current :math:`I = s\,g` (current-based synapse; also passes a
  conductance unchanged to a neuron that takes conductances as inputs, e.g. the COBA benchmark
  neuron's ``ge``);
* :class:`ConductanceOutput` — the pair :math:`(g, E)` as a :class:`braindyn.core.Conductance`,
  the current :math:`I(V) = g\,(E - V)` that the neuron evaluates *at its current* :math:`V`
  inside its vector field (so exponential Euler is exact for :math:`g` held over the step);
* :class:`MgBlockOutput` — the NMDA output :math:`I(V) = g\,B(V_0)\,(E - V)` with the magnesium
  block :math:`B(V) = 1 / (1 + e^{-0.062 V} [\mathrm{Mg}^{2+}]/3.57)` (Jahr & Stevens 1990; V in
  mV, [Mg] in mM) evaluated at the potential :math:`V_0` of the start of the step.

Currents are arrays, conductances are :class:`~braindyn.core.Conductance` objects; they add
(``Conductance + array`` is a conductance with a constant current added), so the network sums
the contributions of any mix of projections into one input.

Example
-------
>>> import jax.numpy as jnp
>>> c = ConductanceOutput(E=0.0)(jnp.array([2.0]), {"V": jnp.array([-60.0])})
>>> c.current(jnp.array([-60.0])).tolist(), c.current(jnp.array([-50.0])).tolist()
([120.0], [100.0])
"""
from __future__ import annotations

from typing import Any

import equinox as eqx
import jax.numpy as jnp

from .._errors import BraindynError
from ..core import Conductance
from ..params import Parametrized, param

__all__ = ["Output", "CurrentOutput", "ConductanceOutput", "MgBlockOutput"]


class Output(Parametrized):
    """Abstract synaptic output ``(g, post_state) -> contribution`` (an array or a
    :class:`~braindyn.core.Conductance`)."""

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

    scale: Any = param(1.0, unit="unit of I per unit of g", doc="factor from g to the current")

    def __call__(self, g, post_state):
        return g * jnp.asarray(self.scale, jnp.result_type(g))


class ConductanceOutput(Output):
    r"""Conductance-based output with reversal potential :math:`E` (mV):

    .. math:: I(V) = g\, (E - V)

    returned as the pair :math:`(g, E)` (a :class:`braindyn.core.Conductance`), not as a current:
    the neuron evaluates :math:`I(V)` with its own :math:`V` inside its vector field, so
    exponential Euler sees the conductance in its linearisation and is exact for :math:`g` held
    over the step (a current frozen at the step start would not be). The postsynaptic model must
    accept conductance inputs (every :class:`~braindyn.core.ODEModel` does, on its
    ``membrane_var``); for a model that takes :math:`g` itself as an input (``target="ge"``) use
    :class:`CurrentOutput`.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> c = ConductanceOutput(E=-80.0)(jnp.array([0.5]), {"V": jnp.array([-60.0])})
    >>> c.g.tolist(), c.current(jnp.array([-60.0])).tolist()
    ([0.5], [-10.0])
    """

    E: Any = param(0.0, unit="mV", doc="reversal potential")

    def __call__(self, g, post_state):
        return Conductance.of(g, jnp.asarray(self.E, jnp.result_type(g)))


class MgBlockOutput(ConductanceOutput):
    r"""NMDA output with voltage-dependent magnesium block.

    .. math:: I(V) = g\, B(V_0)\, (E - V), \qquad
              B(V) = \frac{1}{1 + e^{-a V}\, [\mathrm{Mg}^{2+}] / K}

    with :math:`a` = 0.062 /mV and :math:`K` = 3.57 mM (Jahr & Stevens 1990). For
    [Mg] = 1.2 mM: B(-65) = 0.05022, B(-40) = 0.19945, B(0) = 0.74843.

    The block is evaluated at the postsynaptic potential :math:`V_0` of the *start* of the step
    and held over it (it changes on the time scale of :math:`V`); the driving force
    :math:`E - V` is the neuron's, at its current :math:`V` (the output is a
    :class:`braindyn.core.Conductance` :math:`(g B(V_0), E)`), so the step is exact for a
    constant :math:`V_0`-block and first order in the block's change.

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
    >>> import jax.numpy as jnp
    >>> out = MgBlockOutput()
    >>> round(float(out.block(-40.0)), 5)
    0.19945
    >>> c = out(jnp.array([1.0]), {"V": jnp.array([-40.0])})
    >>> round(float(c.current(jnp.array([-40.0]))[0]), 3)      # 1 * B(-40) * (0 + 40)
    7.978
    """

    Mg: Any = param(1.2, bound="nonnegative", unit="mM", doc="extracellular magnesium concentration")
    a: Any = param(0.062, unit="1/mV", doc="steepness of the block")
    K: Any = param(3.57, bound="positive", unit="mM", doc="dissociation constant of the block")

    def block(self, V):
        """Fraction of unblocked channels :math:`B(V)` (increases with V)."""
        V = jnp.asarray(V)
        return 1.0 / (1.0 + jnp.exp(-self.a * V) * (self.Mg / self.K))

    def __call__(self, g, post_state):
        V0 = self._V(post_state)
        dtype = jnp.result_type(g)
        return Conductance.of(g * self.block(V0).astype(dtype), jnp.asarray(self.E, dtype))
