r"""Fixed-point training: a network trained at its equilibrium, differentiated implicitly.

For a map :math:`h = f(h; \theta)` (one step of a network with constant input, or any
contraction) with fixed point :math:`h^*(\theta)`, the implicit function theorem gives the
gradient of a loss :math:`\ell(h^*)` without back-propagating through the iterations:

.. math::
    \frac{d\ell}{d\theta} = u^\top \frac{\partial f}{\partial\theta}\Big|_{h^*}, \qquad
    \Big(I - \frac{\partial f}{\partial h}\Big|_{h^*}\Big)^{\!\top} u = \frac{\partial \ell}{\partial h^*}

(recurrent back-propagation, Almeida 1987; Pineda 1987; deep equilibrium models, Bai et al.
2019). :func:`fixed_point` solves the forward problem (Picard iteration or Newton) and, in a
``jax.custom_vjp``, the adjoint linear system (a dense solve, GMRES or the adjoint iteration
:math:`u \leftarrow \bar g + J^\top u`). Memory and time of the backward pass do not depend
on the number of forward iterations, unlike BPTT through a long run to convergence (which
tends to the same gradient as the run length grows, when the map contracts).

For an ODE model at rest (:math:`\dot h = g(h) = 0`), the steps of any one-step method with
constant input have the same fixed points: :func:`equilibrium` uses the model's own step.
"""
from __future__ import annotations

from functools import partial
from typing import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from .._errors import BraindynError, check_choice

__all__ = ["fixed_point", "equilibrium"]


def _max_abs(tree):
    leaves = jax.tree.leaves(tree)
    return jnp.max(jnp.stack([jnp.max(jnp.abs(l)) for l in leaves])) if leaves else jnp.zeros(())


def _solve_forward(f, theta, h0, solver, tol, max_iter):
    if solver == "iterate":
        def cond(c):
            h, k, err = c
            return (err > tol) & (k < max_iter)

        def body(c):
            h, k, _ = c
            h_new = f(theta, h)
            err = _max_abs(jax.tree.map(lambda a, b: a - b, h_new, h)) / (1 + _max_abs(h_new))
            return h_new, k + 1, err

        h, _, _ = jax.lax.while_loop(cond, body, (h0, jnp.int32(0), jnp.asarray(jnp.inf, _dtype(h0))))
        return h
    # Newton on r(h) = f(h) - h with a dense Jacobian (small states)
    flat0, unravel = ravel_pytree(h0)

    def r(v):
        return ravel_pytree(f(theta, unravel(v)))[0] - v

    def cond(c):
        v, k, err = c
        return (err > tol) & (k < max_iter)

    def body(c):
        v, k, _ = c
        res = r(v)
        J = jax.jacfwd(r)(v)
        v_new = v - jnp.linalg.solve(J, res)
        return v_new, k + 1, jnp.max(jnp.abs(v_new - v)) / (1 + jnp.max(jnp.abs(v_new)))

    v, _, _ = jax.lax.while_loop(cond, body, (flat0, jnp.int32(0), jnp.asarray(jnp.inf, flat0.dtype)))
    return unravel(v)


def _dtype(tree):
    leaves = jax.tree.leaves(tree)
    return jnp.result_type(leaves[0]) if leaves else jnp.zeros(()).dtype


@partial(jax.custom_vjp, nondiff_argnums=(0, 1, 2, 3, 4))
def _fp(f, solver, adjoint, tol, max_iter, theta, h0):
    return _solve_forward(f, theta, jax.lax.stop_gradient(h0), solver, tol, max_iter)


def _fp_fwd(f, solver, adjoint, tol, max_iter, theta, h0):
    h = _fp(f, solver, adjoint, tol, max_iter, theta, h0)
    return h, (theta, h, h0)


def _fp_bwd(f, solver, adjoint, tol, max_iter, res, g):
    theta, h, h0 = res
    _, vjp_h = jax.vjp(lambda hh: f(theta, hh), h)
    if adjoint == "solve":
        flat_h, unravel = ravel_pytree(h)
        J = jax.jacfwd(lambda v: ravel_pytree(f(theta, unravel(v)))[0])(flat_h)
        gv = ravel_pytree(g)[0]
        u = unravel(jnp.linalg.solve((jnp.eye(flat_h.size, dtype=J.dtype) - J).T, gv))
    elif adjoint == "gmres":
        op = lambda v: jax.tree.map(lambda a, b: a - b, v, vjp_h(v)[0])  # noqa: E731
        u, _ = jax.scipy.sparse.linalg.gmres(op, g, tol=tol, atol=0.0, maxiter=max_iter)
    else:  # adjoint iteration u <- g + J^T u
        def cond(c):
            u, k, err = c
            return (err > tol) & (k < max_iter)

        def body(c):
            u, k, _ = c
            u_new = jax.tree.map(lambda a, b: a + b, g, vjp_h(u)[0])
            return u_new, k + 1, _max_abs(jax.tree.map(lambda a, b: a - b, u_new, u)) / (1 + _max_abs(u_new))

        u, _, _ = jax.lax.while_loop(cond, body, (g, jnp.int32(0), jnp.asarray(jnp.inf, _dtype(g))))
    _, vjp_theta = jax.vjp(lambda th: f(th, h), theta)
    return vjp_theta(u)[0], jax.tree.map(jnp.zeros_like, h0)


_fp.defvjp(_fp_fwd, _fp_bwd)


def fixed_point(f: Callable, theta, h0, *, solver: str = "iterate", adjoint: str = "solve", tol=None,
                max_iter: int = 10000):
    r"""The fixed point :math:`h^* = f(\theta, h^*)` reached from ``h0``, differentiable in ``theta``
    by implicit differentiation (see the module docstring).

    Parameters
    ----------
    f : callable
        ``f(theta, h) -> h`` (same PyTree structure as ``h``; float leaves only).
    theta : PyTree
        What the gradient is taken with respect to (parameters, inputs).
    h0 : PyTree
        Starting point (no gradient: the fixed point does not depend on it).
    solver : {"iterate", "newton"}
        Forward solver: Picard iteration :math:`h \leftarrow f(h)` (needs a contraction) or
        Newton's method with a dense Jacobian (small states).
    adjoint : {"solve", "gmres", "iterate"}
        Backward solver of :math:`(I - J)^\top u = \bar g`: dense LU (small states), GMRES
        (matrix-free) or the adjoint iteration.
    tol : float, optional
        Stop when the largest change of one iteration is below :math:`tol\,(1 + \max|h|)`
        (default: 10 times the machine epsilon of ``h0``'s dtype). The error of a Picard
        solution is about :math:`\rho/(1-\rho)` times the last change for a contraction
        factor :math:`\rho`.
    max_iter : int
        Iteration cap of the forward and adjoint iterations.

    Example
    -------
    >>> import jax, jax.numpy as jnp
    >>> f = lambda th, h: 0.5 * h + th          # h* = 2 theta
    >>> h = fixed_point(f, 3.0, 0.0); g = jax.grad(lambda th: fixed_point(f, th, 0.0))(3.0)
    >>> round(float(h), 4), round(float(g), 4)
    (6.0, 2.0)
    """
    check_choice("solver", solver, ("iterate", "newton"), "fixed_point")
    check_choice("adjoint", adjoint, ("solve", "gmres", "iterate"), "fixed_point")
    if not (isinstance(max_iter, int) and max_iter > 0):
        raise BraindynError(f"fixed_point: max_iter must be a positive integer, got {max_iter!r}.")
    h0 = jax.tree.map(jnp.asarray, h0)
    if tol is None:
        dt_ = _dtype(h0)
        dt_ = dt_ if jnp.issubdtype(dt_, jnp.floating) else jnp.zeros(()).dtype
        tol = 10 * float(jnp.finfo(dt_).eps)
    return _fp(f, solver, adjoint, float(tol), int(max_iter), theta, h0)


def equilibrium(model, state, inputs, dt: float = 0.1, **kw):
    r"""The resting state of ``model`` under constant ``inputs``: the fixed point of its step
    :math:`h \mapsto \text{step}(h, I, \Delta t)`, differentiable with respect to the model's
    parameters and the inputs by implicit differentiation (:func:`fixed_point`, whose keyword
    arguments ``kw`` are passed on). Integer leaves of the state (refractory counters) are held.

    Parameters
    ----------
    model : Dynamics
        A rate population or network (a spiking model has no equilibrium while it fires).
    state : PyTree
        Starting state (``model.init_state()``).
    inputs : PyTree
        Constant inputs, in the form the model's ``step`` takes (``{"I": ...}`` for a
        population, ``{population: input}`` for a network).
    dt : float
        Step (ms) of the map; the fixed points do not depend on it (any consistent one-step method).

    Example
    -------
    >>> import jax, braindyn as bd
    >>> unit = bd.neurons.RateUnit(f="relu", tau=10.0)
    >>> r = lambda I: equilibrium(unit, unit.init_state(), {"I": I}, 1.0)["r"][0]
    >>> round(float(r(2.0)), 4), round(float(jax.grad(r)(2.0)), 4)     # r* = I, dr*/dI = 1
    (2.0, 1.0)
    """
    dyn, stat_state = eqx.partition(state, eqx.is_inexact_array)
    m_dyn, m_stat = eqx.partition(model, eqx.is_inexact_array)

    def f(theta, h):
        m = eqx.combine(theta[0], m_stat)
        new, _ = m.step(eqx.combine(h, stat_state), theta[1], 0.0, dt)
        return eqx.filter(new, eqx.is_inexact_array)

    h = fixed_point(f, (m_dyn, inputs), dyn, **kw)
    return eqx.combine(h, stat_state)
