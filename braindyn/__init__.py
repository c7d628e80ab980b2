"""braindyn: brain-dynamics programming in Python on JAX.

Define neuron, synapse, plasticity and network models as immutable modules with pure steps;
simulate them (JIT-compiled, CPU or GPU); train and analyse them; look at them.
"""
from . import core, inputs, integrators, neurons, surrogate
from ._errors import BraindynError, SimulationDiverged
from .core import Dynamics, ODEModel, SpikingNeuron
from .network import Network, Projection
from .run import RunResult, SpikeTrain, run, simulate

__version__ = "0.1.0"

__all__ = [
    "core", "inputs", "integrators", "neurons", "surrogate",
    "BraindynError", "SimulationDiverged",
    "Dynamics", "ODEModel", "SpikingNeuron", "Network", "Projection",
    "RunResult", "SpikeTrain", "run", "simulate",
]
