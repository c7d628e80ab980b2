"""Synapses: kinetics (instantaneous, delta, exponential, alpha, dual exponential, AMPA, GABA_A,
NMDA, GABA_B, Wang's NMDA), outputs (current, conductance, Mg block), delays, gap junctions, the
synaptic projection (any presynaptic signal) and the grouped deliver phase of a network."""
from .delays import HeterogeneousDelay, HomogeneousDelay
from .fused import deliver_all
from .gap import GapJunction
from .kinetics import (AMPA, NMDA, Alpha, Delta, DualExponential, Exponential, GABAa, GABAb, Instant, Synapse,
                       TransmitterKinetics, WangNMDA)
from .outputs import ConductanceOutput, CurrentOutput, MgBlockOutput, Output
from .projection import SynapticProjection

__all__ = ["Synapse", "Instant", "Delta", "Exponential", "Alpha", "DualExponential", "TransmitterKinetics", "AMPA",
           "GABAa", "NMDA", "GABAb", "WangNMDA", "Output", "CurrentOutput", "ConductanceOutput", "MgBlockOutput",
           "HomogeneousDelay", "HeterogeneousDelay", "GapJunction", "SynapticProjection", "deliver_all"]
