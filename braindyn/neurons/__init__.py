"""Neuron models. Each is an immutable module of parameters with a pure ``step``."""
from .hh import HH, hh_rates
from .lif import LIF
from .if_family import ADEX_PATTERNS, GIF_PATTERNS, QIF, AdEx, AdQIF, ExpIF, GIF, Theta
from .izhikevich import IZHIKEVICH_PATTERNS, Izhikevich
from . import patterns

__all__ = [
    "HH", "hh_rates", "LIF",
    "QIF", "Theta", "ExpIF", "AdEx", "AdQIF", "GIF", "ADEX_PATTERNS", "GIF_PATTERNS",
    "Izhikevich", "IZHIKEVICH_PATTERNS", "patterns",
]
