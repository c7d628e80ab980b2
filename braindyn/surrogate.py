r"""Spike functions with surrogate gradients.

In the forward pass a spike is the Heaviside step :math:`H(x)` of the distance to threshold
:math:`x = V - V_{th}` (strict: :math:`H(0) = 0`, the book's ``V > V_th`` rule). Its derivative
is zero almost everywhere, so for gradient-based training the backward pass replaces
:math:`\delta(x)` by a smooth pseudo-derivative :math:`\sigma'(x)` (Neftci, Mostafa & Zenke 2019).
A surrogate is a small immutable object, chosen per neuron with the ``spike_fn`` field.

Every surrogate is the same Heaviside forward; they differ only in the pseudo-derivative
:math:`\sigma'(x) = \rho(x/w)/w` of the backward pass (``w`` = ``width``, in the units of
``x``). Each subclass defines :math:`\rho(z)` in closed form (a static method), and
:meth:`Surrogate.pseudo_derivative` evaluates :math:`\sigma'(x)` directly (what e-prop uses).

=====================  ===================================================================  =====================
class                  :math:`\rho(z)`                                                      :math:`\int\rho\,dz`
=====================  ===================================================================  =====================
Sigmoid                :math:`s(z)(1-s(z))`, :math:`s` logistic                             1
FastSigmoid            :math:`(1+|z|)^{-2}` (SuperSpike, Zenke & Ganguli 2018)              2
ArcTan                 :math:`1/(\pi(1+z^2))`                                                1
PiecewiseLinear        :math:`\max(0, 1-|z|)` (triangle, Esser et al. 2016)                 1
Gaussian               :math:`e^{-z^2/2}/\sqrt{2\pi}`                                        1
MultiGaussian          :math:`(1+h)\phi(z) - \tfrac hs\phi(\tfrac{z-1}s) - \tfrac hs\phi(\tfrac{z+1}s)`  :math:`1-h`
Exponential            :math:`e^{-|z|}/2` (SLAYER's shape, Shrestha & Orchard 2018)          1
Erf                    :math:`e^{-z^2}/\sqrt\pi`, derivative of :math:`(1+\operatorname{erf} z)/2`  1
InverseSquareRoot      :math:`\tfrac12(1+z^2)^{-3/2}`, of :math:`\tfrac12(1 + z/\sqrt{1+z^2})`  1
LogTailed              :math:`\tfrac12` for :math:`|z|\le1`, :math:`1/(2|z|)` beyond            (diverges, slowly)
SoftSign               :math:`\tfrac12(1+|z|)^{-2}`, of :math:`\tfrac12(1 + z/(1+|z|))`       1
Rectangle              :math:`1` for :math:`|z| < \tfrac12`, else 0 (Wu et al. 2018)         1
Heaviside              0 (no surrogate)                                                     0
=====================  ===================================================================  =====================

(:math:`\phi` is the standard normal density; MultiGaussian has the constants of Yin, Corradi
& Bohté 2021, :math:`h = 0.15`, :math:`s = 6`.) Choosing one: the width matters more than the
shape (Zenke & Vogels 2021); a width of the order of the distance the membrane moves in a few
steps (1 mV for a 10–20 mV threshold distance) is a robust start. Heavy tails (FastSigmoid,
ArcTan, LogTailed) pass gradient to silent neurons (useful when few neurons spike), compact
ones (PiecewiseLinear, Rectangle) none to neurons far from threshold.
"""
from __future__ import annotations

from functools import partial

from typing import Any

import jax
import jax.numpy as jnp

from .params import Parametrized, param

__all__ = ["Surrogate", "Sigmoid", "FastSigmoid", "ArcTan", "PiecewiseLinear", "Gaussian", "MultiGaussian",
           "Exponential", "Erf", "InverseSquareRoot", "LogTailed", "SoftSign", "Rectangle", "Heaviside"]


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

    def pseudo_derivative(self, x):
        """:math:`\\sigma'(x) = \\rho(x/w)/w`: the derivative the backward pass uses, as a value."""
        x = jnp.asarray(x)
        w = jnp.asarray(self.width, x.dtype)
        return type(self).rho(x / w) / w


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


class ArcTan(Surrogate):
    """:math:`\\sigma'(x) = 1/(\\pi w (1 + (x/w)^2))`, the derivative of :math:`\\tfrac12 + \\arctan(x/w)/\\pi`
    (Fang et al. 2021).

    Example
    -------
    >>> import jax, jax.numpy as jnp
    >>> round(float(jax.grad(lambda v: ArcTan(1.0)(v))(jnp.array(0.0))) * 3.141592653589793, 6)
    1.0
    """

    @staticmethod
    def rho(z):
        return 1.0 / (jnp.pi * (1.0 + z * z))


class PiecewiseLinear(Surrogate):
    """Triangle: :math:`\\sigma'(x) = \\max(0, 1 - |x|/w)/w` (Esser et al. 2016; Bellec et al. 2018
    use it with :math:`w = V_{th}` and a damping factor).

    Example
    -------
    >>> import jax, jax.numpy as jnp
    >>> float(jax.grad(lambda v: PiecewiseLinear(2.0)(v))(jnp.array(1.0)))
    0.25
    """

    @staticmethod
    def rho(z):
        return jnp.maximum(0.0, 1.0 - jnp.abs(z))


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


_MG_H, _MG_S = 0.15, 6.0


class MultiGaussian(Surrogate):
    """Yin, Corradi & Bohté (2021): a central Gaussian of standard deviation :math:`w` with two
    wide negative side lobes (:math:`h = 0.15`, :math:`s = 6`),

    .. math:: \\sigma'(x) = \\frac1w\\Big[(1+h)\\phi(z) - \\frac hs\\phi\\Big(\\frac{z-1}{s}\\Big)
              - \\frac hs\\phi\\Big(\\frac{z+1}{s}\\Big)\\Big],\\quad z = x/w,

    :math:`\\phi` the standard normal density.

    Example
    -------
    >>> import jax, jax.numpy as jnp
    >>> round(float(jax.grad(lambda v: MultiGaussian(0.5)(v))(jnp.array(0.0))), 4)
    0.8782
    """

    @staticmethod
    def rho(z):
        phi = lambda u: jnp.exp(-0.5 * u * u) / jnp.sqrt(2 * jnp.pi)  # noqa: E731
        return (1 + _MG_H) * phi(z) - _MG_H / _MG_S * (phi((z - 1) / _MG_S) + phi((z + 1) / _MG_S))


class Exponential(Surrogate):
    """:math:`\\sigma'(x) = e^{-|x|/w}/(2w)` (the shape of SLAYER's spike-escape density,
    Shrestha & Orchard 2018).

    Example
    -------
    >>> import jax, jax.numpy as jnp
    >>> float(jax.grad(lambda v: Exponential(1.0)(v))(jnp.array(0.0)))
    0.5
    """

    @staticmethod
    def rho(z):
        return 0.5 * jnp.exp(-jnp.abs(z))


class Erf(Surrogate):
    """:math:`\\sigma'(x) = e^{-x^2/w^2}/(w\\sqrt\\pi)`, the derivative of :math:`(1 + \\operatorname{erf}(x/w))/2`.

    Example
    -------
    >>> import jax, jax.numpy as jnp
    >>> round(float(jax.grad(lambda v: Erf(1.0)(v))(jnp.array(0.0))) ** 2 * 3.141592653589793, 6)
    1.0
    """

    @staticmethod
    def rho(z):
        return jnp.exp(-z * z) / jnp.sqrt(jnp.pi)


class InverseSquareRoot(Surrogate):
    """:math:`\\sigma'(x) = \\tfrac{1}{2w}(1 + x^2/w^2)^{-3/2}`, the derivative of the inverse-square-root
    unit step :math:`\\tfrac12(1 + z/\\sqrt{1+z^2})`, :math:`z = x/w`.

    Example
    -------
    >>> import jax, jax.numpy as jnp
    >>> float(jax.grad(lambda v: InverseSquareRoot(1.0)(v))(jnp.array(0.0)))
    0.5
    """

    @staticmethod
    def rho(z):
        return 0.5 * (1.0 + z * z) ** -1.5


class LogTailed(Surrogate):
    """Log-tailed (after the log-tailed ReLU of Cai et al. 2017, made symmetric):
    :math:`\\sigma'(x) = \\tfrac1{2w}` for :math:`|x| \\le w`, :math:`\\tfrac{1}{2|x|}` beyond (the derivative of
    :math:`\\tfrac12\\operatorname{sign}(z)(1 + \\log|z|)` outside :math:`[-1, 1]`): a tail so heavy that
    neurons far from threshold still learn.

    Example
    -------
    >>> import jax, jax.numpy as jnp
    >>> float(jax.grad(lambda v: LogTailed(1.0)(v))(jnp.array(-4.0)))
    0.125
    """

    @staticmethod
    def rho(z):
        a = jnp.abs(z)
        return 0.5 / jnp.maximum(a, 1.0)


class SoftSign(Surrogate):
    """:math:`\\sigma'(x) = \\frac{1}{2w(1 + |x|/w)^2}`, the derivative of :math:`\\tfrac12(1 + z/(1+|z|))`
    (FastSigmoid's shape, normalised to a unit step).

    Example
    -------
    >>> import jax, jax.numpy as jnp
    >>> float(jax.grad(lambda v: SoftSign(1.0)(v))(jnp.array(1.0)))
    0.125
    """

    @staticmethod
    def rho(z):
        return 0.5 / (1.0 + jnp.abs(z)) ** 2


class Rectangle(Surrogate):
    """Rectangle (box): :math:`\\sigma'(x) = 1/w` for :math:`|x| < w/2`, else 0 (Wu et al. 2018).

    Example
    -------
    >>> import jax, jax.numpy as jnp
    >>> [float(jax.grad(lambda v: Rectangle(2.0)(v))(jnp.array(x))) for x in (0.5, 1.5)]
    [0.5, 0.0]
    """

    @staticmethod
    def rho(z):
        return jnp.where(jnp.abs(z) < 0.5, 1.0, 0.0).astype(jnp.result_type(z))


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
