"""The suppressions checkov and cfn-lint honour, decided for each audit finding.

The audit reports findings of both engines' rules, so a finding is suppressed when either engine's
own suppression would hide it: the user said so in the tool they use. Each decision is made with
the engine's code or its exact rule, never a re-implementation of its own:

- checkov, CloudFormation: `Metadata: checkov: skip: [{id: CKV_KEYLESS_N}]` (or `bridgecrew:`) and
  `# checkov:skip=CKV_KEYLESS_N:reason` comments inside a resource, read with checkov's own parser
  and context builder. Exact IDs; they apply to the resource the finding is reported on (checkov
  reports a key written in Parameters or Outputs on the template's first resource).
- checkov, Terraform: `# checkov:skip=` comments inside a block are honoured by checkov itself
  while the audit runs it; checkov does not evaluate a skipped check, so the audit counts the
  skipped checks (one per check and block) rather than the findings they would have had.
- checkov, `.checkov.yaml` and `.checkov.yml` in the repository root: `check` and `skip-check`,
  decided by checkov's own `RunnerFilter` (wildcards, severities against the rule's severity,
  `ID:regex` path patterns), for Terraform and CloudFormation findings.
- cfn-lint: `.cfnlintrc` (`.yaml`, `.yml`) in the repository root and the template's own
  `Metadata: cfn-lint: config:` (`ignore_checks` by prefix, `include_checks`, `mandatory_checks`,
  `merge_configs`), resolved by cfn-lint's own `ConfigMixIn` (the template's list replaces the
  file's unless `merge_configs` is set); and a resource's `Metadata: cfn-lint: config:
  ignore_checks` (exact IDs), which covers only findings located in that resource (`Resources.X`),
  as cfn-lint does.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import yaml

from keyless.audit.model import AuditFinding, FileError, RepositoryReport
from keyless.catalog import RULES, rule
from keyless.lang.cloudformation import Template
from keyless.lang.cloudformation_parsing import load_cloudformation
from keyless.rules import terraform_scope

log = logging.getLogger(__name__)

INLINE = "inline"  # written in the audited file: comments, resource or template Metadata
CONFIG = "config"  # the repository's .checkov.yaml or .cfnlintrc
CHECKOV_CONFIG_FILES = (".checkov.yaml", ".checkov.yml")
CFN_LINT_CONFIG_FILES = (".cfnlintrc", ".cfnlintrc.yaml", ".cfnlintrc.yml")
KEYLESS_CHECKOV_IDS = frozenset(r.checkov_id for r in RULES)


class ConfigError(ValueError):
    """A configuration file the engines would refuse; the message names it and says why."""

    def __init__(self, file: str, reason: str) -> None:
        super().__init__(f"{file}: {reason}")
        self.file, self.reason = file, reason


# --- .checkov.yaml -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckovConfig:
    """`check` and `skip-check` of a repository's checkov configuration file."""

    file: str
    checks: tuple[str, ...] = ()
    skip_checks: tuple[str, ...] = ()

    def runs(self, finding: AuditFinding) -> bool:
        """Whether checkov, run with this file, would run the finding's check on its file."""
        from checkov.common.bridgecrew.severities import Severities

        severity = Severities[rule(finding.rule).severity]  # the severity the check declares
        return bool(_runner_filter(self.checks, self.skip_checks).should_run_check(
            check_id=finding.checkov_id, bc_check_id=None, severity=severity, file_origin_paths=[f"/{finding.file}"]))


@lru_cache(maxsize=8)
def _runner_filter(checks: tuple[str, ...], skip_checks: tuple[str, ...]) -> Any:
    from checkov.runner_filter import RunnerFilter

    return RunnerFilter(checks=list(checks), skip_checks=list(skip_checks), show_progress_bar=False)


def read_checkov_config(root: str) -> CheckovConfig | None:
    """The repository's checkov configuration, or None.

    checkov reads `.checkov.yaml` and `.checkov.yml` both, option by option, `.checkov.yml` winning.
    """
    options: dict[str, Any] = {}
    names = []
    for name in CHECKOV_CONFIG_FILES:
        path = os.path.join(root, name)
        if not os.path.isfile(path):
            continue
        try:
            with open(path, encoding="utf-8") as handle:
                data = yaml.safe_load(handle)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
            raise ConfigError(name, f"cannot be read: {_first_line(error)}") from error
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise ConfigError(name, "not a mapping of checkov options")
        options.update({str(k).replace("_", "-"): v for k, v in data.items()})
        names.append(name)
    if not names:
        return None
    file = " and ".join(names)
    return CheckovConfig(file, _id_list(options.get("check"), file, "check"),
                         _id_list(options.get("skip-check"), file, "skip-check"))


def _id_list(value: Any, file: str, key: str) -> tuple[str, ...]:
    """A list of IDs, or one comma-separated string, as checkov accepts both."""
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, (str, int)) for item in items):
        raise ConfigError(file, f"{key} must be a list of check IDs")
    return tuple(part.strip() for item in items for part in str(item).split(",") if part.strip())


# --- .cfnlintrc and template-wide cfn-lint configuration ----------------------------------------


@dataclass
class CfnLintConfig:
    """cfn-lint's configuration for one repository: its `.cfnlintrc` (if any) under cfn-lint's own rules."""

    file: str | None
    _config: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.file:  # read now: a file cfn-lint refuses is reported at once
            self._load()

    def _load(self) -> Any:
        """cfn-lint's config, built on first use without a file: cfn-lint costs seconds to import,
        which a Terraform-only audit need not pay."""
        if self._config is None:
            from cfnlint.config import ConfigMixIn

            # An explicit file keeps cfn-lint from reading the working directory's or the user's .cfnlintrc.
            self._config = ConfigMixIn(["--config-file", self.file or os.devnull])
        return self._config

    def rule_enabled(self, rule_id: str, template: Any) -> bool:
        from keyless.engines import cfn_lint_rules

        config = self._load()
        try:
            config.set_template_args(template if isinstance(template, dict) else {})
        except (AttributeError, TypeError):  # `Metadata` that is not a mapping: cfn-lint has no template config
            config.set_template_args({})
        return bool(cfn_lint_rules(False).is_rule_enabled(rule_id, config))

    def mandatory(self, rule_id: str) -> bool:
        return any(rule_id.startswith(prefix) for prefix in self._load().mandatory_checks)


def read_cfn_lint_config(root: str) -> CfnLintConfig:
    for name in CFN_LINT_CONFIG_FILES:
        path = os.path.join(root, name)
        if os.path.isfile(path):
            try:
                return CfnLintConfig(path)
            except (Exception, SystemExit) as error:  # cfn-lint exits on a file its schema refuses
                raise ConfigError(name, f"cfn-lint refuses it: {_first_line(error)}") from error
    return CfnLintConfig(None)


# --- one template ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateSuppressions:
    """What a CloudFormation template says about suppressions, per resource and template-wide."""

    template: dict[str, Any]
    checkov_skips: dict[str, frozenset[str]]  # logical ID -> checkov IDs (Metadata and comments)
    cfn_lint_ignores: dict[str, frozenset[str]]  # logical ID -> cfn-lint rule IDs (resource Metadata)
    # What checkov reports a finding outside Resources on: "Parameters.X" -> the resources using X,
    # "" -> the template's first resource (for every other section). Read only when checkov skips exist.
    outside_entities: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def checkov_entities(self, finding: AuditFinding) -> tuple[str, ...]:
        """The resources checkov reports a finding on."""
        if not self.outside_entities or finding.resource in self.outside_entities[" resources"]:
            return (finding.resource,)
        return self.outside_entities.get(finding.resource) or self.outside_entities[""] or (finding.resource,)

    @property
    def template_ignores(self) -> list[str]:
        config = _nested(self.template, "Metadata", "cfn-lint", "config")
        ignores = config.get("ignore_checks") if isinstance(config, Mapping) else None
        return [str(i) for i in ignores] if isinstance(ignores, list) else []


def read_template_suppressions(path: str) -> TemplateSuppressions:
    """A template's skips; a template that never names either engine is not parsed again."""
    with open(path, "rb") as handle:
        data = handle.read()
    skips = _checkov_skips(path) if any(word in data for word in (b"checkov", b"bridgecrew", b"cortex:skip")) else {}
    if b"cfn-lint" not in data and not skips:
        return TemplateSuppressions({}, skips, {})
    try:
        template = load_cloudformation(path, positions=False)
    except Exception:
        if b"cfn-lint" in data:
            raise
        template = {}  # checkov read it; without cfn-lint's parse only its resources' own skips apply
    template = template if isinstance(template, dict) else {}
    outside = _outside_entities(template) if skips and template else {}
    if b"cfn-lint" not in data:
        return TemplateSuppressions({}, skips, {}, outside)
    resources = template.get("Resources")
    ignores: dict[str, frozenset[str]] = {}
    for name, resource in (resources.items() if isinstance(resources, Mapping) else ()):
        listed = _nested(resource, "Metadata", "cfn-lint", "config", "ignore_checks")
        if isinstance(listed, list) and listed:
            ignores[str(name)] = frozenset(str(i) for i in listed)
    return TemplateSuppressions(template, skips, ignores, outside)


def _outside_entities(template: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """The resources checkov reports each Parameter's findings on, and the template's first resource."""
    tpl = Template(template)
    entities: dict[str, tuple[str, ...]] = {"": (tpl.first_resource,) if tpl.first_resource else (),
                                            " resources": tuple(tpl.resources)}
    for name in (template.get("Parameters") or {}) if isinstance(template.get("Parameters"), Mapping) else ():
        users = tpl.users_of(str(name))
        if users:
            entities[f"Parameters.{name}"] = tuple(users)
    return entities


def _checkov_skips(path: str) -> dict[str, frozenset[str]]:
    """checkov's own reading of a template's skips: Metadata and `checkov:skip=` comments per resource."""
    from checkov.cloudformation.cfn_utils import build_definitions_context
    from checkov.cloudformation.parser import parse

    try:
        template, lines = parse(path)
        if not template or not lines:
            return {}
        context = build_definitions_context({path: template}, {path: lines})
    except Exception:  # checkov cannot read it either: it reports nothing, so there is nothing to skip
        log.debug("checkov cannot read %s for skips", path, exc_info=True)
        return {}
    resources = context.get(path, {}).get("Resources", {})
    return {str(name): frozenset(str(s["id"]) for s in entry.get("skipped_checks", []) if s.get("id"))
            for name, entry in resources.items() if isinstance(entry, dict) and entry.get("skipped_checks")}


def _nested(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


# --- deciding ----------------------------------------------------------------------------------


def suppressed_by(finding: AuditFinding, checkov: CheckovConfig | None, cfn_lint: CfnLintConfig | None,
                  template: TemplateSuppressions | None) -> str | None:
    """INLINE or CONFIG when either engine would not report the finding, else None (inline wins a tie)."""
    reasons = {checkov_suppresses(finding, checkov, template), cfn_lint_suppresses(finding, cfn_lint, template)}
    return INLINE if INLINE in reasons else CONFIG if CONFIG in reasons else None


def checkov_suppresses(finding: AuditFinding, config: CheckovConfig | None,
                       template: TemplateSuppressions | None) -> str | None:
    if template is not None and finding.framework == "cloudformation" \
            and all(finding.checkov_id in template.checkov_skips.get(entity, ())
                    for entity in template.checkov_entities(finding)):
        return INLINE
    return CONFIG if config is not None and not config.runs(finding) else None


def cfn_lint_suppresses(finding: AuditFinding, config: CfnLintConfig | None,
                        template: TemplateSuppressions | None) -> str | None:
    rule_id = finding.cfn_lint_id
    if finding.framework != "cloudformation" or not rule_id or config is None or template is None:
        return None
    if not config.rule_enabled(rule_id, template.template):
        return INLINE if any(rule_id.startswith(i) for i in template.template_ignores if i) else CONFIG
    section, _, rest = finding.path.partition(".")
    logical_id = re.split(r"[.\[]", rest, maxsplit=1)[0]
    if section == "Resources" and rule_id in template.cfn_lint_ignores.get(logical_id, ()):
        return None if config.mandatory(rule_id) else INLINE
    return None


def apply(repo: RepositoryReport, root: str, excluded: Callable[[str], bool] | None = None) -> None:
    """Drop the findings an engine would not report and count them (a broken config file is listed, not used)."""
    checkov: CheckovConfig | None = None
    cfn_lint: CfnLintConfig | None = None
    try:
        checkov = read_checkov_config(root)
    except ConfigError as error:
        repo.errors.append(FileError(repo.name, error.file, error.reason))
    try:
        cfn_lint = read_cfn_lint_config(root)
    except ConfigError as error:
        repo.errors.append(FileError(repo.name, error.file, error.reason))
    templates: dict[str, TemplateSuppressions | None] = {}
    kept = []
    for finding in repo.findings:
        template = None
        if finding.framework == "cloudformation":
            if finding.file not in templates:
                templates[finding.file] = _template_or_none(os.path.join(root, finding.file))
            template = templates[finding.file]
        reason = suppressed_by(finding, checkov, cfn_lint, template)
        if reason == INLINE:
            repo.suppressed_inline += 1
        elif reason == CONFIG:
            repo.suppressed_config += 1
        else:
            kept.append(finding)
    repo.findings = kept
    repo.suppressed_inline += terraform_inline_skips(root, repo.terraform_roots, excluded)
    repo.sort()


def _template_or_none(path: str) -> TemplateSuppressions | None:
    try:
        return read_template_suppressions(path)
    except Exception:  # the scan read it a moment ago; if it cannot now, keep its findings
        log.debug("cannot read suppressions of %s", path, exc_info=True)
        return None


# --- Terraform inline skips --------------------------------------------------------------------


def terraform_inline_skips(root: str, terraform_roots: Iterable[str],
                           excluded: Callable[[str], bool] | None = None) -> int:
    """How many keyless checks checkov skipped for a `# checkov:skip=` comment (one per check and block).

    checkov honours these comments while the audit runs it and never evaluates the skipped check,
    so this counts what checkov counts as skipped: a comment strictly inside a block, naming a
    keyless check that runs on that block.
    """
    count = 0
    for folder in terraform_roots:
        directory = os.path.join(root, folder)
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        for name in names:
            relative = os.path.normpath(os.path.join(folder, name)).replace(os.sep, "/")
            if name.endswith(".tf") and not (excluded and excluded(relative)):
                count += _skips_in_file(os.path.join(directory, name))
    return count


def _skips_in_file(path: str) -> int:
    from checkov.common.comment.enum import COMMENT_REGEX

    if not os.path.isfile(path):  # a FIFO or a device named *.tf: never opened (it could block forever)
        return 0
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        if b"skip=" not in data:  # most files: no decoding, no parsing
            return 0
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return 0
    comments: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = re.search(COMMENT_REGEX, line)  # anywhere on the line, as checkov looks for it
        if match and match.group(2):
            comments += [(number, i.strip()) for i in match.group(2).split(",") if i.strip() in KEYLESS_CHECKOV_IDS]
    if not comments:
        return 0
    count = 0
    for kind, type_, start, end in _blocks(text):
        skipped = {check for line, check in comments if start < line < end}
        count += sum(1 for check in skipped if _runs_on(check, kind, type_))
    return count


def _blocks(text: str) -> list[tuple[str, str, int, int]]:
    """(kind, type, first line, last line) of each resource, data, provider and module block."""
    import hcl2

    try:
        document = hcl2.loads(text)
    except Exception:  # checkov cannot parse it either: the audit lists it as unparsable
        return []
    out = []
    for kind in ("resource", "data", "provider", "module"):
        for entry in document.get(kind, []):
            for type_, body in entry.items():
                bodies = body.values() if kind in ("resource", "data") else [body]
                for block in bodies:
                    if isinstance(block, dict) and "__start_line__" in block:
                        out.append((kind, "module" if kind == "module" else type_,
                                    int(block["__start_line__"]), int(block["__end_line__"])))
    return out


def _runs_on(check_id: str, kind: str, type_: str) -> bool:
    entities = terraform_scope(rule(check_id).slug).get(kind, ())
    return "*" in entities or type_ in entities


def _first_line(error: BaseException) -> str:
    mark, problem = getattr(error, "problem_mark", None), getattr(error, "problem", None)
    if mark is not None and problem:  # a YAML error: what, and where
        return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
