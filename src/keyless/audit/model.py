"""The audit report: findings, unreadable files and summaries, and their JSON form.

Every output format renders this model, and `merge` rebuilds it from JSON reports, so the JSON
form (documented in docs/report-schema.md, checked by schema.json beside this file) is the one
interchange format. The raw key material of a finding never enters the model: only its masked
evidence and a truncated hash (the fingerprint) that baselines match on.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from importlib import resources
from typing import Any

from keyless.catalog import RECOMMENDATIONS, RULES, SEVERITIES, rule

SCHEMA_VERSION = "1.1"  # 1.1 added each repository's `tool`, `complete`, `failures`, `rules_not_checked`, suppression counts
SEVERITY_ORDER = SEVERITIES  # LOW .. CRITICAL
SEVERITIES_DESCENDING = tuple(reversed(SEVERITIES))


def severity_rank(severity: str) -> int:
    return SEVERITY_ORDER.index(severity.upper()) if severity.upper() in SEVERITY_ORDER else -1


def fingerprint(slug: str, secrets: Sequence[str], path: str, message: str) -> str:
    """A stable, one-way identity for what a finding is about, independent of line numbers.

    Key material is identified by its value (so a moved key stays baselined and a rotated one
    does not); other findings by where in the resource they point and what they say.
    """
    basis = "\n".join(sorted(secrets)) if secrets else f"{slug}|{path}|{message}"
    return hashlib.sha256(f"keyless-v1\n{basis}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class AuditFinding:
    rule: str
    checkov_id: str
    cfn_lint_id: str | None
    title: str
    severity: str
    recommendation: str
    recommendation_title: str
    framework: str  # "terraform" or "cloudformation"
    repository: str
    file: str
    line: int
    resource: str
    path: str
    message: str
    evidence: str
    account_id: str | None
    documentation_example: bool
    fix: str
    help_uri: str
    fingerprint: str

    @property
    def sort_key(self) -> tuple[Any, ...]:
        return (self.repository, self.file, self.line, rule(self.rule).number, self.resource, self.path,
                self.fingerprint, self.message)

    @property
    def headline(self) -> str:
        """The message without the recommendation and fix the engines append (reports show those apart)."""
        suffix = f". {self.recommendation_title}: {self.fix}"
        return self.message[: -len(suffix)] if self.message.endswith(suffix) else self.message

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuditFinding:
        return cls(**{f.name: data.get(f.name) for f in fields(cls)})


def make_finding(
    slug: str, *, severity: str, framework: str, repository: str, file: str, line: int, resource: str,
    path: str, message: str, evidence: str, account_id: str | None, documentation_example: bool,
    secrets: Sequence[str] = (),
) -> AuditFinding:
    """Build a finding from an engine result plus the catalog entry of its rule.

    Text is copied to plain `str`: the engines' parsers hand out str subclasses carrying positions,
    which cannot be pickled back from a worker process.
    """
    r = rule(slug)
    resource, path, message, evidence = str(resource), str(path), str(message), str(evidence)
    # Only a 12-digit account ID is an account ID (the report schema says so, and `merge` refuses others).
    account_id = str(account_id) if account_id is not None and re.fullmatch(r"[0-9]{12}", str(account_id)) else None
    return AuditFinding(
        rule=r.slug, checkov_id=r.checkov_id, cfn_lint_id=r.cfn_lint_id, title=r.title,
        severity=(severity or r.severity).upper(), recommendation=r.recommendation.key,
        recommendation_title=r.recommendation.title, framework=framework, repository=repository,
        file=file, line=max(int(line or 1), 1), resource=resource, path=path, message=message,
        evidence=evidence, account_id=account_id, documentation_example=documentation_example,
        fix=r.fix, help_uri=r.guideline, fingerprint=fingerprint(r.slug, secrets, path, message),
    )


@dataclass(frozen=True)
class FileError:
    """A file the audit could not read or parse; its findings are missing from the report."""

    repository: str
    file: str
    reason: str


@dataclass
class RepositoryReport:
    name: str
    path: str
    terraform_roots: list[str] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)
    findings: list[AuditFinding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    suppressed: int = 0  # findings hidden by a baseline
    # The versions that scanned this repository: a merged report's repositories were scanned by different CI jobs.
    tool: dict[str, str] = field(default_factory=dict)
    suppressed_inline: int = 0  # hidden by a skip written in the audited file (comment, Metadata)
    suppressed_config: int = 0  # hidden by the repository's .checkov.yaml or .cfnlintrc

    def sort(self) -> None:
        self.findings.sort(key=lambda f: f.sort_key)
        self.errors.sort(key=lambda e: (e.file, e.reason))
        self.terraform_roots.sort()
        self.templates.sort()


@dataclass
class Report:
    repositories: list[RepositoryReport]
    generated_at: str = ""
    tool: dict[str, str] = field(default_factory=dict)
    rules_not_checked: list[str] = field(default_factory=list)  # slugs left out by --check/--skip-check
    baseline: str | None = None
    failures: list[str] = field(default_factory=list)

    @property
    def findings(self) -> list[AuditFinding]:
        return [f for repo in self.repositories for f in repo.findings]

    @property
    def errors(self) -> list[FileError]:
        return [e for repo in self.repositories for e in repo.errors]

    @property
    def complete(self) -> bool:
        """False when an engine failed or nothing could be audited: the findings are then partial."""
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        for repo in self.repositories:
            repo.sort()
        return {
            "schema_version": SCHEMA_VERSION,
            "tool": dict(sorted(self.tool.items())),
            "generated_at": self.generated_at,
            "baseline": self.baseline,
            "complete": self.complete,
            "failures": list(self.failures),
            "rules_not_checked": list(self.rules_not_checked),
            "summary": summarise(self.repositories),
            "repositories": [
                {
                    "name": repo.name,
                    "path": repo.path,
                    "tool": dict(sorted(repo.tool.items())),
                    "summary": summarise([repo]),
                    "scanned": {"terraform_roots": repo.terraform_roots, "cloudformation_templates": repo.templates},
                    "errors": [{"file": e.file, "reason": e.reason} for e in repo.errors],
                    "findings": [f.to_dict() for f in repo.findings],
                }
                for repo in self.repositories
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        """The model of a JSON report. Untrusted input must pass `validate_report` first (as `merge` does).

        Reports from before 1.1 have no per-repository `tool`: their top-level versions scanned every repository.
        """
        major = str(data.get("schema_version", "")).split(".")[0]
        if major != SCHEMA_VERSION.split(".")[0]:
            raise ValueError(f"unsupported report schema version {data.get('schema_version')!r} "
                             f"(this keyless reads {SCHEMA_VERSION.split('.')[0]}.x)")
        repos = []
        for item in data.get("repositories", []):
            name = item["name"]
            repos.append(RepositoryReport(
                name=name, path=item.get("path", ""),
                terraform_roots=list(item.get("scanned", {}).get("terraform_roots", [])),
                templates=list(item.get("scanned", {}).get("cloudformation_templates", [])),
                findings=[AuditFinding.from_dict(f) for f in item.get("findings", [])],
                errors=[FileError(name, e["file"], e["reason"]) for e in item.get("errors", [])],
                suppressed=int(item.get("summary", {}).get("suppressed_by_baseline", 0)),
                tool=dict(item.get("tool") or data.get("tool") or {}),
                suppressed_inline=int(item.get("summary", {}).get("suppressed_by_inline", 0)),  # absent before 1.1
                suppressed_config=int(item.get("summary", {}).get("suppressed_by_config", 0)),
            ))
        failures = [str(f) for f in data.get("failures", [])]
        if data.get("complete") is False and not failures:  # never written so, but never read as complete
            failures = ["the report says it is incomplete"]
        return cls(repositories=repos, generated_at=data.get("generated_at", ""), tool=dict(data.get("tool", {})),
                   baseline=data.get("baseline"), failures=failures,
                   rules_not_checked=[str(r) for r in data.get("rules_not_checked", [])])


def summarise(repositories: Iterable[RepositoryReport]) -> dict[str, Any]:
    """Counts by severity, recommendation (all five, zeros kept), rule (all nine), file and account."""
    repos = list(repositories)
    findings = [f for repo in repos for f in repo.findings]
    by_severity = Counter(f.severity for f in findings)
    by_rec_sev = Counter((f.recommendation, f.severity) for f in findings)
    by_rule = Counter(f.rule for f in findings)
    by_file = Counter((f.repository, f.file) for f in findings)
    worst: dict[tuple[str, str], str] = {}
    for f in findings:
        key = (f.repository, f.file)
        if severity_rank(f.severity) > severity_rank(worst.get(key, "")):
            worst[key] = f.severity
    accounts: dict[str, dict[str, Any]] = {}
    for f in findings:
        if f.account_id:
            entry = accounts.setdefault(f.account_id, {"account_id": f.account_id, "count": 0,
                                                       "documentation_example": True})
            entry["count"] += 1
            entry["documentation_example"] = entry["documentation_example"] and f.documentation_example
    return {
        "total": len(findings),
        "repositories": len(repos),
        "terraform_roots": sum(len(r.terraform_roots) for r in repos),
        "cloudformation_templates": sum(len(r.templates) for r in repos),
        "errors": sum(len(r.errors) for r in repos),
        "suppressed_by_baseline": sum(r.suppressed for r in repos),
        "suppressed_by_inline": sum(r.suppressed_inline for r in repos),
        "suppressed_by_config": sum(r.suppressed_config for r in repos),
        "by_severity": {s: by_severity.get(s, 0) for s in SEVERITIES_DESCENDING},
        "by_recommendation": [
            {
                "key": rec.key, "title": rec.title,
                "count": sum(by_rec_sev.get((rec.key, s), 0) for s in SEVERITIES_DESCENDING),
                "by_severity": {s: by_rec_sev.get((rec.key, s), 0) for s in SEVERITIES_DESCENDING},
            }
            for rec in RECOMMENDATIONS
        ],
        "by_rule": [
            {"rule": r.slug, "checkov_id": r.checkov_id, "cfn_lint_id": r.cfn_lint_id, "title": r.title,
             "severity": r.severity, "recommendation": r.recommendation.key, "count": by_rule.get(r.slug, 0)}
            for r in RULES
        ],
        "by_file": [
            {"repository": repo, "file": file, "count": count, "worst_severity": worst[(repo, file)]}
            for (repo, file), count in sorted(by_file.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "accounts": sorted(accounts.values(), key=lambda a: (-a["count"], a["account_id"])),
    }


def schema() -> dict[str, Any]:
    """The JSON schema of the report (docs/report-schema.md explains it field by field).

    Its lists of rules, recommendations and severities are the catalog's: a new rule needs no edit here.
    """
    document = shipped_schema()
    definitions = document["$defs"]
    finding, summary = definitions["finding"]["properties"], definitions["summary"]["properties"]
    by_rule = summary["by_rule"]["items"]["properties"]
    for holder in (finding, by_rule):
        holder["rule"]["enum"] = [r.slug for r in RULES]
        holder["recommendation"]["enum"] = [rec.key for rec in RECOMMENDATIONS]
        holder["severity"]["enum"] = list(SEVERITIES_DESCENDING)
    summary["by_rule"]["minItems"] = summary["by_rule"]["maxItems"] = len(RULES)
    summary["by_recommendation"]["items"]["properties"]["key"]["enum"] = [rec.key for rec in RECOMMENDATIONS]
    summary["by_file"]["items"]["properties"]["worst_severity"]["enum"] = list(SEVERITIES_DESCENDING)
    return document


def shipped_schema() -> dict[str, Any]:
    """schema.json as shipped (its enumerations written out for readers; tests keep them equal to the catalog)."""
    return json.loads(resources.files("keyless.audit").joinpath("schema.json").read_text(encoding="utf-8"))
