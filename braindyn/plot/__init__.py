"""Plots, separate from computation: every function takes data and returns a Figure/Axes."""
from .basic import raster, traces
from .phase import fixed_point_style, phase_line_plot, phase_portrait
from .bifurcation import bifurcation_diagram, fast_slow_diagram, grid_diagram, two_parameter_diagram

__all__ = ["raster", "traces", "phase_portrait", "phase_line_plot", "fixed_point_style", "bifurcation_diagram",
           "two_parameter_diagram", "fast_slow_diagram", "grid_diagram"]
