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
from keyless.audit.discover import (
    TFVARS_SUFFIXES,
    Discovery,
    Exclusions,
    discover,
    holds_terraform_json,
    skipped_directories_regex,
)
from keyless.audit.model import AuditFinding, FileError, RepositoryReport, make_finding
from keyless.audit.progress import Progress
from keyless.audit.workers import EngineFailure
from keyless.catalog import rule
from keyless.engines import run_checkov_with_findings
from keyless.findings import Finding, dotted
from keyless.lang.cloudformation_parsing import TemplateError, load_cloudformation
from keyless.lang.terraform_files import take_problems
from keyless.rules import scan_template
from keyless.rules._key_material_text import root_of, text_findings

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


def _run_terraform(root: str, excluded: list[str], tf_json: bool) -> tuple[list[Any], list[tuple[Any, list[Finding]]]]:
    with warnings.catch_warnings():
        # checkov's module finder builds a regex from the exclusions' repr (harmless for local
        # modules, which its parser loads anyway) and Python warns about it.
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"checkov\.")
        reports, failed = run_checkov_with_findings(root, frameworks=["terraform"], excluded_paths=excluded)
        if tf_json:
            # checkov's terraform_json framework globs every folder: skip the ones the audit's walk skips
            more, more_failed = run_checkov_with_findings(
                root, frameworks=["terraform_json"], excluded_paths=[*excluded, skipped_directories_regex(root)])
            reports, failed = [*reports, *more], [*failed, *more_failed]
        return reports, failed


def scan_terraform(root: str, exclusions: Exclusions, batch: list[str] | None, repository: str,
                   folders: list[str] | None = None) -> Results:
    """One checkov run over a batch of Terraform folders (None: every folder of the repository).

    `.tf.json` files (CDKTF's `cdk.tf.json`) are checkov's `terraform_json` framework: it runs too when
    one of the folders (`folders`, or the batch) holds one.
    """
    excluded = exclusions.regexes() + ([plan.outside_batch(root, batch)] if batch is not None else [])
    tf_json = holds_terraform_json(root, batch if batch is not None else folders or [])
    where = repository if batch is None else f"{repository} ({batch[0]}{' ...' if len(batch) > 1 else ''})"
    take_problems()  # what an earlier run in this process met is not this run's
    try:
        reports, failed = _run_terraform(root, excluded, tf_json)
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
    for problem in take_problems():  # files the code references that could not be judged
        shown = _rel(problem.file, root)
        shown = problem.written if shown.startswith("../") and problem.written else shown  # outside: as written
        errors.append(FileError(repository, shown,
                                f"{problem.reason} (referenced from {_rel(problem.referrer, root)}); not judged"))
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
                         secrets=f.secrets, **{**common, **_written_at(f, root, record)})
            for f in findings]


def _written_at(finding: Finding, root: str, record: Any = None) -> dict[str, Any]:
    """Point at the file and line where the value is written, when that is not the reported block.

    In a `.tf.json` file (CDKTF's one-file stacks, blocks of dozens of lines) a value in the block itself
    is pointed at too: the JSON line that holds it.
    """
    if finding.written_at is None:
        return _json_line(finding, record) if record is not None else {}
    file, line = finding.written_at
    return {"file": _rel(file, root), "line": line}


def scan_terraform_text(root: str, found: Discovery, repository: str) -> list[AuditFinding]:
    """Keys in Terraform text checkov never hands a check (`rules._key_material_text`), at file and line."""
    dirs = {os.path.dirname(rel) or "." for rel in found.terraform_texts if rel.endswith(".tf")}
    by_dir: dict[str, list[str]] = {}
    for rel in found.terraform_texts:
        if rel.endswith(".tf"):
            by_dir.setdefault(os.path.dirname(rel) or ".", []).append(os.path.join(root, rel))
    findings: list[AuditFinding] = []
    for rel in found.terraform_texts:
        folder = os.path.dirname(rel) or "."
        if rel.endswith(TFVARS_SUFFIXES):
            folder = root_of(folder, dirs)
        for f in text_findings(os.path.join(root, rel), by_dir.get(folder, [])):
            file, line = f.written_at or (os.path.join(root, rel), 1)
            findings.append(make_finding(
                f.slug, severity=f.effective_severity, framework="terraform", repository=repository,
                file=_rel(file, root), line=line, resource=f.resource, path=dotted(f.path), message=f.message,
                evidence=f.evidence, account_id=f.account_id, documentation_example=f.documentation_example,
                secrets=f.secrets))
    return findings


def _json_line(finding: Finding, record: Any) -> dict[str, Any]:
    path = record.file_abs_path or ""
    if not finding.secrets or not path.lower().endswith(".tf.json") or not record.file_line_range:
        return {}
    start, end = (int(n) for n in record.file_line_range[:2])
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()[start - 1:end]
    except OSError:
        return {}
    found = next((start + i for i, line in enumerate(lines) if finding.secrets[0] in line), None)
    return {"line": found} if found is not None else {}


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
    batches = plan.batches(root, found.terraform_roots, parts=workers.at_once(jobs)) if found.terraform_roots else []
    if len(batches) > 1 and not plan.batchable([*exclusions.regexes(), *(plan.outside_batch(root, b) for b in batches)]):
        batches = [found.terraform_roots]  # a path with a `]`: one run, as checkov alone would do
    for batch in batches:
        label = f"{name}: Terraform ({len(batch)} folders from {batch[0]})"
        scope = None if len(batches) == 1 else batch  # one batch: exactly the run checkov does on the folder
        units.append((label, partial(scan_terraform, root, exclusions, scope, name, batch)))
    for start in range(0, len(found.templates), TEMPLATES_PER_UNIT):
        rels = found.templates[start:start + TEMPLATES_PER_UNIT]
        units.append((f"{name}: {rels[0]}", partial(scan_templates, root, rels, name)))
    if progress is not None:
        progress.total += len(units)
    warm = (("terraform",) if batches else ()) + (("cloudformation",) if found.templates else ())
    for findings, errors in workers.run(units, jobs, progress, warm):
        repo.findings.extend(findings)
        repo.errors.extend(errors)
    # What checkov already reported where it is written (a used default, terraform.tfvars) stays one finding.
    reported = {(f.rule, f.file, f.line, f.evidence) for f in repo.findings if f.framework == "terraform"}
    repo.findings.extend(f for f in scan_terraform_text(root, found, name)
                         if (f.rule, f.file, f.line, f.evidence) not in reported)
    repo.sort()
    return repo
