"""braindyn: brain-dynamics programming in Python on JAX.

Define neuron, synapse, plasticity and network models as immutable modules with pure steps;
simulate them (JIT-compiled, CPU or GPU); train and analyse them; look at them.

Subpackages: :mod:`~braindyn.neurons`, :mod:`~braindyn.synapses`, :mod:`~braindyn.plasticity`,
:mod:`~braindyn.connect`, :mod:`~braindyn.ops`, :mod:`~braindyn.inputs`,
:mod:`~braindyn.integrators`, :mod:`~braindyn.analysis`, :mod:`~braindyn.plot`,
:mod:`~braindyn.models`, :mod:`~braindyn.gallery`, :mod:`~braindyn.train`. The heavier ones
(analysis, plotting, the gallery, training) are imported on first use.
"""
import importlib as _importlib

from . import clock, core, inputs, integrators, neurons, params, surrogate
from ._errors import BraindynError, SimulationDiverged, UnitWarning
from .core import Conductance, Dynamics, ODEModel, SpikingNeuron
from .network import Network, Projection
from .params import param, trainable
from .run import RunResult, SpikeTrain, estimate_memory, run, simulate
from .runstate import RunState

__version__ = "0.1.0"

_LAZY = ("analysis", "biophysics", "clamp", "compartments", "connect", "distributed", "gallery", "measure",
         "models", "ops", "plasticity", "plot", "store", "synapses", "testing", "train")

__all__ = [
    "clock", "core", "inputs", "integrators", "neurons", "params", "surrogate", *_LAZY,
    "BraindynError", "SimulationDiverged", "UnitWarning",
    "Conductance", "Dynamics", "ODEModel", "SpikingNeuron", "Network", "Projection",
    "RunResult", "RunState", "SpikeTrain", "estimate_memory", "run", "simulate", "param", "trainable",
]


def __getattr__(name):
    if name in _LAZY:
        return _importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'braindyn' has no attribute {name!r}")
