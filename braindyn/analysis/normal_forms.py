"""Normal-form coefficients of bifurcation points: the first Lyapunov coefficient of a Hopf point.

At a Hopf point :math:`(x^*, \\lambda_H)` the Jacobian :math:`A = F_x` has eigenvalues
:math:`\\pm i\\omega`. With :math:`A q = i\\omega q`, :math:`A^T p = -i\\omega p`,
:math:`\\bar q\\cdot q = 1`, :math:`\\bar p \\cdot q = 1`, and the multilinear forms
:math:`B(u, v) = D^2F(x^*)[u, v]`, :math:`C(u, v, w) = D^3F(x^*)[u, v, w]` (forward-mode
autodiff, extended to complex vectors by linearity), the first Lyapunov coefficient is
(Kuznetsov, *Elements of Applied Bifurcation Theory*, eq. 3.20)

.. math::
    \\ell_1 = \\frac{1}{2\\omega}\\,\\mathrm{Re}\\Big[\\langle p, C(q, q, \\bar q)\\rangle
      - 2\\langle p, B(q, A^{-1} B(q, \\bar q))\\rangle
      + \\langle p, B(\\bar q, (2 i\\omega I - A)^{-1} B(q, q))\\rangle\\Big] .

:math:`\\ell_1 < 0`: **supercritical** (a stable cycle of amplitude
:math:`\\propto\\sqrt{|\\lambda - \\lambda_H|}` is born on the side where the equilibrium is
unstable); :math:`\\ell_1 > 0`: **subcritical** (an unstable cycle coexists with the stable
equilibrium: hard onset, hysteresis). The value depends on the normalisation of :math:`q`
(here :math:`|q| = 1`, as in Kuznetsov and MatCont): in the coordinate :math:`z` with
:math:`x = x^* + z q + \\bar z \\bar q`, the normal form is
:math:`\\dot z = (\\mu + i\\omega) z + c_1 |z|^2 z` with :math:`\\ell_1 = \\mathrm{Re}\\,c_1/\\omega`.
For the planar system :math:`\\dot x = \\mu x - \\omega y + s\\,x (x^2 + y^2)`,
:math:`\\dot y = \\omega x + \\mu y + s\\,y (x^2 + y^2)` this gives :math:`\\ell_1 = 2 s/\\omega`
(:math:`z = (x + i y)/\\sqrt 2`). Units: 1/(time x state^2).

Example
-------
>>> import jax.numpy as jnp
>>> from braindyn.analysis import vector_field, first_lyapunov
>>> vf = vector_field(lambda x, p: jnp.array([p["mu"] * x[0] - 2 * x[1] - x[0] * (x[0]**2 + x[1]**2),
...                                           2 * x[0] + p["mu"] * x[1] - x[1] * (x[0]**2 + x[1]**2)]),
...                   ["x", "y"], {"mu": 0.0})
>>> round(first_lyapunov(vf, [0.0, 0.0], "mu", 0.0), 6)  # 2 s / omega with s = -1, omega = 2
-1.0
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import BraindynError
from .vector_field import as_vector_field, x64

__all__ = ["first_lyapunov", "criticality"]

def _l1(vf, x, P, q, pv, omega, rel_h=1e-4):
    """:math:`\\ell_1` by the formula of the module docstring.

    :math:`B` and :math:`C` are differences of the exact (autodiff) Jacobian :math:`J(x)`:
    :math:`B(u, v) = [J(x + h u) - J(x - h u)]\\,v / 2h` and
    :math:`C(u, v, w) = D^2J[u, w]\\,v` by the central second difference (errors
    :math:`O(h^2)`, exact for cubic fields), with :math:`q = a + i b` expanded into real terms.
    All 13 Jacobians come from one call of the field's compiled batch kernel: nothing new is
    compiled for a one-off coefficient.
    """
    from .vector_field import batched, compiled

    x = np.asarray(x, float)
    h = rel_h * (1.0 + np.max(np.abs(x)))
    a, b = q.real, q.imag
    pts = [x, x + h * a, x - h * a, x + h * b, x - h * b, x + 2 * h * a, x - 2 * h * a, x + 2 * h * b, x - 2 * h * b,
           x + h * (a + b), x + h * (a - b), x - h * (a - b), x - h * (a + b)]
    _, Js = batched(compiled(vf)["batch_fj"], np.array(pts), P, chunk=16)
    J0, Jpa, Jma, Jpb, Jmb, J2pa, J2ma, J2pb, J2mb, Jpp, Jpm, Jmp, Jmm = Js
    A = J0
    dJa, dJb = (Jpa - Jma) / (2 * h), (Jpb - Jmb) / (2 * h)          # D J [a], D J [b]
    d2Jaa = (J2pa - 2 * J0 + J2ma) / (4 * h * h)                       # D^2 J [a, a]
    d2Jbb = (J2pb - 2 * J0 + J2mb) / (4 * h * h)
    d2Jab = (Jpp - Jpm - Jmp + Jmm) / (4 * h * h)                      # D^2 J [a, b]

    def B(u_is_a, v):  # B(a or b, v) for a complex v
        d = dJa if u_is_a else dJb
        return d @ v

    B_qqb = B(True, a) + B(False, b)                                   # B(q, conj q)
    B_qq = (B(True, a) - B(False, b)) + 2j * B(True, b)                # B(q, q)
    C_qqqb = (d2Jaa @ a + d2Jab @ b) + 1j * (d2Jab @ a + d2Jbb @ b)   # C(q, q, conj q)
    h11 = np.linalg.solve(A, B_qqb)
    h20 = np.linalg.solve(2j * omega * np.eye(len(x)) - A, B_qq)
    B_q_h11 = B(True, h11) + 1j * B(False, h11)
    B_qb_h20 = B(True, h20) - 1j * B(False, h20)                       # B(a - i b, h20)
    val = np.vdot(pv, C_qqqb) - 2 * np.vdot(pv, B_q_h11) + np.vdot(pv, B_qb_h20)
    return float(np.real(val) / (2 * omega))


@x64
def first_lyapunov(vf, x, param: str | None = None, value: float | None = None, p: dict | None = None,
                   **model_kw) -> float:
    """First Lyapunov coefficient :math:`\\ell_1` at the Hopf point ``x`` (see the module docstring).

    Parameters
    ----------
    vf : VectorField or ODEModel
    x : array (n,)
        The equilibrium at the Hopf point.
    param, value : str, float, optional
        The bifurcation parameter and its value there (default: the values of ``p``/``vf``).
    p : dict, optional
        The other parameters.

    Raises
    ------
    BraindynError
        When the Jacobian at ``x`` has no purely imaginary pair (not a Hopf point).
    """
    vf = as_vector_field(vf, **model_kw)
    pp = vf.p(p)
    if param is not None:
        vf.check_param(param)
        if value is not None:
            pp[param] = float(value)
    x = np.asarray(x, float).ravel()
    A = np.asarray(vf.jacobian(x, pp))
    ev, V = np.linalg.eig(A)
    scale = 1.0 + np.max(np.abs(ev))
    cand = np.where(ev.imag > 1e-9 * scale)[0]
    if not len(cand):
        raise BraindynError(f"first_lyapunov: the Jacobian at {x.tolist()} has no complex pair (eigenvalues "
                            f"{np.round(ev, 6).tolist()}); pass a located Hopf point.")
    k = cand[np.argmin(np.abs(ev.real[cand]))]
    if abs(ev[k].real) > 1e-5 * scale:
        raise BraindynError(f"first_lyapunov: the critical pair {ev[k]:.6g} is not on the imaginary axis; "
                            f"pass a located Hopf point (Branch.hopfs).")
    omega = float(ev[k].imag)
    q = V[:, k] / np.linalg.norm(V[:, k])
    evT, W = np.linalg.eig(A.T)
    pv = W[:, np.argmin(np.abs(evT + 1j * omega))]
    pv = pv / np.conj(np.vdot(pv, q))
    P = {k_: jnp.asarray(v, float) for k_, v in pp.items()}
    return _l1(vf, x, P, q, pv, omega)


def criticality(l1: float, tol: float = 1e-12) -> str:
    """``"supercritical"`` (:math:`\\ell_1 < 0`), ``"subcritical"`` (:math:`> 0`) or
    ``"degenerate"`` (:math:`|\\ell_1| \\le` ``tol``: a Bautin point)."""
    if not np.isfinite(l1) or abs(l1) <= tol:
        return "degenerate"
    return "supercritical" if l1 < 0 else "subcritical"
