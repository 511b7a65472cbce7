"""The VS Code "CloudFormation Linter" extension's view of keyless, driven as the extension drives it.

The extension starts `cfn-lint --format json --include-checks I -- FILE` in the workspace folder; the
keyless rules must come from the `.cfnlintrc` there (docs/editor.md), and every finding needs a line
and a column for the squiggle.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from keyless.catalog import rule

CFN_LINT = str(Path(sys.executable).parent / "cfn-lint")
RC = "append_rules:\n  - keyless.cfn_lint\n"

# Marker comments name the rule expected there: on a value's line, the finding points at that
# property's key; on a resource's logical ID, anywhere inside that resource (it is about the resource).
TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Web:  # ec2-instance-without-profile
    Type: AWS::EC2::Instance
    Properties:
      ImageId: ami-0123456789abcdef0
      InstanceType: t3.micro
  PartnerKeyId:
    Type: AWS::SSM::Parameter
    Properties:
      Type: String
      Value: AKIAIOSFODNN7EXAMPLE  # hardcoded-access-key-id
"""
LINES = TEMPLATE.splitlines()


def _marked(slug: str) -> tuple[int, str]:
    """(1-based line, text) of the line whose marker names the rule."""
    return next((i, line) for i, line in enumerate(LINES, start=1) if line.endswith(f"  # {slug}"))


def _resource_span(start: int) -> range:
    """Lines of the resource whose logical ID is on line `start`: up to the next line as indented."""
    indent = len(LINES[start - 1]) - len(LINES[start - 1].lstrip())
    end = next((i for i in range(start + 1, len(LINES) + 1)
                if len(LINES[i - 1]) - len(LINES[i - 1].lstrip()) <= indent), len(LINES) + 1)
    return range(start, end)


def _lint(workspace: Path, rc: str | None) -> list[dict[str, Any]]:
    (workspace / "template.yaml").write_text(TEMPLATE, encoding="utf-8")
    if rc is not None:
        (workspace / ".cfnlintrc").write_text(rc, encoding="utf-8")
    done = subprocess.run([CFN_LINT, "--format", "json", "--include-checks", "I", "--", "template.yaml"],
                          cwd=workspace, capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 2, 4, 6, 8, 10, 12, 14), done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return _lint(tmp_path_factory.mktemp("workspace"), RC)


def _one(findings: list[dict[str, Any]], slug: str) -> dict[str, Any]:
    mine = [f for f in findings if f["Rule"]["Id"] == rule(slug).cfn_lint_id]
    assert len(mine) == 1, f"{slug}: {mine}"
    return mine[0]["Location"]["Start"]


def test_key_material_is_placed_on_its_property(findings: list[dict[str, Any]]) -> None:
    line, text = _marked("hardcoded-access-key-id")
    start = _one(findings, "hardcoded-access-key-id")
    assert (start["LineNumber"], start["ColumnNumber"]) == (line, len(text) - len(text.lstrip()) + 1)


def test_resource_rules_are_placed_inside_their_resource(findings: list[dict[str, Any]]) -> None:
    line, _ = _marked("ec2-instance-without-profile")
    start = _one(findings, "ec2-instance-without-profile")
    assert start["LineNumber"] in _resource_span(line) and start["ColumnNumber"] >= 1


def test_findings_carry_what_the_hover_shows(findings: list[dict[str, Any]]) -> None:
    key_id = next(f for f in findings if f["Rule"]["Id"] == rule("hardcoded-access-key-id").cfn_lint_id)
    assert key_id["Level"] == "Error" and key_id["Rule"]["Source"] == rule("hardcoded-access-key-id").guideline
    assert "AKIAIOSFODNN7EXAMPLE" not in key_id["Message"], "the key is masked in the message"
    profile = next(f for f in findings if f["Rule"]["Id"] == rule("ec2-instance-without-profile").cfn_lint_id)
    assert profile["Level"] == "Warning" and profile["Location"]["Path"][:2] == ["Resources", "Web"]


def test_without_the_rc_file_no_keyless_rule_runs(tmp_path: Path) -> None:
    ids = {f["Rule"]["Id"] for f in _lint(tmp_path, None)}
    assert not ids & {"WK006", "EK003"}


def test_the_rc_file_can_ignore_a_keyless_rule(tmp_path: Path) -> None:
    ids = {f["Rule"]["Id"] for f in _lint(tmp_path, RC + "ignore_checks:\n  - WK006\n")}
    assert "EK003" in ids and "WK006" not in ids


# --- the configuration docs/editor.md documents -------------------------------------------------------

EDITOR_DOC = Path(__file__).resolve().parents[2] / "docs" / "editor.md"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```$", EDITOR_DOC.read_text(encoding="utf-8"), re.M | re.S)


def _extension_argv(settings: dict[str, Any]) -> list[str]:
    """The command line the extension builds from its settings."""
    argv = [CFN_LINT, "--format", "json", "--include-checks", "I"]
    for module in settings.get("cfnLint.appendRules", []):
        argv += ["--append-rules", module]
    if settings.get("cfnLint.ignoreRules"):
        argv += ["--ignore-checks", *settings["cfnLint.ignoreRules"]]
    return [*argv, "--", "template.yaml"]


def _documented_settings() -> dict[str, Any]:
    (settings,) = [json.loads(block) for block in _blocks("json")]
    return settings


def test_documented_editor_path_is_one_the_extension_can_run() -> None:
    path = _documented_settings()["cfnLint.path"]
    assert path.startswith("/") and "${" not in path and not path.startswith("~"), path


@pytest.mark.parametrize("rc", [b for b in _blocks("yaml") if "append_rules" in b], ids=lambda b: b.splitlines()[-1])
def test_documented_rc_files_load_the_keyless_rules_once(tmp_path: Path, rc: str) -> None:
    (tmp_path / "template.yaml").write_text(TEMPLATE, encoding="utf-8")
    (tmp_path / ".cfnlintrc").write_text(rc, encoding="utf-8")
    done = subprocess.run(_extension_argv(_documented_settings()), cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert "DuplicateRuleError" not in done.stderr + done.stdout
    ids = {f["Rule"]["Id"] for f in json.loads(done.stdout)}
    assert "EK003" in ids
    ignored = yaml.safe_load(rc).get("ignore_checks", [])
    assert not ids & set(ignored)


def test_merge_configs_with_append_rules_in_both_places_is_what_breaks(tmp_path: Path) -> None:
    """Why the docs keep the rules in the rc file only: the combination they warn about really fails."""
    (tmp_path / "template.yaml").write_text(TEMPLATE, encoding="utf-8")
    (tmp_path / ".cfnlintrc").write_text("merge_configs: true\n" + RC, encoding="utf-8")
    done = subprocess.run(_extension_argv({"cfnLint.appendRules": ["keyless.cfn_lint"]}), cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert "DuplicateRuleError" in done.stderr + done.stdout
    keyless = subprocess.run([str(Path(sys.executable).parent / "keyless"), "cfn-lint", "--format", "json", "--",
                              "template.yaml"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert "EK003" in {f["Rule"]["Id"] for f in json.loads(keyless.stdout)}, keyless.stderr[-2000:]
