"""Kill -9 at random moments: every resume from the last checkpoint is bit-identical to the
uninterrupted run, and the store loses no chunk before that checkpoint (3 trials here, 20 in
benchmarks/kill_resume.py)."""
import importlib.util
import os

import numpy as np
import pytest

pytest.importorskip("zarr")

_PATH = os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks", "kill_resume.py")


@pytest.fixture(scope="module")
def kr():
    spec = importlib.util.spec_from_file_location("kill_resume", _PATH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_kill_9_at_random_moments_resumes_bit_identically(tmp_path, kr):
    kr.CACHE = str(tmp_path / "jax-cache")
    ref = kr.reference()
    assert ref.spike_count("pop.E.spike") > 10
    rng = np.random.default_rng(2024)
    seen = []
    for i in range(3):  # one after the other: each child is killed during its own run
        folder = tmp_path / f"t{i}"
        folder.mkdir()
        seen.append(kr.trial(str(folder), rng, ref, run_time=1.0))
    # the kills landed at different checkpoints (a kill before the end of the run at least once)
    assert any(s["killed_mid_run"] for s in seen)
