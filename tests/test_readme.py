"""The README's worked examples run and print what they say (doctest)."""
import doctest
import os

import jax


def test_readme_examples():
    path = os.path.join(os.path.dirname(__file__), os.pardir, "README.md")
    with jax.enable_x64(False):
        res = doctest.testfile(path, module_relative=False, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 20
    assert res.failed == 0, f"{res.failed} README example(s) failed"
