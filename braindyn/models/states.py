r"""Network states beyond the book: Brunel's sparse network and the ring model, from public blocks.

* :func:`brunel_network`: the sparsely connected network of LIF neurons of Brunel (2000, J.
  Comput. Neurosci. 8: 183). :math:`N_E` excitatory and :math:`N_I = \gamma N_E` inhibitory
  neurons (:math:`\tau` = 20 ms, :math:`\theta` = 20 mV, :math:`V_r` = 10 mV,
  :math:`\tau_{rp}` = 2 ms); each neuron receives :math:`C_E = \epsilon N_E` excitatory and
  :math:`C_I = \gamma C_E` inhibitory inputs (fixed in-degree), delta synapses of efficacy
  :math:`J` (E) and :math:`-gJ` (I) mV with delay :math:`D`, and :math:`C_E` external
  Poisson trains of rate :math:`\nu_{ext}` (efficacy :math:`J`), given in units of
  :math:`\nu_{thr} = \theta / (J C_E \tau)`, the rate at which the external drive alone
  brings the mean potential to threshold.

  The external trains of a neuron are merged: a neuron receives ``k_ext`` Poisson trains of
  rate :math:`C_E\nu_{ext}/k_{ext}` each (the sum is Poisson of rate :math:`C_E \nu_{ext}`),
  ``k_ext`` chosen so that a train fires with probability at most ``p_max`` per step
  (:class:`~braindyn.neurons.PoissonGroup` fires at most once a step).

* :func:`brunel_rate`: the self-consistent rate of the asynchronous state in the diffusion
  approximation (the paper's eqs. 4-6): :math:`\nu` solves

  .. math::
      \frac{1}{\nu} = \tau_{rp} + \tau\sqrt\pi \int_{(V_r - \mu)/\sigma}^{(\theta - \mu)/\sigma}
      e^{u^2} (1 + \operatorname{erf} u)\, du,\quad
      \mu = C_E J \tau (\nu_{ext} + \nu (1 - g\gamma)),\quad
      \sigma = J \sqrt{C_E \tau (\nu_{ext} + \nu (1 + g^2 \gamma))}

  (:math:`\gamma = 1/4`: the brief's :math:`1 - g/4`, :math:`1 + g^2/4`); solved with
  :func:`scipy.optimize.brentq`, :math:`e^{u^2}(1 + \operatorname{erf} u) =
  \operatorname{erfcx}(-u)` integrated with :func:`scipy.integrate.quad`.

* :func:`ring_network`: the ring model of Ben-Yishai, Bar-Or & Sompolinsky (1995, PNAS 92:
  3844). ``n`` threshold-linear rate units at :math:`\theta_i \in [-\pi/2, \pi/2)`,

  .. math::
      \tau \dot m(\theta) = -m + \Big[\int_{-\pi/2}^{\pi/2} \frac{d\theta'}{\pi}
      \big(-J_0 + J_2 \cos 2(\theta - \theta')\big) m(\theta') + c\big(1 - \epsilon +
      \epsilon \cos 2(\theta - \theta_0)\big)\Big]_+ ,

  the integral being the mean over the units (a dense all-to-all projection of weight
  :math:`J(\theta_i - \theta_j)/n`, continuous signal ``r``, :class:`~braindyn.synapses.Instant`).

* :func:`ring_solution`: its stationary tuning curve. In the narrow (marginal) regime
  :math:`m(\theta) = A\,[\cos 2(\theta - \theta_0) - \cos 2\theta_c]_+`; projecting the fixed
  point on 1 and :math:`\cos 2\theta` (with :math:`\int_{-\theta_c}^{\theta_c}\frac{d\theta}{\pi}
  (\cos 2\theta - \cos 2\theta_c) = f_0(\theta_c) = (\sin 2\theta_c - 2\theta_c\cos 2\theta_c)/\pi`
  and the :math:`\cos 2\theta` moment :math:`f_2(\theta_c) = (\theta_c - \tfrac14 \sin 4\theta_c)/\pi`)

  .. math::
      A\,(1 - J_2 f_2(\theta_c)) = c\,\epsilon, \qquad
      -A \cos 2\theta_c = c\,(1 - \epsilon) - J_0 A f_0(\theta_c).

  Eliminating :math:`A`: :math:`\epsilon\,(J_0 f_0 - \cos 2\theta_c) = (1 - \epsilon)(1 - J_2
  f_2)`, one equation in :math:`\theta_c`. For :math:`\epsilon \to 0` (the marginal phase,
  :math:`J_2 > 2`) it is the closed form :math:`J_2 f_2(\theta_c) = 1`, i.e.
  :math:`2\theta_c - \tfrac12 \sin 4\theta_c = 2\pi/J_2`, independent of the input.
"""
from __future__ import annotations

import math

import numpy as np

from .. import connect as bc
from .. import neurons
from .._errors import BraindynError
from ..network import Network
from ..synapses import CurrentOutput, Delta, Instant, SynapticProjection

__all__ = ["brunel_network", "brunel_rate", "brunel_nu_thr", "ring_network", "ring_solution", "ring_width_eps0",
           "BRUNEL_LIF"]

#: Brunel's (2000) neuron: tau 20 ms, theta 20 mV, V_r 10 mV, tau_rp 2 ms (V_rest 0).
BRUNEL_LIF = dict(V_rest=0.0, V_reset=10.0, V_th=20.0, tau=20.0, t_ref=2.0)


def brunel_nu_thr(J=0.1, C_E=1000, tau=20.0, theta=20.0):
    r""":math:`\nu_{thr} = \theta / (J C_E \tau)` in Hz (``tau`` in ms)."""
    return 1000.0 * theta / (J * C_E * tau)


def _phi1(z):
    return 1.0 if z == 0 else (math.exp(z) - 1.0) / z


def brunel_network(N_E=10000, g=5.0, nu_ext=2.0, *, J=0.1, D=1.5, epsilon=0.1, gamma=0.25, seed=0, dt=0.1,
                   p_max=0.05, lif=None):
    r"""Brunel's (2000) sparse network (module text); ``nu_ext`` in units of :math:`\nu_{thr}`.

    Returns ``(network, info)``: populations ``"E"``, ``"I"`` (LIF) and ``"XE"``, ``"XI"``
    (the external Poisson trains); ``info`` holds ``N_E, N_I, C_E, C_I, nu_thr_hz,
    nu_ext_hz`` (per external synapse), ``k_ext``. Run it with no input; start from
    ``state0=net.init_state(E={"V": ...}, I={"V": ...})`` (e.g. uniform in [0, theta)).

    A delta synapse of weight :math:`w` moves the exponential-Euler LIF by
    :math:`w\,\varphi_1(-\Delta t/\tau)/\tau` (see :class:`~braindyn.synapses.Delta`), so the
    weights are :math:`J\tau/\varphi_1` to make the jump exactly :math:`J` mV.

    Example
    -------
    >>> import braindyn as bd
    >>> net, info = brunel_network(N_E=400, g=5.0, nu_ext=2.0)
    >>> info["C_E"], info["C_I"], round(info["nu_thr_hz"], 1)
    (40, 10, 250.0)
    """
    for name, v in (("N_E", N_E),):
        if not isinstance(v, (int, np.integer)) or v < 4:
            raise BraindynError(f"brunel_network: {name} must be an integer >= 4, got {v!r}.")
    if not 0 < epsilon <= 1:
        raise BraindynError(f"brunel_network: epsilon must be in (0, 1], got {epsilon!r}.")
    if nu_ext < 0 or g < 0:
        raise BraindynError(f"brunel_network: g and nu_ext must be >= 0, got g={g!r}, nu_ext={nu_ext!r}.")
    p = dict(BRUNEL_LIF, **(lif or {}))
    N_E = int(N_E)
    N_I = max(1, int(round(gamma * N_E)))
    C_E = max(1, int(round(epsilon * N_E)))
    C_I = max(1, int(round(epsilon * N_I)))
    tau = float(p["tau"])
    nu_thr = brunel_nu_thr(J, C_E, tau, p["V_th"] - p["V_rest"])
    nu_x = float(nu_ext) * nu_thr                       # Hz per external synapse
    lam = C_E * nu_x * dt / 1000.0                      # external spikes per neuron per step
    k_ext = max(1, int(math.ceil(lam / p_max)))
    w = J * tau / _phi1(-dt / tau)
    sizes = {"E": N_E, "I": N_I}
    pops = {"E": neurons.LIF(n=N_E, **p), "I": neurons.LIF(n=N_I, **p),
            "XE": neurons.PoissonGroup(n=N_E * k_ext, rate=max(C_E * nu_x / k_ext, 0.0)),
            "XI": neurons.PoissonGroup(n=N_I * k_ext, rate=max(C_E * nu_x / k_ext, 0.0))}
    K = {"E": C_E, "I": C_I}
    weight = {"E": w, "I": -g * w}
    projs = {}
    for a_i, a in enumerate("EI"):
        for b_i, b in enumerate("EI"):
            conn = bc.fixed_in_degree(sizes[b], sizes[a], K[b], seed=seed * 10 + 2 * a_i + b_i)
            projs[b + a] = SynapticProjection(b, a, conn, weight[b], Delta(), CurrentOutput(), delay=D, dt=dt)
        n = sizes[a]
        pre = np.arange(n * k_ext)
        projs["X" + a] = SynapticProjection("X" + a, a, bc.from_ij(pre, pre // k_ext, n * k_ext, n), w, Delta(),
                                            CurrentOutput(), dt=dt)
    info = dict(N_E=N_E, N_I=N_I, C_E=C_E, C_I=C_I, nu_thr_hz=nu_thr, nu_ext_hz=nu_x, k_ext=k_ext, J=J, g=g, D=D,
                gamma=N_I / N_E, **p)
    return Network(pops, projs), info


def _siegert(mu, sigma, tau, t_ref, theta, V_r):
    from scipy.integrate import quad
    from scipy.special import erfcx

    lo, hi = (V_r - mu) / sigma, (theta - mu) / sigma
    val, _ = quad(lambda u: erfcx(-u), lo, hi, limit=200)
    return 1.0 / (t_ref + tau * math.sqrt(math.pi) * val)


def brunel_rate(g, nu_ext, *, J=0.1, C_E=1000, gamma=0.25, tau=20.0, theta=20.0, V_r=10.0, t_ref=2.0):
    r"""Self-consistent rate (Hz) of the asynchronous state (module equations).

    ``nu_ext`` in units of :math:`\nu_{thr}`; times in ms. Returns the smallest root of
    :math:`\nu = \phi(\mu(\nu), \sigma(\nu))` on :math:`(0, 1/\tau_{rp})`.

    Example
    -------
    >>> round(brunel_rate(5.0, 2.0), 1)      # the paper's Fig. 8C (AI state)
    37.9
    """
    from scipy.optimize import brentq

    ts, trp = tau / 1000.0, t_ref / 1000.0
    nx = nu_ext * brunel_nu_thr(J, C_E, tau, theta)

    def f(nu):
        mu = C_E * J * ts * (nx + nu * (1.0 - g * gamma))
        sig = J * math.sqrt(C_E * ts * (nx + nu * (1.0 + g * g * gamma)))
        return _siegert(mu, sig, ts, trp, theta, V_r) - nu

    grid = np.linspace(1e-6, 1.0 / trp * (1 - 1e-9), 400)
    vals = [f(x) for x in grid]
    for k in range(len(grid) - 1):
        if vals[k] == 0:
            return float(grid[k])
        if vals[k] * vals[k + 1] < 0:
            return float(brentq(f, grid[k], grid[k + 1], xtol=1e-10))
    raise BraindynError(f"brunel_rate: no self-consistent rate for g={g}, nu_ext={nu_ext}.")


def brunel_cv(mu, sigma, *, tau=20.0, theta=20.0, V_r=10.0, t_ref=2.0):
    r"""``(rate_hz, cv)`` of a LIF driven by white noise of mean ``mu`` and s.d. ``sigma`` (mV).

    The rate is the first-passage formula of :func:`brunel_rate`; the CV is its second moment
    (Brunel 2000, appendix A; Tuckwell):

    .. math:: \mathrm{CV}^2 = 2\pi (\nu\tau)^2 \int_{y_r}^{y_\theta} e^{x^2} \int_{-\infty}^{x}
              e^{y^2} (1 + \operatorname{erf} y)^2\, dy\, dx,

    :math:`y_r = (V_r - \mu)/\sigma`, :math:`y_\theta = (\theta - \mu)/\sigma`, the inner
    integrand written :math:`\operatorname{erfcx}(-y)^2 e^{-y^2}`.

    Example
    -------
    >>> r, cv = brunel_cv(20.0, 2.0)
    >>> bool(0.2 < cv < 0.6)
    True
    """
    from scipy.integrate import quad
    from scipy.special import erfcx

    ts, trp = tau / 1000.0, t_ref / 1000.0
    nu = _siegert(mu, sigma, ts, trp, theta, V_r)

    def inner(x):
        return quad(lambda y: erfcx(-y) ** 2 * math.exp(-y * y), -math.inf, x, limit=200)[0]

    val = quad(lambda x: math.exp(x * x) * inner(x), (V_r - mu) / sigma, (theta - mu) / sigma, limit=200)[0]
    return nu, math.sqrt(2 * math.pi * (nu * ts) ** 2 * val)


def brunel_moments(g, nu_ext, nu, *, J=0.1, C_E=1000, gamma=0.25, tau=20.0, theta=20.0):
    """``(mu, sigma)`` (mV) of the input in the module's diffusion approximation (rates in Hz)."""
    ts = tau / 1000.0
    nx = nu_ext * brunel_nu_thr(J, C_E, tau, theta)
    return (C_E * J * ts * (nx + nu * (1.0 - g * gamma)),
            J * math.sqrt(C_E * ts * (nx + nu * (1.0 + g * g * gamma))))


# ---------------------------------------------------------------------------------------------
# the ring model
# ---------------------------------------------------------------------------------------------


def ring_angles(n):
    """Preferred angles of ``n`` units, evenly spaced on [-pi/2, pi/2)."""
    return -np.pi / 2 + np.pi * np.arange(n) / n


def ring_network(n=256, J0=2.0, J2=6.0, tau=10.0, *, dt=0.1):
    r"""The ring model (module equations): one population ``"R"`` of ``n`` threshold-linear
    units (``tau`` ms), a dense all-to-all projection ``"RR"`` of weight
    :math:`(-J_0 + J_2 \cos 2(\theta_i - \theta_j))/n`. Drive it with
    ``inputs={"R": ring_input(n, c, epsilon, theta0)}``.

    Example
    -------
    >>> import braindyn as bd
    >>> net = ring_network(64)
    >>> res = bd.run(net, 200.0, inputs={"R": ring_input(64, 1.0, 0.1)}, record="pop.R.r")
    >>> bool(res["pop.R.r"][-1].max() > 1.0)
    True
    """
    if not isinstance(n, (int, np.integer)) or n < 4:
        raise BraindynError(f"ring_network: n must be an integer >= 4, got {n!r}.")
    th = ring_angles(int(n))
    W = (-J0 + J2 * np.cos(2.0 * (th[:, None] - th[None, :]))) / n      # [pre, post], symmetric
    conn = bc.all_to_all(int(n), int(n))
    return Network({"R": neurons.ThresholdLinear(n=int(n), tau=tau)},
                   {"RR": SynapticProjection("R", "R", conn, W.reshape(-1), Instant(), CurrentOutput(), signal="r",
                                             dt=dt)})


def ring_input(n, c=1.0, epsilon=0.1, theta0=0.0):
    r"""The input :math:`c[(1 - \epsilon) + \epsilon \cos 2(\theta_i - \theta_0)]` of each unit."""
    return c * ((1.0 - epsilon) + epsilon * np.cos(2.0 * (ring_angles(int(n)) - theta0)))


def _f0(tc):
    return (np.sin(2 * tc) - 2 * tc * np.cos(2 * tc)) / np.pi


def _f2(tc):
    return (tc - np.sin(4 * tc) / 4) / np.pi


def ring_width_eps0(J2):
    r"""The :math:`\epsilon \to 0` half-width :math:`\theta_c`: the root of :math:`J_2 f_2(\theta_c) = 1`
    (``J2 > 2``).

    Example
    -------
    >>> round(ring_width_eps0(6.0), 4)
    0.6513
    """
    from scipy.optimize import brentq

    if J2 <= 2:
        raise BraindynError(f"ring_width_eps0: the marginal regime needs J2 > 2, got {J2!r}.")
    return float(brentq(lambda t: J2 * _f2(t) - 1.0, 1e-9, np.pi / 2))


def ring_solution(J0, J2, c=1.0, epsilon=0.1):
    r"""Stationary tuning of the ring in the narrow regime: ``(theta_c, A, m_max)``
    (half-width in rad, amplitude, peak rate :math:`A(1 - \cos 2\theta_c)`).

    Example
    -------
    >>> tc, A, mmax = ring_solution(2.0, 6.0, 1.0, 0.1)
    >>> bool(0 < tc < 1.5708 and A > 0)
    True
    """
    from scipy.optimize import brentq

    def h(t):
        return epsilon * (J0 * _f0(t) - np.cos(2 * t)) - (1 - epsilon) * (1 - J2 * _f2(t))

    grid = np.linspace(1e-6, np.pi / 2 - 1e-9, 2000)
    v = h(grid)
    idx = np.nonzero(np.sign(v[:-1]) * np.sign(v[1:]) < 0)[0]
    for k in idx:
        tc = brentq(h, grid[k], grid[k + 1], xtol=1e-14)
        A = c * epsilon / (1 - J2 * _f2(tc))
        if A > 0:
            return float(tc), float(A), float(A * (1 - np.cos(2 * tc)))
    raise BraindynError(f"ring_solution: no narrow tuning curve for J0={J0}, J2={J2}, epsilon={epsilon} (the "
                        f"whole ring may be active: broad regime).")


__all__ += ["ring_angles", "ring_input", "brunel_cv", "brunel_moments"]
