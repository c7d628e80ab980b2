"""The solver interface shared by every integrator.

A vector field has the signature ``f(t, y, args) -> dy/dt`` where ``y`` is any PyTree of
arrays (a dict of state variables for braindyn models) and ``dy/dt`` has the same structure.
A solver is an immutable :class:`equinox.Module` with

* ``order`` (class attribute): the global order of accuracy of the method;
* ``init(f, t0, y0, args) -> solver_state`` (``None`` for one-step methods);
* ``step(f, t, y, dt, args, solver_state) -> (y_next, solver_state)``.

Models call ``step`` once per time step; :func:`integrate` drives a bare vector field over
an interval with a fixed step, which is what the analysis tools and the tests use.
"""
from __future__ import annotations

from typing import Any, Callable, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

__all__ = ["Solver", "integrate", "tree_axpy"]


def tree_axpy(y, dt, terms):
    """Return ``y + dt * sum_i coef_i * k_i`` for ``terms = [(coef_i, k_i), ...]``.

    Zero coefficients are skipped at trace time, so a sparse Butcher row costs nothing.
    """
    terms = [(c, k) for c, k in terms if c != 0]
    if not terms:
        return y

    def combine(yl, *ks):
        acc = terms[0][0] * ks[0]
        for (c, _), k in zip(terms[1:], ks[1:]):
            acc = acc + c * k
        return yl + dt * acc

    return jax.tree.map(combine, y, *[k for _, k in terms])


class Solver(eqx.Module):
    """Abstract one-step solver of ``dy/dt = f(t, y, args)``.

    Subclasses set the class attribute ``order`` and implement :meth:`step`.
    """

    order: ClassVar[int] = 0
    name: ClassVar[str] = "solver"

    def init(self, f: Callable, t0, y0, args) -> Any:
        """Solver state carried between steps (``None`` for one-step methods)."""
        return None

    def step(self, f: Callable, t, y, dt, args, solver_state=None):
        """Advance ``y`` from ``t`` to ``t + dt``; returns ``(y_next, solver_state)``."""
        raise NotImplementedError

    def __call__(self, f, t, y, dt, args=None):
        """Shorthand for one stateless step: ``solver(f, t, y, dt, args) -> y_next``."""
        y_next, _ = self.step(f, t, y, dt, args, None)
        return y_next


def integrate(solver: Solver, f: Callable, y0, t0: float, t1: float, dt: float, args=None, *, save_every: int = 0):
    """Integrate ``f`` from ``t0`` to ``t1`` with a fixed step ``dt`` (one ``lax.scan``).

    .. math:: y_{n+1} = \\Phi_{\\Delta t}(t_n, y_n), \\qquad t_n = t_0 + n\\,\\Delta t

    Parameters
    ----------
    solver : Solver
        A fixed-step solver (e.g. ``braindyn.integrators.get("rk4")``).
    f : callable
        Vector field ``f(t, y, args)``.
    y0 : PyTree
        Initial value.
    t0, t1 : float
        Start and end times; ``(t1 - t0) / dt`` is rounded to the nearest integer number of steps.
    dt : float
        Step size (> 0).
    save_every : int
        If > 0, also return the trajectory every ``save_every`` steps (including ``y0``).

    Returns
    -------
    ``y(t1)``, or ``(ts, ys)`` when ``save_every > 0``.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> from braindyn.integrators import get, integrate
    >>> y1 = integrate(get("rk4"), lambda t, y, a: -y, jnp.array(1.0), 0.0, 1.0, 0.01)
    >>> bool(abs(y1 - jnp.exp(-1.0)) < 1e-6)   # rk4 error ~ dt^4; float32 round-off dominates
    True
    """
    from .._errors import check_positive

    check_positive("dt", dt, "integrate", "ms")
    n = int(round((t1 - t0) / dt))
    state0 = solver.init(f, t0, y0, args)

    def body(carry, i):
        y, s = carry
        t = t0 + i * dt
        y, s = solver.step(f, t, y, dt, args, s)
        return (y, s), None

    if save_every <= 0:
        (y, _), _ = jax.lax.scan(body, (y0, state0), jnp.arange(n))
        return y

    n_out = n // save_every

    def outer(carry, j):
        carry, _ = jax.lax.scan(body, carry, j * save_every + jnp.arange(save_every))
        return carry, carry[0]

    _, ys = jax.lax.scan(outer, (y0, state0), jnp.arange(n_out))
    ys = jax.tree.map(lambda a, b: jnp.concatenate([jnp.asarray(a)[None], b]), y0, ys)
    ts = t0 + dt * save_every * jnp.arange(n_out + 1)
    return ts, ys
