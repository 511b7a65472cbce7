"""The rule pages and CI recipes are checked against the real engines, so the docs cannot drift.

Every fenced example in `docs/rules/*.md` is tagged `hcl|yaml bad|good|suppressed`. All Terraform
examples go through one in-process checkov run and all CloudFormation examples through another
(plus cfn-lint per template); each example's expectation comes from its tag, never from the code.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from keyless.catalog import AWS_PAGE, RULES, Rule
from keyless.engines import run_cfn_lint, run_checkov

ROOT = Path(__file__).resolve().parents[2]
RULE_DOCS = ROOT / "docs" / "rules"
EXAMPLES = ROOT / "docs" / "examples"
FENCE = re.compile(r"^```(?P<lang>hcl|yaml) (?P<kind>bad|good|suppressed)\n(?P<body>.*?)^```$", re.M | re.S)
SECTIONS = ("## What it flags", "## Why", "## Examples", "## How to fix", "## How to suppress", "## Known limits")


@dataclass(frozen=True)
class Example:
    rule: Rule
    lang: str
    kind: str
    index: int
    body: str

    @property
    def name(self) -> str:
        return f"{self.rule.slug}-{self.lang}-{self.kind}-{self.index}"


def _page(rule: Rule) -> str:
    return (RULE_DOCS / f"{rule.slug}.md").read_text(encoding="utf-8")


def _examples() -> list[Example]:
    found = []
    for rule in RULES:
        for i, m in enumerate(FENCE.finditer(_page(rule))):
            found.append(Example(rule, m["lang"], m["kind"], i, m["body"]))
    return found


EXAMPLES_ALL = _examples()
TF = [e for e in EXAMPLES_ALL if e.lang == "hcl"]
CFN = [e for e in EXAMPLES_ALL if e.lang == "yaml"]


@pytest.fixture(scope="session")
def example_tree(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each example in a file of its own: Terraform in its own folder (module), templates side by side."""
    root = tmp_path_factory.mktemp("rule-doc-examples")
    where: dict[str, Path] = {}
    for e in TF:
        folder = root / "terraform" / e.name
        folder.mkdir(parents=True)
        (folder / "main.tf").write_text(e.body, encoding="utf-8")
        where[e.name] = folder / "main.tf"
    (root / "cloudformation").mkdir()
    for e in CFN:
        path = root / "cloudformation" / f"{e.name}.yaml"
        path.write_text(e.body, encoding="utf-8")
        where[e.name] = path
    return where


def _records(reports: list[Any]) -> list[tuple[str, Any]]:
    rows = []
    for report in reports:
        rows += [("FAILED", r) for r in report.failed_checks]
        rows += [("SKIPPED", r) for r in report.skipped_checks]
        rows += [("PASSED", r) for r in report.passed_checks]
    return rows


@pytest.fixture(scope="session")
def checkov_results(example_tree: dict[str, Path]) -> dict[str, list[tuple[str, str]]]:
    """(result, check ID) per example file, from one checkov run per framework."""
    root = next(iter(example_tree.values())).parents[2]  # root/terraform/<example>/main.tf
    results: dict[str, list[tuple[str, str]]] = {name: [] for name in example_tree}
    by_path = {str(p.resolve()): name for name, p in example_tree.items()}
    for framework in ("terraform", "cloudformation"):
        for outcome, record in _records(run_checkov(str(root / framework), frameworks=(framework,))):
            name = by_path.get(str(Path(record.file_abs_path).resolve()))
            assert name is not None, f"checkov reported an unknown file {record.file_abs_path}"
            results[name].append((outcome, record.check_id))
    return results


def test_every_rule_has_a_page_with_examples_for_each_engine() -> None:
    for rule in RULES:
        page = _page(rule)
        kinds = {(e.lang, e.kind) for e in EXAMPLES_ALL if e.rule == rule}
        assert {("hcl", "bad"), ("hcl", "good"), ("hcl", "suppressed")} <= kinds, rule.slug
        if rule.cfn_lint_id:
            assert {("yaml", "bad"), ("yaml", "good"), ("yaml", "suppressed")} <= kinds, rule.slug
        else:
            assert not any(lang == "yaml" for lang, _ in kinds), f"{rule.slug} is Terraform only"
        positions = [page.find(s) for s in SECTIONS]
        assert -1 not in positions and positions == sorted(positions), f"{rule.slug}: sections missing or out of order"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.slug)
def test_page_header_matches_the_catalog(rule: Rule) -> None:
    page = _page(rule)
    assert page.startswith(f"# {rule.slug}: {rule.title}\n")
    row = re.search(r"^\| slug \| checkov \| cfn-lint \| severity \|\n\|[- |]+\|\n\| (.+) \|$", page, re.M)
    assert row is not None, f"{rule.slug}: no ID table"
    assert [c.strip() for c in row[1].split("|")] == [rule.slug, rule.checkov_id, rule.cfn_lint_id or "-", rule.severity]
    assert f"[{rule.recommendation.title}]({AWS_PAGE})" in page


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.slug)
def test_suppression_section_names_the_rule_ids(rule: Rule) -> None:
    section = _page(rule).split("## How to suppress", 1)[1].split("## Known limits", 1)[0]
    assert f"checkov:skip={rule.checkov_id}:" in section
    if rule.cfn_lint_id:
        assert f"- {rule.cfn_lint_id}" in section and f"id: {rule.checkov_id}" in section


@pytest.mark.parametrize("example", EXAMPLES_ALL, ids=lambda e: e.name)
def test_checkov_agrees_with_the_example(example: Example, checkov_results: dict[str, list[tuple[str, str]]]) -> None:
    mine = [outcome for outcome, check in checkov_results[example.name] if check == example.rule.checkov_id]
    if example.kind == "bad":
        assert "FAILED" in mine
    elif example.kind == "good":
        assert "FAILED" not in mine and "SKIPPED" not in mine
    else:
        assert "SKIPPED" in mine and "FAILED" not in mine


@pytest.mark.parametrize("example", CFN, ids=lambda e: e.name)
def test_cfn_lint_agrees_with_the_example(example: Example, example_tree: dict[str, Path]) -> None:
    matches = run_cfn_lint(str(example_tree[example.name]))
    assert not [m for m in matches if m.rule.id == "E0002"], "a rule crashed"
    mine = [m for m in matches if m.rule.id == example.rule.cfn_lint_id]
    assert bool(mine) == (example.kind == "bad"), [str(m) for m in mine]


def test_terraform_examples_do_not_share_names() -> None:
    """All Terraform examples run in one checkov pass: equal addresses could make them interfere."""
    seen: dict[str, str] = {}
    for e in TF:
        for m in re.finditer(r'^(resource|data) "(\w+)" "(\w+)"|^(output|variable) "(\w+)"', e.body, re.M):
            address = ".".join(g for g in m.groups() if g)
            assert address not in seen, f"{address} is in {seen.get(address)} and {e.name}"
            seen[address] = e.name


# --- CI recipes ------------------------------------------------------------------------------------


def _load(name: str) -> Any:
    return yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))


BAD_TF = 'resource "aws_iam_access_key" "ci" {\n  user = "ci"\n}\n'
GOOD_TF = 'resource "aws_s3_bucket" "logs" {\n  bucket = "logs"\n}\n'


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a recipe's command line as a shell would, with this environment's `keyless` and engines first."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(shlex.split(command), cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _step(job: dict[str, Any], command: str) -> str:
    runs = [str(s["run"]) for s in job["steps"] if str(s.get("run", "")).startswith(command)]
    assert len(runs) == 1, f"one step runs {command}"
    return runs[0]


@pytest.mark.slow
def test_github_workflow_uploads_the_sarif_its_scan_writes(tmp_path: Path) -> None:
    workflow = _load("github-actions.yml")
    assert "pull_request" in workflow[True]  # YAML 1.1 reads the key `on` as True
    job = workflow["jobs"]["keyless"]
    assert job["permissions"]["security-events"] == "write"
    assert "keyless cfn-lint" in _step(job, "keyless cfn-lint")
    upload = [s for s in job["steps"] if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@")]
    assert len(upload) == 1 and upload[0]["if"].startswith("always()")
    (tmp_path / "bad.tf").write_text(BAD_TF, encoding="utf-8")
    done = _run(_step(job, "keyless checkov"), tmp_path)
    assert done.returncode == 1, done.stderr[-2000:]
    sarif = json.loads((tmp_path / upload[0]["with"]["sarif_file"]).read_text(encoding="utf-8"))
    rule_ids = {r["ruleId"] for run in sarif["runs"] for r in run["results"]}
    assert rule_ids == {"CKV_KEYLESS_1"}, "the scan runs the keyless checks only, and finds the key"


@pytest.mark.slow
def test_gitlab_ci_reports_the_junit_its_scan_writes(tmp_path: Path) -> None:
    pipeline = _load("gitlab-ci.yml")
    jobs = {k: v for k, v in pipeline.items() if isinstance(v, dict) and "script" in v}
    assert set(jobs) == {"keyless-checkov", "keyless-cfn-lint"}
    for job in jobs.values():
        assert job["artifacts"]["when"] == "always" and 'pip install "$KEYLESS"' in job["script"]
    lint = next(line for line in jobs["keyless-cfn-lint"]["script"] if line.startswith("keyless cfn-lint"))
    assert "--format junit" in lint
    assert lint.endswith("> " + jobs["keyless-cfn-lint"]["artifacts"]["reports"]["junit"])
    checkov = jobs["keyless-checkov"]
    (tmp_path / "bad.tf").write_text(BAD_TF, encoding="utf-8")
    done = _run(next(line for line in checkov["script"] if line.startswith("keyless checkov")), tmp_path)
    assert done.returncode == 1, done.stderr[-2000:]
    junit = (tmp_path / checkov["artifacts"]["reports"]["junit"]).read_text(encoding="utf-8")
    assert junit.startswith("<?xml") and "CKV_KEYLESS_1" in junit and "<failure" in junit


@pytest.mark.slow
def test_checkov_config_runs_only_the_keyless_checks(tmp_path: Path) -> None:
    config = _load(".checkov.yaml")
    assert config["check"] == ["CKV_KEYLESS_*"] and config["skip-download"] is True
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "main.tf").write_text(BAD_TF + GOOD_TF, encoding="utf-8")
    done = _run(f"keyless checkov --config-file {EXAMPLES / '.checkov.yaml'} -d bad -o json", tmp_path)
    assert done.returncode == 1, done.stderr[-2000:]
    report = json.loads(done.stdout)
    failed = {c["check_id"] for c in report["results"]["failed_checks"]}
    assert failed == {"CKV_KEYLESS_1"}, "only keyless checks run, and they find the key"


def test_ci_doc_shows_every_example_file() -> None:
    text = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    for path in sorted(EXAMPLES.iterdir()):
        assert f"examples/{path.name}" in text, path.name
        assert path.read_text(encoding="utf-8").strip() in text, f"docs/ci.md shows an outdated {path.name}"


# --- keyless explain -------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.slug)
def test_explain_accepts_every_id_in_any_case(rule: Rule, capsys: pytest.CaptureFixture[str]) -> None:
    from keyless.cli import main

    for identifier in rule.ids:
        for spelled in (identifier, identifier.swapcase()):
            assert main(["explain", spelled]) == 0
            out = capsys.readouterr().out
            assert out == _page(rule), f"explain {spelled} did not print the {rule.slug} page"


def test_explain_unknown_id_lists_the_valid_ones(capsys: pytest.CaptureFixture[str]) -> None:
    from keyless.cli import main

    assert main(["explain", "CKV_KEYLESS_99"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "CKV_KEYLESS_99" in captured.err
    for rule in RULES:
        assert all(i in captured.err for i in rule.ids)
