"""Dynamics analysis: fixed points, phase planes, bifurcations, fast-slow and slow points.

Everything here returns data (principle 6 of the design guide); :mod:`braindyn.plot` draws it.
"""
from .vector_field import Trajectory, VectorField, x64, as_vector_field, from_model, simulate, vector_field
from .fixed_points import FixedPoint, classify, find_fixed_points, linearize

__all__ = [
    "x64", "VectorField", "vector_field", "from_model", "as_vector_field", "simulate", "Trajectory",
    "FixedPoint", "classify", "find_fixed_points", "linearize",
]
from .continuation import Branch, Curve, GridDiagram, SpecialPoint, bifurcation_grid, continue_equilibria, pseudo_arclength
from .two_parameter import continue_fold, continue_hopf

__all__ += [
    "Branch", "Curve", "GridDiagram", "SpecialPoint", "bifurcation_grid", "continue_equilibria", "continue_fold",
    "continue_hopf", "pseudo_arclength",
]
from .cycles import CycleBranch, LimitCycle, continue_cycles, cycle_at, find_limit_cycle, solve_cycle

__all__ += ["CycleBranch", "LimitCycle", "continue_cycles", "cycle_at", "find_limit_cycle", "solve_cycle"]
from .phase_plane import PhaseLine, PhasePlane, nullclines, phase_line, phase_plane
from .slow_points import SlowPoints, find_slow_points
from .fast_slow import FastSlow, fast_slow

__all__ += ["PhaseLine", "PhasePlane", "nullclines", "phase_line", "phase_plane", "SlowPoints", "find_slow_points",
            "FastSlow", "fast_slow"]
from .normal_forms import criticality, first_lyapunov

__all__ += ["first_lyapunov", "criticality"]
