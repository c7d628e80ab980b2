r"""Gap junctions (electrical synapses) as a network projection.

.. math:: I_i = \sum_j g_{ji}\, (V_j - V_i)

summed over the connections :math:`j \to i` of the connectivity (dense matrix of conductances,
CSR with a scalar or per-synapse conductance). A symmetric coupling (each pair in both
directions) is a projection from a population to itself with a symmetric connectivity, or two
projections. The contribution uses the voltages at the start of the step (explicit coupling,
stable for :math:`\sum_j g_{ji} \Delta t / C \lesssim 1`).

Example
-------
>>> import jax.numpy as jnp, numpy as np
>>> import braindyn as bd
>>> from braindyn.synapses import GapJunction
>>> gj = GapJunction("A", "A", np.array([[0.0, 1.0], [1.0, 0.0]]), g=0.1)
>>> _, I = gj.deliver({}, {"V": jnp.array([-60.0, -70.0])}, {"V": jnp.array([-60.0, -70.0])}, 0.0, 0.1)
>>> [round(float(x), 4) for x in I]
[-1.0, 1.0]
"""
from __future__ import annotations

from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from .._errors import BraindynError
from ..connect import CSR, ProceduralConn
from ..network import Projection
from ..ops.event import matvec
from ..params import Parametrized, param

__all__ = ["GapJunction"]


class GapJunction(Projection, Parametrized):
    r"""Electrical coupling :math:`I_i = \sum_j g_{ji} (V_j - V_i)` from ``pre`` to ``post``.

    Parameters
    ----------
    pre, post : str
        Population names.
    conn : CSR or array
        Connectivity: a CSR, or a dense ``(n_pre, n_post)`` matrix (its entries multiply ``g``;
        a float array leaf, trainable like ``g``).
    g : float or array
        Conductance (scalar, or per synapse ``(nnz,)`` for a CSR), in the unit that makes
        :math:`g\,\Delta V` an input current of the postsynaptic model. A parameter.
    var : str
        Name of the voltage variable in both populations (``"V"``).
    target : str
        Input of the postsynaptic model that receives the current (``"I"``).

    The voltages are continuous signals: the sums run over every synapse (a matrix--vector
    product, or a gather/scatter over the CSR), never through the spike kernel.

    Example
    -------
    >>> import jax.numpy as jnp, braindyn.connect as bc
    >>> gj = GapJunction("A", "A", bc.from_ij([0, 1], [1, 0], 2, 2), g=0.5)
    >>> V = {"V": jnp.array([-50.0, -70.0])}
    >>> gj.deliver({}, V, V, 0.0, 0.1)[1].tolist()          # 0.5 (V_other - V_self)
    [-10.0, 10.0]
    """

    conn: Any = None
    g: Any = param(1.0, unit="unit of I per mV", per_neuron=False, doc="gap-junction conductance")
    var: str = eqx.field(static=True, default="V")
    rows: Any = None

    def __init__(self, pre, post, conn, g=1.0, *, var="V", target="I"):
        self.pre, self.post, self.target, self.var = pre, post, target, var
        self.rows = None
        if isinstance(conn, ProceduralConn):
            raise BraindynError("GapJunction does not take a ProceduralConn (gap junctions are few and "
                                "usually symmetric). Fix: pass conn.to_csr().")
        if isinstance(conn, CSR):
            if np.ndim(g) not in (0,) and np.shape(g) != (conn.nnz,):
                raise BraindynError(f"parameter 'g' of GapJunction has shape {np.shape(g)}; expected a scalar or "
                                    f"({conn.nnz},) (one per synapse). Fix: pass a scalar.")
            self.rows = jnp.asarray(conn.to_ij()[0], jnp.int32)
        else:
            m = np.asarray(conn, float)
            if m.ndim != 2:
                raise BraindynError(f"GapJunction: a dense conn must be 2-D (n_pre, n_post), got shape {m.shape}.")
            if np.ndim(g) != 0:
                raise BraindynError("GapJunction: with a dense conn, 'g' must be a scalar (put per-pair values "
                                    "in the matrix).")
            conn = jnp.asarray(m, jnp.result_type(float))
        self.conn = conn
        self.g = g

    def deliver(self, state, pre_state, post_state, t, dt, key=None):
        Vpre, Vpost = pre_state[self.var], post_state[self.var]
        dtype = Vpost.dtype
        g = jnp.asarray(self.g, dtype)
        if isinstance(self.conn, CSR):
            idx = jnp.asarray(self.conn.indices, jnp.int32)
            coupled = matvec(self.conn, Vpre.astype(dtype), g, rows=self.rows)
            in_g = jnp.zeros((self.conn.n_post,), dtype).at[idx].add(jnp.broadcast_to(g, idx.shape))
        else:
            m = self.conn.astype(dtype)
            coupled = (Vpre.astype(dtype) @ m) * g
            in_g = m.sum(axis=0) * g
        return state, (coupled - in_g * Vpost).astype(dtype)
