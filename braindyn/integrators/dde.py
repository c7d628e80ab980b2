"""Fixed-step solvers of delay differential equations with constant delays.

Retarded DDE (the form of every delayed coupling in a brain model):

.. math::
    y'(t) = f\\big(t,\\; y(t),\\; y(t - \\tau_1), \\ldots, y(t - \\tau_m)\\big), \\quad t > t_0;
    \\qquad y(t) = \\varphi(t), \\quad t \\le t_0 .

Neutral DDE (``neutral=True``): :math:`f` also receives :math:`y'(t - \\tau_j)`.

The step is any explicit Runge--Kutta tableau (``rk4`` by default). The solution is kept
in a ring buffer that holds, at the last :math:`L = \\lfloor \\tau_{\\max}/\\Delta t\\rfloor + 2`
grid points, the value :math:`y_k` and the derivative :math:`f_k` (the first stage of the step
that starts there). A delayed value at :math:`t_k + \\theta\\Delta t` is the cubic Hermite
interpolant

.. math::
    y(t_k + \\theta \\Delta t) \\approx h_{00}(\\theta) y_k + h_{10}(\\theta) \\Delta t f_k
    + h_{01}(\\theta) y_{k+1} + h_{11}(\\theta) \\Delta t f_{k+1},

accurate to :math:`O(\\Delta t^4)`, so ``rk4`` keeps order 4 (``interp="linear"``:
:math:`O(\\Delta t^2)`). Before :math:`t_0` the buffer holds :math:`\\varphi` and
:math:`\\varphi'` (autodiff), with the jump of :math:`y'` at :math:`t_0` kept (left derivative
:math:`\\varphi'(t_0)`, right derivative :math:`f(t_0, \\ldots)`). Every stage time
:math:`t_n + c_i\\Delta t - \\tau_j` is in the past when :math:`\\tau_j \\ge \\Delta t`, which is
required. The position of each delayed value in the buffer is fixed at trace time, so a step
costs a gather and a few multiply--adds per delay; the loop is one ``lax.scan`` (jittable).

Full order needs the discontinuities of the derivatives of :math:`y` (at
:math:`t_0 + k\\tau_j`) to fall on grid points: choose ``dt`` dividing the delays.
"""
from __future__ import annotations

import numbers

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._errors import BraindynError, check_choice
from .base import tree_axpy
from .rk import TABLEAUX, ExplicitRK
from .sde import _n_steps

__all__ = ["integrate_dde"]


def _is_number(x):
    return isinstance(x, numbers.Real) or (isinstance(x, (np.ndarray, np.generic)) and np.ndim(x) == 0)


def _delay_tree(tau, y0, dt, j):
    """Broadcast one delay spec (scalar, or PyTree like y0) to a tree of numpy arrays."""
    label = "delays" if j is None else f"delays[{j}]"
    if _is_number(tau):
        tree = jax.tree.map(lambda a: np.full(np.shape(a), float(tau)), y0)
    else:
        try:
            tree = jax.tree.map(lambda d, a: np.broadcast_to(np.asarray(d, float), np.shape(a)).copy(), tau, y0)
        except (ValueError, TypeError) as e:
            raise BraindynError(
                f"integrate_dde: {label} must be a number or a PyTree with the structure of y0 whose leaves "
                f"broadcast to the state's shapes (per-variable delays); got {tau!r} ({e}). "
                f"Fix: pass e.g. delays=5.0, delays=(1.0, 2.0) or delays={{'x': 1.0, 'y': 2.0}}."
            ) from None
    for leaf in jax.tree.leaves(tree):
        if not np.all(np.isfinite(leaf)) or np.any(leaf < 0):
            raise BraindynError(
                f"integrate_dde: parameter {label!r} must be finite and >= 0, got {tau!r}. Fix: delays are "
                f"durations in the time unit of dt (e.g. 5.0 ms)."
            )
        if np.any(leaf < dt * (1 - 1e-9)):
            raise BraindynError(
                f"integrate_dde: {label} = {np.min(leaf)!r} is shorter than the step dt = {dt!r}, which this "
                f"explicit solver does not support (the delayed value would lie inside the current step). "
                f"Fix: use dt <= {np.min(leaf)!r}, or treat a delay shorter than dt as zero."
            )
    return tree


def _lookup_plan(tau_tree, c, dt):
    """Static offsets: value at t_n + c dt - tau = slot (n + koff) + theta, per element."""

    # A query that falls exactly on a grid point t_k takes the right limit (interval
    # [t_k, t_k+1], theta = 0) from the first stage (c = 0) and the left limit (interval
    # [t_k-1, t_k], theta = 1) from later stages, which lie inside or at the end of the step.
    # Values are continuous, so this only matters for the derivative (neutral DDEs), whose
    # jump at t0 (and its images t0 + k tau) is then seen from the correct side.
    def leaf(tau):
        u = c - tau / dt
        if c == 0:
            koff = np.floor(u + 1e-7)
        else:
            koff = np.ceil(u - 1e-7) - 1
        koff = np.minimum(koff, -1)
        theta = np.clip(u - koff, 0.0, 1.0)
        return koff.astype(np.int64), theta

    return [leaf(tau) for tau in jax.tree.leaves(tau_tree)]


def _hermite_w(theta):
    s = theta
    return (1 + 2 * s) * (1 - s) ** 2, s * (1 - s) ** 2, s * s * (3 - 2 * s), s * s * (s - 1)


def _hermite_dw(theta):
    s = theta
    return 6 * s * s - 6 * s, 3 * s * s - 4 * s + 1, 6 * s - 6 * s * s, 3 * s * s - 2 * s


def _gather(buf, idx, scalar):
    if scalar:
        return buf[idx.reshape(())]
    return jnp.take_along_axis(buf, idx[None], axis=0)[0]


def _delayed(buf, plan, n, L, dt, interp, derivative):
    """Interpolated y(t - tau) (or y'(t - tau)) for one delay item, as a PyTree like y."""
    Y, DL, DR = buf

    def leaf(Yl, DLl, DRl, p):
        koff, theta = p
        scalar = bool(koff.size == 0 or (np.all(koff == koff.flat[0]) and np.all(theta == theta.flat[0])))
        if scalar:
            koff = koff.reshape(-1)[:1] if koff.size else np.zeros(1, np.int64)
            theta_s = theta.reshape(-1)[0] if theta.size else 0.0
            th = jnp.asarray(theta_s, Yl.dtype)
        else:
            th = jnp.asarray(theta, Yl.dtype)
        i0 = jnp.mod(n + jnp.asarray(koff), L)
        i1 = jnp.mod(i0 + 1, L)
        y0, y1 = _gather(Yl, i0, scalar), _gather(Yl, i1, scalar)
        if interp == "linear":
            if derivative:
                return (y1 - y0) / dt
            return (1 - th) * y0 + th * y1
        d0, d1 = _gather(DRl, i0, scalar), _gather(DLl, i1, scalar)
        w = (_hermite_dw if derivative else _hermite_w)(th)
        if derivative:
            return (w[0] * y0 + w[2] * y1) / dt + w[1] * d0 + w[3] * d1
        return w[0] * y0 + w[1] * dt * d0 + w[2] * y1 + w[3] * dt * d1

    ys = jax.tree.leaves(Y)
    out = [leaf(Yl, DLl, DRl, p) for Yl, DLl, DRl, p in zip(ys, jax.tree.leaves(DL), jax.tree.leaves(DR), plan)]
    return jax.tree.unflatten(jax.tree.structure(Y), out)


def integrate_dde(
    f,
    history,
    t0,
    t1,
    dt,
    delays,
    args=None,
    method="rk4",
    save_every: int = 1,
    *,
    interp: str = "hermite",
    neutral: bool = False,
):
    """Integrate a DDE with constant delays on a fixed grid (one ``lax.scan``).

    .. math::
        y'(t) = f\\big(t, y(t), y(t-\\tau), \\text{args}\\big)\\ \\ (t > t_0), \\qquad
        y(t) = \\varphi(t)\\ \\ (t \\le t_0)

    Parameters
    ----------
    f : callable
        ``f(t, y, y_delayed, args)``; with ``neutral=True``
        ``f(t, y, y_delayed, dy_delayed, args)`` where ``dy_delayed`` holds
        :math:`y'(t-\\tau)` laid out like ``y_delayed``.
    history : callable or PyTree
        :math:`\\varphi(t)` for :math:`t \\le t_0`, a jax-differentiable function of a scalar
        time returning the structure of the state, or a constant PyTree. The initial state is
        :math:`\\varphi(t_0)`.
    t0, t1, dt : float
        Interval and step (same time unit as the delays, e.g. ms); ``(t1-t0)/dt`` an integer.
    delays : float, tuple of float, or PyTree
        * a number :math:`\\tau`: ``y_delayed`` is :math:`y(t-\\tau)` (structure of ``y``);
        * a tuple/list :math:`(\\tau_1, \\ldots, \\tau_m)`: ``y_delayed`` is a tuple of
          :math:`y(t-\\tau_j)`;
        * a PyTree with the structure of ``y`` (leaves: numbers or arrays broadcastable to the
          variable's shape): per-variable / per-element delays, ``y_delayed[k][i]`` is
          :math:`y_{k,i}(t - \\tau_{k,i})`. Tuple entries may themselves be such PyTrees.

        Every delay must be >= ``dt``.
    args : PyTree, optional
        Passed to ``f``.
    method : str or ExplicitRK
        Runge--Kutta tableau for the step (``"rk4"``, ``"heun2"``, ``"euler"``, ...).
    save_every : int
        Record every ``save_every`` steps (``y0`` included) and return ``(ts, ys)``;
        ``0`` returns only :math:`y(t_1)`.
    interp : {"hermite", "linear"}
        Interpolation of delayed values between grid points.
    neutral : bool
        Pass :math:`y'(t - \\tau)` (the derivative of the interpolant; exact at grid points, where
        it is the stored :math:`f_k`) to ``f``.

    Example
    -------
    Hutchinson's delayed logistic equation :math:`N' = r N (1 - N(t-\\tau)/K)`:

    >>> import jax.numpy as jnp
    >>> f = lambda t, N, Nd, a: 1.0 * N * (1.0 - Nd / 10.0)
    >>> ts, Ns = integrate_dde(f, jnp.array(1.0), 0.0, 20.0, 0.05, delays=1.0)
    >>> ts.shape, bool(abs(Ns[-1] - 10.0) < 1.0)
    ((401,), True)
    """
    if isinstance(method, str):
        check_choice("DDE step method", method, sorted(TABLEAUX), "integrate_dde")
        tab = TABLEAUX[method]
    elif isinstance(method, ExplicitRK):
        tab = method.tableau
    else:
        raise BraindynError(
            f"integrate_dde: parameter 'method' must be a tableau name or an ExplicitRK, got {method!r}."
        )
    check_choice("interpolation", interp, ["hermite", "linear"], "integrate_dde")
    dt = float(dt)
    n_steps = _n_steps(t0, t1, dt, "integrate_dde")
    if not isinstance(save_every, (int, np.integer)) or save_every < 0 or (save_every and n_steps % save_every):
        raise BraindynError(
            f"integrate_dde: parameter 'save_every'={save_every!r} must be an int >= 0 dividing the {n_steps} steps."
        )

    if callable(history):
        phi = history
    else:
        const = jax.tree.map(jnp.asarray, history)
        phi = lambda t: const  # noqa: E731
    y0 = jax.tree.map(jnp.asarray, phi(jnp.asarray(t0, float)))
    dtype = jnp.result_type(*jax.tree.leaves(y0), float)
    y0 = jax.tree.map(lambda a: a.astype(jnp.result_type(a, float)), y0)

    multi = isinstance(delays, (list, tuple))
    items = list(delays) if multi else [delays]
    if multi and not items:
        raise BraindynError("integrate_dde: parameter 'delays' is an empty sequence. Fix: give at least one delay.")
    tau_trees = [_delay_tree(d, y0, dt, j if multi else None) for j, d in enumerate(items)]
    tau_max = max(float(np.max(l)) if l.size else 0.0 for t in tau_trees for l in jax.tree.leaves(t))
    L = int(np.floor(tau_max / dt + 1e-7)) + 2
    cs = [float(c) for c in tab.c]
    plans = [[_lookup_plan(t, c, dt) for t in tau_trees] for c in cs]

    @eqx.filter_jit
    def _core(y0, args):
        # one compilation for the whole run (no op-by-op dispatch)
        # prefill the buffer with the history at t0 + j dt, j = -(L-1) .. 0 (slot j mod L)
        js = np.arange(-(L - 1), 1)
        slots = np.mod(js, L)
        order = np.argsort(slots)

        def hist_val_der(t):
            return jax.jvp(lambda s: phi(s), (t,), (jnp.ones_like(t),))

        tj = jnp.asarray(t0 + js[order] * dt, dtype)
        Yh, Dh = jax.vmap(hist_val_der)(tj)
        Yh = jax.tree.map(lambda h, a: jnp.broadcast_to(h, (L,) + a.shape).astype(a.dtype), Yh, y0)
        Dh = jax.tree.map(lambda h, a: jnp.broadcast_to(h, (L,) + a.shape).astype(a.dtype), Dh, y0)
        buf0 = (Yh, Dh, Dh)

        def call_f(t, y, buf, n, stage):
            zs = [_delayed(buf, p, n, L, dt, interp, False) for p in plans[stage]]
            z = tuple(zs) if multi else zs[0]
            if neutral:
                dzs = [_delayed(buf, p, n, L, dt, interp, True) for p in plans[stage]]
                return f(t, y, z, tuple(dzs) if multi else dzs[0], args)
            return f(t, y, z, args)

        def body(carry, n):
            y, (Y, DL, DR) = carry
            slot = jnp.mod(n, L)
            Y = jax.tree.map(lambda b, v: b.at[slot].set(v), Y, y)
            t = t0 + n * dt
            k1 = call_f(t, y, (Y, DL, DR), n, 0)
            DR = jax.tree.map(lambda b, v: b.at[slot].set(v), DR, k1)
            DL = jax.tree.map(lambda b, v: b.at[slot].set(jnp.where(n > 0, v, b[slot])), DL, k1)
            buf = (Y, DL, DR)
            ks = [k1]
            for i in range(1, tab.stages):
                yi = tree_axpy(y, dt, list(zip(tab.A[i, :i].tolist(), ks)))
                ks.append(call_f(t + cs[i] * dt, yi, buf, n, i))
            y_new = tree_axpy(y, dt, list(zip(tab.b.tolist(), ks)))
            return (y_new, buf), None

        idx = jnp.arange(n_steps)
        if save_every == 0:
            (y, _), _ = jax.lax.scan(body, (y0, buf0), idx)
            return y
        n_out = n_steps // save_every

        def outer(carry, blk):
            carry, _ = jax.lax.scan(body, carry, blk)
            return carry, carry[0]

        _, ys = jax.lax.scan(outer, (y0, buf0), idx.reshape(n_out, save_every))
        ys = jax.tree.map(lambda a, b: jnp.concatenate([a[None], b]), y0, ys)
        ts = t0 + dt * save_every * jnp.arange(n_out + 1)
        return ts, ys

    return _core(y0, args)
