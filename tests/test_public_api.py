"""The public listing: every name in ``braindyn.__all__`` exists (lazy subpackages included)."""
import pytest

import braindyn


@pytest.mark.parametrize("name", braindyn.__all__)
def test_every_public_name_is_importable(name):
    assert getattr(braindyn, name) is not None


def test_star_import_and_no_duplicates():
    ns = {}
    exec("from braindyn import *", ns)  # resolves every name of __all__ (lazy ones through __getattr__)
    assert set(braindyn.__all__) <= set(ns)
    assert len(set(braindyn.__all__)) == len(braindyn.__all__)
