"""Synapses: kinetics (delta, exponential, alpha, dual exponential, AMPA, GABA_A, NMDA, GABA_B),
outputs (current, conductance, Mg block), delays, gap junctions and the synaptic projection."""
from .delays import HeterogeneousDelay, HomogeneousDelay
from .gap import GapJunction
from .kinetics import (AMPA, NMDA, Alpha, Delta, DualExponential, Exponential, GABAa, GABAb, Synapse,
                       TransmitterKinetics)
from .outputs import ConductanceOutput, CurrentOutput, MgBlockOutput, Output
from .projection import SynapticProjection

__all__ = ["Synapse", "Delta", "Exponential", "Alpha", "DualExponential", "TransmitterKinetics", "AMPA", "GABAa",
           "NMDA", "GABAb", "Output", "CurrentOutput", "ConductanceOutput", "MgBlockOutput", "HomogeneousDelay",
           "HeterogeneousDelay", "GapJunction", "SynapticProjection"]
