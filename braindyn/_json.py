"""JSON-ready values: nested dicts/lists of numpy and JAX scalars and arrays as plain Python."""
from __future__ import annotations

import math

import numpy as np


def jsonable(x):
    """``x`` with numpy/JAX scalars and arrays turned into Python numbers and lists (recursively);
    non-finite floats become ``None`` (JSON has no NaN)."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, (np.bool_, bool)):
        return bool(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating, float)):
        v = float(x)
        return v if math.isfinite(v) else None
    if hasattr(x, "item") and getattr(x, "ndim", 1) == 0:
        return jsonable(x.item())
    return x
