"""Offline readouts against independent references: numpy lstsq on the augmented system, the
soft-threshold closed form and scikit-learn for the lasso, scipy.optimize for logistic regression."""
import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import scipy.optimize  # noqa: E402

from braindyn import BraindynError  # noqa: E402
from braindyn.train import lasso, least_squares, logistic, mae, nrmse, ridge, ridge_cv  # noqa: E402


def _data(n=80, p=12, q=3, seed=0, noise=0.1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * rng.uniform(0.1, 10.0, size=p)   # badly scaled columns
    W = rng.normal(size=(p, q))
    Y = X @ W + rng.normal(size=q) + noise * rng.normal(size=(n, q))
    return X, Y


@pytest.mark.parametrize("beta", [0.0, 1e-3, 10.0])
def test_ridge_equals_lstsq_on_the_augmented_system(beta):
    X, Y = _data()
    n, p = X.shape
    # [X 1; sqrt(beta) I 0] [W; b] = [Y; 0]  (bias not penalised)
    A = np.block([[X, np.ones((n, 1))], [np.sqrt(beta) * np.eye(p), np.zeros((p, 1))]])
    B = np.vstack([Y, np.zeros((p, Y.shape[1]))])
    sol = np.linalg.lstsq(A, B, rcond=None)[0]
    ro = ridge(X, Y, beta)
    np.testing.assert_allclose(np.asarray(ro.W), sol[:p], rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(np.asarray(ro.b), sol[p], rtol=1e-8, atol=1e-8)
    # without bias, and for a single output (vector shapes kept)
    ro1 = ridge(X, Y[:, 0], beta, bias=False)
    A0 = np.vstack([X, np.sqrt(beta) * np.eye(p)])
    sol0 = np.linalg.lstsq(A0, np.concatenate([Y[:, 0], np.zeros(p)]), rcond=None)[0]
    assert ro1.W.shape == (p,) and np.ndim(ro1.b) == 0
    np.testing.assert_allclose(np.asarray(ro1.W), sol0, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(np.asarray(ro1(X)), X @ sol0, rtol=1e-8, atol=1e-8)


def test_least_squares_rank_deficient_is_minimum_norm():
    X, Y = _data(n=20, p=30, q=2)                    # more features than samples
    ro = least_squares(X, Y, bias=False)
    np.testing.assert_allclose(np.asarray(ro.W), np.linalg.pinv(X) @ Y, rtol=1e-7, atol=1e-9)


def test_lasso_orthogonal_design_is_a_soft_threshold():
    # X^T X / n = I and centred columns: w_j = S(x_j^T y / n, alpha)
    rng = np.random.default_rng(3)
    n, p = 64, 6
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    Q = Q[:, 1:p + 1] - Q[:, 1:p + 1].mean(0)          # centred ...
    Q, _ = np.linalg.qr(Q)                              # ... and orthonormal (still centred)
    X = np.sqrt(n) * Q
    y = X @ np.array([2.0, -1.0, 0.3, -0.05, 0.0, 1.0]) + 0.5
    alpha = 0.2
    z = X.T @ (y - y.mean()) / n
    expect = np.sign(z) * np.maximum(np.abs(z) - alpha, 0.0)
    ro = lasso(X, y, alpha)
    np.testing.assert_allclose(np.asarray(ro.W), expect, atol=1e-10)
    np.testing.assert_allclose(float(ro.b), y.mean() - X.mean(0) @ expect, atol=1e-10)
    assert np.count_nonzero(np.asarray(ro.W)) == np.count_nonzero(expect) == 4


def test_lasso_matches_scikit_learn():
    sk = pytest.importorskip("sklearn.linear_model")
    X, Y = _data(n=120, p=10, q=2, seed=5, noise=1.0)
    X = X / X.std(0)
    for alpha in (0.05, 0.5):
        ref = sk.Lasso(alpha=alpha, tol=1e-12, max_iter=100000).fit(X, Y)
        ro = lasso(X, Y, alpha)
        np.testing.assert_allclose(np.asarray(ro.W), ref.coef_.T, atol=1e-7)
        np.testing.assert_allclose(np.asarray(ro.b), ref.intercept_, atol=1e-7)


def _scipy_logistic(X, y, beta, K):
    n, p = X.shape
    binary = K == 2

    def f(theta):
        if binary:
            W, b = theta[:p], theta[p]
            z = X @ W + b
            return np.mean(np.logaddexp(0, z) - y * z) + 0.5 * beta * W @ W
        W, b = theta[:p * K].reshape(p, K), theta[p * K:]
        z = X @ W + b
        lse = np.log(np.exp(z - z.max(1, keepdims=True)).sum(1)) + z.max(1)
        return np.mean(lse - z[np.arange(n), y]) + 0.5 * beta * np.sum(W * W)

    size = p + 1 if binary else p * K + K
    res = scipy.optimize.minimize(f, np.zeros(size), method="BFGS", options={"gtol": 1e-11, "maxiter": 10000})
    return res.x, f


@pytest.mark.parametrize("K", [2, 3])
def test_logistic_matches_scipy_optimize(K):
    rng = np.random.default_rng(K)
    n, p = 150, 4
    X = rng.normal(size=(n, p))
    logits = X @ rng.normal(size=(p, K)) * 1.5
    y = np.array([rng.choice(K, p=np.exp(l) / np.exp(l).sum()) for l in logits])
    beta = 0.05
    theta, f = _scipy_logistic(X, y, beta, K)
    ro = logistic(X, y, beta)
    if K == 2:
        mine = np.concatenate([np.asarray(ro.W), [float(ro.b)]])
        np.testing.assert_allclose(mine, theta, atol=1e-5)
    else:
        # W is unique; the softmax biases only up to a common constant
        np.testing.assert_allclose(np.asarray(ro.W), theta[:p * K].reshape(p, K), atol=1e-5)
        bref = theta[p * K:]
        np.testing.assert_allclose(np.asarray(ro.b) - np.mean(ro.b), bref - bref.mean(), atol=1e-5)
        mine = np.concatenate([np.asarray(ro.W).ravel(), np.asarray(ro.b)])
    assert f(mine) <= f(theta) + 1e-10
    proba = np.asarray(ro.predict_proba(X))
    assert proba.shape == ((n,) if K == 2 else (n, K))
    assert np.mean(np.asarray(ro.predict(X)) == y) > 0.6


def test_ridge_cv_picks_the_beta_that_minimises_held_out_error():
    # noisy linear data with many irrelevant features: neither the unregularised nor the
    # over-regularised extreme is best; the chosen beta is the one of least error on a
    # separate test set, up to one grid point
    rng = np.random.default_rng(7)
    n, p = 80, 60
    w = np.zeros(p)
    w[:5] = rng.normal(size=5)
    X = rng.normal(size=(n, p))
    y = X @ w + 1.0 * rng.normal(size=n)
    Xt = rng.normal(size=(5000, p))
    yt = Xt @ w + 1.0 * rng.normal(size=5000)
    betas = np.logspace(-4, 4, 17)
    cv = ridge_cv(X, y, betas, folds=5)
    test_err = [np.mean((np.asarray(ridge(X, y, b)(Xt)) - yt) ** 2) for b in betas]
    i_cv, i_test = list(betas).index(cv.beta), int(np.argmin(test_err))
    assert 0 < i_cv < len(betas) - 1
    assert abs(i_cv - i_test) <= 2
    assert test_err[i_cv] < 1.1 * min(test_err)
    assert test_err[i_cv] < 0.7 * test_err[0]                 # far better than (almost) no regularisation
    assert cv.scores.shape == (17,) and cv.fold_scores.shape == (5, 17)
    np.testing.assert_allclose(np.asarray(cv.readout.W), np.asarray(ridge(X, y, cv.beta).W), rtol=1e-10)


def test_error_measures_and_bad_inputs():
    y = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 2.0]])
    yp = y + np.array([[1.0, 0.0], [-1.0, 0.0], [1.0, 0.5]])
    np.testing.assert_allclose(nrmse(y, yp), [1.0 / np.std(y[:, 0]), np.sqrt(0.25 / 3) / np.std(y[:, 1])])
    np.testing.assert_allclose(mae(y, yp), [1.0, 0.5 / 3])
    X = np.ones((5, 2))
    with pytest.raises(BraindynError, match="beta"):
        ridge(X, np.ones(5), beta=-1.0)
    with pytest.raises(BraindynError, match="samples"):
        ridge(X, np.ones(4))
    with pytest.raises(BraindynError, match="folds"):
        ridge_cv(X, np.ones(5), [1.0], folds=9)
    with pytest.raises(BraindynError, match="labels"):
        logistic(X, np.array([0.5, 1, 0, 1, 0]))
    with pytest.raises(BraindynError, match="shape"):
        nrmse(np.ones(3), np.ones(4))
