"""Numerical integrators: every solver is an object that declares its order.

Use :func:`get` to obtain a solver by name (``"rk4"``, ``"exp_euler"``, ...), or pass a
:class:`Solver` instance directly wherever a ``method`` is accepted.
"""
from __future__ import annotations

from .._errors import check_choice
from .base import Solver, integrate, tree_axpy
from .exp import ExpEuler, ExpMidpoint, exprel
from .rk import TABLEAUX, ExplicitRK, rk2
from .tableau import ButcherTableau, order_conditions
from .adaptive import EMBEDDED_TABLEAUX, AdaptiveSolution, EmbeddedRK, MaxStepsReached, solve_adaptive
from .sde import (
    SDE_METHODS, SRA1, EulerMaruyama, Increments, Milstein, SDESolver, StochasticHeun, brownian_increments,
    coarsen_increments, get_sde, integrate_sde,
)
from .dde import integrate_dde
from .fde import integrate_caputo, integrate_gl, mittag_leffler

__all__ = [
    "Solver", "integrate", "tree_axpy", "ExpEuler", "ExpMidpoint", "exprel", "ExplicitRK", "ButcherTableau",
    "order_conditions", "TABLEAUX", "rk2", "get", "ODE_METHODS",
    # adaptive.py
    "EmbeddedRK", "EMBEDDED_TABLEAUX", "AdaptiveSolution", "MaxStepsReached", "solve_adaptive",
    # sde.py
    "SDESolver", "EulerMaruyama", "Milstein", "StochasticHeun", "SRA1", "Increments", "SDE_METHODS", "get_sde",
    "brownian_increments", "coarsen_increments", "integrate_sde",
    # dde.py
    "integrate_dde",
    # fde.py
    "integrate_caputo", "integrate_gl", "mittag_leffler",
]

#: Fixed-step ODE methods usable by every model, by name.
ODE_METHODS = {name: (lambda tab=tab: ExplicitRK(tab)) for name, tab in TABLEAUX.items()}
ODE_METHODS["rk2"] = rk2
ODE_METHODS["exp_euler"] = ExpEuler
ODE_METHODS["exp_auto"] = ExpEuler  # the name used by the book and BrainPy
ODE_METHODS["exp_midpoint"] = ExpMidpoint  # second-order exponential integrator
# Embedded pairs: fixed-step with their higher-order weights, or adaptive via solve_adaptive.
ODE_METHODS.update({name: (lambda tab=tab: EmbeddedRK(tab)) for name, tab in EMBEDDED_TABLEAUX.items()})


def get(method) -> Solver:
    """Return a solver instance for ``method`` (a name, or a :class:`Solver` passed through).

    Raises a ``ValueError`` that lists the valid names (and the closest match) for an
    unknown name.

    Example
    -------
    >>> get("rk4").order
    4
    """
    if isinstance(method, Solver):
        return method
    check_choice("integration method", method, sorted(ODE_METHODS))
    return ODE_METHODS[method]()
