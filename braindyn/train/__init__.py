"""braindyn.train: gradient, online and offline training of brain-dynamics models.

See :mod:`braindyn.train.bptt` for the training pattern (parameters, mini-batches by
``vmap``, truncation, checkpointing, surrogate gradients and ``detach_reset``).

* gradients through runs: :func:`rollout` (checkpointed / truncated BPTT), :func:`train_step`,
  :func:`fit`, losses (:func:`mse`, :func:`cross_entropy`, :func:`accuracy`, :func:`rate_loss`);
* exact online gradients: :func:`rtrl` (:mod:`~braindyn.train.rtrl`); the online approximation
  for spiking networks: :func:`eprop_grad` (:mod:`~braindyn.train.eprop`);
* training at equilibrium: :func:`fixed_point`, :func:`equilibrium` (implicit differentiation).
"""
from .rollout import rollout
from .bptt import fit, train_step
from .losses import accuracy, cross_entropy, mse, rate_loss
from .rtrl import RTRLState, rtrl, rtrl_init, rtrl_step
from .eprop import eprop_grad, init_rsnn_weights, rsnn_loss
from .fixed_point import equilibrium, fixed_point
from .readout import (LinearReadout, LogisticReadout, RidgeCV, lasso, least_squares, logistic, mae, nrmse, ridge,
                      ridge_cv)
from .online import FORCE, LMS, RLS, ReadoutUnit, force_network, sum_of_sines
from . import data, encoders, spiking, tasks
from .data import load_digits
from .encoders import delta_decode, delta_encode, latency_encode, poisson_encode
from .spiking import fit_rate_pattern, train_digits
