"""Scanning one repository with the real engines, and turning their results into audit findings.

No rule is evaluated here, and only public functions of the engine layer are used. Terraform goes
through checkov with the keyless checks, in process, one batch of folders per run (`plan`); the
findings behind each failing record come from the checks themselves
(`engines.run_checkov_with_findings`), so evidence and account IDs come from the very result
checkov reports. CloudFormation goes through the same calls the checkov checks and the cfn-lint
rules make (`load_cloudformation`, `scan_template`), and lines are placed by the cfn-lint adapter
(`findings_with_lines`). The units of work run in forked processes (`workers`).
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

from keyless.audit import plan, workers
from keyless.audit.discover import Exclusions, discover
from keyless.audit.model import AuditFinding, FileError, RepositoryReport, make_finding
from keyless.audit.progress import Progress
from keyless.audit.workers import EngineFailure
from keyless.catalog import rule
from keyless.engines import run_checkov_with_findings
from keyless.findings import Finding, dotted
from keyless.lang.cloudformation_parsing import TemplateError, load_cloudformation
from keyless.rules import scan_template

log = logging.getLogger(__name__)
Results = tuple[list[AuditFinding], list[FileError]]
TEMPLATES_PER_UNIT = 50


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


def _run_terraform(root: str, excluded: list[str]) -> tuple[list[Any], list[tuple[Any, list[Finding]]]]:
    with warnings.catch_warnings():
        # checkov's module finder builds a regex from the exclusions' repr (harmless for local
        # modules, which its parser loads anyway) and Python warns about it.
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"checkov\.")
        return run_checkov_with_findings(root, frameworks=["terraform"], excluded_paths=excluded)


def scan_terraform(root: str, exclusions: Exclusions, batch: list[str] | None, repository: str) -> Results:
    """One checkov run over a batch of Terraform folders (None: every folder of the repository)."""
    excluded = exclusions.regexes() + ([plan.outside_batch(root, batch)] if batch is not None else [])
    where = repository if batch is None else f"{repository} ({batch[0]}{' ...' if len(batch) > 1 else ''})"
    try:
        reports, failed = _run_terraform(root, excluded)
    except Exception as error:
        raise EngineFailure(f"checkov failed on {where}: {error}") from error
    findings: list[AuditFinding] = []
    errors: list[FileError] = []
    for report in reports:
        for broken in sorted(report.parsing_errors):
            absolute = broken if os.path.isabs(broken) else os.path.join(root, broken)
            errors.append(FileError(repository, _rel(absolute, root), _terraform_parse_reason(absolute)))
    for record, behind in failed:
        findings.extend(_terraform_findings(record, behind, root, repository))
    return findings, errors


def _terraform_findings(record: Any, findings: list[Finding], root: str, repository: str) -> list[AuditFinding]:
    slug = rule(record.check_id).slug
    file = _rel(record.file_abs_path or record.file_path, root)
    line = int(record.file_line_range[0]) if record.file_line_range else 1
    common = {"framework": "terraform", "repository": repository, "file": file, "line": line,
              "resource": record.resource}
    if not findings:  # never expected: keep checkov's word rather than drop the record
        log.warning("no keyless detail for %s on %s; reporting checkov's record as is", record.check_id, record.resource)
        severity = getattr(record.severity, "name", "") or ""
        return [make_finding(slug, severity=severity, path="", message=message, evidence="", account_id=None,
                             documentation_example=False, **common)
                for message in (record.details or [rule(slug).title])]
    return [make_finding(slug, severity=f.effective_severity, path=dotted(f.path), message=f.message,
                         evidence=f.evidence, account_id=f.account_id, documentation_example=f.documentation_example,
                         secrets=f.secrets, **{**common, **_written_at(f, root)})
            for f in findings]


def _written_at(finding: Finding, root: str) -> dict[str, Any]:
    """Point at the file and line where the value is written, when that is not the reported block."""
    if finding.written_at is None:
        return {}
    file, line = finding.written_at
    return {"file": _rel(file, root), "line": line}


# --- CloudFormation ----------------------------------------------------------------------------


def scan_cloudformation(root: str, rel: str, repository: str) -> Results:
    path = os.path.join(root, rel)
    try:
        template = load_cloudformation(path, positions=False)
    except TemplateError as error:
        reason = str(error).removeprefix(f"{path}: ")
        return [], [FileError(repository, rel, f"cannot be parsed: {reason}")]
    except Exception as error:  # the decoder's own failures (encoding, recursion) are reasons too
        return [], [FileError(repository, rel, f"cannot be parsed: {error}")]
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        return [], [FileError(repository, rel, "not a CloudFormation template: Resources is not a mapping")]
    try:
        findings = scan_template(template)
    except Exception as error:
        return [], [FileError(repository, rel, f"keyless could not analyse it: {error}")]
    if not findings:
        return [], []
    from keyless.engines.cfn_lint_adapter import findings_with_lines  # cfn-lint costs 2 s to import: only when needed

    return [
        make_finding(
            f.slug, severity=f.effective_severity, framework="cloudformation", repository=repository, file=rel,
            line=line, resource=f.resource, path=dotted(f.path),
            message=f.message, evidence=f.evidence, account_id=f.account_id,
            documentation_example=f.documentation_example, secrets=f.secrets,
        )
        for f, line in findings_with_lines(path, findings)
    ], []


def scan_templates(root: str, rels: list[str], repository: str) -> Results:
    findings: list[AuditFinding] = []
    errors: list[FileError] = []
    for rel in rels:
        found, failed = scan_cloudformation(root, rel, repository)
        findings.extend(found)
        errors.extend(failed)
    return findings, errors


# --- one repository ----------------------------------------------------------------------------


def scan_repository(path: str, name: str, excludes: tuple[str, ...] = (), progress: Progress | None = None,
                    jobs: int | None = None) -> RepositoryReport:
    """Discover and scan one repository; unreadable files are listed, everything else still scanned.

    The work is cut into units (batches of Terraform folders, groups of templates) that run in
    `jobs` forked processes, so memory stays bounded by a unit and every core is used.
    """
    root = os.path.abspath(path)
    if not os.path.isdir(root):
        raise FileNotFoundError(f"{path}: not a folder")
    exclusions = Exclusions(root, tuple(excludes))
    found = discover(root, exclusions)
    exclusions = exclusions.with_files(found.not_regular)  # checkov must not open a FIFO or device either
    repo = RepositoryReport(name=name, path=path, terraform_roots=list(found.terraform_roots),
                            templates=list(found.templates))
    repo.errors.extend(FileError(name, rel, reason) for rel, reason in found.unreadable.items())
    units: list[tuple[str, Callable[[], Results]]] = []
    batches = plan.batches(root, found.terraform_roots) if found.terraform_roots else []
    if len(batches) > 1 and not plan.batchable([*exclusions.regexes(), *(plan.outside_batch(root, b) for b in batches)]):
        batches = [found.terraform_roots]  # a path with a `]`: one run, as checkov alone would do
    for batch in batches:
        label = f"{name}: Terraform ({len(batch)} folders from {batch[0]})"
        scope = None if len(batches) == 1 else batch  # one batch: exactly the run checkov does on the folder
        units.append((label, partial(scan_terraform, root, exclusions, scope, name)))
    for start in range(0, len(found.templates), TEMPLATES_PER_UNIT):
        rels = found.templates[start:start + TEMPLATES_PER_UNIT]
        units.append((f"{name}: {rels[0]}", partial(scan_templates, root, rels, name)))
    if progress is not None:
        progress.total += len(units)
    warm = (("terraform",) if batches else ()) + (("cloudformation",) if found.templates else ())
    for findings, errors in workers.run(units, jobs, progress, warm):
        repo.findings.extend(findings)
        repo.errors.extend(errors)
    repo.sort()
    return repo
