"""The options people expect from checkov, KICS and Trivy: rule selection, a config file, several
outputs in one run, --version, --soft-fail. One real audit makes a JSON report; most cases then
re-render it with `merge`, which takes the same options."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from keyless.audit.options import UsageError, selected_rules
from keyless.catalog import RULES
from keyless.cli import main

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM = '''resource "aws_iam_access_key" "ci" {
  user = "ci"
}

resource "aws_instance" "web" {
  ami           = "ami-12345678"
  instance_type = "t3.micro"
}
'''
TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  CiKey:
    Type: AWS::IAM::AccessKey
    Properties:
      UserName: ci
  Web:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: ami-12345678
"""


def run_cli(*argv: str) -> int:
    return main(["audit", "--no-progress", *argv])


def _rules(path: Path) -> set[str]:
    document = json.loads(path.read_text(encoding="utf-8"))
    return {f["rule"] for repo in document["repositories"] for f in repo["findings"]}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("repo")
    (root / "main.tf").write_text(TERRAFORM, encoding="utf-8")
    (root / "stack.yaml").write_text(TEMPLATE, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def full_report(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("full") / "full.json"
    assert run_cli(str(repo), "--format", "json", "--output", str(out)) == 1
    assert _rules(out) == {"iam-access-key", "ec2-instance-without-profile"}
    return out


# --- rule selection -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("argv", "expected"), [
    (["--check", "CKV_KEYLESS_1"], {"iam-access-key"}),
    (["--check", "wk006"], {"ec2-instance-without-profile"}),
    (["--check", "iam-access-key,WK006"], {"iam-access-key", "ec2-instance-without-profile"}),
    (["--check", "CKV_KEYLESS_*", "--skip-check", "CKV_KEYLESS_6"], {"iam-access-key"}),
    (["--skip-check", "ec2-*", "--skip-check", "CKV_KEYLESS_9"], {"iam-access-key"}),
    (["--skip-check", "?K00[16]"], set()),
])
def test_check_and_skip_check(full_report: Path, tmp_path: Path, argv: list[str], expected: set[str]) -> None:
    out = tmp_path / "r.json"
    code = run_cli("merge", str(full_report), *argv, "--format", "json", "--output", str(out))
    assert _rules(out) == expected
    assert code == (1 if expected else 0)
    not_checked = json.loads(out.read_text(encoding="utf-8"))["rules_not_checked"]
    assert {"iam-access-key", "ec2-instance-without-profile"} - expected <= set(not_checked)
    assert not expected & set(not_checked)


def test_skipped_rules_are_named_in_the_readable_reports(full_report: Path, tmp_path: Path) -> None:
    for fmt in ("terminal", "markdown"):
        out = tmp_path / f"r.{fmt}"
        run_cli("merge", str(full_report), "--skip-check", "CKV_KEYLESS_6", "--format", fmt, "--output", str(out))
        head = "\n".join(out.read_text(encoding="utf-8").splitlines()[:4])
        assert "Rules not checked" in head and "ec2-instance-without-profile" in head


def test_rule_selection_on_a_real_audit(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    assert run_cli(str(repo), "--skip-check", "CKV_KEYLESS_1", "--format", "json", "--output", str(out)) == 1
    assert _rules(out) == {"ec2-instance-without-profile"}


@pytest.mark.parametrize("argv", [["--check", "CKV_AWS_41"], ["--skip-check", "CKV_KEYLESS_1,nope"],
                                  ["--check", "CKV_KEYLESS_1", "--skip-check", "iam-*"]])
def test_unknown_or_empty_rule_selection_is_a_usage_error(repo: Path, argv: list[str]) -> None:
    result = subprocess.run([sys.executable, "-m", "keyless", "audit", str(repo), *argv], capture_output=True,
                            text=True, cwd=ROOT)
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and "keyless audit: error:" in result.stderr


def test_selection_reaches_every_rule_by_every_id() -> None:
    for r in RULES:
        for identifier in r.ids:
            assert selected_rules([identifier.upper()], []) == {r.slug}
    assert selected_rules([], []) is None
    with pytest.raises(UsageError, match="no keyless rule matches"):
        selected_rules(["CKV2_AWS_41"], [])


# --- config file --------------------------------------------------------------------------------------


def test_config_in_the_audited_folder(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "main.tf").write_text(TERRAFORM, encoding="utf-8")
    (project / ".keyless.yaml").write_text(
        "format: json\noutput: reports/keyless.json\nskip-check: [CKV_KEYLESS_6]\nsoft-fail: true\n", encoding="utf-8")
    (project / "reports").mkdir()
    monkeypatch.chdir(tmp_path)
    assert run_cli("project") == 0  # soft-fail from the file
    written = project / "reports/keyless.json"  # relative to the config file, not to the working directory
    assert _rules(written) == {"iam-access-key"}
    # the command line wins, a list included
    assert run_cli("project", "--skip-check", "CKV_KEYLESS_1", "--fail-on", "any") == 0
    assert _rules(written) == {"ec2-instance-without-profile"}


def test_config_in_the_working_directory_and_explicit(full_report: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".keyless.yml").write_text("check: iam-access-key\nformat: json\noutput: here.json\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert run_cli("merge", str(full_report)) == 1
    assert _rules(tmp_path / "here.json") == {"iam-access-key"}
    other = tmp_path / "conf" / "other.yaml"
    other.parent.mkdir()
    other.write_text("output-file: {json: there.json}\nformat: markdown\noutput: there.md\n", encoding="utf-8")
    assert run_cli("merge", str(full_report), "--config", str(other)) == 1
    assert _rules(tmp_path / "conf/there.json") == {"iam-access-key", "ec2-instance-without-profile"}
    assert (tmp_path / "conf/there.md").read_text(encoding="utf-8").startswith("# keyless audit")


@pytest.mark.parametrize(("text", "message"), [
    ("skip_checks: [CKV_KEYLESS_1]\n", "unknown option 'skip_checks'"),
    ("jobs: many\n", "jobs must be a whole number"),
    ("format: pdf\n", "format 'pdf'"),
    ("check: [CKV_AWS_41]\n", "no keyless rule matches"),
    ("- just a list\n", "expected a mapping"),
    ("format: [unclosed\n", "not valid YAML"),
])
def test_a_bad_config_is_a_one_line_usage_error(repo: Path, tmp_path: Path, text: str, message: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(text, encoding="utf-8")
    assert run_cli(str(repo), "--config", str(config)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert run_cli(str(repo), "--config", str(tmp_path / "missing.yaml")) == 2


# --- several outputs ----------------------------------------------------------------------------------


def test_several_outputs_in_one_run(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = {fmt: tmp_path / f"keyless.{fmt}" for fmt in ("json", "sarif", "markdown", "html")}
    argv = [arg for fmt, path in outputs.items() for arg in ("--output-file", f"{fmt.upper()}:{path}")]
    assert run_cli(str(repo), *argv) == 1
    terminal = capsys.readouterr().out
    assert terminal.startswith("keyless audit:") and "iam-access-key" in terminal
    document: dict[str, Any] = json.loads(outputs["json"].read_text(encoding="utf-8"))
    sarif = json.loads(outputs["sarif"].read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"
    assert len(sarif["runs"][0]["results"]) == document["summary"]["total"] > 0
    assert outputs["markdown"].read_text(encoding="utf-8").startswith("# keyless audit")
    assert "<html" in outputs["html"].read_text(encoding="utf-8").lower()


@pytest.mark.parametrize(("argv", "message"), [
    (["--output-file", "pdf:x.pdf"], "unknown format 'pdf'"),
    (["--output-file", "report.json"], "expected FORMAT:FILE"),
    (["--output-file", "json:same.json", "--output-file", "sarif:same.json"], "both write"),
    (["--output", "same.json", "--write-baseline", "same.json"], "both write"),
])
def test_output_mistakes_are_usage_errors(full_report: Path, tmp_path: Path, argv: list[str], message: str,
                                          capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run_cli("merge", str(full_report), *argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "same.json").exists()


# --- version and soft fail ----------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["audit", "--version"], ["--version"]])
def test_version(argv: list[str]) -> None:
    result = subprocess.run([sys.executable, "-m", "keyless", *argv], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0
    assert result.stdout.splitlines() == [f"keyless {metadata.version('keyless')}",
                                          f"checkov {metadata.version('checkov')}",
                                          f"cfn-lint {metadata.version('cfn-lint')}"]


def test_soft_fail(full_report: Path, tmp_path: Path) -> None:
    out = ["--format", "json", "--output", str(tmp_path / "x.json")]
    assert run_cli("merge", str(full_report), *out) == 1
    assert run_cli("merge", str(full_report), "--soft-fail", *out) == 0
    failed = tmp_path / "failed.json"
    document = json.loads(full_report.read_text(encoding="utf-8"))
    document.update(complete=False, failures=["checkov failed on repo: boom"])
    failed.write_text(json.dumps(document), encoding="utf-8")
    assert run_cli("merge", str(failed), "--soft-fail", *out) == 2
