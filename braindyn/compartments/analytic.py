r"""Closed forms of the passive cable, and the conduction velocity of a simulated spike.

For a cylinder of diameter :math:`d` with specific membrane resistance
:math:`R_m = 1/g_L` (Ω·cm²), capacitance :math:`c_m` and axial resistivity :math:`R_a`:

.. math::
    \lambda = \sqrt{\frac{d\,R_m}{4 R_a}}, \qquad \tau_m = R_m c_m .

A finite sealed-end cable of length :math:`L` held by a current :math:`I_0` at :math:`x = 0`
has the steady state :math:`V(x) - E_L = V_0 \cosh((L - x)/\lambda)/\cosh(L/\lambda)`.
"""
from __future__ import annotations

import math

import numpy as np

from .._errors import BraindynError

__all__ = ["cable_constants", "finite_cable_steady_state", "conduction_velocity"]


def cable_constants(diam_um: float, g_leak: float, Ra: float, cm: float = 1.0) -> dict:
    r"""Length and time constants of a passive cable: :math:`\lambda = \sqrt{d R_m/(4R_a)}`,
    :math:`\tau = c_m/g_L`.

    Parameters: ``diam_um`` (µm), ``g_leak`` (mS/cm²), ``Ra`` (Ω·cm), ``cm`` (µF/cm²).
    Returns ``{"lambda_um": ..., "tau_ms": ...}``.

    Example
    -------
    >>> c = cable_constants(1.0, 0.1, 100.0)        # Rm = 10 kOhm cm^2
    >>> round(c["lambda_um"], 2), round(c["tau_ms"], 3)
    (500.0, 10.0)
    """
    for k, v in (("diam_um", diam_um), ("g_leak", g_leak), ("Ra", Ra), ("cm", cm)):
        if not (isinstance(v, (int, float)) and v > 0 and math.isfinite(v)):
            raise BraindynError(f"cable_constants: {k!r} must be a positive number, got {v!r}.")
    Rm = 1.0 / (g_leak * 1e-3)  # ohm cm^2
    lam_cm = math.sqrt(diam_um * 1e-4 * Rm / (4.0 * Ra))
    return {"lambda_um": lam_cm * 1e4, "tau_ms": cm / g_leak}


def finite_cable_steady_state(x_um, length_um: float, lambda_um: float):
    r"""Relative steady-state depolarisation :math:`\cosh((L - x)/\lambda)/\cosh(L/\lambda)` of a
    sealed-end cable held at :math:`x = 0` (all lengths µm).

    Example
    -------
    >>> round(float(finite_cable_steady_state(500.0, 1000.0, 500.0)), 4)      # cosh(1)/cosh(2)
    0.4102
    """
    x = np.asarray(x_um, float)
    return np.cosh((length_um - x) / lambda_um) / np.cosh(length_um / lambda_um)


def conduction_velocity(ts, V, x_um, x_from: float, x_to: float, threshold: float = 0.0) -> float:
    r"""Conduction velocity (m/s) of the first spike between two points of a cable.

    The arrival time at each compartment is the first upward crossing of ``threshold`` (mV),
    interpolated linearly between samples; the velocity is the slope of a least-squares line of
    position against arrival time over the compartments with :math:`x_{from} \le x \le x_{to}`
    (µm/ms = mm/s; returned in m/s).

    Parameters
    ----------
    ts : array (T,)
        Sample times (ms).
    V : array (T, N)
        Potentials (mV) of the N compartments.
    x_um : array (N,)
        Positions of the compartments (µm).

    Example
    -------
    >>> import numpy as np
    >>> ts = np.linspace(0, 10, 1001); x = np.linspace(0, 1000, 11)
    >>> V = np.where(ts[:, None] > 1 + x[None, :] / 500.0, 20.0, -65.0)    # 500 um/ms = 0.5 m/s
    >>> round(conduction_velocity(ts, V, x, 100.0, 900.0), 2)
    0.5
    """
    ts, V, x = np.asarray(ts), np.asarray(V), np.asarray(x_um)
    sel = np.where((x >= x_from) & (x <= x_to))[0]
    arr = []
    for i in sel:
        v = V[:, i]
        up = np.where((v[:-1] <= threshold) & (v[1:] > threshold))[0]
        if not len(up):
            raise BraindynError(f"conduction_velocity: no spike reaches the compartment at {x[i]:.1f} um "
                                f"(threshold {threshold} mV). Fix: a stronger stimulus or a longer run.")
        k = up[0]
        arr.append(ts[k] + (threshold - v[k]) / (v[k + 1] - v[k]) * (ts[k + 1] - ts[k]))
    if len(arr) < 2:
        raise BraindynError("conduction_velocity: fewer than two compartments between x_from and x_to.")
    slope = np.polyfit(np.asarray(arr), x[sel], 1)[0]  # um/ms
    return float(slope * 1e-3)
