"""Perceptual decision making with the reduced rate model (Wong & Wang 2006) and noisy background.

:class:`WongWangOU` is :class:`~braindyn.models.decision_rate.WongWang` with one
Ornstein--Uhlenbeck background current per population carried as model variables
(``In1``, ``In2``), so a trial is one ``bd.simulate`` and a batch of trials one ``jax.vmap``
over keys. The stimulus is switched by the input ``stim`` (a gate, 0 or 1, on the term
:math:`J_{ext}\\mu_0(1 \\pm c/100)`), e.g. ``bd.inputs.section([0, 1, 0], [100, 2000, ...])``.

:func:`decide` turns recorded rates into choices and reaction times (the first selective
population whose rate crosses a threshold after stimulus onset); :func:`fixed_points_scipy`
solves the noise-free equations, written again in NumPy, with ``scipy.optimize`` (an
independent check of :mod:`braindyn.analysis`).
"""
from __future__ import annotations

from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from .. import clock
from ..params import param
from .decision_rate import WongWang

__all__ = ["WongWangOU", "decide", "fixed_points_scipy", "WW_PARAMS"]


class WongWangOU(WongWang):
    """Wong--Wang reduced model with an Ornstein--Uhlenbeck background current per population.

    .. math::
        x_i &= J_E s_i - J_I s_j + I_0 + g(t)\\,J_{ext}\\mu_0(1 \\pm c/100) + I_{n,i} + I_i(t) \\\\
        \\frac{ds_i}{dt} &= -\\frac{s_i}{\\tau_s} + (1 - s_i)\\,\\gamma\\,H(x_i), \\qquad
        \\tau_n \\frac{dI_{n,i}}{dt} = -I_{n,i} + \\eta_i(t)\\sqrt{\\tau_n}\\,\\sigma

    with :math:`g(t)` the input ``args["stim"]`` (default 1: stimulus always on, as in
    :class:`WongWang`). The noise variables take exactly the Euler--Maruyama step of Wong & Wang
    (2006), whatever ``method`` integrates the gating variables:

    .. math:: I_{n,i} \\leftarrow I_{n,i} - I_{n,i}\\,\\Delta t/\\tau_n + \\sigma\\sqrt{\\Delta t/\\tau_n}\\,\\xi_i

    (stationary standard deviation :math:`\\approx \\sigma/\\sqrt 2` for :math:`\\Delta t \\ll \\tau_n`).
    The book's code filters biased Poisson draws instead; that quirk is not copied. With
    ``sigma = 0`` and ``In = 0`` the model is :class:`WongWang` exactly (the same fixed points).

    Parameters (besides :class:`WongWang`'s)
    ----------------------------------------
    sigma : float
        Noise amplitude (nA): 0.02.
    tau_n : float
        Noise time constant (ms): 2 (AMPA).

    Example
    -------
    >>> import jax, braindyn as bd
    >>> m = WongWangOU(coherence=50.0)
    >>> final, rec, _ = bd.simulate(m, m.init_state(), 5000, 0.1, key=jax.random.PRNGKey(0),
    ...                             record=lambda s: m.rates(s))
    >>> bool(rec["r1"][-1, 0] > 15.0 > rec["r2"][-1, 0])
    True
    """

    variables: ClassVar[tuple[str, ...]] = ("s1", "s2", "In1", "In2")
    sigma: Any = param(0.02, bound="nonnegative", unit="nA", doc="OU noise amplitude")
    tau_n: Any = param(2.0, bound="positive", unit="ms", doc="OU noise time constant")

    def initial(self):
        return {"s1": self.s1_init, "s2": self.s2_init, "In1": 0.0, "In2": 0.0}

    def currents(self, y, args):
        """Total synaptic inputs ``(x1, x2)`` (nA), noise and stimulus gate included."""
        g = args.get("stim", 1.0)
        stim = g * self.J_ext * self.mu0
        common = args.get("I", 0.0)
        x1 = self.J_E * y["s1"] - self.J_I * y["s2"] + self.I0 + stim * (1 + self.coherence / 100.0) \
            + y.get("In1", 0.0) + args.get("I1", 0.0) + common
        x2 = self.J_E * y["s2"] - self.J_I * y["s1"] + self.I0 + stim * (1 - self.coherence / 100.0) \
            + y.get("In2", 0.0) + args.get("I2", 0.0) + common
        return x1, x2

    def vector_field(self, t, y, args):
        f = super().vector_field(t, y, args)
        f["In1"] = -y["In1"] / self.tau_n
        f["In2"] = -y["In2"] / self.tau_n
        return f

    def integrate_continuous(self, y, args, t, dt, key):
        y_new = super().integrate_continuous(y, args, t, dt, key)
        if key is None:
            from .._errors import BraindynError

            raise BraindynError("WongWangOU is noisy but its step got key=None. Fix: pass key=... to "
                                "braindyn.simulate (braindyn.run always has a key).")
        r = jnp.asarray(dt / jnp.asarray(self.tau_n), y["In1"].dtype)
        # both populations' draws at once (a batch of 1000 trials x 21000 steps: no block draws)
        xi = jax.random.normal(clock.named_key(key, "In"), (2, self.n), y["In1"].dtype)
        for i, name in enumerate(("In1", "In2")):
            y_new[name] = y[name] - y[name] * r + jnp.asarray(self.sigma, y[name].dtype) * jnp.sqrt(r) * xi[i]
        return y_new


def decide(ts, r1, r2, *, t_on, t_off, threshold=15.0):
    """Choices and reaction times from rate traces.

    ``ts`` (ms, shape ``(T,)``) and rates ``r1, r2`` (Hz, shape ``(..., T)``). A trial's choice is
    the first population whose rate crosses ``threshold`` in ``[t_on, t_off]`` (a tie goes to the
    higher rate); its reaction time is the crossing time after ``t_on``, linearly interpolated
    between samples. Without a crossing the choice is the population with the higher rate at
    ``t_off`` and the trial is *undecided* (its reaction time NaN).

    Returns ``(choice_A, rt_ms, undecided)``: booleans (population 1 chosen), floats, booleans.
    """
    ts = jnp.asarray(ts)
    r1, r2 = jnp.asarray(r1), jnp.asarray(r2)
    win = (ts >= t_on - 1e-9) & (ts <= t_off + 1e-9)

    def first_cross(r):
        above = (r >= threshold) & win
        k = jnp.argmax(above, axis=-1)
        hit = jnp.any(above, axis=-1)
        km = jnp.maximum(k - 1, 0)
        rk = jnp.take_along_axis(r, k[..., None], -1)[..., 0]
        rp = jnp.take_along_axis(r, km[..., None], -1)[..., 0]
        # interpolate between the previous sample (below threshold) and the first one above it
        frac = jnp.where((k > 0) & (rk > rp), (threshold - rp) / jnp.where(rk > rp, rk - rp, 1.0), 1.0)
        tc = ts[km] + jnp.clip(frac, 0.0, 1.0) * (ts[k] - ts[km])
        tc = jnp.where(win[km], tc, ts[k])
        return hit, jnp.where(hit, tc, jnp.inf), rk

    h1, t1, v1 = first_cross(r1)
    h2, t2, v2 = first_cross(r2)
    i_end = jnp.argmin(jnp.abs(ts - t_off))
    end_A = r1[..., i_end] >= r2[..., i_end]
    decided = h1 | h2
    tie = (t1 == t2) & decided
    choice = jnp.where(decided, jnp.where(tie, v1 >= v2, t1 < t2), end_A)
    rt = jnp.where(decided, jnp.minimum(t1, t2) - t_on, jnp.nan)
    return choice, rt, ~decided


#: The Wong & Wang (2006) parameters of :class:`WongWang` as plain floats (time in ms).
WW_PARAMS = dict(J_E=0.2609, J_I=0.0497, I0=0.3255, J_ext=5.2e-4, mu0=20.0, gamma=6.41e-4, tau_s=100.0,
                 a=270.0, b=108.0, d=0.154)


def _H_np(x, a, b, d):
    z = a * x - b
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.abs(d * z) < 1e-9, 1.0 / d, z / (1.0 - np.exp(-d * z)))


def _field_np(s, c, p):
    s1, s2 = s
    st = p["J_ext"] * p["mu0"]
    x1 = p["J_E"] * s1 - p["J_I"] * s2 + p["I0"] + st * (1 + c / 100.0)
    x2 = p["J_E"] * s2 - p["J_I"] * s1 + p["I0"] + st * (1 - c / 100.0)
    H1, H2 = _H_np(x1, p["a"], p["b"], p["d"]), _H_np(x2, p["a"], p["b"], p["d"])
    return np.array([-s1 / p["tau_s"] + (1 - s1) * p["gamma"] * H1, -s2 / p["tau_s"] + (1 - s2) * p["gamma"] * H2])


def fixed_points_scipy(coherence=0.0, *, grid=15, tol=1e-12, **params):
    """Fixed points of the noise-free Wong--Wang equations, written in NumPy and solved with
    ``scipy.optimize.root`` (hybr) from a ``grid x grid`` mesh of starts in ``(0, 1)^2``;
    stability from a central finite-difference Jacobian.

    Returns a list of ``(s1, s2, stable)`` sorted by ``s1`` (duplicates merged).
    """
    from scipy.optimize import root

    p = {**WW_PARAMS, **params}
    f = lambda s: _field_np(s, coherence, p) * p["tau_s"]  # O(1) residuals
    found = []
    for u in np.linspace(0.02, 0.98, grid):
        for v in np.linspace(0.02, 0.98, grid):
            sol = root(f, [u, v], method="hybr", tol=tol)
            x = sol.x
            if not sol.success or not np.all((x > -1e-9) & (x < 1 + 1e-9)) or np.max(np.abs(f(x))) > 1e-9:
                continue
            if any(np.max(np.abs(x - y)) < 1e-6 for y in found):
                continue
            found.append(x)
    out = []
    for x in sorted(found, key=lambda q: q[0]):
        h = 1e-7
        J = np.column_stack([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(2)])
        out.append((float(x[0]), float(x[1]), bool(np.all(np.linalg.eigvals(J).real < 0))))
    return out

