"""Multiple shooting for periodic orbits: one compiled kernel, host-side assembly.

The unknowns are ``u = (X_0, ..., X_{M-1}, T, lam)``: ``M`` segment starts on the orbit, the
period and the free parameter. Segment ``i`` is ``n_mesh // M`` classical RK4 steps of
:math:`h = T / n_{mesh}` from :math:`X_i`; its end :math:`E_i` must meet the next start:

.. math::
    E_i(X_i, T, \\lambda) - X_{(i+1) \\bmod M} = 0, \\qquad
    f_{ref} \\cdot (X_0 - x_{ref}) = 0 \\;\\text{(phase condition)} .

Everything that is compiled is a single function per field, mesh and free parameter,
:func:`_kernel` ``["lin"]``: the ends :math:`E_i`, their Jacobians
:math:`\\partial E_i/\\partial(X_i, T, \\lambda)` (forward mode, the :math:`n + 2` tangents carried
through the RK4 scan) and the running min/max of every segment, for all segments in one
``vmap``. The sparse Jacobian of the residual, the monodromy matrix
:math:`M = \\prod_i \\partial E_i/\\partial X_i` (Floquet multipliers) and the extremes of the orbit
are assembled on the host in NumPy. A continuation step thus costs one kernel call per Newton
iteration and nothing is re-traced when parameters change (they are arguments, not constants).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

_KERNELS: dict = {}


def _kernel(fn, n: int, n_mesh: int, n_seg: int, name):
    """Compiled ``lin(X, T, lam, q)`` and ``orbit(X, T, lam, q)`` for the field ``fn`` (cached)."""
    key = (fn, n, n_mesh, n_seg, name)
    k = _KERNELS.get(key)
    if k is not None:
        return k
    steps = max(1, n_mesh // n_seg)

    def pars(q, lam):
        return {**q, name: lam} if name is not None else q

    def rk4(x, h, p):
        k1 = fn(x, p)
        k2 = fn(x + 0.5 * h * k1, p)
        k3 = fn(x + 0.5 * h * k2, p)
        k4 = fn(x + h * k3, p)
        return x + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)

    def flow_minmax(x0, T, lam, q):
        p, h = pars(q, lam), T / (steps * n_seg)

        def step(c, _):
            x, lo, hi = c
            x = rk4(x, h, p)
            return (x, jnp.minimum(lo, x), jnp.maximum(hi, x)), None

        return jax.lax.scan(step, (x0, x0, x0), None, length=steps)[0]

    def lin(X, T, lam, q):
        def one(x0):
            def end(z):
                xe, lo, hi = flow_minmax(z[:n], z[n], z[n + 1], q)
                return xe, (xe, lo, hi)

            D, (xe, lo, hi) = jax.jacfwd(end, has_aux=True)(jnp.concatenate([x0, jnp.stack([T, lam])]))
            return xe, D, lo, hi

        return jax.vmap(one)(X)

    def orbit(X, T, lam, q):
        p, h = pars(q, lam), T / (steps * n_seg)

        def seg(x0):
            def step(x, _):
                x = rk4(x, h, p)
                return x, x

            return jax.lax.scan(step, x0, None, length=steps)[1]

        return jax.vmap(seg)(X)

    k = {"lin": jax.jit(lin), "orbit": jax.jit(orbit), "steps": steps}
    _KERNELS[key] = k
    return k


class Shooting:
    """Host-side multiple-shooting system around :func:`_kernel` (see the module docstring).

    ``name`` is the free parameter (``None``: none; its column of the Jacobian is then zero),
    ``pp`` the full parameter dict. Results of the kernel are memoised for the last few ``u``
    so that a residual and its Jacobian at the same point cost one call.
    """

    def __init__(self, fn, n, n_mesh, n_seg, name, pp):
        self.n, self.M = int(n), int(n_seg)
        self.m = self.n * self.M
        self.name = name
        self.k = _kernel(fn, self.n, int(n_mesh), self.M, name)
        self.q = {k: jnp.asarray(v, float) for k, v in pp.items() if k != name}
        self.lam0 = float(pp[name]) if name is not None else 0.0
        self._memo: dict = {}

    # -- kernel ------------------------------------------------------------------------------
    def lin(self, u):
        u = np.asarray(u, float)
        key = u.tobytes()
        r = self._memo.get(key)
        if r is None:
            X = jnp.asarray(u[:self.m].reshape(self.M, self.n))
            out = self.k["lin"](X, jnp.asarray(u[self.m]), jnp.asarray(u[self.m + 1]), self.q)
            r = tuple(np.asarray(a) for a in out)
            if len(self._memo) > 16:
                self._memo.clear()
            self._memo[key] = r
        return r

    def starts(self, u):
        return np.asarray(u[:self.m], float).reshape(self.M, self.n)

    # -- residual and Jacobian -----------------------------------------------------------------
    def gaps(self, u):
        E = self.lin(u)[0]
        return (E - np.roll(self.starts(u), -1, axis=0)).ravel()

    def gaps_jac(self, u):
        """``(m, m + 2)`` Jacobian of the gaps in ``(X, T, lam)``."""
        D = self.lin(u)[1]
        n, M, m = self.n, self.M, self.m
        J = np.zeros((m, m + 2))
        eye = np.eye(n)
        for i in range(M):
            r = slice(i * n, (i + 1) * n)
            j = (i + 1) % M
            J[r, i * n:(i + 1) * n] += D[i][:, :n]
            J[r, j * n:(j + 1) * n] -= eye
            J[r, m:] = D[i][:, n:]
        return J

    def resid(self, u, ref):
        """Gaps and the phase condition ``f_ref . (X_0 - x_ref)``: shape ``(m + 1,)``."""
        return np.concatenate([self.gaps(u), [np.dot(ref[1], u[:self.n] - ref[0])]])

    def jac(self, u, ref):
        """``(m + 1, m + 2)`` Jacobian of :meth:`resid`."""
        row = np.zeros(self.m + 2)
        row[:self.n] = ref[1]
        return np.vstack([self.gaps_jac(u), row])

    # -- cycle data ----------------------------------------------------------------------------
    def monodromy(self, u):
        D = self.lin(u)[1]
        P = np.eye(self.n)
        for i in range(self.M):
            P = D[i][:, :self.n] @ P
        return P

    def multipliers(self, u):
        """Floquet multipliers: eigenvalues of the monodromy matrix. For planar fields the
        non-trivial one is computed as :math:`\\mu_2 = \\det M = \\prod_i \\det(\\partial E_i/\\partial X_i)`
        (Liouville), next to the exact trivial multiplier 1: near a homoclinic orbit the entries of
        :math:`M` grow like :math:`e^{\\lambda_u T}` and its eigenvalues lose all accuracy, the
        determinants of the segments do not."""
        if self.n == 2:
            D = self.lin(u)[1]
            mu2 = float(np.prod([np.linalg.det(D[i][:, :2]) for i in range(self.M)]))
            return np.array([1.0 + 0j, mu2 + 0j])
        return np.linalg.eigvals(self.monodromy(u))

    def extremes(self, u):
        _, _, lo, hi = self.lin(u)
        return lo.min(0), hi.max(0)

    def orbit(self, u):
        """One period sampled at every RK4 step, shape ``(M * steps + 1, n)``."""
        X = self.starts(u)
        xs = np.asarray(self.k["orbit"](jnp.asarray(X), jnp.asarray(u[self.m]), jnp.asarray(u[self.m + 1]), self.q))
        return np.concatenate([X[:1], xs.reshape(-1, self.n)])

    def spread(self, x0, T):
        """Segment starts along the RK4 orbit from ``x0`` (``M - 1`` kernel calls)."""
        X = [np.asarray(x0, float)]
        for _ in range(self.M - 1):
            u = np.concatenate([np.tile(X[-1], self.M), [T, self.lam0]])
            X.append(self.lin(u)[0][0])
        return np.array(X)
