"""Synaptic plasticity: short-term (Tsodyks--Markram), spike-timing-dependent (pair, soft-bounded
and triplet STDP; inhibitory STDP of Vogels et al. 2011) and rate-based (Hebb, Oja, BCM) rules,
all with one interface (:class:`LearningRule`), acting on dense and CSR weights alike."""
from ._layout import WeightLayout
from .inhibitory import InhibitorySTDP
from .rate_rules import BCM, Hebb, Oja
from .rule import LearningRule
from .stdp import STDP, TripletSTDP
from .stp import TsodyksMarkram, TsodyksMarkramRate

__all__ = ["WeightLayout", "LearningRule", "TsodyksMarkram", "TsodyksMarkramRate", "STDP", "TripletSTDP",
           "InhibitorySTDP", "Hebb", "Oja", "BCM"]
