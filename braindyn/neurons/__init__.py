"""Neuron models. Each is an immutable module of parameters with a pure ``step``."""
from .hh import HH, hh_rates
from .lif import LIF

__all__ = ["HH", "hh_rates", "LIF"]
