"""braindyn: brain-dynamics programming in Python on JAX.

Define neuron, synapse, plasticity and network models as immutable modules with pure steps;
simulate them (JIT-compiled, CPU or GPU); train and analyse them; look at them.

Subpackages: :mod:`~braindyn.neurons`, :mod:`~braindyn.synapses`, :mod:`~braindyn.plasticity`,
:mod:`~braindyn.connect`, :mod:`~braindyn.ops`, :mod:`~braindyn.inputs`,
:mod:`~braindyn.integrators`, :mod:`~braindyn.analysis`, :mod:`~braindyn.plot`,
:mod:`~braindyn.models`, :mod:`~braindyn.gallery`. The heavier ones (analysis, plotting,
the gallery) are imported on first use.
"""
import importlib as _importlib

from . import core, inputs, integrators, neurons, surrogate
from ._errors import BraindynError, SimulationDiverged
from .core import Dynamics, ODEModel, SpikingNeuron
from .network import Network, Projection
from .run import RunResult, SpikeTrain, run, simulate

__version__ = "0.1.0"

_LAZY = ("analysis", "connect", "gallery", "models", "ops", "plasticity", "plot", "synapses", "testing", "measure",
         "train")

__all__ = [
    "core", "inputs", "integrators", "neurons", "surrogate", *_LAZY,
    "BraindynError", "SimulationDiverged",
    "Dynamics", "ODEModel", "SpikingNeuron", "Network", "Projection",
    "RunResult", "SpikeTrain", "run", "simulate",
]


def __getattr__(name):
    if name in _LAZY:
        return _importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'braindyn' has no attribute {name!r}")
