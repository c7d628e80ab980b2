"""Plots, separate from computation: every function takes data and returns a Figure/Axes."""
from .basic import raster, traces
from .phase import fixed_point_style, phase_line_plot, phase_portrait
from .bifurcation import bifurcation_diagram, fast_slow_diagram, grid_diagram, two_parameter_diagram
from .network import animate_1d, animate_2d, energy_trace, psychometric, raster_rate

__all__ = ["raster", "traces", "phase_portrait", "phase_line_plot", "fixed_point_style", "bifurcation_diagram",
           "two_parameter_diagram", "fast_slow_diagram", "grid_diagram", "raster_rate", "animate_1d", "animate_2d",
           "psychometric", "energy_trace"]
