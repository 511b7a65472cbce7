"""A failed run's zero findings are never called clean, in any human-readable format."""

from __future__ import annotations

import re

import pytest

from keyless.audit.formats import render
from keyless.audit.model import Report, RepositoryReport


@pytest.mark.parametrize("fmt", ["terminal", "markdown", "markdown-summary", "html"])
def test_a_failed_run_is_not_clean(fmt: str) -> None:
    failed = Report(repositories=[RepositoryReport(name="r", path="r")], failures=["checkov failed on r"])
    text = _visible(render(failed, fmt))
    assert "incomplete" in text
    assert not re.search(r"\bclean\b", re.sub(r"(does not mean|must not be read as) clean", "", text))
    complete = Report(repositories=[RepositoryReport(name="r", path="r")])
    assert re.search(r"\bclean\b", _visible(render(complete, fmt)))


def _visible(text: str) -> str:
    """What a reader sees: HTML without its style, script and tags."""
    text = re.sub(r"<(style|script)\b.*?</\1>", " ", text, flags=re.S)
    return re.sub(r"<[^>]+>", " ", text)
