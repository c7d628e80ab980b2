"""Fixed-step explicit Runge--Kutta methods, each defined only by its Butcher tableau.

======================  =====  ==========================================================
name                    order  tableau
======================  =====  ==========================================================
``euler``               1      forward Euler
``midpoint``            2      explicit midpoint
``heun2``               2      Heun's method (trapezoidal predictor--corrector)
``ralston2``            2      Ralston's method (minimum error bound, :math:`\\alpha=2/3`)
``rk2``                 2      generic 2nd order, parameter ``beta`` (default 2/3)
``rk3``                 3      Kutta's third-order method
``heun3``               3      Heun's third-order method
``ralston3``            3      Ralston's third-order method
``ssprk3``              3      strong-stability-preserving RK3 (Shu--Osher)
``rk4``                 4      the classical Runge--Kutta method
``ralston4``            4      Ralston's fourth-order method (minimum truncation error)
``rk4_38``              4      Kutta's 3/8 rule
======================  =====  ==========================================================
"""
from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import numpy as np

from .base import Solver, tree_axpy
from .tableau import ButcherTableau

__all__ = ["ExplicitRK", "TABLEAUX", "rk2"]

_S5 = np.sqrt(5.0)

TABLEAUX = {
    "euler": ButcherTableau([[]], [1], [0], order=1, name="euler"),
    "midpoint": ButcherTableau([[], ["1/2"]], [0, 1], [0, "1/2"], order=2, name="midpoint"),
    "heun2": ButcherTableau([[], [1]], ["1/2", "1/2"], [0, 1], order=2, name="heun2"),
    "ralston2": ButcherTableau([[], ["2/3"]], ["1/4", "3/4"], [0, "2/3"], order=2, name="ralston2"),
    "rk3": ButcherTableau([[], ["1/2"], [-1, 2]], ["1/6", "2/3", "1/6"], [0, "1/2", 1], order=3, name="rk3"),
    "heun3": ButcherTableau(
        [[], ["1/3"], [0, "2/3"]], ["1/4", 0, "3/4"], [0, "1/3", "2/3"], order=3, name="heun3"
    ),
    "ralston3": ButcherTableau(
        [[], ["1/2"], [0, "3/4"]], ["2/9", "1/3", "4/9"], [0, "1/2", "3/4"], order=3, name="ralston3"
    ),
    "ssprk3": ButcherTableau(
        [[], [1], ["1/4", "1/4"]], ["1/6", "1/6", "2/3"], [0, 1, "1/2"], order=3, name="ssprk3"
    ),
    "rk4": ButcherTableau(
        [[], ["1/2"], [0, "1/2"], [0, 0, 1]], ["1/6", "1/3", "1/3", "1/6"], [0, "1/2", "1/2", 1], order=4, name="rk4"
    ),
    "rk4_38": ButcherTableau(
        [[], ["1/3"], ["-1/3", 1], [1, -1, 1]], ["1/8", "3/8", "3/8", "1/8"], [0, "1/3", "2/3", 1], order=4,
        name="rk4_38",
    ),
    # Ralston (1962), minimum truncation error fourth-order method (irrational coefficients).
    "ralston4": ButcherTableau(
        [
            [],
            [0.4],
            [(-2889 + 1428 * _S5) / 1024, (3785 - 1620 * _S5) / 1024],
            [(-3365 + 2094 * _S5) / 6040, (-975 - 3046 * _S5) / 2552, (467040 + 203968 * _S5) / 240845],
        ],
        [(263 + 24 * _S5) / 1812, (125 - 1000 * _S5) / 3828, (3426304 + 1661952 * _S5) / 5924787,
         (30 - 4 * _S5) / 123],
        [0, 0.4, (14 - 3 * _S5) / 16, 1],
        order=4,
        name="ralston4",
    ),
}


class ExplicitRK(Solver):
    """Explicit Runge--Kutta step driven by a :class:`ButcherTableau`.

    .. math::
        k_i = f\\Big(t + c_i \\Delta t,\\; y_n + \\Delta t \\sum_{j<i} a_{ij} k_j\\Big), \\quad
        y_{n+1} = y_n + \\Delta t \\sum_i b_i k_i

    Parameters
    ----------
    tableau : ButcherTableau
        The method. ``order`` is taken from the tableau.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> from braindyn.integrators import get
    >>> rk4 = get("rk4")
    >>> y = rk4(lambda t, y, a: -y, 0.0, jnp.array(1.0), 0.1)
    >>> round(float(y), 4)
    0.9048
    """

    tableau: ButcherTableau = eqx.field(static=True)
    order: int = eqx.field(static=True, default=0)

    def __init__(self, tableau: ButcherTableau):
        self.tableau = tableau
        self.order = tableau.order

    @property
    def name(self):  # type: ignore[override]
        return self.tableau.name

    def stages(self, f, t, y, dt, args):
        """Return the list of stage derivatives ``k_i`` (used by embedded adaptive pairs)."""
        tab = self.tableau
        ks = []
        for i in range(tab.stages):
            yi = tree_axpy(y, dt, list(zip(tab.A[i, :i].tolist(), ks)))
            ks.append(f(t + tab.c[i] * dt, yi, args))
        return ks

    def step(self, f, t, y, dt, args, solver_state=None):
        ks = self.stages(f, t, y, dt, args)
        return tree_axpy(y, dt, list(zip(self.tableau.b.tolist(), ks))), solver_state


def rk2(beta: float = 2.0 / 3.0) -> ExplicitRK:
    """Generic second-order Runge--Kutta method with parameter :math:`\\beta \\in (0, 1]`.

    .. math::
        k_1 = f(t, y),\\; k_2 = f(t + \\beta\\Delta t, y + \\beta\\Delta t k_1),\\;
        y_{n+1} = y_n + \\Delta t\\big[(1 - \\tfrac{1}{2\\beta}) k_1 + \\tfrac{1}{2\\beta} k_2\\big]

    ``beta = 1/2`` is the midpoint method, ``1`` Heun's, ``2/3`` Ralston's (the default).

    Example
    -------
    >>> rk2(0.5).order
    2
    """
    if not 0 < beta <= 1:
        raise ValueError(f"rk2: parameter 'beta' must lie in (0, 1], got {beta!r}. Fix: e.g. beta=2/3.")
    w = 1.0 / (2.0 * beta)
    return ExplicitRK(ButcherTableau([[], [beta]], [1 - w, w], [0, beta], order=2, name=f"rk2(beta={beta:g})"))
