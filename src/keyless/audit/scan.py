"""Scanning one repository with the real engines, and turning their results into audit findings.

No rule is evaluated here. Terraform goes through checkov with the keyless checks, in process;
the findings behind each failing record are taken from the checks themselves
(`checkov_adapter.FAILURE_OBSERVERS`), so evidence and account IDs come from the very result
checkov reports. CloudFormation goes through the same two calls the checkov checks and the
cfn-lint rules make (`load_cloudformation`, `scan_template`), and lines are placed the way
cfn-lint places a rule match.
"""

from __future__ import annotations

import logging
import os
import warnings
from typing import Any

from keyless import checkov_adapter
from keyless.audit.discover import Exclusions, discover
from keyless.audit.model import AuditFinding, FileError, RepositoryReport, make_finding
from keyless.audit.progress import Progress
from keyless.catalog import rule
from keyless.cloudformation import scan_template
from keyless.engines import run_checkov
from keyless.findings import Finding, dotted
from keyless.parsing import TemplateError, load_cloudformation

log = logging.getLogger(__name__)


class EngineFailure(RuntimeError):
    """An engine failed on a whole tree: the report is incomplete (exit code 2)."""


def _rel(path: str, root: str) -> str:
    absolute = path if os.path.isabs(path) else os.path.join(root, path.lstrip("/\\"))
    return os.path.relpath(absolute, root).replace(os.sep, "/")


# --- Terraform ---------------------------------------------------------------------------------


def _terraform_parse_reason(path: str) -> str:
    """checkov keeps only the names of files it could not parse; its own loader tells why."""
    from checkov.terraform.parser_utils import load_or_die_quietly

    errors: dict[str, Exception] = {}
    try:
        load_or_die_quietly(path, errors)
    except Exception as error:  # the loader itself failing is a reason too
        return f"cannot be parsed: {error}"
    if errors:
        error = next(iter(errors.values()))
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return f"cannot be parsed as Terraform: {first}"
    if not os.access(path, os.R_OK):
        return "cannot be read"
    return "cannot be parsed as Terraform"


def _run_terraform(root: str, exclusions: Exclusions) -> tuple[list[Any], dict[tuple[str, str, str], list[Finding]]]:
    observed: dict[tuple[str, str, str], list[Finding]] = {}

    def observe(check: Any, conf: dict[str, Any], findings: list[Finding]) -> None:
        scanned_file = str(check.entity_path).rsplit(":", 2)[0]
        observed[(check.id, scanned_file, str(conf.get("__address__", "")))] = list(findings)

    checkov_adapter.FAILURE_OBSERVERS.append(observe)
    try:
        with warnings.catch_warnings():
            # checkov's module finder builds a regex from the exclusions' repr (harmless for local
            # modules, which its parser loads anyway) and Python warns about it.
            warnings.filterwarnings("ignore", category=FutureWarning, module=r"checkov\.")
            reports = run_checkov(root, frameworks=["terraform"], excluded_paths=exclusions.regexes())
    finally:
        checkov_adapter.FAILURE_OBSERVERS.remove(observe)
    return reports, observed


def scan_terraform(root: str, exclusions: Exclusions, repo: RepositoryReport) -> None:
    try:
        reports, observed = _run_terraform(root, exclusions)
    except Exception as error:
        raise EngineFailure(f"checkov failed on {repo.path}: {error}") from error
    for report in reports:
        for broken in sorted(report.parsing_errors):
            absolute = broken if os.path.isabs(broken) else os.path.join(root, broken)
            repo.errors.append(FileError(repo.name, _rel(absolute, root), _terraform_parse_reason(absolute)))
        for record in report.failed_checks:
            repo.findings.extend(_terraform_findings(record, observed, root, repo.name))


def _terraform_findings(record: Any, observed: dict[tuple[str, str, str], list[Finding]], root: str,
                        repository: str) -> list[AuditFinding]:
    slug = rule(record.check_id).slug
    file = _rel(record.file_abs_path or record.file_path, root)
    line = int(record.file_line_range[0]) if record.file_line_range else 1
    findings = observed.get((record.check_id, record.file_path, record.resource))
    common = {"framework": "terraform", "repository": repository, "file": file, "line": line,
              "resource": record.resource}
    if findings is None:  # never expected: keep checkov's word rather than drop the record
        log.warning("no keyless detail for %s on %s; reporting checkov's record as is", record.check_id, record.resource)
        severity = getattr(record.severity, "name", "") or ""
        return [make_finding(slug, severity=severity, path="", message=message, evidence="", account_id=None,
                             documentation_example=False, **common)
                for message in (record.details or [rule(slug).title])]
    return [make_finding(slug, severity=f.effective_severity, path=dotted(f.path), message=f.message,
                         evidence=f.evidence, account_id=f.account_id, documentation_example=f.documentation_example,
                         secrets=f.secrets, **common)
            for f in findings]


# --- CloudFormation ----------------------------------------------------------------------------


class _CfnLintLocator:
    """Lines exactly where cfn-lint puts a keyless RuleMatch.

    cfn-lint runs its rules on the template after its own transform (SAM Globals merged into the
    functions, keeping the Globals positions), anchors the match path with the rules' `_anchor`
    and looks the line up with `get_location_yaml`; this does the same. Build it after scanning:
    the transform changes the template in place.
    """

    def __init__(self, path: str, template: Any) -> None:
        from cfnlint.template import Template

        self.cfn: Any = None
        try:
            self.cfn = Template(path, template)
            self.cfn.transform()
        except Exception:  # cfn-lint places matches at line 1 when it cannot locate them
            log.debug("cannot build cfn-lint's view of %s", path, exc_info=True)

    def line(self, finding_path: tuple[Any, ...]) -> int:
        from keyless.cfn_lint.rules import _anchor

        if self.cfn is None:
            return 1
        try:
            template = self.cfn.template
            location = self.cfn.get_location_yaml(template, list(_anchor(template, finding_path)))
        except Exception:
            location = None
        return int(location[0]) + 1 if location else 1


def scan_cloudformation(root: str, rel: str, repo: RepositoryReport) -> None:
    path = os.path.join(root, rel)
    try:
        template = load_cloudformation(path)
    except TemplateError as error:
        reason = str(error).removeprefix(f"{path}: ")
        repo.errors.append(FileError(repo.name, rel, f"cannot be parsed: {reason}"))
        return
    except Exception as error:  # the decoder's own failures (encoding, recursion) are reasons too
        repo.errors.append(FileError(repo.name, rel, f"cannot be parsed: {error}"))
        return
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        repo.errors.append(FileError(repo.name, rel, "not a CloudFormation template: Resources is not a mapping"))
        return
    try:
        findings = scan_template(template)
    except Exception as error:
        repo.errors.append(FileError(repo.name, rel, f"keyless could not analyse it: {error}"))
        return
    locator = _CfnLintLocator(path, template) if findings else None
    for f in findings:
        assert locator is not None
        repo.findings.append(make_finding(
            f.slug, severity=f.effective_severity, framework="cloudformation", repository=repo.name, file=rel,
            line=locator.line(f.path), resource=f.resource, path=dotted(f.path), message=f.message,
            evidence=f.evidence, account_id=f.account_id, documentation_example=f.documentation_example,
            secrets=f.secrets,
        ))


# --- one repository ----------------------------------------------------------------------------


def scan_repository(path: str, name: str, excludes: tuple[str, ...] = (), progress: Progress | None = None
                    ) -> RepositoryReport:
    """Discover and scan one repository; unreadable files are listed, everything else still scanned."""
    root = os.path.abspath(path)
    if not os.path.isdir(root):
        raise FileNotFoundError(f"{path}: not a folder")
    exclusions = Exclusions(root, tuple(excludes))
    found = discover(root, exclusions)
    repo = RepositoryReport(name=name, path=path, terraform_roots=list(found.terraform_roots),
                            templates=list(found.templates))
    repo.errors.extend(FileError(name, rel, reason) for rel, reason in found.unreadable.items())
    if progress is not None:
        progress.total += (1 if found.terraform_roots else 0) + len(found.templates)
    if found.terraform_roots:
        if progress is not None:
            progress.step(f"{name}: Terraform ({len(found.terraform_roots)} folders)")
        scan_terraform(root, exclusions, repo)
    for rel in found.templates:
        if progress is not None:
            progress.step(f"{name}: {rel}")
        scan_cloudformation(root, rel, repo)
    repo.sort()
    return repo
