"""Broken and hostile input: every engine run finishes, no keyless rule raises, and the findings of
the valid files in the same tree are all still reported (issue: hardening).

Expectations come from names: a resource named fail_*/Fail* must be reported by some keyless rule,
and nothing else may be. Files an engine itself cannot read are listed below with the engine's reason.
"""

from __future__ import annotations

import io
import json
import logging
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from keyless.engines import run_cfn_lint, run_checkov

ROOT = Path(__file__).resolve().parents[2]
MALFORMED = ROOT / "tests" / "fixtures" / "malformed"
BIN = Path(sys.executable).parent
HUGE_BYTES = 20_000_000
# checkov itself (without keyless) never finishes on a YAML alias bomb: its parser expands aliases.
CHECKOV_SKIPS = ["alias-bomb.yaml"]
# What an engine cannot read at all, with the engine's own reason; keyless can add nothing there.
UNREADABLE = {
    "checkov": {
        "utf16/main.tf": "checkov's HCL parser does not read UTF-16",
        "nulls.yaml": "checkov reports a parsing error for null template sections",
        "properties-string.yaml": "checkov reports a parsing error when Properties is a string",
    },
    "cfn-lint": {"utf16.yaml": "cfn-lint reports E0000 'Cannot read file contents' for UTF-16"},
}
_FAIL_NAME = re.compile(r"\b(fail_[a-z0-9_]+|Fail[A-Za-z0-9]+)\b")


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed malformed files plus a 20 MB user data template made on the fly."""
    root = tmp_path_factory.mktemp("malformed")
    shutil.copytree(MALFORMED, root, dirs_exist_ok=True)
    filler = "echo the quick brown fox jumps over the lazy dog; " * (HUGE_BYTES // 50)
    (root / "cloudformation" / "huge.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  FailHugeUserData:\n    Type: AWS::EC2::Instance\n"
        "    Properties:\n      ImageId: ami-12345678\n"
        f"      UserData: '{filler} export AWS_ACCESS_KEY_ID=AKIAQYLPMN5HFIQR7ABC'\n"
    )
    return root


def _expected(tree: Path, suffixes: tuple[str, ...], unreadable: dict[str, str]) -> set[str]:
    names: set[str] = set()
    for path in tree.rglob("*"):
        if path.suffix not in suffixes or any(str(path).endswith(u) for u in unreadable):
            continue
        raw = path.read_bytes()[:200_000]
        text = raw.decode("utf-16" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8", errors="ignore")
        names |= set(_FAIL_NAME.findall(text))
    return names


def _short(resource: str) -> str:
    """checkov's resource ID to the name in the file: aws_x.fail_y["k"] -> fail_y, AWS::T.FailX -> FailX."""
    return re.sub(r"\[.*\]$", "", resource).rsplit(".", 1)[-1]


@pytest.fixture(scope="module")
def checkov_run(tree: Path) -> tuple[list, str]:
    logs = io.StringIO()
    handler = logging.StreamHandler(logs)
    logging.getLogger().addHandler(handler)
    try:
        reports = run_checkov(str(tree), excluded_paths=CHECKOV_SKIPS)
    finally:
        logging.getLogger().removeHandler(handler)
    return reports, logs.getvalue()


def test_checkov_keeps_every_valid_files_findings(tree: Path, checkov_run: tuple[list, str]) -> None:
    reports, _ = checkov_run
    flagged = {_short(r.resource) for report in reports for r in report.failed_checks}
    expected = _expected(tree, (".tf", ".yaml", ".json"), {**UNREADABLE["checkov"], **dict.fromkeys(CHECKOV_SKIPS, "")})
    assert flagged == expected


def test_no_keyless_check_fails_to_run_in_checkov(checkov_run: tuple[list, str]) -> None:
    _, logs = checkov_run
    assert not re.search(r"Failed to run check CKV_KEYLESS|keyless could not analyse", logs), logs[-3000:]


def test_cfn_lint_never_errors_because_of_keyless_and_keeps_findings(tree: Path) -> None:
    flagged: set[str] = set()
    for path in sorted((tree / "cloudformation").iterdir()):
        matches = run_cfn_lint(str(path))
        # Built-in rules do raise on some of these files (cfn-lint's own E0002s); keyless rules never may.
        caused_by_keyless = [m.message for m in matches if m.rule.id == "E0002" and re.search(r"rule [EW]K\d{3}", m.message)]
        assert not caused_by_keyless, (path.name, caused_by_keyless)
        for m in matches:
            if re.fullmatch(r"[EW]K\d{3}", m.rule.id):
                resource = m.path[1] if len(m.path) > 1 and m.path[0] == "Resources" else None
                flagged.add(str(resource))
    assert flagged == _expected(tree, (".yaml", ".json"), UNREADABLE["cfn-lint"])


def test_audit_lists_bad_files_and_keeps_the_rest(tree: Path, tmp_path: Path) -> None:
    report = tmp_path / "audit.json"
    result = subprocess.run(
        [str(BIN / "keyless"), "audit", str(tree), "--format", "json", "--output", str(report), "--no-progress"],
        capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    data = json.loads(report.read_text())
    (repo,) = data["repositories"]
    errors = {e["file"]: e["reason"] for e in repo["errors"]}
    for bad in ("cloudformation/invalid.yaml", "cloudformation/invalid.json", "cloudformation/alias-bomb.yaml",
                "terraform/bad-hcl/main.tf"):
        assert any(file.endswith(bad) for file in errors), (bad, errors)
    assert all(reason.strip() for reason in errors.values())
    flagged = {f["resource"] for f in repo["findings"]}
    assert {_short(r) for r in flagged} >= {"fail_valid_neighbour", "FailValidNeighbour", "FailHugeUserData",
                                             "fail_bom_crlf", "FailBomCrlfKey", "fail_dynamic"}
