"""Connectivity: seeded generators returning :class:`CSR`, and procedural
connectivity regenerated on the fly (:class:`ProceduralConn`).

All generators are reproducible for a given ``seed`` and validate their
inputs (a bad value raises :class:`~braindyn.BraindynError`, a ``ValueError``, naming the
parameter and the fix).
"""
from .csr import CSR, from_ij, from_matrix
from .full import Full, full
from .graphs import scale_free, small_world
from .procedural import ProceduralConn
from .random_conn import (fixed_in_degree, fixed_out_degree, fixed_prob, fixed_total_num,
                          gaussian_prob)
from .regular import all_to_all, grid_eight, grid_four, one_to_one

__all__ = [
    "CSR", "from_ij", "from_matrix",
    "one_to_one", "all_to_all", "full", "Full", "grid_four", "grid_eight",
    "fixed_prob", "fixed_in_degree", "fixed_out_degree", "fixed_total_num", "gaussian_prob",
    "small_world", "scale_free",
    "ProceduralConn",
]
