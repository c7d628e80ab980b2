r"""The one interface of long-term plasticity: a learning rule is a pure pair, like an optax transform.

.. code-block:: python

    state = rule.init_state(n_pre, n_post, dtype)
    state, w = rule.update(state, w, pre, post, dt, layout, factor=None)

``update`` sees

* its own ``state`` (traces, thresholds, an inverse correlation matrix ...);
* the weights ``w``: a dense ``(n_pre, n_post)`` matrix, or one value per synapse ``(nnz,)`` of a
  CSR, with each synapse's presynaptic and postsynaptic index in ``layout.pre_idx`` and
  ``layout.post_idx`` (:class:`~braindyn.plasticity.WeightLayout`, which also turns pre- and
  postsynaptic vectors into per-synapse products in either layout);
* the presynaptic signal ``pre`` ``(n_pre,)`` and the postsynaptic signal ``post`` ``(n_post,)``
  (spikes, rates, voltages: whatever the projection's ``learn_pre`` / ``learn_post`` name);
* ``dt`` (ms);
* an optional third ``factor``: a scalar (a reward, a neuromodulator) or one value per
  postsynaptic neuron (a teacher signal, an error), resolved by the network from the
  projection's ``factor``;

and returns the new state and weights. Nothing else is hidden: a rule runs inside a network
(:meth:`braindyn.synapses.SynapticProjection.learn`, after the populations stepped) exactly as
in a hand-written loop.

FORCE learning (recursive least squares, Sussillo & Abbott 2009) fits unchanged — ``pre`` the
rates :math:`r` of the reservoir, ``post`` the readout :math:`z = w^\top r`, ``factor`` the
teacher :math:`f(t)`, the state the running inverse correlation matrix :math:`P`
(:math:`n_{pre} \times n_{pre}`)::

    def init_state(self, n_pre, n_post, dtype):
        return {"P": jnp.eye(n_pre, dtype=dtype) / self.alpha}

    def update(self, state, w, pre, post, dt, layout, factor=None):
        P, r = state["P"], pre
        Pr = P @ r
        k = Pr / (1.0 + r @ Pr)                 # gain vector
        e = post - factor                       # error of the readout, (n_post,)
        return {"P": P - jnp.outer(k, Pr)}, w - jnp.outer(k, e)

Example
-------
>>> import jax.numpy as jnp, numpy as np
>>> from braindyn.plasticity import Hebb, WeightLayout
>>> rule, lay = Hebb(eta=0.1), WeightLayout.of(np.ones((2, 1)))
>>> st, w = rule.update(rule.init_state(2, 1, jnp.float32), jnp.zeros((2, 1)), jnp.array([1.0, 2.0]),
...                     jnp.array([3.0]), 1.0, lay)
>>> [round(float(v), 4) for v in w.ravel()]
[0.3, 0.6]
"""
from __future__ import annotations

from typing import ClassVar

import jax
import numpy as np

from .._errors import BraindynError
from ..params import Parametrized

__all__ = ["LearningRule"]


class LearningRule(Parametrized):
    """Abstract learning rule (see the module documentation for the interface).

    ``uses_factor`` says whether :meth:`update` reads the third factor; a projection that names a
    ``factor`` for a rule that ignores it raises an error at construction.
    """

    uses_factor: ClassVar[bool] = False

    def __check_init__(self):
        lo, hi = getattr(self, "w_min", None), getattr(self, "w_max", None)
        if lo is None or hi is None or isinstance(lo, jax.core.Tracer) or isinstance(hi, jax.core.Tracer):
            return
        if np.any(np.asarray(lo, float) > np.asarray(hi, float)):
            raise BraindynError(f"{type(self).__name__}: the weight bounds are inverted, w_min={float(np.max(lo))!r} "
                                f"> w_max={float(np.min(hi))!r}. Fix: pass w_min <= w_max (e.g. w_min=0.0, "
                                f"w_max=1.0).")

    def init_state(self, n_pre: int, n_post: int, dtype) -> dict:
        raise NotImplementedError

    def update(self, state, w, pre, post, dt, layout, factor=None):
        """One learning step: returns ``(state, w)``."""
        raise NotImplementedError
