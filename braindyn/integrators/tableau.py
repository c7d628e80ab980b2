"""Butcher tableaux that check their own order conditions when they are built.

An explicit Runge--Kutta method with :math:`s` stages is

.. math::
    k_i = f\\Big(t + c_i \\Delta t,\\; y + \\Delta t \\sum_{j<i} a_{ij} k_j\\Big), \\qquad
    y_{n+1} = y_n + \\Delta t \\sum_i b_i k_i .

:class:`ButcherTableau` verifies at construction that ``A`` is strictly lower triangular,
that :math:`c_i = \\sum_j a_{ij}` (row-sum condition), and every order condition up to the
declared ``order`` (the rooted trees up to order 5). A wrong entry raises at import time.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

__all__ = ["ButcherTableau", "order_conditions"]


def order_conditions(A, b, c, order):
    """Residuals of the Runge--Kutta order conditions up to ``order`` (<= 5).

    Returns a list of ``(name, residual)``; every residual is zero for a method of that order.
    """
    A = np.asarray(A, dtype=float)
    b = np.asarray(b, dtype=float)
    c = np.asarray(c, dtype=float)
    Ac = A @ c
    out = []
    if order >= 1:
        out.append(("sum b = 1", b.sum() - 1.0))
    if order >= 2:
        out.append(("b.c = 1/2", b @ c - 1 / 2))
    if order >= 3:
        out += [("b.c^2 = 1/3", b @ c**2 - 1 / 3), ("b.Ac = 1/6", b @ Ac - 1 / 6)]
    if order >= 4:
        out += [
            ("b.c^3 = 1/4", b @ c**3 - 1 / 4),
            ("b.(c*Ac) = 1/8", b @ (c * Ac) - 1 / 8),
            ("b.Ac^2 = 1/12", b @ (A @ c**2) - 1 / 12),
            ("b.AAc = 1/24", b @ (A @ Ac) - 1 / 24),
        ]
    if order >= 5:
        out += [
            ("b.c^4 = 1/5", b @ c**4 - 1 / 5),
            ("b.(c^2*Ac) = 1/10", b @ (c**2 * Ac) - 1 / 10),
            ("b.(c*Ac^2) = 1/15", b @ (c * (A @ c**2)) - 1 / 15),
            ("b.(c*AAc) = 1/30", b @ (c * (A @ Ac)) - 1 / 30),
            ("b.(Ac)^2 = 1/20", b @ (Ac**2) - 1 / 20),
            ("b.Ac^3 = 1/20", b @ (A @ c**3) - 1 / 20),
            ("b.A(c*Ac) = 1/40", b @ (A @ (c * Ac)) - 1 / 40),
            ("b.AAc^2 = 1/60", b @ (A @ (A @ c**2)) - 1 / 60),
            ("b.AAAc = 1/120", b @ (A @ (A @ Ac)) - 1 / 120),
        ]
    if order > 5:
        raise ValueError(f"order conditions are implemented up to 5, got order={order}")
    return out


def _frac(x):
    return float(Fraction(x)) if isinstance(x, str) else float(x)


class ButcherTableau:
    """An explicit Runge--Kutta tableau ``(A, b, c)`` with a declared ``order``.

    Parameters
    ----------
    A : sequence of sequences
        Stage coefficients (lower-triangular; rows may be ragged: row ``i`` has ``i`` entries).
        Entries may be floats or strings like ``"1/3"`` for exact fractions.
    b : sequence
        Weights of the solution.
    c : sequence
        Nodes.
    order : int
        Declared order; the order conditions up to it are checked to ``tol``.
    b_err : sequence, optional
        Weights of an embedded method (for adaptive pairs); its ``err_order`` is checked too.
    err_order : int, optional
        Order of the embedded method.

    Example
    -------
    >>> tab = ButcherTableau(A=[[], ["1/2"]], b=[0, 1], c=[0, "1/2"], order=2)  # midpoint
    >>> tab.stages
    2
    """

    def __init__(self, A, b, c, order, b_err=None, err_order=None, name="rk", tol=1e-12):
        s = len(b)
        M = np.zeros((s, s))
        for i, row in enumerate(A):
            row = [_frac(x) for x in row]
            if len(row) > s:
                raise ValueError(f"tableau {name!r}: row {i} of A has {len(row)} entries for {s} stages")
            M[i, : len(row)] = row
        if np.any(np.triu(M) != 0):
            raise ValueError(f"tableau {name!r}: A must be strictly lower triangular for an explicit method")
        self.A = M
        self.b = np.array([_frac(x) for x in b])
        self.c = np.array([_frac(x) for x in c])
        if len(self.c) != s:
            raise ValueError(f"tableau {name!r}: c has {len(self.c)} entries, b has {s}")
        self.order = int(order)
        self.name = name
        row_sum = M.sum(axis=1) - self.c
        if np.max(np.abs(row_sum)) > tol:
            i = int(np.argmax(np.abs(row_sum)))
            raise ValueError(
                f"tableau {name!r}: c[{i}] = {self.c[i]} but row {i} of A sums to {M[i].sum()}; "
                f"fix the entry so that c_i = sum_j a_ij"
            )
        self._check(self.b, self.order, "b")
        self.b_err = None
        self.err_order = None
        if b_err is not None:
            self.b_err = np.array([_frac(x) for x in b_err])
            self.err_order = int(err_order)
            self._check(self.b_err, self.err_order, "b_err")

    def _check(self, b, order, label):
        for cond, res in order_conditions(self.A, b, self.c, order):
            if abs(res) > 1e-10:
                raise ValueError(
                    f"tableau {self.name!r} declares order {order} but its weights {label} violate "
                    f"the order condition {cond} (residual {res:.3g}); an entry of A, {label} or c is wrong"
                )

    @property
    def stages(self) -> int:
        return len(self.b)

    def __repr__(self):
        return f"ButcherTableau(name={self.name!r}, stages={self.stages}, order={self.order})"
