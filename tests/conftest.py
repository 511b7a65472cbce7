from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Each test folder is one speed class: `pytest -m "not e2e"` is the fast loop.
_KINDS = ("unit", "engine", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        kind = next((k for k in _KINDS if k in Path(str(item.fspath)).parts), "e2e")
        item.add_marker(getattr(pytest.mark, kind))


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT
