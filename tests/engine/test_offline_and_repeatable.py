"""keyless makes no network connection, and the same tree always gives the same report bytes."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from keyless.cli import main
from keyless.engines import run_cfn_lint, run_checkov

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every attempt to resolve or connect is recorded and refused."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise OSError("network blocked by the keyless test suite")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


def test_engines_and_audit_run_with_sockets_blocked(no_network: list[Any], tmp_path: Path) -> None:
    reports = run_checkov(str(EXAMPLES))
    assert sum(len(r.failed_checks) for r in reports) > 0
    matches = [m for p in sorted((EXAMPLES / "cloudformation").iterdir()) for m in run_cfn_lint(str(p))]
    assert any(m.rule.id.startswith(("EK", "WK")) for m in matches)
    out = tmp_path / "report.json"
    assert main(["audit", str(EXAMPLES), "--format", "json", "--output", str(out), "--no-progress"]) == 1
    assert out.stat().st_size > 0
    assert no_network == []


@pytest.mark.parametrize("fmt", ["json", "sarif", "markdown"])
def test_two_audits_give_identical_bytes(fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764288000")  # pins the one timestamp the JSON report carries
    outputs = []
    for run in range(2):
        out = tmp_path / f"{run}.{fmt}"
        main(["audit", str(EXAMPLES), str(ROOT / "tests" / "fixtures" / "rules"),
              "--format", fmt, "--output", str(out), "--no-progress"])
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    assert b"CKV_KEYLESS_" in outputs[0] or b"EK003" in outputs[0]
