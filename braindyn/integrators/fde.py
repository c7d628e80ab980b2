"""Fixed-step solvers of Caputo fractional differential equations.

.. math::
    {}^{C}\\!D^{\\alpha}_{t_0} y(t) = f(t, y, \\text{args}), \\qquad 0 < \\alpha \\le 1, \\qquad y(t_0) = y_0,

with the Caputo derivative
:math:`{}^{C}\\!D^{\\alpha} y(t) = \\frac{1}{\\Gamma(1-\\alpha)}\\int_{t_0}^{t}(t-s)^{-\\alpha} y'(s)\\,ds`
(:math:`\\alpha = 1`: the ordinary derivative). Equivalently (Volterra form)

.. math::
    y(t) = y_0 + \\frac{1}{\\Gamma(\\alpha)} \\int_{t_0}^{t} (t-s)^{\\alpha-1} f(s, y(s))\\,ds .

All schemes are explicit convolutions over the past on the grid :math:`t_n = t_0 + nh`:

* ``"euler"`` (fractional forward Euler, product-rectangle rule for the Volterra form):
  :math:`y_{n+1} = y_0 + \\frac{h^\\alpha}{\\Gamma(\\alpha+1)}\\sum_{j=0}^{n} b_{n-j} f_j`,
  :math:`b_k = (k+1)^\\alpha - k^\\alpha`;
* ``"l1"`` (L1 discretisation of the Caputo derivative, explicit right-hand side):
  :math:`\\sum_{j=0}^{n} a_j (y_{n+1-j} - y_{n-j}) = \\Gamma(2-\\alpha) h^\\alpha f_n`,
  :math:`a_j = (j+1)^{1-\\alpha} - j^{1-\\alpha}`;
* Grünwald--Letnikov (:func:`integrate_gl`), applied to :math:`y - y_0`:
  :math:`\\sum_{j=0}^{n+1} c_j (y_{n+1-j} - y_0) = h^\\alpha f_n`,
  :math:`c_0 = 1,\\ c_j = c_{j-1}\\big(1 - \\frac{1+\\alpha}{j}\\big)` (so :math:`c_j = (-1)^j\\binom{\\alpha}{j}`).

For :math:`\\alpha = 1` all three are the forward Euler method. The memory is a ring buffer of
the last :math:`M` values of the convolved quantity, inside one ``lax.scan`` (jittable). By
default :math:`M` covers the whole run (cost :math:`O(N^2)`); ``memory_length`` keeps only the
last ``memory_length`` time units (Podlubny's short-memory principle, cost :math:`O(NM)`), with
an error that decays as the memory grows (like :math:`L^{-\\alpha}` for bounded :math:`f`).

The solutions are not smooth at :math:`t_0` (:math:`y - y_0 \\sim t^\\alpha`). Measured on
fractional relaxation (``tests/test_dde_fde.py``): at a fixed time :math:`t > t_0` all three
schemes converge with order 1 for :math:`\\alpha \\in \\{0.5, 0.8, 1\\}`; over the first few
steps ``"l1"`` and GL have an error :math:`O(h^{\\alpha})` (the explicit right-hand side
:math:`f_n` lags the singular :math:`y'` near :math:`t_0`), ``"euler"`` stays :math:`O(h)`.
"""
from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._errors import BraindynError, check_choice, check_positive
from .sde import _n_steps

__all__ = ["integrate_caputo", "integrate_gl", "mittag_leffler"]


def _check_alpha(alpha, owner):
    try:
        a = float(alpha)
    except (TypeError, jax.errors.ConcretizationTypeError):
        raise BraindynError(f"{owner}: parameter 'alpha' must be a concrete number in (0, 1], got {alpha!r}.") from None
    if not (0.0 < a <= 1.0):
        raise BraindynError(
            f"{owner}: parameter 'alpha' (fractional order) must lie in (0, 1], got {alpha!r}. "
            f"Fix: e.g. alpha=0.8 (alpha=1 is an ordinary ODE)."
        )
    return a


def _memory_slots(memory_length, dt, n_steps, owner):
    if memory_length is None:
        return n_steps + 1
    check_positive("memory_length", memory_length, owner)
    return int(min(max(math.ceil(float(memory_length) / dt - 1e-9), 1), n_steps + 1))


def _run(kind, f, y0, t0, t1, dt, alpha, args, memory_length, save_every, owner):
    alpha = _check_alpha(alpha, owner)
    dt = float(dt)
    n = _n_steps(t0, t1, dt, owner)
    if not isinstance(save_every, (int, np.integer)) or save_every < 0 or (save_every and n % save_every):
        raise BraindynError(
            f"{owner}: parameter 'save_every'={save_every!r} must be an int >= 0 dividing the {n} steps."
        )
    M = _memory_slots(memory_length, dt, n, owner)
    y0 = jax.tree.map(lambda a: jnp.asarray(a, jnp.result_type(a, float)), y0)

    i = np.arange(M, dtype=np.float64)
    ha = dt**alpha
    if kind == "euler":
        w = (i + 1) ** alpha - i**alpha  # weight of q_{latest - i}, q_k = f_k
        coef = ha / math.gamma(alpha + 1)
    elif kind == "l1":
        w = (i + 2) ** (1 - alpha) - (i + 1) ** (1 - alpha)  # a_{i+1}, q_k = y_{k+1} - y_k
        coef = math.gamma(2 - alpha) * ha
    else:  # gl: c_{i+1}, q_k = y_k - y0
        c = np.empty(M + 1)
        c[0] = 1.0
        for j in range(1, M + 1):
            c[j] = c[j - 1] * (1 - (1 + alpha) / j)
        w = c[1:]
        coef = ha
    @eqx.filter_jit
    def _core(y0, args):
        # one compilation for the whole run (no op-by-op dispatch)
        slots = jnp.arange(M)

        def conv(buf, latest, count):
            idx = jnp.mod(latest - slots, M)
            wt = jnp.where(idx < count, jnp.asarray(w)[idx], 0.0)
            return jax.tree.map(lambda b: jnp.tensordot(wt.astype(b.dtype), b, axes=1), buf)

        def write(buf, k, q):
            return jax.tree.map(lambda b, v: b.at[jnp.mod(k, M)].set(v), buf, q)

        def body(carry, k):
            y, buf = carry
            fk = f(t0 + k * dt, y, args)
            if kind == "euler":
                buf = write(buf, k, fk)
                S = conv(buf, k, k + 1)
                y_new = jax.tree.map(lambda a, s: a + coef * s, y0, S)
            elif kind == "gl":
                buf = write(buf, k, jax.tree.map(jnp.subtract, y, y0))
                S = conv(buf, k, k + 1)
                y_new = jax.tree.map(lambda a, s, g: a - s + coef * g, y0, S, fk)
            else:
                S = conv(buf, k - 1, k)
                y_new = jax.tree.map(lambda a, s, g: a - s + coef * g, y, S, fk)
                buf = write(buf, k, jax.tree.map(jnp.subtract, y_new, y))
            return (y_new, buf), None

        buf0 = jax.tree.map(lambda a: jnp.zeros((M,) + a.shape, a.dtype), y0)
        idx = jnp.arange(n)
        if save_every == 0:
            (y, _), _ = jax.lax.scan(body, (y0, buf0), idx)
            return y
        n_out = n // save_every

        def outer(carry, blk):
            carry, _ = jax.lax.scan(body, carry, blk)
            return carry, carry[0]

        _, ys = jax.lax.scan(outer, (y0, buf0), idx.reshape(n_out, save_every))
        ys = jax.tree.map(lambda a, b: jnp.concatenate([a[None], b]), y0, ys)
        return t0 + dt * save_every * jnp.arange(n_out + 1), ys

    return _core(y0, args)


def integrate_caputo(
    f, y0, t0, t1, dt, alpha, args=None, method: str = "l1", memory_length=None, save_every: int = 1
):
    """Solve :math:`{}^{C}\\!D^{\\alpha} y = f(t, y)` with the L1 scheme or fractional Euler.

    .. math::
        \\text{l1:}\\quad y_{n+1} = y_n - \\sum_{j=1}^{n} a_j (y_{n+1-j} - y_{n-j})
        + \\Gamma(2-\\alpha) h^{\\alpha} f(t_n, y_n), \\quad a_j = (j+1)^{1-\\alpha} - j^{1-\\alpha}

        \\text{euler:}\\quad y_{n+1} = y_0 + \\frac{h^\\alpha}{\\Gamma(\\alpha+1)}
        \\sum_{j=0}^{n} \\big[(n-j+1)^\\alpha - (n-j)^\\alpha\\big] f(t_j, y_j)

    Parameters
    ----------
    f : callable
        ``f(t, y, args)``; ``y`` any PyTree. Its unit is that of ``y`` per (time unit)^alpha.
    y0 : PyTree
        Initial value at ``t0``.
    t0, t1, dt : float
        Interval and step; ``(t1 - t0) / dt`` must be an integer.
    alpha : float
        Fractional order in (0, 1]; 1 gives the forward Euler method for ``y' = f``.
    method : {"l1", "euler"}
        Discretisation (see the module docstring).
    memory_length : float, optional
        Keep only the last ``memory_length`` time units of the history (short memory); default:
        the whole run.
    save_every : int
        Return ``(ts, ys)`` every ``save_every`` steps (``y0`` included); 0 returns ``y(t1)``.

    Example
    -------
    Fractional relaxation :math:`D^{0.8} y = -y`, whose solution is
    :math:`E_{0.8}(-t^{0.8})` (:func:`mittag_leffler`):

    >>> import jax.numpy as jnp
    >>> y1 = integrate_caputo(lambda t, y, a: -y, jnp.array(1.0), 0.0, 1.0, 0.001, alpha=0.8, save_every=0)
    >>> bool(abs(y1 - mittag_leffler(-1.0, 0.8)) < 5e-3)
    True
    """
    check_choice("Caputo method", method, ["l1", "euler"], "integrate_caputo")
    return _run(method, f, y0, t0, t1, dt, alpha, args, memory_length, save_every, "integrate_caputo")


def integrate_gl(f, y0, t0, t1, dt, alpha, args=None, memory_length=None, save_every: int = 1):
    """Solve :math:`{}^{C}\\!D^{\\alpha} y = f(t, y)` with the explicit Grünwald--Letnikov scheme.

    .. math::
        y_{n+1} = y_0 - \\sum_{j=1}^{\\min(n+1, M)} c_j\\,(y_{n+1-j} - y_0) + h^\\alpha f(t_n, y_n),
        \\qquad c_0 = 1,\\; c_j = c_{j-1}\\Big(1 - \\frac{1+\\alpha}{j}\\Big)

    where :math:`M` is the number of remembered steps (``memory_length / dt``; all by
    default). The Caputo derivative is the Riemann--Liouville (GL) derivative of
    :math:`y - y_0`. Parameters as in :func:`integrate_caputo`.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> full = integrate_gl(lambda t, y, a: -y, jnp.array(1.0), 0.0, 5.0, 0.01, 0.7, save_every=0)
    >>> short = integrate_gl(lambda t, y, a: -y, jnp.array(1.0), 0.0, 5.0, 0.01, 0.7,
    ...                      memory_length=2.0, save_every=0)
    >>> bool(abs(short - full) < 0.05)
    True
    """
    return _run("gl", f, y0, t0, t1, dt, alpha, args, memory_length, save_every, "integrate_gl")


def mittag_leffler(z, alpha, beta=1.0, n_terms: int = 200):
    """Mittag-Leffler function by its power series (numpy, for moderate :math:`|z|`).

    .. math:: E_{\\alpha,\\beta}(z) = \\sum_{k=0}^{\\infty} \\frac{z^k}{\\Gamma(\\alpha k + \\beta)}

    :math:`E_{\\alpha}(-\\lambda t^{\\alpha})` solves :math:`D^\\alpha y = -\\lambda y,\\ y(0) = 1`;
    :math:`E_1(z) = e^z`. The terms are summed in float64 through log-gamma; use it for
    :math:`|z| \\lesssim 10` (cancellation grows like :math:`e^{|z|}` for negative ``z``).

    Example
    -------
    >>> import numpy as np
    >>> bool(abs(mittag_leffler(-1.5, 1.0) - np.exp(-1.5)) < 1e-12)
    True
    """
    z = np.asarray(z, dtype=np.float64)
    k = np.arange(n_terms, dtype=np.float64)
    lg = np.array([math.lgamma(alpha * kk + beta) for kk in k])
    absz = np.abs(z)[..., None]
    with np.errstate(divide="ignore"):
        logmag = np.where(absz > 0, k * np.log(np.where(absz > 0, absz, 1.0)), np.where(k == 0, 0.0, -np.inf))
    sign = np.where((np.sign(z)[..., None] < 0) & (k % 2 == 1), -1.0, 1.0)
    return np.sum(sign * np.exp(logmag - lg), axis=-1)
