"""`keyless audit merge` treats every input report as hostile.

The inputs start from a real audit of examples/ (real checkov and cfn-lint) and are then broken or
crafted the way a repository's CI job could. Each broken file must give one line on stderr that names
it, never a traceback; the rest still merges, and the merged report says it is incomplete. A script in
any string field of a merged report must stay inert in headless Chromium.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from keyless.audit.formats import render
from keyless.audit.model import AuditFinding, FileError, Report, RepositoryReport, make_finding, schema
from keyless.audit.report import audit
from keyless.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)


@pytest.fixture(scope="module")
def good() -> dict[str, Any]:
    """A real report of examples/ as its JSON document."""
    report, failures = audit([str(EXAMPLES)], progress=False, jobs=1)
    assert failures == [] and report.findings
    return json.loads(report.to_json())


def _write(tmp_path: Path, name: str, document: Any) -> Path:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
    return path


def _merge(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["audit", "--no-progress", "merge", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _finding(document: dict[str, Any]) -> dict[str, Any]:
    return document["repositories"][0]["findings"][0]


def _drop_rule(d: dict[str, Any]) -> None:
    del _finding(d)["rule"]


def _string_line(d: dict[str, Any]) -> None:
    _finding(d)["line"] = "12"


def _newer_rule(d: dict[str, Any]) -> None:
    _finding(d)["rule"] = "session-token-in-ssm"


def _unknown_severity(d: dict[str, Any]) -> None:
    _finding(d)["severity"] = "URGENT"


def _script_severity(d: dict[str, Any]) -> None:
    _finding(d)["severity"] = "<img src=x onerror=alert(1)>"


def _script_account(d: dict[str, Any]) -> None:
    _finding(d)["account_id"] = "<script>alert(1)</script>"


def _javascript_link(d: dict[str, Any]) -> None:
    _finding(d)["help_uri"] = "javascript:alert(1)"


def _terminal_escape_in_rule(d: dict[str, Any]) -> None:
    _finding(d)["rule"] = "\x1b]0;owned\x07\x1b[2J"


def _newer_minor_with_new_field(d: dict[str, Any]) -> None:
    d["schema_version"] = "1.9"
    _finding(d)["owner_team"] = "payments"


def _major_two(d: dict[str, Any]) -> None:
    d["schema_version"] = "2.0"


def _repositories_not_a_list(d: dict[str, Any]) -> None:
    d["repositories"] = {"name": "x"}


MUTATIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    "missing rule": _drop_rule, "string line": _string_line, "rule from a newer keyless": _newer_rule,
    "unknown severity": _unknown_severity, "script in severity": _script_severity,
    "script in account_id": _script_account, "javascript: help_uri": _javascript_link,
    "terminal escape in rule": _terminal_escape_in_rule,
    "newer minor version with a new field": _newer_minor_with_new_field, "major version 2": _major_two,
    "repositories not a list": _repositories_not_a_list,
}
EXPECTED_WORDS = {
    "missing rule": "'rule' is a required property", "string line": "line: '12' is not of type 'integer'",
    "rule from a newer keyless": "newer keyless", "unknown severity": "severity: 'URGENT'",
    "script in severity": "severity", "script in account_id": "account_id", "javascript: help_uri": "help_uri",
    "terminal escape in rule": "rule: '\\x1b]0;owned",
    "newer minor version with a new field": "upgrade keyless", "major version 2": "unsupported report schema version",
    "repositories not a list": "repositories",
}


@pytest.mark.parametrize("case", list(MUTATIONS))
def test_a_broken_report_is_one_line_naming_the_file(case: str, good: dict[str, Any], tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    broken = copy.deepcopy(good)
    MUTATIONS[case](broken)
    with pytest.raises(jsonschema.ValidationError):  # the shipped schema itself rejects it
        jsonschema.validate(broken, schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    bad = _write(tmp_path, "team-bad.json", broken)
    code, out, err = _merge(capsys, str(bad), "--format", "json")
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"keyless audit: error: {bad}: ")
    assert EXPECTED_WORDS[case] in lines[0]
    assert "Traceback" not in err and "\x1b" not in err


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", "\udcff".encode("utf-8", "surrogateescape").decode("latin-1"),
                                     "[" * 100_000 + "]" * 100_000, ""])
def test_a_file_that_is_not_a_report_is_one_line(content: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "artifact.json"
    bad.write_bytes(content.encode("latin-1"))
    code, out, err = _merge(capsys, str(bad), "--format", "json")
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and f"{bad}: " in err and "Traceback" not in err


def test_the_rest_still_merges_and_the_report_says_it_is_incomplete(good: dict[str, Any], tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    team_a = _write(tmp_path, "team-a.json", good)
    broken = copy.deepcopy(good)
    _string_line(broken)
    team_b = _write(tmp_path, "team-b.json", broken)
    merged = tmp_path / "org.json"
    code, _, err = _merge(capsys, str(team_a), str(team_b), "--format", "json", "--output", str(merged))
    assert code == 2
    assert [line for line in err.splitlines() if str(team_b) in line] == err.splitlines()
    document = json.loads(merged.read_text(encoding="utf-8"))
    jsonschema.validate(document, schema())
    assert document["summary"]["total"] == good["summary"]["total"]
    assert len(document["failures"]) == 1 and document["failures"][0].startswith(f"{team_b}: ")
    # Failures recorded in an input survive the next merge, named after the file they came from.
    again = tmp_path / "again.json"
    code, _, _ = _merge(capsys, str(merged), "--format", "json", "--output", str(again))
    assert code == 2
    assert json.loads(again.read_text(encoding="utf-8"))["failures"] == [f"{merged}: {document['failures'][0]}"]


def test_each_repository_keeps_its_tool_versions_and_old_reports_still_read(
        good: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert good["repositories"][0]["tool"] == good["tool"] and set(good["tool"]) == {"keyless", "checkov", "cfn_lint"}
    old = copy.deepcopy(good)  # a 1.0 report: versions only at the top, no failures
    old["schema_version"] = "1.0"
    del old["failures"]
    del old["repositories"][0]["tool"]
    old["tool"] = {"keyless": "0.0.9", "checkov": "3.2.1", "cfn_lint": "1.20.0"}
    old["repositories"][0]["name"] = "legacy-team"
    merged = tmp_path / "org.json"
    code, _, err = _merge(capsys, str(_write(tmp_path, "old.json", old)), str(_write(tmp_path, "new.json", good)),
                          "--format", "json", "--output", str(merged), "--fail-on", "none")
    assert code == 0, err
    document = json.loads(merged.read_text(encoding="utf-8"))
    assert [r["tool"] for r in document["repositories"]] == [old["tool"], good["tool"]]
    html = tmp_path / "org.html"
    assert _merge(capsys, str(merged), "--format", "html", "--output", str(html), "--fail-on", "none")[0] == 0
    page = html.read_text(encoding="utf-8")
    assert "scanned by cfn_lint 1.20.0, checkov 3.2.1, keyless 0.0.9" in page
    assert f"scanned by cfn_lint {good['tool']['cfn_lint']}, checkov {good['tool']['checkov']}" in page


# --- a script in any field stays inert in a real browser ---------------------------------------


def payload(field: str) -> str:
    """Markup that, if it ever runs, marks the page: each vector writes the field's name into the DOM."""
    mark = f"document.documentElement.setAttribute('data-pwned','{field}');document.title='PWNED {field}'"
    return (f"\"'></title></style></textarea></code></script><script>{mark}</script>"
            f"<img src=x onerror=\"{mark}\"><svg onload=\"{mark}\"></svg><a href=\"javascript:{mark}\">x</a>")


STRING_FIELDS = ("checkov_id", "cfn_lint_id", "title", "severity", "recommendation", "recommendation_title",
                 "framework", "repository", "file", "resource", "path", "message", "evidence", "account_id", "fix",
                 "help_uri", "fingerprint")


def hostile_report(good: dict[str, Any]) -> Report:
    """A report with a payload in every string field of the model (the renderer must hold even without merge's
    validation). `rule` stays real: it selects the rule's catalog entry. One finding per file keeps a known
    severity so the per-file summary has a worst severity."""
    base = good["repositories"][0]["findings"][0]
    findings = []
    for field in STRING_FIELDS:
        data = dict(base)
        data[field] = payload(f"finding.{field}")
        if field != "file":
            data["file"] = payload(f"finding.file.{field}")
        findings.append(AuditFinding.from_dict(data))
        findings.append(AuditFinding.from_dict({**data, "severity": "HIGH", "account_id": None}))
    repos = [RepositoryReport(name=payload(f"repository.name.{i}"), path=payload("repository.path"),
                              terraform_roots=[payload("terraform_root")], templates=[payload("template")],
                              findings=findings, errors=[FileError(payload("error.repo"), payload("error.file"),
                                                                   payload("error.reason"))],
                              tool={payload("tool.key"): payload("tool.value")}) for i in range(2)]
    return Report(repositories=repos, generated_at=payload("generated_at"), tool={"keyless": payload("tool")},
                  baseline=payload("baseline"), failures=[payload("failures")])


def dump_dom(page: Path, tmp_path: Path) -> str:
    assert CHROMIUM is not None
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=3000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert "<body" in result.stdout, f"chromium printed no DOM (exit {result.returncode}): {result.stderr[-800:]}"
    return result.stdout


def assert_inert(page: Path, tmp_path: Path, expected_title: str) -> None:
    dom = dump_dom(page, tmp_path)
    root = re.search(r"<html[^>]*>", dom)  # the first: the document element (text is serialised escaped)
    assert root and "data-pwned" not in root.group(0), f"a payload ran: {root.group(0) if root else dom[:300]}"
    title = re.search(r"<title>(.*?)</title>", dom, re.S)
    assert title and "PWNED" not in title.group(1)
    assert expected_title in title.group(1).replace("&amp;", "&")
    assert re.search(r"<body[^>]*data-ready=\"true\"", dom), "the page's own script did not run: the check proves nothing"
    elements = _Elements()
    elements.feed(dom)
    assert elements.tags["script"] == 1 and elements.tags["svg"] == 1 and elements.tags["img"] == 0, elements.tags
    assert elements.handlers == [], elements.handlers[:3]
    assert all(h.startswith(("https://", "http://", "#")) for h in elements.hrefs), elements.hrefs


class _Elements(HTMLParser):
    """The elements of the DOM after the page ran: injected markup would show as elements, not text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: Counter[str] = Counter()
        self.handlers: list[tuple[str, str]] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append((tag, name))
            if name == "href":
                self.hrefs.append(value or "")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian package `chromium`)")
def test_a_script_in_any_field_stays_inert_in_chromium(good: dict[str, Any], tmp_path: Path) -> None:
    report = hostile_report(good)
    page = tmp_path / "hostile.html"
    page.write_text(render(report, "html"), encoding="utf-8")
    assert_inert(page, tmp_path, "keyless audit: 2 repositories")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian package `chromium`)")
def test_a_merged_report_with_scripts_in_its_free_text_stays_inert(good: dict[str, Any], tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Through the command: fields the schema constrains are refused; every free-text field is carried and inert."""
    crafted = copy.deepcopy(good)
    crafted["generated_at"] = payload("generated_at")
    crafted["baseline"] = payload("baseline")
    crafted["failures"] = [payload("failures")]
    crafted["tool"] = {"keyless": payload("tool")}
    repo = crafted["repositories"][0]
    repo.update(name=payload("name"), path=payload("path"), tool={payload("tool.key"): payload("tool.value")})
    repo["errors"] = [{"file": payload("error.file"), "reason": payload("error.reason")}]
    for finding in repo["findings"]:
        for field in ("title", "recommendation_title", "repository", "file", "resource", "path", "message",
                      "evidence", "fix"):
            finding[field] = payload(field)
        finding["help_uri"] = "https://example.invalid/rules?x=\"><script>" + payload("help_uri") + "</script>"
    jsonschema.validate(crafted, schema())
    source = _write(tmp_path, "crafted.json", crafted)
    page = tmp_path / "org.html"
    code, _, err = _merge(capsys, str(source), str(_write(tmp_path, "plain.json", good)), "--format", "html",
                          "--output", str(page))
    assert code == 2 and "Traceback" not in err  # the crafted report carries a failure: the run is incomplete
    assert "This run failed: the report is incomplete" in page.read_text(encoding="utf-8")
    assert_inert(page, tmp_path, "keyless audit: 2 repositories")


# --- and stays inert on a terminal, in a CI log and in a Markdown comment ----------------------


def test_text_from_a_merged_report_cannot_act_on_a_terminal_or_a_comment(
        good: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hostile = "x\x1b[2J\x1b]0;owned\x07\r\n::error file=main.tf::pwned\u202e ![t](https://example.invalid/t.png) `| @org/team"
    crafted = copy.deepcopy(good)
    repo = crafted["repositories"][0]
    repo["name"] = repo["path"] = hostile
    repo["errors"] = [{"file": hostile, "reason": hostile}]
    for finding in repo["findings"]:
        finding.update(resource=hostile, message=hostile, evidence=hostile, path=hostile, file=hostile, repository=hostile)
    source = _write(tmp_path, "crafted.json", crafted)
    plain = _write(tmp_path, "plain.json", good)
    for fmt in ("terminal", "markdown", "markdown-summary"):
        for compact in ((), ("--compact",)) if fmt == "terminal" else ((),):
            code, out, err = _merge(capsys, str(source), str(plain), "--format", fmt, *compact)
            assert code == 1 and err == ""
            assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\u202e]", out), fmt
            assert not re.search(r"^\s*::", out, re.M), fmt
            if fmt != "terminal":
                prose = re.sub(r"(?<!\\)(`+)(?!`).*?(?<!`)\1(?!`)", "", out)  # code spans show text literally
                assert "![t]" not in prose and "@org" not in prose.replace("\\@org", ""), fmt
                header = 0
                for line in prose.splitlines():  # every row has as many cells as its table's header
                    if not line.startswith("|"):
                        header = 0
                        continue
                    pipes = len(re.findall(r"(?<!\\)\|", line))
                    header = header or pipes
                    assert pipes == header, (fmt, line)


@pytest.mark.parametrize(("decoded", "shown"), [("123456789012", "123456789012"), ("1042871084168", None),
                                                ("12345678901", None), ("12345678901x", None), (None, None)])
def test_only_a_twelve_digit_account_id_enters_a_report(decoded: str | None, shown: str | None) -> None:
    """An audit must never write a report that its own merge refuses (the schema allows 12 digits only)."""
    finding = make_finding("hardcoded-access-key-id", severity="CRITICAL", framework="terraform", repository="r",
                           file="main.tf", line=3, resource="aws.default", path="access_key", message="m",
                           evidence="AKIA…MPLE", account_id=decoded, documentation_example=False, secrets=["x"])
    assert finding.account_id == shown
