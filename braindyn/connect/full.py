r"""Uniform all-to-all connectivity without stored synapses (:class:`Full`).

A block in which every presynaptic neuron projects to every postsynaptic neuron with one
common weight :math:`w` needs no synapse list: the summed input is the same for every target,

.. math:: a_i = \sum_j w\, x_j = w \sum_j x_j \qquad (\text{or } w \sum_{j \ne i} x_j
          = w(\textstyle\sum_j x_j - x_i) \text{ without self-connections}),

so a projection over :class:`Full` costs :math:`O(n_{pre} + n_{post})` per step instead of
:math:`O(n_{pre} n_{post})`, for spikes and for continuous signals alike (e.g. the saturating
NMDA gating :math:`s_j` of Wang 2002, whose all-to-all blocks then cost O(N)). Use
:func:`~braindyn.connect.all_to_all` instead when the synapses must be stored (plasticity,
per-synapse weights or delays).
"""
from __future__ import annotations

import equinox as eqx
import numpy as np

from ._checks import check_size, check_square

__all__ = ["Full", "full"]


class Full(eqx.Module):
    """All-to-all structure of ``n_pre x n_post`` (no memory per synapse).

    Attributes ``n_pre``, ``n_post`` (int), ``allow_self`` (bool; ``False`` needs a square block
    and excludes :math:`j = i`). ``nnz``, :meth:`to_csr` and :meth:`to_dense` give the stored
    equivalent (for inspection and tests).
    """

    n_pre: int = eqx.field(static=True)
    n_post: int = eqx.field(static=True)
    allow_self: bool = eqx.field(static=True, default=True)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_pre, self.n_post)

    @property
    def nnz(self) -> int:
        return self.n_pre * self.n_post - (0 if self.allow_self else self.n_pre)

    def to_csr(self):
        """The same structure as a stored :class:`~braindyn.connect.CSR`."""
        from .regular import all_to_all

        return all_to_all(self.n_pre, self.n_post, allow_self=self.allow_self)

    def to_dense(self, dtype=float) -> np.ndarray:
        m = np.ones((self.n_pre, self.n_post), dtype)
        if not self.allow_self:
            np.fill_diagonal(m, 0)
        return m

    def __repr__(self):
        return f"Full({self.n_pre} x {self.n_post}{'' if self.allow_self else ', no self'})"


def full(n_pre, n_post, *, allow_self=True) -> Full:
    r"""Uniform all-to-all connectivity with no stored synapses: a projection over it sums the
    presynaptic signal once, :math:`a_i = w \sum_j x_j`, in :math:`O(n_{pre} + n_{post})`.

    Example:
        >>> import braindyn.connect as bc
        >>> c = bc.full(4, 3)
        >>> c.nnz, c.to_csr().nnz
        (12, 12)
        >>> bc.full(3, 3, allow_self=False).to_dense().astype(int).tolist()
        [[0, 1, 1], [1, 0, 1], [1, 1, 0]]
    """
    n_pre = check_size("n_pre", n_pre)
    n_post = check_size("n_post", n_post)
    if not allow_self:
        check_square(n_pre, n_post, "full")
    return Full(int(n_pre), int(n_post), bool(allow_self))
