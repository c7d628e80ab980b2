"""The book's networks and the benchmark networks."""

from .cann import CANN1D, CANN1DSFA, CANN1DSTP, CANN2D, BumpStimulus, bump_solution, sfa_intrinsic_speed  # noqa: F401
from .decision import WongWangOU, decide, fixed_points_scipy  # noqa: F401
from .ei import balanced_rates, ei_rate_network, plastic_inhibition_network  # noqa: F401
from .hopfield import Hopfield, ModernHopfield, ags_overlap  # noqa: F401
from .states import brunel_network, brunel_rate, ring_network, ring_solution  # noqa: F401
from .rnn import RateRNN, run_trials  # noqa: F401
from .snn import AdaptiveRSNN, LIFClassifier, run_batch  # noqa: F401
from .reservoir import (ESN, liquid_state_machine, lorenz, lsm_features, mackey_glass, pattern_rates,  # noqa: F401
                        sigma_max, sine_power, spectral_radius)
