"""Compartmental neurons: morphologies, the cable equation on a tree, and its implicit solver.

* :class:`Section`, :class:`Morphology`, :func:`load_swc`: the geometry and its compartments;
* :class:`CompartmentalNeuron`: channels per section, backward Euler or Crank--Nicolson with
  the Hines tree solve, staggered exponential-Euler gates, spikes and synaptic sites; usable
  as a population of a :class:`~braindyn.Network` (projections with ``target="<site>"``);
* :func:`hines_solve`: the O(N) tree solve;
* :func:`cable_constants`: the analytic length and time constants of a passive cable.
"""
from .analytic import cable_constants, conduction_velocity, finite_cable_steady_state
from .morphology import Morphology, Section, load_swc
from .neuron import CompartmentalNeuron
from .solve import hines_solve

__all__ = ["Section", "Morphology", "load_swc", "CompartmentalNeuron", "hines_solve", "cable_constants",
           "finite_cable_steady_state", "conduction_velocity"]
