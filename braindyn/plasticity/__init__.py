"""Synaptic plasticity: short-term (Tsodyks--Markram), spike-timing-dependent (pair and triplet
STDP) and rate-based (Hebb, Oja, BCM) rules, acting on dense and CSR weights alike."""
from ._layout import WeightLayout
from .rate_rules import BCM, Hebb, Oja
from .stdp import STDP, TripletSTDP
from .stp import TsodyksMarkram, TsodyksMarkramRate

__all__ = ["WeightLayout", "TsodyksMarkram", "TsodyksMarkramRate", "STDP", "TripletSTDP", "Hebb", "Oja", "BCM"]
