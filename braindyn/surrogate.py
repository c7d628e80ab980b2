"""Spike functions with surrogate gradients.

In the forward pass a spike is the Heaviside step :math:`H(x)` of the distance to threshold
:math:`x = V - V_{th}` (strict: :math:`H(0) = 0`, the book's ``V > V_th`` rule). Its derivative
is zero almost everywhere, so for gradient-based training the backward pass replaces
:math:`\\delta(x)` by a smooth pseudo-derivative :math:`\\sigma'(x)` (Neftci, Mostafa & Zenke 2019).
A surrogate is a small immutable object, chosen per neuron with the ``spike_fn`` field.
"""
from __future__ import annotations

from functools import partial

from typing import Any

import jax
import jax.numpy as jnp

from .params import Parametrized, param

__all__ = ["Surrogate", "Sigmoid", "FastSigmoid", "Gaussian", "Heaviside"]


@partial(jax.custom_jvp, nondiff_argnums=(2,))
def _spike(x, width, derivative):
    return (x > 0).astype(x.dtype)


@_spike.defjvp
def _spike_jvp(derivative, primals, tangents):
    # H(x) does not depend on the width: its gradient is zero (the surrogate replaces only d/dx).
    x, width = primals
    return _spike(x, width, derivative), derivative(x / width) / width * tangents[0]


class Surrogate(Parametrized):
    """Base class: ``surrogate(x)`` returns :math:`H(x)` (as the dtype of ``x``) with the smooth
    pseudo-derivative :math:`\\sigma'(x) = \\rho(x/w)/w` in the backward pass. Subclasses define
    ``rho`` (a static method of :math:`z = x/w`); ``width`` :math:`w` is in the units of ``x``
    (mV for a membrane potential).

    ``width`` is a parameter (an array leaf, > 0, scalar or one per neuron): a new width does
    not recompile a run. The forward pass does not depend on it, so its gradient is zero.
    """

    width: Any = param(1.0, bound="positive",
                       doc="width of the pseudo-derivative, in the units of x (mV for a membrane potential)")

    @staticmethod
    def rho(z):
        raise NotImplementedError

    def __call__(self, x):
        x = jnp.asarray(x)
        return _spike(x, jnp.asarray(self.width, x.dtype), type(self).rho)


class Sigmoid(Surrogate):
    """:math:`\\sigma'(x) = s(x/w)(1 - s(x/w))/w`, with :math:`s` the logistic function.

    Example
    -------
    >>> import jax, jax.numpy as jnp
    >>> float(jax.grad(lambda v: Sigmoid(2.0)(v))(jnp.array(0.0)))
    0.125
    """

    @staticmethod
    def rho(z):
        s = jax.nn.sigmoid(z)
        return s * (1 - s)


class FastSigmoid(Surrogate):
    """SuperSpike: :math:`\\sigma'(x) = 1 / (w (1 + |x|/w)^2)`.

    Example
    -------
    >>> float(FastSigmoid(1.0)(jnp.array(0.5)))
    1.0
    """

    @staticmethod
    def rho(z):
        return 1.0 / (1.0 + jnp.abs(z)) ** 2


class Gaussian(Surrogate):
    """:math:`\\sigma'(x) = \\exp(-x^2/2w^2)/(w\\sqrt{2\\pi})`.

    Example
    -------
    >>> float(Gaussian(1.0)(jnp.array(-0.5)))
    0.0
    """

    @staticmethod
    def rho(z):
        return jnp.exp(-0.5 * z * z) / jnp.sqrt(2 * jnp.pi)


class Heaviside(Surrogate):
    """No surrogate: the gradient through a spike is exactly zero.

    Example
    -------
    >>> float(Heaviside()(jnp.array(0.0)))   # strict: H(0) = 0
    0.0
    """

    @staticmethod
    def rho(z):
        return jnp.zeros_like(z)
