r"""Real-time recurrent learning (RTRL, Williams & Zipser 1989): exact online gradients by
forward-mode sensitivity propagation.

For a recurrent system :math:`h_{t+1} = F(h_t, x_t; \theta)` with a loss
:math:`L = \sum_t \ell(h_{t+1}, y_t; \theta)`, RTRL carries the sensitivity
:math:`M_t = \partial h_t / \partial\theta` (state size :math:`S` × parameter count
:math:`P`) forward in time,

.. math::
    M_{t+1} = \frac{\partial F}{\partial h}\Big|_t M_t + \frac{\partial F}{\partial\theta}\Big|_t,
    \qquad M_0 = 0, \qquad
    \frac{dL}{d\theta} = \sum_t \frac{\partial\ell_t}{\partial h_{t+1}} M_{t+1}
        + \frac{\partial\ell_t}{\partial\theta},

so the gradient of every step's loss is known at that step (no backward pass, no stored
history): the same gradient as back-propagation through time (BPTT), in exact arithmetic.
Each step costs :math:`P` Jacobian-vector products of :math:`F` (``jax.jvp``, batched with
``vmap``) and :math:`O(SP)` memory, so RTRL is for small networks (tens of units); for large
spiking networks use the approximation :mod:`braindyn.train.eprop`.

Integer leaves of the state (refractory counters) have no sensitivity and pass through.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from .._errors import BraindynError

__all__ = ["RTRLState", "rtrl_init", "rtrl_step", "rtrl"]


class RTRLState(NamedTuple):
    """The carry of RTRL: the model state and its sensitivity ``M`` (shape ``(S, P)``: inexact
    state elements × trainable parameter elements)."""

    state: object
    M: jax.Array


def _flat_params(params):
    theta, unravel = ravel_pytree(eqx.filter(params, eqx.is_inexact_array))
    return theta, unravel


def rtrl_init(params, state) -> RTRLState:
    r"""The RTRL carry at the start of a sequence: ``state`` with :math:`M_0 = 0`.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> c = rtrl_init({"w": jnp.ones(3)}, {"h": jnp.zeros(2)})
    >>> c.M.shape
    (2, 3)
    """
    theta, _ = _flat_params(params)
    h, _ = ravel_pytree(eqx.filter(state, eqx.is_inexact_array))
    return RTRLState(state, jnp.zeros((h.size, theta.size), jnp.result_type(h, theta)))


def rtrl_step(step_fn: Callable, loss_fn: Callable, params, carry: RTRLState, x, y=None):
    r"""One online RTRL step: ``(carry, loss_t, grad_t)``.

    Advances the state with ``step_fn(params, state, x) -> state``, propagates the sensitivity
    (:math:`M_{t+1} = F_h M_t + F_\theta`) and returns the gradient of this step's loss
    ``loss_fn(params, new_state, y)`` with respect to ``params`` (a PyTree like ``params``),
    usable at once (online learning) or summed (:func:`rtrl`).

    Parameters
    ----------
    step_fn : callable
        ``step_fn(params, state, x) -> new_state`` (pure; e.g. rebuild the model with
        :func:`braindyn.params.combine` and call its ``step``; put the time into ``x``).
    loss_fn : callable
        ``loss_fn(params, new_state, y) -> scalar``.
    params : PyTree
        Trainable parameters (float leaves; ``None`` leaves are frozen).
    carry : RTRLState
        From :func:`rtrl_init` or the previous step.
    x, y
        This step's input and target (any PyTrees).
    """
    theta, unravel_p = _flat_params(params)
    dyn, stat = eqx.partition(carry.state, eqx.is_inexact_array)
    h, unravel_h = ravel_pytree(dyn)
    if carry.M.shape != (h.size, theta.size):
        raise BraindynError(f"rtrl_step: the sensitivity has shape {carry.M.shape} but the state has {h.size} float "
                            f"elements and the parameters {theta.size}. Fix: start from rtrl_init(params, state).")
    frozen = eqx.filter(params, eqx.is_inexact_array, inverse=True)

    def full_params(th):
        return eqx.combine(unravel_p(th), frozen)

    def F(hv, th):
        new = step_fn(full_params(th), eqx.combine(unravel_h(hv), stat), x)
        d, s = eqx.partition(new, eqx.is_inexact_array)
        return ravel_pytree(d)[0], s

    (h_new, stat_new) = F(h, theta)
    eye = jnp.eye(theta.size, dtype=carry.M.dtype)
    # column k of M_{t+1}: the JVP of F along (M_t[:, k], e_k)
    M_new = jax.vmap(lambda m, e: jax.jvp(lambda hv, th: F(hv, th)[0], (h, theta), (m, e))[1],
                     in_axes=(1, 0), out_axes=1)(carry.M, eye)

    def ell(hv, th):
        return loss_fn(full_params(th), eqx.combine(unravel_h(hv), stat_new), y)

    loss, (dl_dh, dl_dth) = jax.value_and_grad(ell, argnums=(0, 1))(h_new, theta)
    grad = dl_dh @ M_new + dl_dth
    new_state = eqx.combine(unravel_h(h_new), stat_new)
    return RTRLState(new_state, M_new), loss, unravel_p(grad)


def rtrl(step_fn: Callable, loss_fn: Callable, params, state0, xs, ys=None):
    r"""Loss and gradient of :math:`L = \sum_t \ell(h_{t+1}, y_t)` over a sequence, by RTRL.

    The gradient equals that of back-propagation through the same steps (``jax.grad`` of a
    ``lax.scan``) to rounding; it is computed forward, one step at a time (``lax.scan`` over
    :func:`rtrl_step`).

    Parameters
    ----------
    step_fn, loss_fn
        As in :func:`rtrl_step`.
    params : PyTree
        Trainable parameters.
    state0 : PyTree
        Initial state.
    xs, ys : PyTrees with a leading time axis
        Inputs and targets of each step (``ys=None``: ``y`` is None).

    Returns
    -------
    ``(loss, grads, final_state)``.

    Example
    -------
    >>> import jax, jax.numpy as jnp
    >>> step = lambda p, s, x: {"h": jnp.tanh(p["W"] @ s["h"] + x)}
    >>> loss = lambda p, s, y: jnp.sum((s["h"] - y) ** 2)
    >>> p = {"W": 0.5 * jnp.eye(2)}; s0 = {"h": jnp.zeros(2)}
    >>> xs = jnp.ones((5, 2)); ys = jnp.zeros((5, 2))
    >>> L, g, _ = rtrl(step, loss, p, s0, xs, ys)
    >>> def bptt(p):
    ...     def body(s, xy):
    ...         s = step(p, s, xy[0]); return s, loss(p, s, xy[1])
    ...     return jax.lax.scan(body, s0, (xs, ys))[1].sum()
    >>> bool(jnp.allclose(g["W"], jax.grad(bptt)(p)["W"], rtol=1e-5))
    True
    """
    carry0 = rtrl_init(params, state0)
    theta, unravel_p = _flat_params(params)

    def body(c, xy):
        carry, L, G = c
        x, y = xy
        carry, l, g = rtrl_step(step_fn, loss_fn, params, carry, x, y)
        return (carry, L + l, G + _flat_params(g)[0]), None

    L0 = jnp.zeros((), carry0.M.dtype)
    (carry, L, G), _ = jax.lax.scan(body, (carry0, L0, jnp.zeros_like(theta)), (xs, ys))
    return L, unravel_p(G), carry.state
