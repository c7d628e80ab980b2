"""Every docstring example in the package runs and prints what it says (doctest)."""
import doctest
import importlib
import pkgutil

import pytest

import braindyn

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(braindyn.__path__, "braindyn.")
    if not m.name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    import jax

    mod = importlib.import_module(name)
    # examples are written for JAX's default precision (float32)
    with jax.enable_x64(False):
        res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert res.failed == 0, f"{res.failed} docstring example(s) of {name} failed (run pytest --doctest-modules {name})"
