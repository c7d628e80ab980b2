r"""E-prop (Bellec et al. 2020): an online approximation of the BPTT gradient of a recurrent
spiking network, from eligibility traces and a learning signal.

The network (any braindyn spiking population: :class:`~braindyn.neurons.LIF`,
:class:`~braindyn.neurons.GIF` with adaptation, ...) with input :math:`x_t` and a leaky
linear read-out:

.. math::
    I_t = W^{in} x_t + W^{rec} z_t \;(\text{diagonal unused}), \qquad
    (h_{t+1}, z_{t+1}) = \text{neuron step}(h_t, I_t), \\
    y_{t+1} = \kappa\, y_t + W^{out} z_{t+1} + b^{out}, \qquad
    E = \sum_t \ell(y_{t+1}, y^*_t), \qquad \kappa = e^{-\Delta t/\tau_{out}},

with :math:`h_j` the hidden variables of neuron :math:`j` (``V``, and the adaptation
variables of an adaptive neuron) and :math:`z_j` its (surrogate-gradient) spike. E-prop keeps,
for every synapse :math:`i \to j`, an eligibility vector :math:`\epsilon_{ji}` and trace
:math:`e_{ji}` built from the neuron's *own* Jacobians only (computed here by
``jax.jvp`` of the neuron's step, so any braindyn neuron works):

.. math::
    \epsilon^{t+1}_{ji} = \frac{\partial h^{t+1}_j}{\partial h^t_j}\epsilon^t_{ji}
        + \frac{\partial h^{t+1}_j}{\partial I^t_j}\, \text{pre}^t_i, \qquad
    e^{t+1}_{ji} = \frac{\partial z^{t+1}_j}{\partial h^t_j}\epsilon^t_{ji}
        + \frac{\partial z^{t+1}_j}{\partial I^t_j}\, \text{pre}^t_i, \\
    \bar e^{t+1}_{ji} = \kappa\,\bar e^t_{ji} + e^{t+1}_{ji}, \qquad
    L^{t+1}_j = \sum_k B_{jk}\,\frac{\partial \ell_t}{\partial y^{t+1}_k}, \qquad
    \widehat{\frac{dE}{dW_{ji}}} = \sum_t L^{t+1}_j\,\bar e^{t+1}_{ji},

with :math:`\text{pre} = x` for :math:`W^{in}` and :math:`z` for :math:`W^{rec}`, and
:math:`B = W^{out\top}` (symmetric e-prop) or a fixed random matrix (random e-prop). The
read-out gradients are exact. What e-prop drops is every path through *other* neurons'
future spikes (:math:`W^{rec}`): with :math:`W^{rec} = 0` it is the exact gradient, and the
cosine similarity with BPTT measures the approximation otherwise. With ``detach_reset=True``
(the neurons' default) the reset is not differentiated, as in Bellec et al. (2020).

Memory: :math:`O(n (n_{in} + n) k)` for :math:`k` hidden variables per neuron, independent of
the sequence length (BPTT: :math:`O(T\,n k)`); compute per step :math:`O(n (n_{in}+n) k^2)`.
"""
from __future__ import annotations

from typing import Callable, Optional

import jax
import jax.numpy as jnp

from .._errors import BraindynError

__all__ = ["rsnn_loss", "eprop_grad", "init_rsnn_weights"]


def init_rsnn_weights(key, n_in: int, n: int, n_out: int, *, scale_in: float = 1.0, scale_rec: float = 1.0,
                      scale_out: float = 1.0, dtype=None):
    r"""Random weights ``{"W_in" (n, n_in), "W_rec" (n, n), "W_out" (n_out, n), "b_out" (n_out)}``,
    Gaussian with standard deviations ``scale/sqrt(fan_in)`` (the recurrent diagonal is zero).

    Example
    -------
    >>> w = init_rsnn_weights(0, 3, 10, 2)
    >>> w["W_rec"].shape, float(w["W_rec"][4, 4])
    ((10, 10), 0.0)
    """
    key = jax.random.PRNGKey(key) if isinstance(key, int) else key
    k1, k2, k3 = jax.random.split(key, 3)
    dtype = dtype or jnp.zeros(()).dtype
    return {
        "W_in": scale_in * jax.random.normal(k1, (n, n_in), dtype) / jnp.sqrt(n_in),
        "W_rec": scale_rec * jax.random.normal(k2, (n, n), dtype) / jnp.sqrt(n) * (1 - jnp.eye(n, dtype=dtype)),
        "W_out": scale_out * jax.random.normal(k3, (n_out, n), dtype) / jnp.sqrt(n),
        "b_out": jnp.zeros((n_out,), dtype),
    }


def _check(neurons, weights, xs):
    n = getattr(neurons, "n", None)
    for k in ("W_in", "W_rec", "W_out", "b_out"):
        if k not in weights:
            raise BraindynError(f"e-prop: weights must have 'W_in', 'W_rec', 'W_out', 'b_out'; {k!r} is missing. "
                                f"Fix: weights = init_rsnn_weights(key, n_in, n, n_out).")
    n_in = xs.shape[-1]
    shapes = {"W_in": (n, n_in), "W_rec": (n, n), "W_out": (weights["b_out"].shape[0], n)}
    for k, shp in shapes.items():
        if tuple(weights[k].shape) != shp:
            raise BraindynError(f"e-prop: weights[{k!r}] has shape {tuple(weights[k].shape)}, expected {shp} for "
                                f"{n} neurons and {n_in} inputs. Fix: weights = init_rsnn_weights(key, {n_in}, {n}, "
                                f"n_out).")


def _hidden(neurons):
    return tuple(neurons.variables)


def _net_step(neurons, W, s, x, t, dt):
    """One step of the network: (new neuron state, input current)."""
    n = neurons.n
    W_rec = W["W_rec"] * (1 - jnp.eye(n, dtype=W["W_rec"].dtype))
    I = W["W_in"] @ x + W_rec @ s["spike"]
    s_new, _ = neurons.step(s, {"I": I}, t, dt)
    return s_new, I


def rsnn_loss(neurons, weights, xs, targets, dt: float, loss_fn: Callable, tau_out: float = 20.0, t0: float = 0.0):
    r"""The loss :math:`E = \sum_t \ell(y_{t+1}, y^*_t)` of the network of the module docstring
    (differentiable: ``jax.grad`` of it is the BPTT gradient e-prop approximates).

    Parameters
    ----------
    neurons : SpikingNeuron
        The population (``n`` neurons, input ``I``).
    weights : dict
        ``W_in`` (n, n_in), ``W_rec`` (n, n), ``W_out`` (n_out, n), ``b_out`` (n_out).
    xs : array (T, n_in)
        Input at each step.
    targets : PyTree with leading axis T
        Target of each step, passed to ``loss_fn``.
    dt : float
        Time step (ms).
    loss_fn : callable
        ``loss_fn(y, target) -> scalar`` for one step (``y`` the read-out, shape (n_out,)).
    tau_out : float
        Read-out time constant (ms): :math:`\kappa = e^{-\Delta t/\tau_{out}}`.
    t0 : float
        Time of the first step (ms).

    Returns
    -------
    ``(E, ys)``: the loss and the read-out at every step (T, n_out).
    """
    _check(neurons, weights, xs)
    dtype = xs.dtype
    kappa = jnp.exp(-dt / jnp.asarray(tau_out, dtype))
    s0 = neurons.init_state(dtype=dtype)

    def body(carry, inp):
        s, y = carry
        x, tgt, t = inp
        s, _ = _net_step(neurons, weights, s, x, t, dt)
        y = kappa * y + weights["W_out"] @ s["spike"] + weights["b_out"]
        return (s, y), (loss_fn(y, tgt), y)

    T = xs.shape[0]
    ts = t0 + dt * jnp.arange(T, dtype=dtype)
    y0 = jnp.zeros(weights["b_out"].shape, dtype)
    _, (ls, ys) = jax.lax.scan(body, (s0, y0), (xs, targets, ts))
    return jnp.sum(ls), ys


def eprop_grad(neurons, weights, xs, targets, dt: float, loss_fn: Callable, tau_out: float = 20.0,
               feedback: Optional[jax.Array] = None, t0: float = 0.0):
    r"""Loss and e-prop gradient of :func:`rsnn_loss`, computed forward in one pass (online).

    Parameters are those of :func:`rsnn_loss`, plus ``feedback``: the matrix :math:`B` (n, n_out)
    that broadcasts the output error to the neurons (default :math:`W^{out\top}`, symmetric
    e-prop; a fixed random matrix gives random e-prop). A mini-batch is a ``jax.vmap`` over
    trials (``xs``, ``targets``) with the mean of the gradients.

    Returns
    -------
    ``(E, grads)``: the loss (the same value as :func:`rsnn_loss`) and a dict like ``weights``.

    Example
    -------
    >>> import jax, jax.numpy as jnp, braindyn as bd
    >>> lif = bd.neurons.LIF(n=4, V_rest=0.0, V_reset=0.0, V_th=1.0, tau=10.0, t_ref=0.0)
    >>> W = init_rsnn_weights(0, 2, 4, 1, scale_in=3.0)
    >>> xs = jnp.ones((50, 2)); ys = jnp.ones((50, 1))
    >>> mse = lambda y, t: jnp.sum((y - t) ** 2)
    >>> E, g = eprop_grad(lif, W, xs, ys, 1.0, mse)
    >>> bool(jnp.isclose(E, rsnn_loss(lif, W, xs, ys, 1.0, mse)[0])), g["W_in"].shape
    (True, (4, 2))
    """
    _check(neurons, weights, xs)
    dtype = xs.dtype
    n, n_in = weights["W_in"].shape
    n_pre = n_in + n
    names = _hidden(neurons)
    k = len(names)
    kappa = jnp.exp(-dt / jnp.asarray(tau_out, dtype))
    B = weights["W_out"].T if feedback is None else jnp.asarray(feedback, dtype)
    if B.shape != (n, weights["W_out"].shape[0]):
        raise BraindynError(f"eprop_grad: feedback has shape {B.shape}, expected {(n, weights['W_out'].shape[0])} "
                            f"(neurons, outputs).")
    s0 = neurons.init_state(dtype=dtype)
    mask = 1 - jnp.eye(n, dtype=dtype)

    def local(s, I, t):
        """Neuron step as a function of its hidden variables and input current only."""
        def f(hv, Iv):
            st = dict(s)
            st.update({nm: hv[i] for i, nm in enumerate(names)})
            new, _ = neurons.step(st, {"I": Iv}, t, dt)
            return jnp.stack([new[nm] for nm in names]), new["spike"]

        hv = jnp.stack([s[nm] for nm in names])  # (k, n)
        (h_new, z_new) = f(hv, I)
        # d(h', z')/dh_m for each hidden variable m (elementwise across neurons): k JVPs
        eye = jnp.eye(k, dtype=dtype)
        dh, dz = jax.vmap(lambda e: jax.jvp(f, (hv, I), (jnp.broadcast_to(e[:, None], (k, n)),
                                                          jnp.zeros_like(I)))[1])(eye)
        # dh: (m, k', n) = d h'_{k'} / d h_m ; dz: (m, n)
        dhI, dzI = jax.jvp(f, (hv, I), (jnp.zeros_like(hv), jnp.ones_like(I)))[1]
        return dh, dz, dhI, dzI

    def body(carry, inp):
        s, y, eps, ebar, zbar, bbar, G_in_rec, G_out, G_b, E = carry
        x, tgt, t = inp
        pre = jnp.concatenate([x, s["spike"]])                       # (n_pre,)
        s_new, I = _net_step(neurons, weights, s, x, t, dt)
        dh, dz, dhI, dzI = local(s, I, t)
        # eligibility vector eps: (k, n, n_pre); trace e: (n, n_pre)
        e = jnp.einsum("mn,mnp->np", dz, eps) + dzI[:, None] * pre[None, :]
        eps = jnp.einsum("mkn,mnp->knp", dh, eps) + dhI[:, :, None] * pre[None, None, :]
        ebar = kappa * ebar + e
        z = s_new["spike"]
        y = kappa * y + weights["W_out"] @ z + weights["b_out"]
        l, delta = jax.value_and_grad(loss_fn)(y, tgt)
        L = B @ delta                                                 # learning signal (n,)
        G_in_rec = G_in_rec + L[:, None] * ebar
        zbar = kappa * zbar + z
        bbar = kappa * bbar + 1.0
        G_out = G_out + jnp.outer(delta, zbar)
        G_b = G_b + delta * bbar
        return (s_new, y, eps, ebar, zbar, bbar, G_in_rec, G_out, G_b, E + l), None

    n_out = weights["b_out"].shape[0]
    carry0 = (s0, jnp.zeros((n_out,), dtype), jnp.zeros((k, n, n_pre), dtype), jnp.zeros((n, n_pre), dtype),
              jnp.zeros((n,), dtype), jnp.zeros((), dtype), jnp.zeros((n, n_pre), dtype),
              jnp.zeros((n_out, n), dtype), jnp.zeros((n_out,), dtype), jnp.zeros((), dtype))
    T = xs.shape[0]
    ts = t0 + dt * jnp.arange(T, dtype=dtype)
    out, _ = jax.lax.scan(body, carry0, (xs, targets, ts))
    G_in_rec, G_out, G_b, E = out[6], out[7], out[8], out[9]
    grads = {"W_in": G_in_rec[:, :n_in], "W_rec": G_in_rec[:, n_in:] * mask, "W_out": G_out, "b_out": G_b}
    return E, grads
