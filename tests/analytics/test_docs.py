"""The examples in docs/analytics.md run, with the numbers they show."""

from __future__ import annotations

import doctest
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "analytics.md"


def test_docs_examples_run() -> None:
    result = doctest.testfile(str(DOC), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 10
    assert result.failed == 0


def test_module_docstring_examples_run() -> None:
    import twinkit.analytics.multivariate as multivariate
    import twinkit.analytics.univariate as univariate

    for module in (univariate, multivariate):
        result = doctest.testmod(module)
        assert result.attempted > 0
        assert result.failed == 0
