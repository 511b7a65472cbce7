"""Baselines for gradual adoption: known findings are reported once, then only new ones.

A finding is matched by rule, file, resource and its evidence fingerprint (a truncated hash of
the key material, or of the finding's path and message when there is none), never by line, so
edits elsewhere in a file do not bring baselined findings back. The file never holds key
material, only what the JSON report already shows.
"""

from __future__ import annotations

import json
from typing import Any

from keyless.audit.files import write_text_atomically
from keyless.audit.model import AuditFinding, Report

BASELINE_FORMAT = "keyless-baseline"
BASELINE_VERSION = 1

Key = tuple[str, str, str, str]


def _key(rule: str, file: str, resource: str, fingerprint: str) -> Key:
    return (rule, file, resource, fingerprint)


def baseline_entries(report: Report) -> list[dict[str, str]]:
    entries = {
        (f.repository, *_key(f.rule, f.file, f.resource, f.fingerprint)): {
            "repository": f.repository, "rule": f.rule, "file": f.file, "resource": f.resource,
            "fingerprint": f.fingerprint,
        }
        for f in report.findings
    }
    return [entries[k] for k in sorted(entries)]


def write_baseline(report: Report, path: str) -> int:
    """Write the baseline in one step (a failed write leaves the previous baseline as it was)."""
    entries = baseline_entries(report)
    document = {"format": BASELINE_FORMAT, "version": BASELINE_VERSION, "findings": entries}
    write_text_atomically(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return len(entries)


def load_baseline(path: str) -> list[dict[str, str]]:
    """Entries from a baseline file, or from a JSON audit report used as one."""
    try:
        with open(path, encoding="utf-8") as handle:
            document: Any = json.load(handle)
    except OSError as error:
        raise ValueError(f"baseline {path}: cannot be read: {error.strerror or error}") from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"baseline {path}: not JSON ({error})") from error
    if isinstance(document, dict) and document.get("format") == BASELINE_FORMAT:
        if document.get("version", 0) != BASELINE_VERSION:
            raise ValueError(f"{path}: unsupported baseline version {document.get('version')!r}")
        items = document.get("findings", [])
    elif (isinstance(document, dict) and isinstance(document.get("repositories"), list)
          and "schema_version" in document):
        repos = document["repositories"]
        if not all(isinstance(r, dict) and isinstance(r.get("findings", []), list) for r in repos):
            raise ValueError(f"{path}: a repository section of this report has no list of findings")
        items = [f for repo in repos for f in repo.get("findings", [])]
    else:
        raise ValueError(f"{path}: neither a keyless baseline nor a keyless JSON report")
    required = ("rule", "file", "resource", "fingerprint")
    if not isinstance(items, list) or not all(
            isinstance(i, dict) and all(isinstance(i.get(k), str) for k in required) for i in items):
        raise ValueError(f"{path}: every baseline entry needs {', '.join(required)}")
    return list(items)


def apply_baseline(report: Report, entries: list[dict[str, str]], name: str) -> int:
    """Drop findings present in the baseline; return how many were dropped.

    With one repository in the run the repository name is ignored (a checkout's folder name varies
    between machines); with several, an entry only matches findings of its own repository.
    """
    single = len(report.repositories) == 1
    known: set[tuple[str, ...]] = set()
    for e in entries:
        key = _key(e["rule"], e["file"], e["resource"], e["fingerprint"])
        known.add(key if single else (str(e.get("repository", "")), *key))

    def is_known(f: AuditFinding) -> bool:
        key = _key(f.rule, f.file, f.resource, f.fingerprint)
        return (key if single else (f.repository, *key)) in known

    dropped = 0
    for repo in report.repositories:
        kept = [f for f in repo.findings if not is_known(f)]
        repo.suppressed += len(repo.findings) - len(kept)
        dropped += len(repo.findings) - len(kept)
        repo.findings = kept
    report.baseline = name
    return dropped
