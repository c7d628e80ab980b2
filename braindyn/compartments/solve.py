r"""Linear solves of the cable equation on a tree: Hines elimination in O(N).

The implicit step of the cable equation leads to :math:`M x = b` with :math:`M` symmetric,
diagonal :math:`d_i` and one off-diagonal pair :math:`a_i` between each compartment :math:`i`
and its parent :math:`p(i) < i` (the Hines ordering, Hines 1984). Gaussian elimination from
the leaves to the root touches only the parent of each row, so it costs :math:`O(N)` and
makes no fill-in:

.. math::
    d_{p(i)} \leftarrow d_{p(i)} - a_i^2/d_i, \quad b_{p(i)} \leftarrow b_{p(i)} - a_i b_i/d_i
    \quad (i = N-1, \dots, 1); \qquad x_0 = b_0/d_0, \quad x_i = (b_i - a_i x_{p(i)})/d_i .

:func:`hines_solve` runs the two sweeps as :func:`jax.lax.scan` loops (differentiable, batched
over trailing axes). An unbranched cable (:math:`p(i) = i - 1`) is tridiagonal and goes to
:func:`jax.lax.linalg.tridiagonal_solve` (LAPACK ``gtsv`` on CPU, one call per step).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["hines_solve", "tree_solve"]


def hines_solve(d, a, b, parent):
    r"""Solve the tree system :math:`M x = b` by Hines elimination (see the module docstring).

    Parameters
    ----------
    d : array (N, ...)
        Diagonal.
    a : array (N,) or (N, ...)
        Off-diagonal entry between compartment :math:`i` and its parent (``a[0]`` unused).
    b : array (N, ...)
        Right-hand side.
    parent : int array (N,)
        Parent of each compartment, ``parent[i] < i`` (``parent[0]`` unused).

    Example
    -------
    >>> import numpy as np, jax.numpy as jnp
    >>> par = np.array([-1, 0, 0])                      # a root with two children
    >>> d, a, b = jnp.array([4.0, 3.0, 3.0]), jnp.array([0.0, -1.0, -1.0]), jnp.array([2.0, 2.0, 2.0])
    >>> M = np.array([[4.0, -1, -1], [-1, 3, 0], [-1, 0, 3]])
    >>> bool(np.allclose(hines_solve(d, a, b, par), np.linalg.solve(M, [2.0, 2, 2])))
    True
    """
    N = d.shape[0]
    if N == 1:
        return b / d
    a = jnp.broadcast_to(jnp.reshape(a, a.shape + (1,) * (d.ndim - a.ndim)), d.shape)
    idx = jnp.arange(N - 1, 0, -1)
    par = jnp.asarray(np.asarray(parent)[::-1][:-1], jnp.int32)

    def down(carry, xs):
        dd, bb = carry
        i, p = xs
        f = a[i] / dd[i]
        dd = dd.at[p].add(-f * a[i])
        bb = bb.at[p].add(-f * bb[i])
        return (dd, bb), None

    (d2, b2), _ = jax.lax.scan(down, (d, b), (idx, par))
    x0 = b2 / d2  # only x0[0] is final; the others are replaced below

    def up(x, xs):
        i, p = xs
        x = x.at[i].set((b2[i] - a[i] * x[p]) / d2[i])
        return x, None

    fwd = jnp.arange(1, N)
    x, _ = jax.lax.scan(up, x0, (fwd, jnp.asarray(np.asarray(parent)[1:], jnp.int32)))
    return x


def tree_solve(d, a, b, parent, chain: bool):
    """:func:`hines_solve`, or a tridiagonal LAPACK solve when ``chain`` (``parent[i] = i - 1``).

    Shapes as in :func:`hines_solve` with exactly one trailing (batch) axis: ``d``, ``b`` (N, n);
    ``a`` (N,).
    """
    if not chain or d.shape[0] < 3:
        return hines_solve(d, a, b, parent)
    n = d.shape[1]
    dl = jnp.broadcast_to(a.at[0].set(0.0), (n, d.shape[0]))
    du = jnp.broadcast_to(jnp.concatenate([a[1:], jnp.zeros((1,), a.dtype)]), (n, d.shape[0]))
    x = jax.lax.linalg.tridiagonal_solve(dl, d.T, du, b.T[..., None])
    return x[..., 0].T
