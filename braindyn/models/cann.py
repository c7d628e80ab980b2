r"""Continuous attractor neural networks (CANNs) on a ring and on a torus.

The book's CANN (chapter 8; Wu, Wong, Fung, Mi & Zhang, *Continuous attractor neural
networks*, and Fung, Wong & Wu 2010, Neural Comput. 22:752):

.. math::
    \tau \frac{\partial u(x,t)}{\partial t} &= -u(x,t) + \rho\int J(x,x')\,r(x',t)\,dx' + I_{ext}(x,t) \\
    r(x,t) &= \frac{u(x,t)^2}{1 + k\rho\int u(x',t)^2\,dx'} \\
    J(x,x') &= \frac{J_0}{\sqrt{2\pi}\,a}\exp\!\Big(-\frac{|x-x'|^2}{2a^2}\Big)

with :math:`|x-x'|` the periodic distance on :math:`[-\pi, \pi)` (a ring of ``n`` neurons at
:math:`x_i = -\pi + 2\pi i/n`, no duplicated endpoint) and :math:`\rho = n/2\pi` the density,
so :math:`\rho\int dx' \to \sum_j`. The recurrent input :math:`\sum_j J(x_i - x_j) r_j` is a
circular convolution: it is computed by FFT (:math:`O(n\log n)`, no :math:`n\times n` matrix),
on the torus by a 2-D FFT.

**Stationary bump** (derivation). Try :math:`u(x) = u_0 e^{-x^2/4a^2}` with no input. Then
:math:`\rho\int u^2 = \rho u_0^2\sqrt{2\pi}a`, so :math:`r = r_0 e^{-x^2/2a^2}` with
:math:`r_0 = u_0^2/B`, :math:`B = 1 + k\rho\sqrt{2\pi}a u_0^2`. The convolution of two
Gaussians of variance :math:`a^2` is :math:`\int e^{-(x-x')^2/2a^2} e^{-x'^2/2a^2}dx' =
\sqrt{\pi}a\,e^{-x^2/4a^2}`, so the recurrent input is :math:`(\rho J_0 r_0/\sqrt2)\,e^{-x^2/4a^2}`:
the ansatz is an exact solution on the line when :math:`u_0 = \rho J_0 r_0/\sqrt2`, i.e.

.. math::
    k\rho\sqrt{2\pi}a\,u_0^2 - \frac{\rho J_0}{\sqrt2}u_0 + 1 = 0, \qquad
    u_0 = \frac{J_0\,\big(1 + \sqrt{1 - k/k_c}\big)}{4\sqrt{\pi}\,a\,k}, \qquad
    r_0 = \frac{1 + \sqrt{1 - k/k_c}}{2\sqrt{2\pi}\,\rho\,a\,k}, \qquad
    k_c = \frac{\rho J_0^2}{8\sqrt{2\pi}\,a}

(the larger root is the stable bump; none exists for :math:`k > k_c`). The width does not
depend on :math:`k`: FWHM of :math:`u` = :math:`4a\sqrt{\ln 2}`. On the ring the tails of
:math:`u` are cut at the antipode (the discrete field vanishes on the ansatz up to
:math:`u_0 e^{-\pi^2/4a^2} \approx 5\cdot10^{-5}u_0` for :math:`a = 0.5`), and the grid sums of
Gaussians equal their integrals to far better accuracy when :math:`a \gg 2\pi/n`. On the torus (:class:`CANN2D`, same kernel formula with the
Euclidean periodic distance) the same steps give :math:`u_0 = \rho J_0 a\sqrt{\pi/2}\,r_0`,
:math:`1 + 2\pi k\rho a^2 u_0^2 = \rho J_0 a\sqrt{\pi/2}\,u_0` and :math:`k_c = \rho J_0^2/16`
(see :func:`bump_solution`).

Variants: :class:`CANN1DSTP` (short-term synaptic depression, Fung, Wong, Mao & Wu 2012) and
:class:`CANN1DSFA` (spike-frequency adaptation, Mi, Fung, Wong & Wu 2014), whose bump travels
spontaneously for :math:`m > \tau/\tau_v`.

Integration: the default method is ``"rk4"`` at the book's ``dt = 0.1`` ms (:math:`\tau = 1`
ms). The coupling is global (every element of the field depends on every other through the
convolution and the divisive normalisation), so an exponential integrator would need the
exact Jacobian diagonal (``coupled = True`` gives it, at :math:`O(n^2)` per step); the
vector field is not stiff (its fastest rate is :math:`1/\tau`), so a fourth-order explicit
method is both cheaper and more accurate. ``method="euler"`` is the book's (BrainPy's default
``odeint``) scheme. Any consistent one-step method has the same fixed points as the vector
field, so the stationary bump does not depend on the method.
"""
from __future__ import annotations

import math
from typing import Any, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .. import clock
from .._errors import BraindynError
from ..clock import as_time
from ..core import ODEModel
from ..inputs import Input
from ..params import param

__all__ = ["CANN1D", "CANN1DSTP", "CANN1DSFA", "CANN2D", "BumpStimulus", "bump_solution", "periodic_distance",
           "sfa_intrinsic_speed"]

_TWO_PI = 2.0 * math.pi


def periodic_distance(d, period=_TWO_PI):
    """Signed periodic distance: ``d`` wrapped into :math:`[-L/2, L/2]` (``L = period``)."""
    return d - period * jnp.round(d / period)


def bump_solution(k, J0=4.0, a=0.5, rho=512 / _TWO_PI, dim=1, m=0.0):
    r"""Analytic stationary bump of the CANN without input (see the module docstring).

    Returns a dict: ``u0`` (peak of :math:`u`), ``r0`` (peak rate), ``k_c`` (critical
    inhibition: no bump above it), ``fwhm`` (full width at half maximum of :math:`u`, rad,
    per axis), ``exists``. ``dim=2`` is the torus of :class:`CANN2D` (:math:`\rho` in neurons
    per rad²). ``m`` is the adaptation strength of :class:`CANN1DSFA`: a static bump with
    adaptation obeys :math:`(1+m)u = \rho J * r`, i.e. the same equations with
    :math:`J_0/(1+m)`.

    Example
    -------
    >>> s = bump_solution(8.1)                  # the book's CANN1D (512 neurons)
    >>> round(s["k_c"], 2), round(s["u0"], 4), round(s["fwhm"], 4)
    (130.03, 0.2742, 1.6651)
    """
    J0 = J0 / (1.0 + m)
    if dim == 1:
        c = rho * J0 / math.sqrt(2.0)
        d_per_k = rho * math.sqrt(2 * math.pi) * a
    elif dim == 2:
        c = rho * J0 * a * math.sqrt(math.pi / 2)
        d_per_k = rho * 2 * math.pi * a * a
    else:
        raise BraindynError(f"bump_solution: dim must be 1 or 2, got {dim!r}.")
    k_c = c * c / (4.0 * d_per_k)
    out = {"k_c": k_c, "fwhm": 4.0 * a * math.sqrt(math.log(2.0)), "exists": bool(k <= k_c)}
    if k <= 0:
        out.update(u0=math.inf, r0=math.inf)
    elif k > k_c:
        out.update(u0=0.0, r0=0.0)
    else:
        d = k * d_per_k
        u0 = (c + math.sqrt(max(c * c - 4 * d, 0.0))) / (2 * d)
        out.update(u0=u0, r0=u0 / c)
    return out


def sfa_intrinsic_speed(m, tau=1.0, tau_v=10.0, a=0.5):
    r"""The course's intrinsic speed of the travelling bump of :class:`CANN1DSFA` (rad/ms):
    :math:`v_{int} = \frac{2a}{\tau_v}\sqrt{\frac{m\tau_v}{\tau} - \sqrt{\frac{m\tau_v}{\tau}}}`
    for :math:`m > \tau/\tau_v` (0 below). It comes from projecting the dynamics on Gaussian
    profiles (Mi et al. 2014) and is an approximation: the travelling :math:`u` is skewed and
    lower than the static bump, and :math:`v` is an exponential trail, not a shifted Gaussian.
    Measured with :class:`CANN1DSFA` (the course's parameters, 512 neurons, converged in ``dt``
    and ``n``): 0.0230, 0.0549, 0.0797, 0.1143 rad/ms at :math:`m` = 0.12, 0.2, 0.3, 0.5, i.e.
    0.69--0.72 of this formula, within 3 % of the same expression with :math:`\sqrt2 a` in place
    of :math:`2a`: the dependence on :math:`m\tau_v/\tau` is right, the prefactor (a width
    convention of the ansatz) is not.

    Example
    -------
    >>> round(sfa_intrinsic_speed(0.3), 4)
    0.1126
    """
    q = m * tau_v / tau
    return 0.0 if q <= 1.0 else 2 * a / tau_v * math.sqrt(q - math.sqrt(q))


class BumpStimulus(Input):
    r"""A Gaussian bump of input at a moving position, plus optional noise:

    .. math:: I_i(t) = A\,\exp\!\big(-|x_i - z(t)|^2/4a^2\big) + \sigma\,\xi_i(t)
              \quad\text{for}\quad t_{on} \le t < t_{off}\ \text{(0 outside)}

    :math:`z(t)` is piecewise linear through the knots ``(times, positions)`` (constant
    before the first and after the last knot); positions are rad (shape ``(K,)`` on the ring,
    ``(K, 2)`` on the torus). The noise :math:`\xi_i` is drawn independently every step and
    held over it (the book's ``normal(0, 1)`` per step, not scaled by ``dt``). Build it with
    a model's :meth:`CANN1D.stimulus_input`. The noise is present during the whole run; the
    bump only in :math:`[t_{on}, t_{off})`.
    """

    x: Any = param(unit="rad", per_neuron=False, doc="preferred positions of the neurons")
    A: Any = param(10.0, unit="", per_neuron=False, doc="input amplitude")
    a: Any = param(0.5, bound="positive", unit="rad", per_neuron=False, doc="input width")
    times: Any = param(unit="ms", per_neuron=False, doc="knots of the trajectory")
    positions: Any = param(unit="rad", per_neuron=False, doc="positions at the knots")
    t_on: Any = param(0.0, bound="extended", unit="ms", per_neuron=False)
    t_off: Any = param(math.inf, bound="extended", unit="ms", per_neuron=False)
    noise: Any = param(0.0, bound="nonnegative", per_neuron=False, doc="noise std per step")
    period: float = eqx.field(static=True, default=_TWO_PI)

    @classmethod
    def example(cls):
        """A small instance (two neurons, a bump moving from 0 to 1 rad in 2 ms)."""
        return cls(x=[-1.0, 1.0], A=1.0, a=0.5, times=[0.0, 2.0], positions=[0.0, 1.0])

    def position(self, t):
        """:math:`z(t)` (rad), interpolated between the knots."""
        t = jnp.asarray(t)
        if self.positions.ndim == 1:
            return jnp.interp(t, self.times, self.positions)
        return jnp.stack([jnp.interp(t, self.times, self.positions[:, j]) for j in range(self.positions.shape[1])],
                         -1)

    def clean(self, t):
        """The stimulus without noise at time ``t`` (ms)."""
        z = self.position(t)
        d = periodic_distance(self.x - z, self.period)
        d2 = d * d if d.ndim == 1 else jnp.sum(d * d, -1)
        on = (t >= self.t_on) & (t < self.t_off)
        return jnp.where(on, self.A * jnp.exp(-0.25 * d2 / (self.a * self.a)), 0.0)

    def __call__(self, t, dt, key=None, state=None):
        tm = (as_time(t) + 0.5 * dt).value
        out = self.clean(tm)
        if key is not None:
            out = out + self.noise * clock.normal(key, out.shape[0], out.dtype)
        elif not (isinstance(self.noise, jax.Array) and not isinstance(self.noise, jax.core.Tracer)
                  and float(self.noise) == 0.0):
            raise BraindynError("BumpStimulus with noise > 0 needs a key. Fix: run it with braindyn.run (key=0 by "
                                "default) or pass key=... to braindyn.simulate.")
        return out, state


class _Ring(ODEModel):
    """Shared parts of the 1-D CANNs: the ring, the kernel, the FFT convolution, decoding."""

    variables: ClassVar[tuple[str, ...]] = ("u",)
    coupled: ClassVar[bool] = True
    n: int = eqx.field(static=True, default=512)
    method: Any = eqx.field(static=True, default="rk4")
    tau: Any = param(1.0, bound="positive", unit="ms", per_neuron=False, doc="synaptic time constant (book: 1)")
    k: Any = param(8.1, bound="nonnegative", unit="", per_neuron=False, doc="global inhibition (book's class: 8.1)")
    a: Any = param(0.5, bound="positive", unit="rad", per_neuron=False, doc="connection width (book: 0.5)")
    A: Any = param(10.0, unit="", per_neuron=False, doc="amplitude of stimulus() (book: 10)")
    J0: Any = param(4.0, unit="", per_neuron=False, doc="connection strength (book: 4)")
    z_min: float = eqx.field(static=True, default=-math.pi)
    z_max: float = eqx.field(static=True, default=math.pi)

    def __check_init__(self):
        if not self.z_max > self.z_min:
            raise BraindynError(f"{type(self).__name__}: z_max ({self.z_max}) must be > z_min ({self.z_min}). "
                                f"Fix: e.g. z_min=-pi, z_max=pi.")

    # ---- geometry --------------------------------------------------------------------
    @property
    def z_range(self) -> float:
        return self.z_max - self.z_min

    @property
    def rho(self) -> float:
        """Neurons per rad."""
        return self.n / self.z_range

    @property
    def x(self):
        """Preferred positions :math:`x_i = z_{min} + i\\,L/n` (no duplicated endpoint)."""
        return self.z_min + self.z_range * jnp.arange(self.n) / self.n

    def dist(self, d):
        return periodic_distance(d, self.z_range)

    def kernel(self, dtype=None):
        """:math:`J` at the offsets :math:`m L/n`, :math:`m = 0..n-1` (the convolution's first column)."""
        offs = self.dist(self.z_range * jnp.arange(self.n) / self.n)
        a = jnp.asarray(self.a, dtype)
        return self.J0 * jnp.exp(-0.5 * jnp.square(offs / a)) / (math.sqrt(2 * math.pi) * a)

    def recurrent(self, r):
        """:math:`\\sum_j J(x_i - x_j)\\,r_j` by FFT (a circular convolution)."""
        K = jnp.fft.rfft(self.kernel(r.dtype).astype(r.dtype))
        return jnp.fft.irfft(jnp.fft.rfft(r) * K, n=self.n).astype(r.dtype)

    def rates(self, u):
        """:math:`r = u^2/(1 + k\\sum_j u_j^2)`."""
        u2 = jnp.square(u)
        return u2 / (1.0 + self.k * jnp.sum(u2, axis=-1, keepdims=True))

    # ---- inputs, decoding, analytics -------------------------------------------------
    def stimulus(self, pos, A=None):
        """:math:`A\\exp(-|x - pos|^2/4a^2)` (the book's ``get_stimulus_by_pos``)."""
        A = self.A if A is None else A
        return A * jnp.exp(-0.25 * jnp.square(self.dist(self.x - jnp.asarray(pos)[..., None]) / self.a))

    def stimulus_input(self, times, positions, *, A=None, t_on=0.0, t_off=math.inf, noise=0.0):
        """A :class:`BumpStimulus` for ``braindyn.run``: a bump moving through ``(times, positions)``."""
        times = np.atleast_1d(np.asarray(times, float))
        positions = np.atleast_1d(np.asarray(positions, float))
        if times.shape[0] != positions.shape[0] or np.any(np.diff(times) < 0):
            raise BraindynError(f"stimulus_input: 'times' ({times.shape[0]} knots) must be non-decreasing, one per "
                                f"position ({positions.shape[0]}). Fix: e.g. times=[10, 20], positions=[0, 4.71].")
        return BumpStimulus(self.x, self.A if A is None else A, self.a, times, positions, t_on, t_off, noise,
                            self.z_range)

    def decode(self, u):
        """Population-vector estimate of the bump centre (rad, in :math:`[z_{min}, z_{max})`):
        :math:`\\arg\\sum_i u_i e^{i x_i}` on the ring."""
        ph = _TWO_PI * (self.x - self.z_min) / self.z_range
        u = jnp.asarray(u)
        ang = jnp.arctan2(jnp.sum(u * jnp.sin(ph), -1), jnp.sum(u * jnp.cos(ph), -1))
        return self.z_min + jnp.mod(ang, _TWO_PI) * self.z_range / _TWO_PI

    def profile(self, center=0.0, height=None):
        """The analytic bump :math:`u_0 e^{-|x - c|^2/4a^2}` (an initial state; ``height`` default
        :math:`u_0` of :meth:`analytic_bump`)."""
        h = self.analytic_bump()["u0"] if height is None else height
        return h * jnp.exp(-0.25 * jnp.square(self.dist(self.x - center) / self.a))

    def analytic_bump(self, m=0.0):
        """:func:`bump_solution` for this model's parameters."""
        return bump_solution(float(self.k), float(self.J0), float(self.a), self.rho, 1, m)

    @property
    def k_critical(self) -> float:
        """:math:`k_c = \\rho J_0^2/(8\\sqrt{2\\pi}a)`: no bump exists for :math:`k > k_c`."""
        return self.analytic_bump()["k_c"]

    def initial(self):
        return {v: 0.0 for v in self.variables}

    @classmethod
    def example(cls):
        """A small ring (16 neurons) for quick checks."""
        return cls(n=16)


class CANN1D(_Ring):
    r"""The book's 1-D CANN (see the module docstring for the equations and the analytic bump).

    Defaults (the book's ``CANN1D`` class, ``network_models/CANN.py``): ``n=512`` neurons on
    :math:`[-\pi, \pi)`, :math:`\tau = 1` ms, :math:`k = 8.1` (its demos of the bump also use
    0.1), :math:`a = 0.5`, :math:`A = 10`, :math:`J_0 = 4`. Input ``args["I"]`` (shape
    ``(n,)``): :math:`I_{ext}`. State: ``u``.

    Example
    -------
    >>> import braindyn as bd
    >>> m = CANN1D(n=128)
    >>> res = bd.run(m, 30.0, state0=m.init_state(u=m.profile(1.0)), record="u", record_every=100)
    >>> round(float(res["u"][-1].max() / m.analytic_bump()["u0"]), 3), round(float(m.decode(res["u"][-1])), 3)
    (1.0, 1.0)
    """

    def vector_field(self, t, y, args):
        u = y["u"]
        return {"u": (-u + self.recurrent(self.rates(u)) + args["I"]) / self.tau}


class CANN1DSTP(_Ring):
    r"""The 1-D CANN with short-term synaptic depression (Fung, Wong, Mao & Wu 2012, Neural
    Comput. 24:1147; York & van Rossum 2009):

    .. math::
        \tau \frac{\partial u}{\partial t} &= -u + \rho\int J(x,x')\,p(x')\,r(x')\,dx' + I_{ext} \\
        \tau_d \frac{\partial p}{\partial t} &= 1 - p - \tau_d\,\beta\,p\,r

    :math:`p` is the available fraction of resources of the synapses leaving :math:`x'`; each
    unit of rate uses :math:`\beta` of it per ms. Strong enough depression destabilises the
    static bump: it travels spontaneously, the depressed trail behind it pushing it on.

    Defaults: the book's ring (:math:`\tau = 1`, :math:`a = 0.5`, :math:`J_0 = 4`, ``n=512``)
    with :math:`k = 0.1` (the book's bump demos), :math:`\tau_d = 50\tau` (Fung et al. 2012) and
    :math:`\beta = 0.05` /ms, chosen here in the travelling regime (measured with these values:
    the bump stays static for :math:`\beta \le 0.005` and travels from :math:`\beta \approx 0.01`,
    at 0.0217 rad/ms for 0.05). The depression acts through :math:`\tau_d\beta r` and
    :math:`r \propto 1/(k\rho)` (the divisive normalisation sums over neurons), so :math:`\beta`
    must scale with :math:`k` and with ``n`` to keep the same network.
    State: ``u``, ``p``.
    """

    variables: ClassVar[tuple[str, ...]] = ("u", "p")
    k: Any = param(0.1, bound="nonnegative", unit="", per_neuron=False, doc="global inhibition")
    tau_d: Any = param(50.0, bound="positive", unit="ms", per_neuron=False, doc="recovery time of depression")
    beta: Any = param(0.05, bound="nonnegative", unit="1/ms", per_neuron=False, doc="depression per unit rate")

    def initial(self):
        return {"u": 0.0, "p": 1.0}

    def vector_field(self, t, y, args):
        u, p = y["u"], y["p"]
        r = self.rates(u)
        return {"u": (-u + self.recurrent(p * r) + args["I"]) / self.tau,
                "p": (1.0 - p) / self.tau_d - self.beta * p * r}


class CANN1DSFA(_Ring):
    r"""The 1-D CANN with spike-frequency adaptation (Mi, Fung, Wong & Wu 2014, NIPS 27:505):

    .. math::
        \tau \frac{\partial u}{\partial t} &= -u + \rho\int J(x,x')\,r(x')\,dx' - v + I_{ext} \\
        \tau_v \frac{\partial v}{\partial t} &= -v + m\,u

    The static bump loses its translational stability exactly at :math:`m = \tau/\tau_v`:
    restricted to the translation modes :math:`(u', 0), (0, u')` (invariant, because the
    static bump obeys :math:`(1+m)u = \rho J*r(u)`, so the linearised recurrent operator maps
    :math:`u'` to :math:`m u'`), the Jacobian is :math:`[[m/\tau, -1/\tau], [m/\tau_v,
    -1/\tau_v]]`, with eigenvalues 0 and :math:`m/\tau - 1/\tau_v`. Above it the bump travels
    at a speed near :func:`sfa_intrinsic_speed`; a moving input is then tracked
    anticipatively (the bump leads it) when it is slower than the intrinsic speed, a static
    one with oscillations.

    Defaults (the course): ``n=512``, :math:`\tau = 1`, :math:`\tau_v = 10`, :math:`k = 0.1`,
    :math:`J_0 = 4`, :math:`a = 0.5`, :math:`A = 10`, :math:`m = 0.3`. State: ``u``, ``v``.
    """

    variables: ClassVar[tuple[str, ...]] = ("u", "v")
    k: Any = param(0.1, bound="nonnegative", unit="", per_neuron=False, doc="global inhibition (course: 0.1)")
    tau_v: Any = param(10.0, bound="positive", unit="ms", per_neuron=False, doc="adaptation time constant")
    m: Any = param(0.3, bound="nonnegative", unit="", per_neuron=False, doc="adaptation strength")

    def vector_field(self, t, y, args):
        u, v = y["u"], y["v"]
        return {"u": (-u + self.recurrent(self.rates(u)) - v + args["I"]) / self.tau,
                "v": (-v + self.m * u) / self.tau_v}

    def analytic_bump(self, m=None):
        """The static bump (valid for :math:`m < \\tau/\\tau_v`): :func:`bump_solution` with ``m``."""
        return bump_solution(float(self.k), float(self.J0), float(self.a), self.rho, 1,
                             float(self.m) if m is None else m)

    def intrinsic_speed(self):
        """:func:`sfa_intrinsic_speed` for this model (rad/ms)."""
        return sfa_intrinsic_speed(float(self.m), float(self.tau), float(self.tau_v), float(self.a))


class CANN2D(ODEModel):
    r"""The 2-D CANN on the torus :math:`[-\pi, \pi)^2` (``length`` × ``length`` neurons, state
    flattened row-major, ``n = length**2``):

    .. math::
        \tau \dot u = -u + \rho\!\int\! J(\mathbf x,\mathbf x')\,r(\mathbf x')\,d^2x' + I_{ext}, \quad
        r = \frac{u^2}{1 + k\rho\int u^2}, \quad
        J = \frac{J_0}{\sqrt{2\pi}a}\,e^{-|\mathbf x - \mathbf x'|^2/2a^2}

    with :math:`\rho = n/(2\pi)^2` and the periodic Euclidean distance; the coupling is a 2-D
    circular convolution computed by FFT (:math:`O(n\log n)`, never an :math:`n\times n` matrix).
    Parameters as the 1-D class (:math:`\tau = 1`, :math:`k = 8.1`, :math:`a = 0.5`, :math:`A =
    10`, :math:`J_0 = 4`, the values of BrainPy's ``CANN2D`` example); ``length`` 128 by
    default (a smaller grid than BrainPy's example, enough for :math:`a = 0.5`: 10 neurons per
    :math:`a`). Analytic bump: :func:`bump_solution` with ``dim=2``.
    """

    variables: ClassVar[tuple[str, ...]] = ("u",)
    coupled: ClassVar[bool] = True
    length: int = eqx.field(static=True, default=128)
    n: int = eqx.field(static=True, default=0)
    method: Any = eqx.field(static=True, default="rk4")
    tau: Any = param(1.0, bound="positive", unit="ms", per_neuron=False)
    k: Any = param(8.1, bound="nonnegative", unit="", per_neuron=False)
    a: Any = param(0.5, bound="positive", unit="rad", per_neuron=False)
    A: Any = param(10.0, unit="", per_neuron=False)
    J0: Any = param(4.0, unit="", per_neuron=False)

    def __post_init__(self):
        if self.n == 0 and isinstance(self.length, int):
            self.n = self.length * self.length

    @classmethod
    def example(cls):
        """A small torus (6 x 6 neurons) for quick checks."""
        return cls(length=6)

    def __check_init__(self):
        if not isinstance(self.length, int) or isinstance(self.length, bool) or self.length < 4:
            raise BraindynError(f"CANN2D: 'length' must be an integer >= 4 (neurons per side), got {self.length!r}. "
                                f"Fix: e.g. length=128.")
        if self.n != self.length ** 2:
            raise BraindynError(f"CANN2D: n={self.n} must be length**2 = {self.length ** 2}. Fix: pass only length.")

    @property
    def rho(self) -> float:
        return self.n / _TWO_PI ** 2

    @property
    def x(self):
        """Positions of the neurons, shape ``(n, 2)`` (row-major: ``x[i*length + j] = (x_i, x_j)``)."""
        g = -math.pi + _TWO_PI * jnp.arange(self.length) / self.length
        X, Y = jnp.meshgrid(g, g, indexing="ij")
        return jnp.stack([X.ravel(), Y.ravel()], -1)

    def kernel(self, dtype=None):
        off = periodic_distance(_TWO_PI * jnp.arange(self.length) / self.length)
        d2 = off[:, None] ** 2 + off[None, :] ** 2
        a = jnp.asarray(self.a, dtype)
        return self.J0 * jnp.exp(-0.5 * d2 / (a * a)) / (math.sqrt(2 * math.pi) * a)

    def recurrent(self, r):
        L = self.length
        R = r.reshape(r.shape[:-1] + (L, L))
        K = jnp.fft.rfft2(self.kernel(r.dtype).astype(r.dtype))
        out = jnp.fft.irfft2(jnp.fft.rfft2(R) * K, s=(L, L))
        return out.reshape(r.shape).astype(r.dtype)

    def rates(self, u):
        u2 = jnp.square(u)
        return u2 / (1.0 + self.k * jnp.sum(u2, axis=-1, keepdims=True))

    def vector_field(self, t, y, args):
        u = y["u"]
        return {"u": (-u + self.recurrent(self.rates(u)) + args["I"]) / self.tau}

    def initial(self):
        return {"u": 0.0}

    def stimulus(self, pos, A=None):
        A = self.A if A is None else A
        d = periodic_distance(self.x - jnp.asarray(pos))
        return A * jnp.exp(-0.25 * jnp.sum(d * d, -1) / (self.a * self.a))

    def stimulus_input(self, times, positions, *, A=None, t_on=0.0, t_off=math.inf, noise=0.0):
        times = np.atleast_1d(np.asarray(times, float))
        positions = np.asarray(positions, float).reshape(times.shape[0], 2)
        return BumpStimulus(self.x, self.A if A is None else A, self.a, times, positions, t_on, t_off, noise)

    def decode(self, u):
        """Population-vector centre per axis, shape ``(..., 2)`` (rad)."""
        u = jnp.asarray(u)
        xs = self.x
        cs = [jnp.arctan2(jnp.sum(u * jnp.sin(xs[:, j]), -1), jnp.sum(u * jnp.cos(xs[:, j]), -1)) for j in (0, 1)]
        return jnp.stack(cs, -1)

    def profile(self, center=(0.0, 0.0), height=None):
        h = self.analytic_bump()["u0"] if height is None else height
        d = periodic_distance(self.x - jnp.asarray(center))
        return h * jnp.exp(-0.25 * jnp.sum(d * d, -1) / (self.a * self.a))

    def analytic_bump(self):
        return bump_solution(float(self.k), float(self.J0), float(self.a), self.rho, 2)

    @property
    def k_critical(self) -> float:
        return self.analytic_bump()["k_c"]
