"""Building a report: auditing folders, or merging JSON reports from separate CI jobs.

The engines are imported only when a scan starts (checkov alone takes seconds to import), so
mistakes in the command line are reported at once.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from importlib import metadata

from keyless.audit import suppressions
from keyless.audit.discover import Exclusions
from keyless.audit.model import AuditFinding, FileError, Report, RepositoryReport
from keyless.audit.progress import Progress
from keyless.audit.validation import InvalidReport, load_report
from keyless.catalog import RULES


def tool_versions() -> dict[str, str]:
    versions = {}
    for dist, key in (("keyless", "keyless"), ("checkov", "checkov"), ("cfn-lint", "cfn_lint")):
        try:
            versions[key] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[key] = "unknown"
    return versions


def _now() -> str:
    """The report time; SOURCE_DATE_EPOCH (the reproducible-builds convention) pins it for identical reports."""
    pinned = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    moment = datetime.fromtimestamp(int(pinned), timezone.utc) if pinned.isdigit() else datetime.now(timezone.utc)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def repository_names(paths: Sequence[str]) -> list[str]:
    """Short, unique section names: the folder name, or the path as given when names collide."""
    names = [os.path.basename(os.path.abspath(p)) or p for p in paths]
    out = []
    for path, name in zip(paths, names, strict=True):
        candidate = name if names.count(name) == 1 else os.path.normpath(path)
        while candidate in out:
            candidate += "'"
        out.append(candidate)
    return out


def audit(paths: Sequence[str], excludes: Sequence[str] = (), progress: bool | None = None,
          jobs: int | None = None, rules: Collection[str] | None = None) -> tuple[Report, list[str]]:
    """Audit each folder; return the report and its failures (also `report.failures`; they make the run exit 2).

    A failure is an engine that failed on a repository (its section is then empty or partial), or a
    run that found nothing to audit at all (a mistyped or empty path). `rules` keeps only the
    findings of those rule slugs (None: every rule).
    """
    from keyless.audit.scan import EngineFailure, scan_repository
    from keyless.engines.logmask import mask_text

    bar = Progress(0, enabled=progress)
    failures: list[str] = []
    repos = []
    try:
        for path, name in zip(paths, repository_names(paths), strict=True):
            try:
                repo = scan_repository(path, name, tuple(excludes), bar, jobs)
                root = os.path.abspath(path)
                suppressions.apply(repo, root, Exclusions(root, tuple(excludes)).excluded)
                repo.tool = tool_versions()
                repos.append(repo)
            except EngineFailure as error:  # engines may quote the code they choked on: mask any key in it
                failures.append(mask_text(str(error)).strip().replace("\n", " "))
                repos.append(RepositoryReport(name=name, path=path, tool=tool_versions()))
    finally:
        bar.close()
    if repos and all(not _audited(repo) for repo in repos) and not failures:
        failures.extend(f"nothing to audit in {repo.path}: no Terraform or CloudFormation/SAM template found"
                        + (f" ({len(repo.errors)} files could not be read)" if repo.errors else "")
                        for repo in repos)
    report = Report(repositories=repos, generated_at=_now(), tool=tool_versions(), failures=list(failures))
    if rules is not None:
        select_rules(report, rules)
    return report, failures


def _audited(repo: RepositoryReport) -> bool:
    return bool(repo.terraform_roots or repo.templates)


def empty_repositories(report: Report) -> list[RepositoryReport]:
    """Repositories in which nothing was found to audit (a warning when others were audited)."""
    return [repo for repo in report.repositories if not _audited(repo)]


def select_rules(report: Report, rules: Collection[str]) -> None:
    """Keep only the findings of these rule slugs; the report names the rules it did not check."""
    wanted = set(rules)
    for repo in report.repositories:
        repo.findings = [f for f in repo.findings if f.rule in wanted]
    left_out = {r.slug for r in RULES if r.slug not in wanted} | set(report.rules_not_checked)
    report.rules_not_checked = [r.slug for r in RULES if r.slug in left_out]


def merge(files: Sequence[str]) -> Report:
    """One report from several JSON reports, each treated as untrusted input.

    Every file is validated against the shipped schema (keyless.audit.validation). A file that fails is left
    out and named in `failures`, as are the failures recorded in the reports themselves, so the merged
    report says it is incomplete (with no repository left, there is nothing to write). Repositories keep
    their sections (names made unique) and the tool versions that scanned them; the top-level `tool` is
    the keyless that merged.
    """
    repos: list[RepositoryReport] = []
    failures: list[str] = []
    not_checked: set[str] = set()
    for file in files:
        try:
            part = load_report(file)
        except InvalidReport as error:
            failures.append(str(error))
            continue
        repos.extend(part.repositories)
        failures.extend(f"{file}: {failure}" for failure in part.failures)  # a partial input stays partial
        not_checked.update(part.rules_not_checked)
    seen: set[str] = set()
    for repo in repos:
        name = repo.name
        while name in seen:
            name += "'"
        if name != repo.name:
            repo.findings = [_renamed(f, name) for f in repo.findings]
            repo.errors = [FileError(name, e.file, e.reason) for e in repo.errors]
            repo.name = name
        seen.add(name)
    return Report(repositories=repos, generated_at=_now(), tool=tool_versions(), failures=failures,
                  rules_not_checked=[r.slug for r in RULES if r.slug in not_checked])


def _renamed(finding: AuditFinding, name: str) -> AuditFinding:
    return replace(finding, repository=name)
