"""The Examples sections of the public modules run and print what they claim."""

import doctest
import importlib

import pytest

MODULES = [
    "sklipschitz.linear_model._regressor",
    "sklipschitz.linear_model._cv",
    "sklipschitz.linear_model._quantile_classifier",
    "sklipschitz.neural_network",
    "sklipschitz.kernels",
    "sklipschitz.plotting",
    "sklipschitz.metrics",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    pytest.importorskip("matplotlib")
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
