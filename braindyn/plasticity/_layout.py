"""Where the synaptic weights live: a dense matrix or one value per synapse of a CSR.

Plasticity rules are written once against :class:`WeightLayout`, which turns a presynaptic
vector ``a`` and a postsynaptic vector ``b`` into the per-synapse product
:math:`a_j b_i` in the layout of the weights (an ``(n_pre, n_post)`` matrix masked by the
connectivity, or an ``(nnz,)`` vector in CSR order).
"""
from __future__ import annotations

from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from .._errors import BraindynError

__all__ = ["WeightLayout"]


class WeightLayout(eqx.Module):
    """Dense (``kind="dense"``, with a 0/1 ``mask``) or sparse (``kind="csr"``, with
    ``pre_idx``/``post_idx`` per synapse) weight layout.

    Example
    -------
    >>> import jax.numpy as jnp, braindyn.connect as bc
    >>> lay = WeightLayout.of(bc.from_ij([0, 1], [1, 0], 2, 2))
    >>> lay.outer(jnp.array([1.0, 2.0]), jnp.array([10.0, 20.0])).tolist()
    [20.0, 20.0]
    """

    kind: str = eqx.field(static=True)
    n_pre: int = eqx.field(static=True)
    n_post: int = eqx.field(static=True)
    mask: Any = None
    pre_idx: Any = None
    post_idx: Any = None

    @staticmethod
    def of(conn) -> "WeightLayout":
        """Layout of a CSR or a dense connectivity matrix (non-zero entries are synapses)."""
        from ..connect import CSR, ProceduralConn

        if isinstance(conn, ProceduralConn):
            raise BraindynError(
                "plasticity needs stored weights, but the connectivity is procedural (regenerated every "
                "step). Fix: store it, conn = conn.to_csr(), with weights conn.csr_weights()."
            )
        if isinstance(conn, CSR):
            pre, post = conn.to_ij()
            return WeightLayout("csr", conn.n_pre, conn.n_post, None, jnp.asarray(pre, jnp.int32),
                                jnp.asarray(post, jnp.int32))
        m = np.asarray(conn)
        if m.ndim != 2:
            raise BraindynError(f"a dense weight layout needs a 2-D (n_pre, n_post) matrix, got shape {m.shape}.")
        return WeightLayout("dense", m.shape[0], m.shape[1], jnp.asarray(m != 0), None, None)

    @property
    def shape(self):
        return (self.n_pre, self.n_post) if self.kind == "dense" else (int(self.pre_idx.shape[0]),)

    def outer(self, a, b):
        """Per-synapse :math:`a_{pre} b_{post}` in this layout."""
        if self.kind == "dense":
            return jnp.where(self.mask, a[:, None] * b[None, :], 0.0)
        return a[self.pre_idx] * b[self.post_idx]

    def pre(self, a):
        """Broadcast a presynaptic vector to the synapses."""
        if self.kind == "dense":
            return jnp.where(self.mask, jnp.broadcast_to(a[:, None], self.shape), 0.0)
        return a[self.pre_idx]

    def post(self, b):
        """Broadcast a postsynaptic vector to the synapses."""
        if self.kind == "dense":
            return jnp.where(self.mask, jnp.broadcast_to(b[None, :], self.shape), 0.0)
        return b[self.post_idx]

    def apply(self, w, x):
        """Postsynaptic drive :math:`y_i = \\sum_j x_j w_{ji}` for weights ``w`` in this layout."""
        if self.kind == "dense":
            return x @ jnp.where(self.mask, w, 0.0)
        return jnp.zeros((self.n_post,), w.dtype).at[self.post_idx].add(x[self.pre_idx] * w)

    def check_weights(self, w, owner):
        if tuple(np.shape(w)) != tuple(self.shape):
            raise BraindynError(
                f"weights of {owner} have shape {tuple(np.shape(w))}, expected {self.shape} "
                f"({'(n_pre, n_post)' if self.kind == 'dense' else '(nnz,) in CSR order'}). "
                f"Fix: pass one weight per synapse."
            )
        return w
