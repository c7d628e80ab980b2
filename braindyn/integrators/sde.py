"""Fixed-step solvers of stochastic differential equations.

.. math::
    \\mathrm{d}y = f(t, y)\\,\\mathrm{d}t + g(t, y)\\,\\mathrm{d}W_t

``f(t, y, args)`` is the drift and ``g(t, y, args)`` the diffusion; both return the structure
of ``y`` (any PyTree). ``g`` acts elementwise: component :math:`i` receives
:math:`g_i\\,\\mathrm{d}W`, where the noise is

* ``"diagonal"``: one independent Wiener process per element of ``y`` (the usual case for
  a population of neurons, each with its own noise);
* ``"scalar"``: a single Wiener process shared by all elements.

A solver declares ``order`` (weak order), ``strong_order``, and ``calculus`` (``"ito"`` or
``"stratonovich"``: the integral that its limit solves). It has

* ``draw(key, y, dt) -> Increments``: the random increments of one step;
* ``step_increments(f, g, t, y, dt, args, inc) -> y_next``: a step with given increments;
* ``step(f, g, t, y, dt, args, key) -> y_next``: ``draw`` followed by ``step_increments``.

An :class:`Increments` holds :math:`\\Delta W = W(t+h) - W(t)` and, for the order-1.5 scheme,
:math:`\\Delta Z = \\int_t^{t+h} (W(s) - W(t))\\,\\mathrm{d}s` (the double integral
:math:`I_{(1,0)}`). :func:`brownian_increments` draws a whole path, :func:`coarsen_increments`
sums a fine path into a coarser one (the same Brownian path at a larger ``dt``, as a
strong-convergence study needs), and :func:`integrate_sde` drives a solver with a key or with
given increments.

=====================  ======  ======  =============  ===============================================
name                   strong  weak    calculus       conditions for the strong order
=====================  ======  ======  =============  ===============================================
``euler_maruyama``     0.5     1       Itô            any noise (1.0 if the noise is additive)
``milstein``           1.0     1       Itô            scalar noise, or diagonal noise in which
                                                      :math:`g_i` depends on :math:`y_i` only
``heun``               1.0     1       Stratonovich   commutative noise: scalar, additive, or
                                                      diagonal with :math:`g_i = g_i(t, y_i)`;
                                                      otherwise 0.5
``sra1``               1.5     2       Itô = Strat.   additive noise: :math:`g = g(t)` independent
                                                      of :math:`y` (diagonal or scalar)
=====================  ======  ======  =============  ===============================================
"""
from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._errors import BraindynError, check_choice, check_positive

__all__ = [
    "Increments", "SDESolver", "EulerMaruyama", "Milstein", "StochasticHeun", "SRA1", "SDE_METHODS",
    "get_sde", "brownian_increments", "coarsen_increments", "integrate_sde",
]

_NOISE = ("diagonal", "scalar")


class Increments(NamedTuple):
    """Brownian increments of one step (or, stacked along a leading axis, of a path).

    ``dW``: :math:`W(t+h) - W(t)`, with the structure of ``y`` (diagonal noise) or a scalar
    array (scalar noise). ``dZ``: :math:`\\int_t^{t+h}(W(s)-W(t))\\,ds`, same layout as ``dW``,
    or ``None`` when the solver does not need it.
    """

    dW: Any
    dZ: Any = None


def _normal_like(key, y):
    leaves, treedef = jax.tree.flatten(y)
    keys = jax.random.split(key, len(leaves))
    return jax.tree.unflatten(
        treedef, [jax.random.normal(k, jnp.shape(l), jnp.result_type(l, float)) for k, l in zip(keys, leaves)]
    )


def _draw(key, y, dt, noise, with_dz):
    """:math:`\\Delta W \\sim N(0, h)`; :math:`\\Delta Z = \\tfrac{h}{2}(\\Delta W + \\Delta V/\\sqrt3)`,
    :math:`\\Delta V \\sim N(0, h)` independent, which gives :math:`\\mathrm{Var}\\,\\Delta Z = h^3/3`
    and :math:`\\mathrm{Cov}(\\Delta W, \\Delta Z) = h^2/2`."""
    k1, k2 = jax.random.split(key)
    shape_tree = y if noise == "diagonal" else jnp.zeros((), jnp.result_type(*jax.tree.leaves(y), float))
    sq = jnp.sqrt(dt)
    dW = jax.tree.map(lambda z: sq * z, _normal_like(k1, shape_tree))
    if not with_dz:
        return Increments(dW, None)
    dV = jax.tree.map(lambda z: sq * z, _normal_like(k2, shape_tree))
    dZ = jax.tree.map(lambda w, v: 0.5 * dt * (w + v / np.sqrt(3.0)), dW, dV)
    return Increments(dW, dZ)


def _per_leaf(noise_tree, y, noise):
    """The increment that multiplies each leaf of ``y`` (broadcast a scalar-noise increment)."""
    if noise == "scalar":
        return jax.tree.map(lambda _: noise_tree, y)
    return noise_tree


class SDESolver(eqx.Module):
    """Abstract fixed-step SDE solver (see the module docstring for the interface).

    Parameters
    ----------
    noise : {"diagonal", "scalar"}
        Independent Wiener process per element of ``y``, or one shared by all.
    """

    noise: str = eqx.field(static=True, default="diagonal")
    order: ClassVar[float] = 1.0
    strong_order: ClassVar[float] = 0.5
    calculus: ClassVar[str] = "ito"
    needs_dz: ClassVar[bool] = False
    name: ClassVar[str] = "sde"

    def __check_init__(self):
        check_choice("noise type", self.noise, _NOISE, type(self).__name__)

    def draw(self, key, y, dt) -> Increments:
        """Random increments of one step of size ``dt`` for state ``y`` (reproducible from ``key``)."""
        return _draw(key, y, dt, self.noise, self.needs_dz)

    def step_increments(self, f, g, t, y, dt, args, inc: Increments):
        raise NotImplementedError

    def step(self, f, g, t, y, dt, args, key):
        """One step from ``t`` to ``t + dt`` with increments drawn from ``key``."""
        return self.step_increments(f, g, t, y, dt, args, self.draw(key, y, dt))


class EulerMaruyama(SDESolver):
    """Euler--Maruyama (Itô): strong order 0.5, weak order 1.

    .. math:: y_{n+1} = y_n + f(t_n, y_n)\\,h + g(t_n, y_n)\\,\\Delta W_n

    Strong order 1 when the noise is additive (``g`` independent of ``y``).

    Example
    -------
    >>> import jax, jax.numpy as jnp
    >>> em = EulerMaruyama()
    >>> y1 = em.step(lambda t, y, a: -y, lambda t, y, a: 0.1 * jnp.ones_like(y), 0.0,
    ...              jnp.zeros(3), 0.01, None, jax.random.PRNGKey(0))
    >>> y1.shape
    (3,)
    """

    strong_order: ClassVar[float] = 0.5
    order: ClassVar[float] = 1.0
    name: ClassVar[str] = "euler_maruyama"

    def step_increments(self, f, g, t, y, dt, args, inc):
        dW = _per_leaf(inc.dW, y, self.noise)
        fy, gy = f(t, y, args), g(t, y, args)
        return jax.tree.map(lambda a, b, c, w: a + b * dt + c * w, y, fy, gy, dW)


class Milstein(SDESolver):
    """Milstein scheme (Itô): strong order 1.0, weak order 1.

    .. math::
        y_{n+1} = y_n + f\\,h + g\\,\\Delta W_n
        + \\tfrac12\\, (g\\cdot\\nabla_y) g\\;\\big(\\Delta W_n^2 - h\\big)

    :math:`(g\\cdot\\nabla_y)g = J_g\\, g` is one forward-mode Jacobian--vector product (no
    hand-written derivative). It is the exact Milstein correction for scalar noise, and for
    diagonal noise when :math:`g_i` depends on :math:`y_i` only (then
    :math:`(J_g g)_i = g_i\\,\\partial g_i/\\partial y_i`); for diagonal noise with cross
    dependence the scheme would need Lévy areas and its strong order drops to 0.5.

    Example
    -------
    >>> import jax, jax.numpy as jnp
    >>> mil = Milstein(noise="scalar")
    >>> y1 = mil.step(lambda t, y, a: 0.1 * y, lambda t, y, a: 0.2 * y, 0.0, jnp.ones(2),
    ...               0.01, None, jax.random.PRNGKey(1))
    >>> bool(y1[0] == y1[1])  # one shared Wiener process
    True
    """

    strong_order: ClassVar[float] = 1.0
    order: ClassVar[float] = 1.0
    name: ClassVar[str] = "milstein"

    def step_increments(self, f, g, t, y, dt, args, inc):
        dW = _per_leaf(inc.dW, y, self.noise)
        fy = f(t, y, args)
        gy, ggp = jax.jvp(lambda yy: g(t, yy, args), (y,), (g(t, y, args),))
        return jax.tree.map(
            lambda a, b, c, d, w: a + b * dt + c * w + 0.5 * d * (w * w - dt), y, fy, gy, ggp, dW
        )


class StochasticHeun(SDESolver):
    """Stochastic Heun (predictor--corrector, Stratonovich): strong order 1.0, weak order 1.

    .. math::
        \\tilde y = y_n + f(t_n, y_n)h + g(t_n, y_n)\\Delta W_n, \\quad
        y_{n+1} = y_n + \\tfrac12\\big[f(t_n, y_n) + f(t_{n+1}, \\tilde y)\\big]h
        + \\tfrac12\\big[g(t_n, y_n) + g(t_{n+1}, \\tilde y)\\big]\\Delta W_n

    It converges to the **Stratonovich** solution (for :math:`g = \\sigma y`,
    :math:`y_0 e^{\\mu t + \\sigma W_t}`, not the Itô :math:`y_0 e^{(\\mu-\\sigma^2/2)t+\\sigma W_t}`),
    with strong order 1 for commutative noise (scalar, additive, or diagonal with
    :math:`g_i = g_i(t, y_i)`), 0.5 otherwise.

    Example
    -------
    >>> import jax, jax.numpy as jnp
    >>> y1 = StochasticHeun().step(lambda t, y, a: -y, lambda t, y, a: 0.3 * y, 0.0,
    ...                            jnp.ones(2), 0.01, None, jax.random.PRNGKey(2))
    >>> y1.shape
    (2,)
    """

    strong_order: ClassVar[float] = 1.0
    order: ClassVar[float] = 1.0
    calculus: ClassVar[str] = "stratonovich"
    name: ClassVar[str] = "heun"

    def step_increments(self, f, g, t, y, dt, args, inc):
        dW = _per_leaf(inc.dW, y, self.noise)
        fy, gy = f(t, y, args), g(t, y, args)
        yp = jax.tree.map(lambda a, b, c, w: a + b * dt + c * w, y, fy, gy, dW)
        fp, gp = f(t + dt, yp, args), g(t + dt, yp, args)
        return jax.tree.map(
            lambda a, b, bp, c, cp, w: a + 0.5 * (b + bp) * dt + 0.5 * (c + cp) * w, y, fy, fp, gy, gp, dW
        )


class SRA1(SDESolver):
    """Rößler's SRA1 stochastic Runge--Kutta method for **additive** noise: strong order 1.5,
    weak order 2 (Rößler, SIAM J. Numer. Anal. 48, 2010). Derivative-free.

    For :math:`\\mathrm{d}y = f(t,y)\\,\\mathrm{d}t + g(t)\\,\\mathrm{d}W` (Itô and Stratonovich
    coincide), with :math:`h` the step, :math:`\\Delta W` and
    :math:`\\Delta Z = I_{(1,0)} = \\int_t^{t+h}(W(s)-W(t))\\,\\mathrm{d}s`:

    .. math::
        H = y_n + \\tfrac34 f(t_n, y_n)\\,h + \\tfrac32\\, g(t_n)\\,\\frac{\\Delta Z}{h}

        y_{n+1} = y_n + \\Big[\\tfrac13 f(t_n, y_n) + \\tfrac23 f(t_n + \\tfrac34 h, H)\\Big] h
        + g(t_{n+1})\\Big(\\Delta W - \\frac{\\Delta Z}{h}\\Big) + g(t_n)\\,\\frac{\\Delta Z}{h}

    Expanding :math:`f(H)` reproduces the Itô--Taylor terms up to order 1.5:
    :math:`\\tfrac12 f'f h^2 + f' g\\,\\Delta Z + \\tfrac14 f'' g^2 h^2` (in mean square), and
    :math:`g(t_n)\\Delta W + g'(t_n)(h\\Delta W - \\Delta Z)`. ``g`` is evaluated at
    ``y`` only to keep the interface uniform; if it depends on ``y`` the order is lost.

    Example
    -------
    >>> import jax, jax.numpy as jnp
    >>> ou = lambda t, y, a: -y
    >>> sig = lambda t, y, a: 0.5 * jnp.ones_like(y)
    >>> y1 = SRA1().step(ou, sig, 0.0, jnp.zeros(4), 0.01, None, jax.random.PRNGKey(3))
    >>> y1.shape
    (4,)
    """

    strong_order: ClassVar[float] = 1.5
    order: ClassVar[float] = 2.0
    needs_dz: ClassVar[bool] = True
    name: ClassVar[str] = "sra1"

    def step_increments(self, f, g, t, y, dt, args, inc):
        if inc.dZ is None:
            raise BraindynError(
                "SRA1 needs the increments dZ = I_(1,0) as well as dW. Fix: draw them with "
                "brownian_increments(..., with_dz=True) or solver.draw(key, y, dt)."
            )
        dW = _per_leaf(inc.dW, y, self.noise)
        dZ = _per_leaf(inc.dZ, y, self.noise)
        f0, g0 = f(t, y, args), g(t, y, args)
        H = jax.tree.map(lambda a, b, c, z: a + 0.75 * b * dt + 1.5 * c * z / dt, y, f0, g0, dZ)
        f1 = f(t + 0.75 * dt, H, args)
        g1 = g(t + dt, y, args)
        return jax.tree.map(
            lambda a, b0, b1, c0, c1, w, z: a + (b0 / 3.0 + 2.0 * b1 / 3.0) * dt + c1 * (w - z / dt) + c0 * z / dt,
            y, f0, f1, g0, g1, dW, dZ,
        )


#: SDE solvers by name.
SDE_METHODS = {
    "euler_maruyama": EulerMaruyama,
    "milstein": Milstein,
    "heun": StochasticHeun,
    "sra1": SRA1,
}


def get_sde(method, noise: str = "diagonal") -> SDESolver:
    """Return an SDE solver for ``method`` (a name in :data:`SDE_METHODS`, or an instance).

    Example
    -------
    >>> get_sde("milstein").strong_order
    1.0
    >>> get_sde("milstien")
    Traceback (most recent call last):
    ...
    braindyn._errors.BraindynError: unknown SDE method 'milstien'. Did you mean 'milstein'? ...
    """
    if isinstance(method, SDESolver):
        return method
    check_choice("SDE method", method, sorted(SDE_METHODS))
    return SDE_METHODS[method](noise=noise)


def _n_steps(t0, t1, dt, owner):
    check_positive("dt", dt, owner)
    n = int(round((float(t1) - float(t0)) / float(dt)))
    if n <= 0:
        raise BraindynError(
            f"{owner}: the interval [t0, t1] = [{t0}, {t1}] holds no step of dt={dt}. Fix: use t1 > t0 + dt."
        )
    if abs(n * float(dt) - (float(t1) - float(t0))) > 1e-6 * float(dt) * max(n, 1):
        raise BraindynError(
            f"{owner}: (t1 - t0) / dt = {(float(t1) - float(t0)) / float(dt)!r} is not an integer. "
            f"Fix: pick dt that divides the interval (e.g. dt={(float(t1) - float(t0)) / max(n, 1)!r})."
        )
    return n


def brownian_increments(key, y0, t0, t1, dt, noise: str = "diagonal", with_dz: bool = False) -> Increments:
    """The Brownian increments of every step on ``[t0, t1]``, stacked on a leading axis.

    Step ``i`` uses ``jax.random.fold_in(key, i)``, exactly as :func:`integrate_sde` does when
    it is given only a key, so ``integrate_sde(..., key=k)`` and
    ``integrate_sde(..., increments=brownian_increments(k, ...))`` give the same path.

    Example
    -------
    >>> import jax, jax.numpy as jnp
    >>> inc = brownian_increments(jax.random.PRNGKey(0), jnp.zeros(3), 0.0, 1.0, 0.1, with_dz=True)
    >>> inc.dW.shape, inc.dZ.shape
    ((10, 3), (10, 3))
    """
    check_choice("noise type", noise, _NOISE, "brownian_increments")
    n = _n_steps(t0, t1, dt, "brownian_increments")
    return _brownian(key, jax.tree.map(jnp.asarray, y0), float(dt), n, noise, bool(with_dz))


@eqx.filter_jit
def _brownian(key, y0, dt, n, noise, with_dz):
    return jax.vmap(lambda i: _draw(jax.random.fold_in(key, i), y0, dt, noise, with_dz))(jnp.arange(n))


def coarsen_increments(inc: Increments, factor: int, dt_fine) -> Increments:
    """Sum a path of increments over blocks of ``factor`` steps (same path, step ``factor*dt_fine``).

    .. math::
        \\Delta W^{(H)} = \\sum_{k=0}^{m-1} \\Delta W_k, \\qquad
        \\Delta Z^{(H)} = \\sum_{k=0}^{m-1}\\Big[ h \\sum_{j<k} \\Delta W_j + \\Delta Z_k \\Big]

    with :math:`h` = ``dt_fine``, :math:`m` = ``factor`` and :math:`H = m h`.

    Example
    -------
    >>> import jax, jax.numpy as jnp
    >>> fine = brownian_increments(jax.random.PRNGKey(0), 0.0, 0.0, 1.0, 0.01)
    >>> coarse = coarsen_increments(fine, 10, 0.01)
    >>> coarse.dW.shape, bool(abs(coarse.dW.sum() - fine.dW.sum()) < 1e-6)
    ((10,), True)
    """
    if not isinstance(factor, (int, np.integer)) or factor < 1:
        raise BraindynError(f"coarsen_increments: parameter 'factor' must be a positive int, got {factor!r}.")

    def blocks(a):
        n = a.shape[0]
        if n % factor:
            raise BraindynError(
                f"coarsen_increments: {n} fine steps are not a multiple of factor={factor}. "
                f"Fix: use a factor that divides the number of steps."
            )
        return a.reshape((n // factor, factor) + a.shape[1:])

    dW_b = jax.tree.map(blocks, inc.dW)
    dW = jax.tree.map(lambda a: a.sum(1), dW_b)
    if inc.dZ is None:
        return Increments(dW, None)

    def z_leaf(wb, zb):
        w_before = jnp.cumsum(wb, axis=1) - wb  # W(t_k) - W(t_0) inside the block
        return (dt_fine * w_before + zb).sum(1)

    dZ = jax.tree.map(z_leaf, dW_b, jax.tree.map(blocks, inc.dZ))
    return Increments(dW, dZ)


def integrate_sde(
    solver, f, g, y0, t0, t1, dt, args=None, key=None, save_every: int = 0, *, increments: Increments | None = None
):
    """Integrate :math:`dy = f\\,dt + g\\,dW` with a fixed step (one ``lax.scan``).

    Parameters
    ----------
    solver : SDESolver or str
        e.g. ``get_sde("milstein")``; a name gets diagonal noise.
    f, g : callable
        Drift and diffusion, ``f(t, y, args)`` and ``g(t, y, args)``, each returning the
        structure of ``y``. Time in the unit of ``dt`` (ms for braindyn models); ``g`` in units
        of ``y`` per square root of time unit.
    y0 : PyTree
        Initial state.
    t0, t1, dt : float
        Interval and step; ``(t1 - t0) / dt`` must be an integer.
    key : jax PRNG key
        Source of the increments (step ``i`` uses ``fold_in(key, i)``); reproducible.
    save_every : int
        If > 0 return ``(ts, ys)`` every ``save_every`` steps (``y0`` included), else ``y(t1)``.
    increments : Increments, optional
        Explicit increments with a leading axis of length ``(t1 - t0)/dt`` (from
        :func:`brownian_increments`, possibly :func:`coarsen_increments`); replaces ``key``.

    Example
    -------
    >>> import jax, jax.numpy as jnp
    >>> ts, ys = integrate_sde("euler_maruyama", lambda t, y, a: -y, lambda t, y, a: 0.1 * jnp.ones_like(y),
    ...                        jnp.zeros(2), 0.0, 1.0, 0.01, key=jax.random.PRNGKey(0), save_every=10)
    >>> ts.shape, ys.shape
    ((11,), (11, 2))
    """
    solver = get_sde(solver)
    n = _n_steps(t0, t1, dt, "integrate_sde")
    if save_every < 0 or (save_every > 0 and n % save_every):
        raise BraindynError(
            f"integrate_sde: parameter 'save_every'={save_every!r} must be >= 0 and divide the {n} steps."
        )
    y0 = jax.tree.map(jnp.asarray, y0)
    if increments is None:
        if key is None:
            raise BraindynError("integrate_sde: pass a PRNG 'key' (e.g. jax.random.PRNGKey(0)) or 'increments'.")
    else:
        lead = {a.shape[0] for a in jax.tree.leaves(increments.dW)}
        if lead != {n}:
            raise BraindynError(
                f"integrate_sde: 'increments' have {sorted(lead)} steps, the interval needs {n}. "
                f"Fix: draw them with the same t0, t1, dt (or coarsen a finer path by an integer factor)."
            )
        if solver.needs_dz and increments.dZ is None:
            raise BraindynError(f"integrate_sde: {solver.name} needs increments with dZ (with_dz=True).")
        increments = Increments(increments.dW, increments.dZ if solver.needs_dz else None)
        key = None
    return _integrate_sde(solver, f, g, y0, t0, dt, n, args, key, save_every, increments)


@eqx.filter_jit
def _integrate_sde(solver, f, g, y0, t0, dt, n, args, key, save_every, increments):
    """Compiled core of :func:`integrate_sde` (cached per solver, fields, step and shapes)."""
    if increments is None:
        xs = jnp.arange(n)

        def get_inc(i, x):
            return solver.draw(jax.random.fold_in(key, x), y0, dt)

    else:
        xs = increments

        def get_inc(i, x):
            return x

    def body(y, ix):
        i, x = ix
        return solver.step_increments(f, g, t0 + i * dt, y, dt, args, get_inc(i, x)), None

    idx = jnp.arange(n)
    if save_every <= 0:
        y, _ = jax.lax.scan(body, y0, (idx, xs))
        return y
    n_out = n // save_every
    resh = lambda a: a.reshape((n_out, save_every) + a.shape[1:])  # noqa: E731

    def outer(y, blk):
        y, _ = jax.lax.scan(body, y, blk)
        return y, y

    _, ys = jax.lax.scan(outer, y0, jax.tree.map(resh, (idx, xs)))
    ys = jax.tree.map(lambda a, b: jnp.concatenate([a[None], b]), y0, ys)
    ts = t0 + dt * save_every * jnp.arange(n_out + 1)
    return ts, ys
