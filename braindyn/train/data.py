r"""Small data sets that need no download.

:func:`load_digits`: the 1797 handwritten digits (8x8 images, 16 grey levels, classes 0--9)
that scikit-learn ships inside its package (the UCI "optical recognition of handwritten
digits" test set, Alpaydin & Kaynak 1998), scaled to [0, 1] and split into a training and a
held-out test set by a seeded, class-stratified permutation. scikit-learn is an optional
dependency: ``pip install braindyn[data]``.

Example
-------
>>> d = load_digits(test_fraction=0.25, seed=0)          # needs scikit-learn
>>> d.x_train.shape[1], bool(d.x_train.max() <= 1.0), len(d.y_test)
(64, True, 450)
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._errors import BraindynError

__all__ = ["Digits", "load_digits"]


class Digits(NamedTuple):
    """Train/test split of the digits: images flattened to 64 values in [0, 1]; labels 0--9."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_digits(test_fraction: float = 0.2, seed: int = 0) -> Digits:
    r"""scikit-learn's 8x8 digits, scaled to [0, 1] (pixel / 16), with a seeded held-out split.

    Parameters
    ----------
    test_fraction : float
        Fraction of each class held out for testing (in (0, 1)).
    seed : int
        Seed of the permutation (the same seed gives the same split).

    Returns
    -------
    :class:`Digits` (``x_*`` float64 ``(m, 64)``, ``y_*`` int ``(m,)``).

    Raises
    ------
    BraindynError
        When scikit-learn is not installed (install ``braindyn[data]``).
    """
    if not (isinstance(test_fraction, (int, float)) and 0.0 < test_fraction < 1.0):
        raise BraindynError(f"load_digits: test_fraction must be in (0, 1), got {test_fraction!r}. "
                            f"Fix: e.g. test_fraction=0.2.")
    try:
        from sklearn.datasets import load_digits as _sk_digits
    except ImportError:
        raise BraindynError("load_digits needs scikit-learn, which ships the digits (no download). "
                            "Fix: pip install 'braindyn[data]' (or pip install scikit-learn).") from None
    ds = _sk_digits()
    x = np.asarray(ds.data, float) / 16.0
    y = np.asarray(ds.target, int)
    rng = np.random.default_rng(seed)
    test = np.zeros(len(y), bool)
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        test[idx[: int(round(test_fraction * len(idx)))]] = True
    tr, te = rng.permutation(np.flatnonzero(~test)), rng.permutation(np.flatnonzero(test))
    return Digits(x[tr], y[tr], x[te], y[te])
