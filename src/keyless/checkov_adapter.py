"""checkov adapter: turns keyless rules into checkov checks. The files in `checks/` only call this.

The core computes every rule for an entity at once; each check keeps its own rule's findings. The
result of the last entity is cached, because checkov runs all checks of one entity back to back.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from checkov.cloudformation.checks.resource.base_resource_check import BaseResourceCheck as CfnResourceCheck
from checkov.common.bridgecrew.severities import BcSeverities, Severities
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.data.base_check import BaseDataCheck
from checkov.terraform.checks.module.base_module_check import BaseModuleCheck
from checkov.terraform.checks.provider.base_check import BaseProviderCheck
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck as TfResourceCheck

from keyless import cloudformation, logmask, terraform
from keyless.catalog import SEVERITIES, rule
from keyless.checkov_sarif import checkov_details
from keyless.findings import Finding
from keyless.parsing import TemplateError, load_cloudformation

log = logging.getLogger(__name__)
logmask.install()
CATEGORIES = (CheckCategories.IAM, CheckCategories.SECRETS)


class _EntityCache:
    """Remember the findings of the last entity (keyed by identity, held so the id stays valid)."""

    def __init__(self) -> None:
        self.key: tuple[Any, ...] = ()
        self.held: Any = None
        self.findings: list[Finding] = []

    def get(self, key: tuple[Any, ...], held: Any, compute: Callable[[], list[Finding]]) -> list[Finding]:
        if key != self.key or held is not self.held:
            self.key, self.held = key, held
            try:
                self.findings = compute()
            except Exception:  # a rule never raises inside an engine
                log.warning("keyless could not analyse %s; no keyless finding for it", key[-1], exc_info=True)
                self.findings = []
        return self.findings


_tf_entities = _EntityCache()
_cfn_templates: dict[str, tuple[tuple[float, int], list[Finding]]] = {}

# Called as observer(check, conf, findings) for every FAILED result, with the findings behind the
# record checkov is about to write: `keyless audit` reports these instead of computing them again.
FAILURE_OBSERVERS: list[Callable[[Any, dict[str, Any], list[Finding]], None]] = []


class _KeylessCheckMixin:
    """Decide a check's result from the entity's findings, and have checkov mask key material."""

    slug: str
    id: str
    details: list[str]
    severity: Any
    # False for a rule whose checks run on every entity (`runs_everywhere`): it reports what it finds and
    # nothing else, like checkov's secrets scan; a passed record per entity costs checkov more than the scan.
    reports_passes: bool

    def _judge(self, conf: dict[str, Any], findings: list[Finding], source_file: str | None = None) -> CheckResult:
        mine = [f for f in findings if f.slug == self.slug]
        secrets = {s for f in findings for s in f.secrets}
        if secrets:
            _mask_tags(conf, secrets)
        if not mine:
            # A passing record prints the code block unmasked: say nothing rather than print a key.
            return CheckResult.PASSED if self.reports_passes and not secrets else CheckResult.UNKNOWN
        for i, variant in enumerate(sorted(_mask_variants(source_file, secrets))):
            conf[f"{self.id}_secret_{i}"] = variant
        worst = max((f.effective_severity for f in mine), key=SEVERITIES.index)
        self.severity = Severities[getattr(BcSeverities, worst)]
        self.details = checkov_details(mine)  # keyless.checkov_sarif keeps them out of checkov's SARIF attachments
        for observe in FAILURE_OBSERVERS:
            observe(self, conf, mine)
        return CheckResult.FAILED


def _mask_tags(conf: dict[str, Any], secrets: set[str]) -> None:
    """checkov copies an entity's tags into every record unmasked, so mask key material in them in place."""
    properties = conf.get("Properties")
    holders: list[Any] = [conf, properties] if isinstance(properties, dict) else [conf]
    for holder in holders:
        for key in ("tags", "tags_all", "Tags"):
            if key in holder:
                holder[key] = _masked(holder[key], secrets)


def _masked(value: Any, secrets: set[str]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, secret[:4] + "**********")
        return value
    if isinstance(value, dict):
        return {k: _masked(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, secrets) for v in value]
    return value


def _mask_variants(source_file: str | None, secrets: set[str]) -> set[str]:
    """What to hand checkov's masking so that it shows at most four characters of each secret.

    checkov keeps min(len // 4, 6) leading characters of a registered value and masks values one at
    a time. So each run of key material on a line (adjacent values merged, or masking one would
    break the other's match) is registered with the one or two characters written before it,
    which leaves exactly its first four characters visible.
    """
    variants: set[str] = set()
    for line in _file_lines(source_file) if secrets else ():
        spans = sorted(
            (start, start + len(secret))
            for secret in secrets
            for start in _occurrences(line, secret)
        )
        merged: list[list[int]] = []
        for start, end in spans:
            if merged and start <= merged[-1][1] + 2:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        for start, end in merged:
            lead = 2 if end - start >= 22 else 1
            variants.add(line[max(0, start - lead): end])
    return variants or secrets


def _occurrences(line: str, secret: str) -> list[int]:
    found, start = [], line.find(secret)
    while start != -1:
        found.append(start)
        start = line.find(secret, start + 1)
    return found


_lines_cache: dict[str, tuple[tuple[float, int], list[str]]] = {}


def _file_lines(path: str | None) -> list[str]:
    if not path:
        return []
    try:
        stat = os.stat(path)
        stamp = (stat.st_mtime, stat.st_size)
        cached = _lines_cache.get(path)
        if cached is None or cached[0] != stamp:
            with open(path, encoding="utf-8", errors="replace") as handle:
                cached = (stamp, handle.read().splitlines())
            _lines_cache[path] = cached
        return cached[1]
    except OSError:
        return []


def _base_kwargs(slug: str) -> dict[str, Any]:
    r = rule(slug)
    return {"name": r.title, "id": r.checkov_id, "categories": CATEGORIES, "guideline": r.guideline}


# --- Terraform ---------------------------------------------------------------------------------


def _graph_snapshot(graph: Any) -> terraform.TerraformGraph | None:
    """The plain snapshot of checkov's graph, built once per graph (all checks of a run share it)."""
    global _last_snapshot
    if graph is None or not hasattr(graph, "node_indices"):
        return None
    if _last_snapshot[0] is not graph:
        _last_snapshot = (graph, _snapshot(graph))
    return _last_snapshot[1]


_last_snapshot: tuple[Any, terraform.TerraformGraph | None] = (None, None)


def _snapshot(graph: Any) -> terraform.TerraformGraph:
    """Copy the rustworkx graph checkov builds into keyless's plain TerraformGraph."""
    snapshot = terraform.TerraformGraph()
    position: dict[int, int] = {}
    for index in graph.node_indices():
        attrs = graph[index][1]
        kind = attrs.get("block_type_", "")
        config = attrs.get("config_") or {}
        name = str(attrs.get("block_name_", ""))
        if kind in ("resource", "data") and "." in name:
            type_, _, short = name.partition(".")
            inner = config.get(type_, {}).get(short, {}) if isinstance(config, Mapping) else {}
        else:
            type_, short = kind, name
            inner = config.get(name, {}) if isinstance(config, Mapping) else {}
        position[index] = len(snapshot.blocks)
        snapshot.blocks.append(terraform.Block(
            kind=kind, type=type_, name=short, address=str(attrs.get("__address__", name)),
            config=terraform.unwrap(inner), scope=str(attrs.get("source_module_object_")),
            file=str(attrs.get("file_path_", "")),
        ))
    for src, dst in graph.edge_list():
        if src in position and dst in position:
            label = (graph.get_edge_data(src, dst) or {}).get("label", "")
            snapshot.edges.append((position[src], position[dst], str(label)))
    return snapshot


def _tf_findings(check: Any, conf: dict[str, Any], kind: str, entity_type: str) -> tuple[list[Finding], str | None]:
    name = check.entity_path.rsplit(":", 1)[-1]
    if kind == "provider":
        entity_type = name  # checkov gives providers no entity type; the name is the provider
    address = str(conf.get("__address__") or (f"{entity_type}.{name}" if kind in ("resource", "data") else name))

    def compute() -> list[Finding]:
        graph = _graph_snapshot(check.graph) if kind == "resource" else None
        block = None
        if graph is not None:
            found = graph.index_of(address)
            block = graph.blocks[found] if found is not None else None
        if block is None:
            block = terraform.Block(kind=kind, type=entity_type, name=name, address=address,
                                    config=terraform.unwrap({k: v for k, v in conf.items() if not k.startswith("__")}))
        return terraform.scan_block(block, graph)

    findings = _tf_entities.get((kind, check.entity_path, address), conf, compute)
    return findings, _tf_file(check)


def _tf_file(check: Any) -> str | None:
    """The absolute path of the Terraform file being scanned (checkov passes a root-relative one)."""
    graph = _graph_snapshot(check.graph)
    relative = check.entity_path.split(":", 1)[0]
    if not relative:
        return None
    if graph is not None:
        return graph.file_ending_with(relative)
    frame = sys._getframe(1)
    while frame is not None:  # provider and module checks get no graph: use the runner's root folder
        root = frame.f_locals.get("root_folder")
        if isinstance(root, str) and os.path.isfile(os.path.join(root, relative.lstrip("/"))):
            return os.path.join(root, relative.lstrip("/"))
        frame = frame.f_back
    return None


class _TerraformResourceCheck(_KeylessCheckMixin, TfResourceCheck):
    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        return self._judge(conf, *_tf_findings(self, conf, "resource", self.entity_type))


class _TerraformDataCheck(_KeylessCheckMixin, BaseDataCheck):
    def scan_data_conf(self, conf: dict[str, Any]) -> CheckResult:
        return self._judge(conf, *_tf_findings(self, conf, "data", self.entity_type))


class _TerraformProviderCheck(_KeylessCheckMixin, BaseProviderCheck):
    def scan_provider_conf(self, conf: dict[str, Any]) -> CheckResult:
        return self._judge(conf, *_tf_findings(self, conf, "provider", self.entity_type))


class _TerraformModuleCheck(_KeylessCheckMixin, BaseModuleCheck):
    def scan_module_conf(self, conf: dict[str, Any]) -> CheckResult:
        return self._judge(conf, *_tf_findings(self, conf, "module", "module"))


# --- CloudFormation ----------------------------------------------------------------------------


def _current_template() -> tuple[str | None, Any]:
    """The absolute path of the template checkov is scanning, and checkov's own parse of it.

    checkov hands a CloudFormation check one resource and a root-relative file name; the runner's
    loop holds the absolute path, and cross-resource rules need the whole template.
    """
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "check_definitions" and "file_abs_path" in frame.f_locals:
            return str(frame.f_locals["file_abs_path"]), frame.f_locals.get("definition")
        frame = frame.f_back
    return None, None


def _cfn_findings(path: str | None, checkov_definition: Any = None) -> list[Finding]:
    if path is None:
        return []
    try:
        stat = os.stat(path)
    except OSError:
        return []
    stamp = (stat.st_mtime, stat.st_size)
    cached = _cfn_templates.get(path)
    if cached is None or cached[0] != stamp:
        try:
            try:
                template: Any = load_cloudformation(path, positions=False)  # checkov reports whole resources
            except TemplateError as error:
                # cfn-lint's decoder refuses what checkov's parser read (UTF-16, say): use checkov's parse
                log.info("keyless reads %s from checkov's parse: %s", path, error)
                template = checkov_definition
            findings = cloudformation.scan_template(template) if isinstance(template, dict) else []
        except Exception:  # a rule never raises inside an engine
            log.warning("keyless could not analyse %s; no keyless finding for it", path, exc_info=True)
            findings = []
        cached = (stamp, findings)
        _cfn_templates[path] = cached
    return cached[1]


class _CloudFormationCheck(_KeylessCheckMixin, CfnResourceCheck):
    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        logical_id = self.entity_path.rsplit(":", 1)[-1]
        path, definition = _current_template()
        return self._judge(conf, [f for f in _cfn_findings(path, definition) if f.resource == logical_id], path)


# --- factories used by checks/*.py ---------------------------------------------------------------


def _make(base: type, slug: str, entities_kw: str, entities: Iterable[str]) -> Any:
    entities = list(entities)
    cls = type(f"Keyless_{base.__name__.strip('_')}_{rule(slug).number}", (base,),
               {"slug": slug, "reports_passes": not runs_everywhere(slug)})

    def __init__(self: Any) -> None:
        base.__init__(self, **_base_kwargs(slug), **{entities_kw: entities})
        self.severity = Severities[getattr(BcSeverities, rule(slug).severity)]

    cls.__init__ = __init__
    return cls()


def runs_everywhere(slug: str) -> bool:
    """Whether a rule's checkov checks run on every entity (rules 3 and 4: key material can be anywhere)."""
    scopes = [*terraform.SCOPE.get(slug, {}).values(), cloudformation.SCOPE.get(slug, ())]
    return any("*" in entities for entities in scopes)


def register(slug: str) -> list[Any]:
    """Instantiate (and so register with checkov) every check of one rule, for both frameworks."""
    checks = []
    makers = {
        "resource": (_TerraformResourceCheck, "supported_resources"),
        "data": (_TerraformDataCheck, "supported_data"),
        "provider": (_TerraformProviderCheck, "supported_provider"),
        "module": (_TerraformModuleCheck, "supported_resources"),
    }
    for kind, entities in terraform.SCOPE.get(slug, {}).items():
        base, keyword = makers[kind]
        checks.append(_make(base, slug, keyword, entities))
    if slug in cloudformation.SCOPE:
        checks.append(_make(_CloudFormationCheck, slug, "supported_resources", cloudformation.SCOPE[slug]))
    return checks
