"""Neuron models. Each is an immutable module of parameters with a pure ``step``.

* conductance-based: :class:`HH`, :class:`MorrisLecar`, :class:`WangBuzsaki`, and
  :class:`ConductanceNeuron` assembled from the pieces of :mod:`.channels`; the two-compartment
  :class:`PinskyRinzel` neuron and the :func:`thalamocortical` relay neuron;
* integrate-and-fire: :class:`LIF`, :class:`QIF`, :class:`Theta`, :class:`ExpIF`,
  :class:`AdEx`, :class:`AdQIF`, :class:`Izhikevich`, :class:`GIF`;
* continuous: :class:`HindmarshRose`, :class:`FHN`;
* rate units: :class:`RateUnit`, :class:`ThresholdLinear`, :class:`WilsonCowan`;
* input groups: :class:`PoissonGroup`, :class:`SpikeTimeGroup`;
* tools: :mod:`.patterns` (firing-pattern classifier), :func:`fi_curve`, :func:`rheobase`.
"""
from .hh import HH, hh_rates
from .lif import LIF
from . import channels, patterns
from . import channels_extra  # A-type K and Ih channel pieces
from .conductance import ConductanceNeuron, MorrisLecar, WangBuzsaki
from .continuous import FHN, HR_PATTERNS, HindmarshRose
from .fi import FICurve, fi_curve, rheobase
from .if_family import ADEX_PATTERNS, GIF_PATTERNS, QIF, AdEx, AdQIF, ExpIF, GIF, Theta
from .input_groups import PoissonGroup, SpikeTimeGroup
from .izhikevich import IZHIKEVICH_PATTERNS, Izhikevich
from .rate import RateUnit, ThresholdLinear, WilsonCowan
from .pinsky_rinzel import PinskyRinzel
from .thalamocortical import thalamocortical

__all__ = [
    "HH", "hh_rates", "LIF",
    "MorrisLecar", "WangBuzsaki", "ConductanceNeuron", "channels",
    "QIF", "Theta", "ExpIF", "AdEx", "AdQIF", "GIF", "ADEX_PATTERNS", "GIF_PATTERNS",
    "Izhikevich", "IZHIKEVICH_PATTERNS",
    "HindmarshRose", "HR_PATTERNS", "FHN",
    "RateUnit", "ThresholdLinear", "WilsonCowan",
    "PoissonGroup", "SpikeTimeGroup",
    "patterns", "FICurve", "fi_curve", "rheobase",
    "PinskyRinzel", "thalamocortical",
]
