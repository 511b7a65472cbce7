"""Reports people read: the PR-comment summary, the compact terminal, the org HTML, a clean run, progress.

Every report here comes from real engine runs: examples/, a tree built here, and the benchmark corpus
that bench/generate.py makes. The HTML is checked in headless Chromium, progress on a real pseudo-terminal.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
from html.parser import HTMLParser
from pathlib import Path

import pytest

from keyless.audit.formats import render
from keyless.audit.formats.markdown_summary import GITHUB_COMMENT_LIMIT, MAX_CHARS, size
from keyless.audit.model import SEVERITIES_DESCENDING, Report, severity_rank
from keyless.audit.report import audit
from keyless.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
KEYLESS = Path(sys.executable).with_name("keyless")
ACCESS_KEY_TEMPLATE = '''AWSTemplateFormatVersion: "2010-09-09"
Resources:
  CiKey:
    Type: AWS::IAM::AccessKey
    Properties:
      UserName: ci
'''


@pytest.fixture(scope="module")
def examples_report() -> Report:
    report, failures = audit([str(EXAMPLES)], progress=False)
    assert failures == [] and report.findings
    return report


@pytest.fixture(scope="module")
def org_report() -> Report:
    """Two repositories with different severities: Terraform and CloudFormation halves of examples/, the less
    severe first (so the ranking has to reorder them)."""
    report, failures = audit([str(EXAMPLES / "terraform"), str(EXAMPLES / "cloudformation")], progress=False)
    assert failures == []
    counts = [[sum(f.severity == s for f in r.findings) for s in SEVERITIES_DESCENDING] for r in report.repositories]
    assert counts[0] != counts[1]
    return report


# --- the Markdown summary for a pull-request comment -------------------------------------------

TABLE_ROW = re.compile(r"^\|.*\|$")
CODE_SPAN = re.compile(r"(?<!\\)(`+)(?!`).*?(?<!`)\1(?!`)")


def _table_widths(text: str) -> list[int]:
    """Unescaped pipes per table row, outside code spans."""
    widths = []
    for line in text.splitlines():
        if TABLE_ROW.match(line):
            outside = CODE_SPAN.sub("", line)
            widths.append(len(re.findall(r"(?<!\\)\|", outside)))
    return widths


def _check_summary(report: Report, text: str) -> None:
    summary = json.loads(report.to_json())["summary"]
    assert size(text) <= MAX_CHARS < GITHUB_COMMENT_LIMIT
    assert f"**{summary['total']} findings**" in text
    for sev in SEVERITIES_DESCENDING:
        if summary["by_severity"][sev]:
            assert f"{sev} {summary['by_severity'][sev]}" in text
    rows = [line for line in text.splitlines() if line.startswith(tuple(f"| {s} |" for s in SEVERITIES_DESCENDING))]
    shown = [line.split(" | ")[0].strip("| ") for line in rows]
    assert shown, "no finding shown"
    ranks = [severity_rank(s) for s in shown]
    assert ranks == sorted(ranks, reverse=True), "findings are not worst first"
    left = summary["total"] - len(shown)
    if left:
        note = re.search(r"_(\d+) more findings? \(([^)]*)\) not shown here", text)
        assert note and int(note.group(1)) == left, text[-500:]
        left_out = sorted(report.findings, key=lambda f: -severity_rank(f.severity))[len(shown):]
        assert max(severity_rank(f.severity) for f in left_out) <= ranks[-1]
    widths = _table_widths(text)
    assert widths and all(w in (5, 6, 7, 8) for w in widths), widths


@pytest.fixture(scope="module")
def bench_report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    corpus = tmp_path_factory.mktemp("bench") / "corpus"
    subprocess.run([sys.executable, str(ROOT / "bench/generate.py"), str(corpus), "--seed", "7", "--scale", "1.0"],
                   check=True, capture_output=True)
    report, failures = audit([str(corpus)], progress=False)
    assert failures == []
    return report


@pytest.mark.slow
def test_markdown_summary_of_the_bench_corpus_fits_a_pr_comment(bench_report: Report) -> None:
    full = render(bench_report, "markdown")
    assert size(full) > GITHUB_COMMENT_LIMIT, "the corpus no longer shows the problem; the test proves nothing"
    text = render(bench_report, "markdown-summary")
    _check_summary(bench_report, text)


@pytest.mark.slow
def test_markdown_summary_of_many_hostile_repositories_still_fits(bench_report: Report) -> None:
    """Forty copies of the corpus as an org report, with long, Markdown-laden text: still under the limit."""
    noisy = "`| ![x](https://example.invalid/t.png) @org/team [link](https://example.invalid) <b>x</b> " * 200
    repos = []
    for i in range(40):
        repo = dataclasses.replace(bench_report.repositories[0], name=f"team-{i:02d} {noisy[:300]}")
        repo.findings = [dataclasses.replace(f, repository=repo.name, resource=noisy, message=noisy, file=f"{noisy}.tf")
                         for f in repo.findings]
        repos.append(repo)
    report = Report(repositories=repos, tool={}, failures=[noisy] * 30)
    text = render(report, "markdown-summary")
    _check_summary(report, text)
    prose = CODE_SPAN.sub("", text)  # code spans show their text literally
    prose = re.sub(r"^> ?(\[!CAUTION\])?", "", prose, flags=re.M)  # the summary's own alert block
    assert "`" not in prose.replace("\\`", "")
    assert not re.search(r"(?<!\\)[\[\]<>@!]", prose.replace("[AWS guidance](https://docs.aws", "")), prose[:2000]
    assert "15 more repositories are not listed" in text and "The run failed" in text


def test_markdown_summary_of_a_small_report_shows_everything(examples_report: Report) -> None:
    text = render(examples_report, "markdown-summary")
    _check_summary(examples_report, text)
    assert "not shown here" not in text
    for f in examples_report.findings:
        assert f"`{f.file}:{f.line}`" in text


def test_markdown_summary_via_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "iam"
    repo.mkdir()
    (repo / "template.yaml").write_text(ACCESS_KEY_TEMPLATE, encoding="utf-8")
    assert main(["audit", "--no-progress", str(repo), "--format", "markdown-summary"]) == 1
    out = capsys.readouterr().out
    assert "**1 finding** (HIGH 1)" in out and "| HIGH | iam-access-key (CKV\\_KEYLESS\\_1 / WK001) |" in out


# --- the terminal ---------------------------------------------------------------------------------


def test_compact_terminal_gives_one_line_per_finding(examples_report: Report, capsys: pytest.CaptureFixture[str]) -> None:
    full = render(examples_report, "terminal")
    compact = render(examples_report, "terminal", compact=True)
    assert "fix:" in full and "fix:" not in compact and "evidence:" not in compact
    for f in examples_report.findings:
        lines = [line for line in compact.splitlines() if f"{f.file}:{f.line} " in line and f.rule in line]
        assert len(lines) >= 1 and all(f.severity in line for line in lines)
    finding_lines = [line for line in compact.splitlines() if line.lstrip().startswith(SEVERITIES_DESCENDING)]
    assert len(finding_lines) == len(examples_report.findings)
    assert len(compact.splitlines()) < len(full.splitlines()) / 2
    assert main(["audit", "--no-progress", str(EXAMPLES), "--compact"]) == 1
    assert "fix:" not in capsys.readouterr().out


def test_a_clean_run_says_clean_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "main.tf").write_text('resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n', encoding="utf-8")
    assert main(["audit", "--no-progress", str(clean)]) == 0
    out = capsys.readouterr().out
    assert "clean: clean" not in out
    assert re.search(r"^  clean  \(1 Terraform folder", out, re.M), out


# --- the org HTML ------------------------------------------------------------------------------------


class _Page(HTMLParser):
    """Ranking rows, finding rows with their rule links, and the order of landmarks."""

    def __init__(self) -> None:
        super().__init__()
        self.ranking: list[str] = []
        self.rows: list[dict[str, str]] = []
        self.links: list[str] = []
        self.order: list[str] = []
        self._table = self._repository = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "table":
            self._table = a.get("class", "")
            self._repository = a.get("data-repository", "")
        if tag == "tr" and self._table == "ranking" and "data-repository" in a:
            self.ranking.append(a["data-repository"])
        if tag == "tr" and a.get("class") == "finding":
            self.rows.append({**a, "repository": self._repository})
            self.links.append("")
        if tag == "a" and a.get("class") == "rule":
            self.links[-1] = a["href"]
        if tag in ("h1", "section") and tag not in self.order:
            self.order.append(a.get("id") or tag)


def _dump_body(page: Path, tmp_path: Path) -> dict[str, str]:
    assert CHROMIUM is not None
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
         f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,900", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    body = re.search(r"<body([^>]*)>", result.stdout)
    assert body, f"chromium printed no DOM (exit {result.returncode}): {result.stderr[-800:]}"
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body.group(1)))


def test_org_html_ranks_repositories_sorts_by_severity_and_links_rules(org_report: Report) -> None:
    page = _Page()
    page.feed(render(org_report, "html"))
    by_name = {r.name: r for r in org_report.repositories}
    expected = sorted(by_name, key=lambda n: [-sum(f.severity == s for f in by_name[n].findings) for s in SEVERITIES_DESCENDING])
    assert page.ranking == expected != [r.name for r in org_report.repositories]
    for repo in by_name.values():
        rows = [(row, link) for row, link in zip(page.rows, page.links, strict=True)
                if row["repository"] == repo.name]
        ranks = [severity_rank(row["data-severity"]) for row, _ in rows]
        assert len(rows) == len(repo.findings) and ranks == sorted(ranks, reverse=True)
        help_uri = {f.fingerprint: f.help_uri for f in repo.findings}
        assert all(link == help_uri[row["data-fingerprint"]] for row, link in rows)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian package `chromium`)")
def test_chart_labels_are_whole_and_fit_in_chromium(org_report: Report, tmp_path: Path) -> None:
    text = render(org_report, "html")
    for rec in json.loads(org_report.to_json())["summary"]["by_recommendation"]:
        assert f"<title>{rec['title']}</title>".replace("'", "&#39;") in text  # the full title, not cut
    page = tmp_path / "org.html"
    page.write_text(text, encoding="utf-8")
    state = _dump_body(page, tmp_path)
    assert state["ready"] == "true" and state["chart-labels-fit"] == "true"
    assert state["failed-banner-visible"] == "false"


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian package `chromium`)")
def test_a_failed_run_says_so_at_the_top_of_the_html(org_report: Report, tmp_path: Path) -> None:
    failed = dataclasses.replace(org_report, failures=["checkov failed on terraform: [Errno 2] No such file"])
    text = render(failed, "html")
    page = _Page()
    page.feed(text)
    assert page.order[:2] == ["run-failed", "h1"]
    assert "This run failed: the report is incomplete" in text and "checkov failed on terraform" in text
    file = tmp_path / "failed.html"
    file.write_text(text, encoding="utf-8")
    state = _dump_body(file, tmp_path)
    assert state["failed-banner-visible"] == "true" and state["run-failed"] == "true"
    clean = render(org_report, "html")
    assert 'id="run-failed"' not in clean and "This run failed" not in clean


# --- progress with an ETA, on a real terminal only ------------------------------------------------


def _stderr_on_a_terminal(argv: list[str], sized: bool = True) -> str:
    """Run the command with stderr on a new pseudo-terminal (120x40, or never sized); return what it wrote there."""
    primary, secondary = os.openpty()
    if sized:
        fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=secondary, stdin=subprocess.DEVNULL,
                               env={k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")})
    os.close(secondary)
    chunks = []
    while True:
        ready, _, _ = select.select([primary], [], [], 1.0)
        if ready:
            try:
                data = os.read(primary, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    process.wait(timeout=300)
    os.close(primary)
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.fixture(scope="module")
def many_templates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """120 templates: three CloudFormation units of work, so the ETA has a rate to work from."""
    root = tmp_path_factory.mktemp("many")
    for i in range(120):
        (root / f"stack-{i:03d}.yaml").write_text(ACCESS_KEY_TEMPLATE, encoding="utf-8")
    return root


@pytest.mark.slow
@pytest.mark.parametrize("sized", [True, False], ids=["sized-terminal", "unsized-terminal"])
def test_progress_shows_an_eta_on_a_terminal_only(many_templates: Path, tmp_path: Path, sized: bool) -> None:
    base = [str(KEYLESS), "audit", str(many_templates), "--jobs", "1", "--format", "json", "--output"]
    shown = _stderr_on_a_terminal([*base, str(tmp_path / "a.json")], sized)
    assert re.search(r"ETA \d\d:\d\d", shown), shown
    assert re.search(r"\d+/3 units", shown), shown
    assert json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))["summary"]["total"] == 120
    assert re.search(r"ETA [^\r]*stack-\d+\.yaml", shown), shown  # what it works on
    assert _stderr_on_a_terminal([*base, str(tmp_path / "b.json"), "--no-progress"], sized) == ""
    piped = subprocess.run([*base, str(tmp_path / "c.json")], capture_output=True, text=True, check=False)
    assert piped.returncode == 1 and piped.stderr == ""
