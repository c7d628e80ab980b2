"""Plots, separate from computation: every function takes data and returns a Figure/Axes."""
from .basic import raster, traces

__all__ = ["raster", "traces"]
