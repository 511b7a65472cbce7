"""Finding what to audit in a repository: Terraform folders and CloudFormation/SAM templates.

Templates are recognised by content, not by name, because infrastructure repositories keep
templates, CI configuration and Helm values side by side under the same extensions. The folders
skipped are checkov's own (hidden folders such as .git and .terraform, node_modules, .serverless),
so that the Terraform half, which checkov walks itself, and the CloudFormation half see the same
tree; `--exclude` globs are handed to checkov as the equivalent regular expressions.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field

SKIPPED_DIRECTORIES = frozenset({".git", ".terraform", "node_modules", ".serverless"})
TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template")
TERRAFORM_SUFFIXES = (".tf", ".tf.json")
TFVARS_SUFFIXES = (".tfvars", ".tfvars.json")
# Every name the audit or checkov's Terraform parser may open (checkov also reads .hcl and tfvars).
OPENED_SUFFIXES = (*TERRAFORM_SUFFIXES, ".hcl", ".tfvars", ".tfvars.json", *TEMPLATE_SUFFIXES)
_FILE_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
               (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
               (stat.S_ISDIR, "a folder"))
RECOGNITION_CHARS = 1024 * 1024

# Top level in YAML (no indentation), anywhere in JSON (quoted, indented).
_RESOURCES_KEY = re.compile(r"""(?m)^(?:Resources|["']Resources["'])\s*:|"Resources"\s*:""")
_TEMPLATE_MARKERS = re.compile(r"AWSTemplateFormatVersion|AWS::[A-Za-z0-9]+::[A-Za-z0-9]+")


def glob_to_regex(glob: str) -> str:
    """Translate a path glob into a regular expression body (`*` stays inside one folder, `**` does not)."""
    out, i = [], 0
    while i < len(glob):
        c = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        # no square brackets: see `plan.outside_batch` for why exclusions must not contain them
        out.append({"*": "(?:(?!/).)*", "?": "(?!/)."}.get(c, re.escape(c)))
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class Exclusions:
    """`--exclude` globs for one scanned folder.

    A glob with a slash is matched against the path relative to the scanned folder (`legacy/*`,
    `**/test/**`); one without matches any single file or folder name (`vendor`, `*.bak.yaml`).
    A folder that matches is skipped with everything below it.
    """

    root: str
    globs: tuple[str, ...] = ()
    files: tuple[str, ...] = ()  # exact relative paths, e.g. FIFOs no engine may open

    def with_files(self, files: Iterable[str]) -> Exclusions:
        return Exclusions(self.root, self.globs, (*self.files, *files))

    def regexes(self) -> list[str]:
        """The same exclusions as regular expressions over checkov's walked paths (root + '/' + relative)."""
        prefix = re.escape(self.root.rstrip("/\\"))
        patterns = [rf"^{_bracket_free(prefix)}/{_bracket_free(re.escape(rel))}$" for rel in self.files]
        for glob in self.globs:
            body = glob.strip().removeprefix("./").strip("/")
            if not body:
                continue
            if "/" in body:
                patterns.append(rf"^{prefix}/{glob_to_regex(body)}$")
            else:
                patterns.append(rf"(?:^|/){glob_to_regex(body)}$")
        return patterns

    def excluded(self, relative: str) -> bool:
        full = os.path.join(self.root.rstrip("/\\"), relative).replace(os.sep, "/")
        return any(re.search(p, full) for p in self.regexes())


def _bracket_free(pattern: str) -> str:
    """An escaped literal without square brackets (see `plan.outside_batch` for why checkov needs that)."""
    return pattern.replace("\\[", "\\x5b").replace("\\]", "\\x5d")


@dataclass
class Discovery:
    """What one repository holds, as paths relative to its root (posix separators)."""

    terraform_roots: list[str] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)
    # Named like Terraform or a template but not regular files (FIFOs, sockets, devices): opening one
    # can block forever, so they are listed as unreadable and excluded from checkov's walk too.
    not_regular: list[str] = field(default_factory=list)
    # Terraform text the audit reads itself for keys checkov never sees (comments, unused defaults,
    # outputs, backends): every .tf file, and every tfvars file anywhere (`envs/prod.tfvars`).
    terraform_texts: list[str] = field(default_factory=list)


def walk(root: str, exclusions: Exclusions) -> Iterable[str]:
    """Every file under root not skipped or excluded, relative and sorted, the way checkov prunes."""
    for current, dirs, files in os.walk(root):
        rel_dir = os.path.relpath(current, root)
        rel_dir = "" if rel_dir == "." else rel_dir.replace(os.sep, "/")
        dirs[:] = sorted(
            d for d in dirs
            if d not in SKIPPED_DIRECTORIES and not d.startswith(".")
            and not exclusions.excluded(f"{rel_dir}/{d}" if rel_dir else d)
        )
        for name in sorted(files):
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if not exclusions.excluded(rel):
                yield rel


def looks_like_template(text: str) -> bool:
    """A top-level Resources section next to an AWS resource type or a format version."""
    return bool(_RESOURCES_KEY.search(text)) and bool(_TEMPLATE_MARKERS.search(text))


def skipped_directories_regex(root: str) -> str:
    """A checkov exclusion for the files under the folders `walk` skips, below root.

    checkov's Terraform walk skips them itself, but its `terraform_json` framework (`.tf.json`, CDKTF's
    output) globs every folder, `.terraform` and `node_modules` included. No square brackets (see
    `plan.outside_batch`).
    """
    prefix = re.escape(root.rstrip("/\\"))
    names = "|".join(re.escape(name) for name in sorted(SKIPPED_DIRECTORIES))
    return rf"^{_bracket_free(prefix)}/(?:.*/)?(?:{names}|\.(?:(?!/).)*)/"


def holds_terraform_json(root: str, folders: Iterable[str]) -> bool:
    """Whether any of the folders holds a `.tf.json` file (checkov's `terraform_json` framework reads those)."""
    for folder in folders:
        try:
            if any(name.lower().endswith(".tf.json") for name in os.listdir(os.path.join(root, folder))):
                return True
        except OSError:
            continue
    return False


def not_regular_reason(path: str) -> str | None:
    """Why a path cannot be read like a file without risk (None for a regular file), from one stat."""
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        if os.path.islink(path):
            return "cannot be read: a symbolic link to a missing file"
        return f"cannot be read: {error.strerror or error}"
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _FILE_KINDS if test(mode)), "not a regular file")
    return f"not read: {kind}, not a regular file"


def discover(root: str, exclusions: Exclusions) -> Discovery:
    found = Discovery()
    tf_dirs: set[str] = set()
    for rel in walk(root, exclusions):
        lower = rel.lower()
        if lower.endswith(OPENED_SUFFIXES):
            reason = not_regular_reason(os.path.join(root, rel))
            if reason is not None:
                found.unreadable[rel] = reason
                found.not_regular.append(rel)
                continue
        if lower.endswith((".tf", *TFVARS_SUFFIXES)):
            found.terraform_texts.append(rel)
        if lower.endswith(TERRAFORM_SUFFIXES):
            tf_dirs.add(os.path.dirname(rel) or ".")
        elif lower.endswith(TEMPLATE_SUFFIXES):
            path = os.path.join(root, rel)
            try:
                with open(path, encoding="utf-8-sig") as handle:
                    # Recognising needs only the start; a huge template is still scanned, never skipped.
                    text = handle.read(RECOGNITION_CHARS)
            except (OSError, UnicodeDecodeError) as error:
                # Whether it is a template cannot be told, so the auditor is told it was not read.
                found.unreadable[rel] = f"cannot be read: {error}"
                continue
            if looks_like_template(text):
                found.templates.append(rel)
    found.terraform_roots = sorted(tf_dirs)
    return found
