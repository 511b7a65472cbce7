"""Building a report: auditing folders, or merging JSON reports from separate CI jobs."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timezone
from importlib import metadata

from keyless.audit import suppressions
from keyless.audit.discover import Exclusions
from keyless.audit.model import AuditFinding, FileError, Report, RepositoryReport
from keyless.audit.progress import Progress
from keyless.audit.scan import EngineFailure, scan_repository


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
          jobs: int | None = None) -> tuple[Report, list[str]]:
    """Audit each folder; return the report and the engine failures (which make the run exit 2)."""
    bar = Progress(0, enabled=progress)
    failures: list[str] = []
    repos = []
    try:
        for path, name in zip(paths, repository_names(paths), strict=True):
            try:
                repo = scan_repository(path, name, tuple(excludes), bar, jobs)
                root = os.path.abspath(path)
                suppressions.apply(repo, root, Exclusions(root, tuple(excludes)).excluded)
                repos.append(repo)
            except EngineFailure as error:
                failures.append(str(error))
                repos.append(RepositoryReport(name=name, path=path, errors=[FileError(name, ".", str(error))]))
    finally:
        bar.close()
    return Report(repositories=repos, generated_at=_now(), tool=tool_versions()), failures


def merge(files: Sequence[str]) -> Report:
    """One report from several JSON reports; repositories keep their sections, names kept unique."""
    repos = []
    tools: dict[str, str] = {}
    for file in files:
        with open(file, encoding="utf-8") as handle:
            data = json.load(handle)
        if not isinstance(data, dict):
            raise ValueError(f"{file}: not a keyless JSON report")
        try:
            part = Report.from_dict(data)
        except (KeyError, TypeError) as error:
            raise ValueError(f"{file}: not a keyless JSON report ({error})") from error
        except ValueError as error:
            raise ValueError(f"{file}: {error}") from error
        tools.update(part.tool)
        repos.extend(part.repositories)
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
    return Report(repositories=repos, generated_at=_now(), tool=tools)


def _renamed(finding: AuditFinding, name: str) -> AuditFinding:
    return replace(finding, repository=name)
