r"""Offline readouts fitted on recorded states: ridge, least squares, lasso, logistic regression,
cross-validated ridge, and the error measures of reservoir computing.

All fits take a design matrix :math:`X` ``(n_samples, n_features)`` (e.g. the recorded states of
a reservoir, washout removed) and targets :math:`Y` ``(n_samples,)`` or
``(n_samples, n_outputs)``, and return a readout module (an ``equinox.Module``: weights
:math:`W` ``(n_features, n_outputs)`` and bias :math:`b`, both array leaves, so the readout can
be jitted, vmapped and differentiated like every braindyn model). With ``bias=True`` (the
default) the bias is fitted and **not** penalised:

.. math::
    \text{ridge:}\quad \min_{W, b}\ \lVert X W + \mathbf 1 b^\top - Y\rVert_F^2
        + \beta \lVert W\rVert_F^2 ,

    \text{lasso:}\quad \min_{W, b}\ \frac{1}{2n}\lVert X W + \mathbf 1 b^\top - Y\rVert_F^2
        + \alpha \lVert W\rVert_1 ,

    \text{logistic (multinomial):}\quad \min_{W, b}\ -\frac1n \sum_i \log
        \operatorname{softmax}(W^\top x_i + b)_{y_i} + \frac{\beta}{2}\lVert W\rVert_F^2 .

The ridge problem is solved through the SVD of the centred design, :math:`X_c = U S V^\top`,
:math:`W = V\,\operatorname{diag}\!\big(s/(s^2+\beta)\big)\,U^\top Y_c`,
:math:`b = \bar y - W^\top \bar x` -- never by forming :math:`(X^\top X + \beta I)^{-1}`, whose
condition number is the square of that of :math:`X`.

Example
-------
>>> import numpy as np
>>> from braindyn.train import ridge
>>> X = np.random.default_rng(0).normal(size=(100, 3))
>>> Y = X @ np.array([1.0, -2.0, 0.5]) + 3.0
>>> ro = ridge(X, Y, beta=1e-6)
>>> np.round(np.asarray(ro.W), 3).tolist(), round(float(ro.b), 3)
([1.0, -2.0, 0.5], 3.0)
"""
from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._errors import BraindynError

__all__ = ["LinearReadout", "LogisticReadout", "ridge", "least_squares", "lasso", "logistic", "ridge_cv",
           "RidgeCV", "nrmse", "mae"]


# ------------------------------------------------------------------------------------------ helpers
def _float(x):
    x = jnp.asarray(x)
    return x if jnp.issubdtype(x.dtype, jnp.floating) else x.astype(jnp.result_type(float))


def _design(X, owner):
    X = _float(X)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise BraindynError(f"{owner}: the design matrix X must be 2-D (n_samples, n_features), got shape "
                            f"{X.shape}. Fix: reshape the recorded states, e.g. X.reshape(len(X), -1).")
    if X.shape[0] < 1:
        raise BraindynError(f"{owner}: X has no samples (shape {X.shape}).")
    return X


def _targets(X, Y, owner):
    Y = _float(Y)
    vector = Y.ndim == 1
    Y2 = Y[:, None] if vector else Y
    if Y2.ndim != 2 or Y2.shape[0] != X.shape[0]:
        raise BraindynError(f"{owner}: Y has shape {Y.shape} but X has {X.shape[0]} samples. Fix: pass Y of shape "
                            f"({X.shape[0]},) or ({X.shape[0]}, n_outputs), one row per row of X.")
    return Y2.astype(X.dtype), vector


def _check_reg(name, value, owner):
    if not np.isfinite(value) or value < 0:
        raise BraindynError(f"{owner}: the regularisation {name}={value!r} must be a finite number >= 0. "
                            f"Fix: e.g. {name}=1e-6.")


class LinearReadout(eqx.Module):
    r"""A linear readout :math:`\hat y = W^\top x + b`.

    Attributes
    ----------
    W : array ``(n_features,)`` or ``(n_features, n_outputs)``
        Weights.
    b : array ``()`` or ``(n_outputs,)``
        Bias (0 when fitted with ``bias=False``).

    Example
    -------
    >>> import jax.numpy as jnp
    >>> ro = LinearReadout(jnp.array([[1.0], [2.0]]), jnp.array([0.5]))
    >>> ro(jnp.array([[1.0, 1.0]])).tolist()
    [[3.5]]
    """

    W: Any
    b: Any

    def __call__(self, X):
        """Predictions for the rows of ``X`` (or for one state vector)."""
        return jnp.asarray(X) @ self.W + self.b


def _shape_out(W, b, vector):
    return LinearReadout(W[:, 0], b[0]) if vector else LinearReadout(W, b)


# ------------------------------------------------------------------------------------------ ridge
def _centre(X, Y, bias):
    if not bias:
        return X, Y, jnp.zeros(X.shape[1], X.dtype), jnp.zeros(Y.shape[1], X.dtype)
    xm, ym = X.mean(0), Y.mean(0)
    return X - xm, Y - ym, xm, ym


def ridge(X, Y, beta: float = 1e-6, *, bias: bool = True) -> LinearReadout:
    r"""Ridge regression (Tikhonov), closed form through the SVD.

    .. math::
        \min_{W, b}\ \lVert X W + \mathbf 1 b^\top - Y\rVert_F^2 + \beta \lVert W\rVert_F^2,
        \qquad W = V \operatorname{diag}\!\Big(\frac{s_k}{s_k^2 + \beta}\Big) U^\top (Y - \bar y),
        \quad b = \bar y - W^\top \bar x

    with :math:`X - \mathbf 1\bar x^\top = U S V^\top` (thin SVD). Equivalently the least-squares
    solution of the augmented system :math:`\begin{bmatrix} X & \mathbf 1\\ \sqrt\beta I & 0
    \end{bmatrix} \begin{bmatrix} W \\ b^\top\end{bmatrix} = \begin{bmatrix} Y \\ 0\end{bmatrix}`
    (the bias column is not penalised). ``beta = 0`` gives the minimum-norm least-squares
    solution.

    Parameters
    ----------
    X : array ``(n_samples, n_features)``
        Design (e.g. reservoir states).
    Y : array ``(n_samples,)`` or ``(n_samples, n_outputs)``
        Targets (several outputs are fitted at once).
    beta : float
        Regularisation :math:`\beta \ge 0` (unit of :math:`Y^2 / W^2`; scale-dependent).
    bias : bool
        Fit an unpenalised bias (default) or force :math:`b = 0`.

    Returns
    -------
    LinearReadout

    Example
    -------
    >>> import numpy as np
    >>> X = np.eye(3)
    >>> ro = ridge(X, np.array([1.0, 2.0, 3.0]), beta=1.0, bias=False)
    >>> np.round(np.asarray(ro.W), 3).tolist()        # s/(s^2+beta) = 1/2
    [0.5, 1.0, 1.5]
    """
    _check_reg("beta", float(beta), "ridge")
    X = _design(X, "ridge")
    Y, vector = _targets(X, Y, "ridge")
    Xc, Yc, xm, ym = _centre(X, Y, bias)
    U, s, Vt = jnp.linalg.svd(Xc, full_matrices=False)
    if beta > 0:
        d = s / (s * s + beta)
    else:  # minimum-norm least squares: drop singular values at round-off level
        cut = s[0] * max(Xc.shape) * jnp.finfo(Xc.dtype).eps if s.size else 0.0
        d = jnp.where(s > cut, 1.0 / jnp.where(s > cut, s, 1.0), 0.0)
    W = Vt.T @ (d[:, None] * (U.T @ Yc))
    b = ym - xm @ W
    return _shape_out(W, b, vector)


def least_squares(X, Y, *, bias: bool = True) -> LinearReadout:
    r"""Ordinary least squares, :math:`\min_{W,b} \lVert XW + \mathbf 1 b^\top - Y\rVert_F^2`
    (minimum-norm solution when :math:`X` is rank-deficient): :func:`ridge` with :math:`\beta=0`.

    Example
    -------
    >>> import numpy as np
    >>> x = np.arange(5.0)
    >>> ro = least_squares(x[:, None], 2 * x + 1)
    >>> round(float(ro.W[0]), 6), round(float(ro.b), 6)
    (2.0, 1.0)
    """
    return ridge(X, Y, 0.0, bias=bias)


# ------------------------------------------------------------------------------------------ lasso
def _soft(x, a):
    return jnp.sign(x) * jnp.maximum(jnp.abs(x) - a, 0.0)


@jax.jit
def _lasso_cd(Xc, Yc, alpha, tol, max_sweeps):
    n, p = Xc.shape
    col2 = jnp.sum(Xc * Xc, axis=0) / n                     # (p,)
    safe = jnp.where(col2 > 0, col2, 1.0)

    def sweep(carry):
        W, R, _, k = carry                                   # R = Yc - Xc W

        def coord(j, c):
            W, R, dmax = c
            xj = Xc[:, j]
            wj = W[j]
            rho = xj @ R / n + col2[j] * wj                  # (q,)
            new = jnp.where(col2[j] > 0, _soft(rho, alpha) / safe[j], 0.0)
            R = R - jnp.outer(xj, new - wj)
            dmax = jnp.maximum(dmax, jnp.max(jnp.abs(new - wj)))
            return W.at[j].set(new), R, dmax

        W, R, dmax = jax.lax.fori_loop(0, p, coord, (W, R, jnp.zeros((), Xc.dtype)))
        return W, R, dmax, k + 1

    def cond(carry):
        W, _, dmax, k = carry
        scale = jnp.maximum(jnp.max(jnp.abs(W)), 1.0)
        return (k < max_sweeps) & (dmax > tol * scale)

    W0 = jnp.zeros((p, Yc.shape[1]), Xc.dtype)
    W, R, dmax, k = jax.lax.while_loop(cond, sweep, (W0, Yc, jnp.asarray(jnp.inf, Xc.dtype), 0))
    return W, k


def lasso(X, Y, alpha: float, *, bias: bool = True, tol: float = 1e-10, max_sweeps: int = 10000) -> LinearReadout:
    r"""Lasso (L1-penalised least squares) by cyclic coordinate descent.

    .. math::
        \min_{W, b}\ \frac{1}{2n}\lVert X W + \mathbf 1 b^\top - Y\rVert_F^2 + \alpha \lVert W\rVert_1,
        \qquad w_{jk} \leftarrow \frac{S\!\big(\tfrac1n x_j^\top r_k + \lVert x_j\rVert^2 w_{jk}/n,\ \alpha\big)}
        {\lVert x_j\rVert^2/n}

    with :math:`S(z, a) = \operatorname{sign}(z)\max(|z| - a, 0)` the soft threshold and
    :math:`r_k` the residual of output :math:`k` (the objective of scikit-learn's ``Lasso``).
    The bias is fitted on centred data and not penalised. Sweeps stop when no weight moved by
    more than ``tol`` times :math:`\max(1, \max|W|)`.

    Parameters
    ----------
    X, Y : arrays
        Design ``(n_samples, n_features)`` and targets ``(n_samples[, n_outputs])``.
    alpha : float
        L1 penalty :math:`\alpha \ge 0` (unit of :math:`Y\cdot X`/n scale; ``alpha = 0`` is least
        squares by coordinate descent).
    bias : bool
        Fit an unpenalised bias.
    tol : float
        Convergence tolerance on the largest weight change of a sweep (relative).
    max_sweeps : int
        Most sweeps over the features.

    Example
    -------
    >>> import numpy as np
    >>> X = np.random.default_rng(1).normal(size=(200, 4))
    >>> y = 3.0 * X[:, 0] + 0.01 * X[:, 3]
    >>> ro = lasso(X, y, alpha=0.1)
    >>> round(float(ro.W[0]), 1), [float(abs(w)) for w in ro.W[1:]]   # small coefficients: exactly 0
    (2.9, [0.0, 0.0, 0.0])
    """
    _check_reg("alpha", float(alpha), "lasso")
    X = _design(X, "lasso")
    Y, vector = _targets(X, Y, "lasso")
    Xc, Yc, xm, ym = _centre(X, Y, bias)
    W, _ = _lasso_cd(Xc, Yc, jnp.asarray(alpha, X.dtype), jnp.asarray(tol, X.dtype), int(max_sweeps))
    b = ym - xm @ W
    return _shape_out(W, b, vector)


# ------------------------------------------------------------------------------------------ logistic
class LogisticReadout(eqx.Module):
    r"""A logistic-regression readout.

    Binary (``W`` of shape ``(n_features,)``): :math:`p(y=1\mid x) = \sigma(W^\top x + b)`;
    multinomial (``W`` ``(n_features, n_classes)``): :math:`p(y=k\mid x) =
    \operatorname{softmax}(W^\top x + b)_k`.

    Example
    -------
    >>> import jax.numpy as jnp
    >>> ro = LogisticReadout(jnp.array([2.0]), jnp.array(0.0))
    >>> ro.predict(jnp.array([[-1.0], [1.0]])).tolist()
    [0, 1]
    """

    W: Any
    b: Any

    def __call__(self, X):
        """The logits :math:`W^\\top x + b`."""
        return jnp.asarray(X) @ self.W + self.b

    def predict_proba(self, X):
        """Class probabilities: :math:`p(y=1)` ``(n,)`` (binary) or ``(n, n_classes)``."""
        z = self(X)
        return jax.nn.sigmoid(z) if self.W.ndim == 1 else jax.nn.softmax(z, axis=-1)

    def predict(self, X):
        """The most probable class of each row (integers)."""
        z = self(X)
        return (z > 0).astype(jnp.int32) if self.W.ndim == 1 else jnp.argmax(z, axis=-1).astype(jnp.int32)


def logistic_objective(params, X, y, beta, binary):
    r"""The penalised mean negative log-likelihood minimised by :func:`logistic`
    (``params = (W, b)``; ``y`` integer labels)."""
    W, b = params
    z = X @ W + b
    if binary:
        nll = jnp.mean(jax.nn.softplus(z) - y * z)
    else:
        nll = -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(z, axis=-1), y[:, None], axis=1))
    return nll + 0.5 * beta * jnp.sum(W * W)


def logistic(X, y, beta: float = 1e-4, *, n_classes: int | None = None, bias: bool = True, tol: float = 1e-10,
             max_iter: int = 100) -> LogisticReadout:
    r"""L2-penalised logistic regression (binary or multinomial) by Newton's method.

    .. math::
        \min_{W,b}\ -\frac1n\sum_i \log p(y_i \mid x_i) + \frac{\beta}{2}\lVert W\rVert_F^2

    with the sigmoid model for two classes and the softmax model for more (see
    :class:`LogisticReadout`). The bias is not penalised. Each Newton step solves the
    Hessian system in the least-squares sense (the softmax biases are defined up to a common
    constant; the solution keeps their sum at 0) with a backtracking line search; it stops
    when the step's decrease estimate falls below ``tol``. The Hessian is dense,
    :math:`(K(p+1))^2` entries, so this suits readouts of up to a few hundred features; for
    thousands (e.g. every neuron of a liquid in several time bins) fit :func:`ridge` to one-hot
    labels and take the arg-max, as the ``lsm`` gallery entry does.

    Parameters
    ----------
    X : array ``(n_samples, n_features)``
    y : int array ``(n_samples,)``
        Labels ``0 .. n_classes - 1``.
    beta : float
        L2 penalty (>= 0; > 0 makes the problem strictly convex in :math:`W`).
    n_classes : int, optional
        Number of classes (default ``max(y) + 1``); 2 uses the binary (sigmoid) model.
    bias : bool
        Fit an unpenalised bias.
    tol, max_iter : float, int
        Stopping rule of the Newton iteration.

    Example
    -------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(300, 2))
    >>> y = (X[:, 0] + X[:, 1] > 0).astype(int)
    >>> ro = logistic(X, y, beta=1e-2)
    >>> float((np.asarray(ro.predict(X)) == y).mean()) > 0.97
    True
    """
    _check_reg("beta", float(beta), "logistic")
    X = _design(X, "logistic")
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != X.shape[0] or not np.issubdtype(y.dtype, np.integer) or (y.size and y.min() < 0):
        raise BraindynError(f"logistic: y must be non-negative integer labels of shape ({X.shape[0]},), got dtype "
                            f"{y.dtype} and shape {y.shape}. Fix: y = np.asarray(labels, int).")
    K = int(y.max()) + 1 if n_classes is None else int(n_classes)
    if K < 2 or (y.size and y.max() >= K):
        raise BraindynError(f"logistic: n_classes={K!r} must be >= 2 and larger than every label (max label "
                            f"{int(y.max()) if y.size else None}). Fix: pass n_classes=max(y) + 1.")
    binary = K == 2
    yj = jnp.asarray(y, X.dtype if binary else jnp.int32)
    p = X.shape[1]
    W0 = jnp.zeros((p,) if binary else (p, K), X.dtype)
    b0 = jnp.zeros(() if binary else (K,), X.dtype)
    (W, b), _ = _newton(X, yj, jnp.asarray(beta, X.dtype), W0, b0, binary, bias, float(tol), int(max_iter))
    return LogisticReadout(W, b)


def _newton(X, y, beta, W0, b0, binary, bias, tol, max_iter):
    from jax.flatten_util import ravel_pytree

    theta0, unravel = ravel_pytree((W0, b0))

    def obj(theta):
        W, b = unravel(theta)
        return logistic_objective((W, b if bias else jnp.zeros_like(b)), X, y, beta, binary)

    g_fn, h_fn = jax.grad(obj), jax.hessian(obj)

    @jax.jit
    def run(theta):
        def body(c):
            th, f, k, dec = c
            g, H = g_fn(th), h_fn(th)
            step = jnp.linalg.lstsq(H, -g)[0]
            dec = -(g @ step)                                # Newton decrement^2

            def ls(c2):
                a, _ = c2
                return a * 0.5, obj(th + a * 0.5 * step)

            f1 = obj(th + step)
            a, f1 = jax.lax.while_loop(lambda c2: (c2[1] > f - 1e-4 * c2[0] * dec) & (c2[0] > 1e-8), ls,
                                       (jnp.ones((), th.dtype), f1))
            return th + a * step, f1, k + 1, dec

        def cond(c):
            return (c[2] < max_iter) & (c[3] > tol)

        th, f, k, dec = jax.lax.while_loop(cond, body, (theta, obj(theta), 0, jnp.asarray(jnp.inf, theta.dtype)))
        return th, k

    th, k = run(theta0)
    return unravel(th), k


# ------------------------------------------------------------------------------------------ CV ridge
class RidgeCV(NamedTuple):
    """Result of :func:`ridge_cv`: the readout refitted on all data with the chosen ``beta``,
    that ``beta``, the tried ``betas`` and their mean held-out squared errors ``scores``
    ``(len(betas),)`` (per fold in ``fold_scores`` ``(folds, len(betas))``)."""

    readout: LinearReadout
    beta: float
    betas: np.ndarray
    scores: np.ndarray
    fold_scores: np.ndarray


def ridge_cv(X, Y, betas: Sequence[float], folds: int = 5, *, bias: bool = True, shuffle: bool = False,
             seed: int = 0) -> RidgeCV:
    r"""Ridge regression with :math:`\beta` chosen by K-fold cross-validation.

    For each fold :math:`k` the readout is fitted (:func:`ridge`) on the other folds and scored
    by its mean squared error on fold :math:`k`,
    :math:`\mathrm{MSE}_k(\beta) = \frac{1}{n_k q}\sum_{i\in k}\lVert \hat y_i - y_i\rVert^2`;
    the :math:`\beta` of least mean :math:`\mathrm{MSE}` over folds is chosen and the readout
    refitted on all samples. One SVD per fold serves every :math:`\beta`.

    Parameters
    ----------
    X, Y : arrays
        Design ``(n_samples, n_features)`` and targets ``(n_samples[, n_outputs])``.
    betas : sequence of float
        Candidate regularisations (>= 0).
    folds : int
        Number of folds (2 <= folds <= n_samples). Folds are contiguous blocks (right for time
        series, whose neighbouring samples are correlated), unless ``shuffle``.
    bias : bool
        Fit an unpenalised bias.
    shuffle, seed : bool, int
        Shuffle the samples (with ``seed``) before splitting.

    Returns
    -------
    RidgeCV

    Example
    -------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 30)); y = X[:, 0] + rng.normal(size=60)
    >>> cv = ridge_cv(X, y, betas=[1e-6, 1e-2, 1.0, 1e2, 1e5], folds=5)
    >>> cv.beta in (1.0, 1e2)                   # neither the unregularised nor the flat extreme
    True
    """
    X = _design(X, "ridge_cv")
    Y, vector = _targets(X, Y, "ridge_cv")
    betas = np.asarray(betas, float).ravel()
    if betas.size == 0 or not np.all(np.isfinite(betas)) or np.any(betas < 0):
        raise BraindynError(f"ridge_cv: betas={betas.tolist()!r} must be a non-empty list of finite numbers >= 0. "
                            f"Fix: e.g. betas=np.logspace(-8, 2, 11).")
    n = X.shape[0]
    if not isinstance(folds, (int, np.integer)) or not 2 <= folds <= n:
        raise BraindynError(f"ridge_cv: folds={folds!r} must be an integer with 2 <= folds <= n_samples = {n}.")
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    parts = np.array_split(order, folds)
    scores = np.zeros((folds, betas.size))
    Xn, Yn = np.asarray(X), np.asarray(Y)
    for k, test in enumerate(parts):
        train = np.setdiff1d(order, test)
        Xt, Yt = Xn[train], Yn[train]
        if bias:
            xm, ym = Xt.mean(0), Yt.mean(0)
        else:
            xm, ym = np.zeros(Xt.shape[1]), np.zeros(Yt.shape[1])
        U, s, Vt = np.linalg.svd(Xt - xm, full_matrices=False)
        UtY = U.T @ (Yt - ym)
        for i, beta in enumerate(betas):
            if beta > 0:
                d = s / (s * s + beta)
            else:
                cut = (s[0] if s.size else 0.0) * max(Xt.shape) * np.finfo(Xt.dtype).eps
                d = np.where(s > cut, 1.0 / np.where(s > cut, s, 1.0), 0.0)
            W = Vt.T @ (d[:, None] * UtY)
            pred = (Xn[test] - xm) @ W + ym
            scores[k, i] = np.mean((pred - Yn[test]) ** 2)
    mean = scores.mean(0)
    best = float(betas[int(np.argmin(mean))])
    ro = ridge(X, Y[:, 0] if vector else Y, best, bias=bias)
    return RidgeCV(ro, best, betas, mean, scores)


# ------------------------------------------------------------------------------------------ errors
def _pair(y_true, y_pred, owner):
    yt, yp = np.asarray(y_true, float), np.asarray(y_pred, float)
    if yt.shape != yp.shape:
        raise BraindynError(f"{owner}: y_true has shape {yt.shape} but y_pred has {yp.shape}. Fix: compare arrays "
                            f"of the same shape (n_samples[, n_outputs]).")
    return (yt[:, None], yp[:, None]) if yt.ndim == 1 else (yt, yp)


def nrmse(y_true, y_pred):
    r"""Normalised root-mean-square error per output,
    :math:`\mathrm{NRMSE}_k = \sqrt{\langle(\hat y_k - y_k)^2\rangle} / \operatorname{std}(y_k)`
    (a list when there are several outputs, a float for a vector).

    Example
    -------
    >>> import numpy as np
    >>> round(nrmse(np.array([1.0, -1.0, 1.0, -1.0]), np.array([1.5, -0.5, 1.5, -0.5])), 4)
    0.5
    """
    yt, yp = _pair(y_true, y_pred, "nrmse")
    out = np.sqrt(np.mean((yp - yt) ** 2, axis=0)) / np.std(yt, axis=0)
    return float(out[0]) if np.ndim(y_true) == 1 else [float(v) for v in out]


def mae(y_true, y_pred):
    r"""Mean absolute error per output, :math:`\langle|\hat y_k - y_k|\rangle` (float for a vector).

    Example
    -------
    >>> import numpy as np
    >>> mae(np.array([0.0, 1.0]), np.array([0.5, 0.0]))
    0.75
    """
    yt, yp = _pair(y_true, y_pred, "mae")
    out = np.mean(np.abs(yp - yt), axis=0)
    return float(out[0]) if np.ndim(y_true) == 1 else [float(v) for v in out]
