import os

import jax

# Reference comparisons (scipy solve_ivp at rtol 1e-9) need float64; float32 is tested explicitly.
jax.config.update("jax_enable_x64", True)
os.environ.setdefault("MPLBACKEND", "Agg")
