"""Cutting a repository's Terraform into checkov runs of bounded size.

One checkov run holds every file it scans, and the graph built from them, until it ends: over a
whole monorepo that is memory growing with the repository. So the audit runs checkov once per
batch of folders. A folder that calls a local module (`source = "../x"`) stays in the batch of
that module's folder, because checkov reads a module's resources through its callers and scans a
module folder on its own only when nothing in the run calls it; the batches then report exactly
what one run over the repository reports.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from keyless.audit.discover import TERRAFORM_SUFFIXES

# Folders per checkov run: large enough that checkov's fixed cost per run stays small, small
# enough that memory stays flat (the benchmark's services hold 10 files each).
BATCH_FILES = 400
TERRAFORM_FILES = (".tf", ".tf.json", ".tfvars", ".tfvars.json", ".hcl")
_LOCAL_SOURCE = re.compile(r"""\bsource\s*=\s*["'](\.\.?/[^"']*)["']""")


def local_module_calls(root: str, folder: str) -> set[str]:
    """The repository folders (relative, posix) one folder calls as local modules."""
    called: set[str] = set()
    directory = os.path.join(root, folder)
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return called
    for name in names:
        if not name.endswith(TERRAFORM_SUFFIXES) or not os.path.isfile(os.path.join(directory, name)):
            continue  # a FIFO or device named *.tf would block the read (discover lists it)
        try:
            with open(os.path.join(directory, name), encoding="utf-8", errors="replace") as handle:
                text = handle.read()
        except OSError:
            continue
        for source in _LOCAL_SOURCE.findall(text):
            target = os.path.relpath(os.path.normpath(os.path.join(directory, source)), root).replace(os.sep, "/")
            if not target.startswith("../"):
                called.add(target)
    return called


def _groups(root: str, folders: list[str]) -> list[list[str]]:
    """Folders joined by local module calls (union-find), each group sorted, groups in folder order."""
    parent = {folder: folder for folder in folders}

    def find(folder: str) -> str:
        while parent[folder] != folder:
            parent[folder] = parent[parent[folder]]
            folder = parent[folder]
        return folder

    for folder in folders:
        for called in local_module_calls(root, folder):
            if called in parent:
                a, b = find(folder), find(called)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    groups: dict[str, list[str]] = {}
    for folder in folders:
        groups.setdefault(find(folder), []).append(folder)
    return sorted((sorted(g) for g in groups.values()), key=lambda g: g[0])


def _file_count(root: str, folder: str) -> int:
    try:
        return sum(1 for name in os.listdir(os.path.join(root, folder)) if name.endswith(TERRAFORM_FILES))
    except OSError:
        return 1


def batches(root: str, folders: Iterable[str], budget: int | None = None, parts: int = 1) -> list[list[str]]:
    """Module-closed groups of folders packed, in order, into batches of about `budget` files, and
    into about `parts` batches or more when there are that many groups: the batches run in parallel
    (one per core), so a tree of a few folders is not left to one core."""
    budget = BATCH_FILES if budget is None else budget
    folders = sorted(folders)
    groups = [(group, sum(_file_count(root, folder) for folder in group)) for group in _groups(root, folders)]
    if parts > 1:
        budget = min(budget, max(1, -(-sum(count for _, count in groups) // parts)))
    out: list[list[str]] = []
    size = 0
    for group, count in groups:
        if out and size + count <= budget:
            out[-1].extend(group)
            size += count
        else:
            out.append(list(group))
            size = count
    return [sorted(batch) for batch in out]


def batchable(exclusions: Iterable[str]) -> bool:
    """Whether checkov can take one more exclusion besides these (none may close a bracket)."""
    return not any("]" in pattern for pattern in exclusions)


def outside_batch(root: str, batch: list[str]) -> str:
    """A checkov exclusion (regex over walked paths) for every Terraform file not in the batch's folders.

    Files only: a folder outside the batch may hold folders inside it, so the walk must go on. The
    pattern has no square brackets because checkov's module finder joins the repr of its exclusion
    list into one regex, which compiles only while a bracket opened by that repr is never closed
    early (`batches` keeps folders with a `]` in their path in one run).
    """
    prefix = re.escape(root.rstrip("/\\"))
    name = "(?:(?!/).)+$"
    kept = "|".join(name if folder == "." else f"{re.escape(folder)}/{name}" for folder in batch)
    suffixes = "|".join(re.escape(s) for s in TERRAFORM_FILES)
    return rf"^{prefix}/(?!(?:{kept})).*(?:{suffixes})$"
