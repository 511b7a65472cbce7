"""keyless rules as checkov checks: one check per rule and entity kind, derived from the rule registry.

`checks/keyless_checks.py` (the folder users hand to `--external-checks-dir`) only calls
`register_all()`. Every rule of an entity is computed at once and remembered for the entity, since
checkov runs all checks of one entity back to back; each check keeps its own rule's findings.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from checkov.common.bridgecrew.severities import BcSeverities, Severities
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.data.base_check import BaseDataCheck
from checkov.terraform.checks.module.base_module_check import BaseModuleCheck
from checkov.terraform.checks.provider.base_check import BaseProviderCheck
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck as TfResourceCheck

from keyless.catalog import SEVERITIES, rule
from keyless.detect.material import mask_known
from keyless.engines import checkov_seam
from keyless.engines.checkov_codeblocks import install_code_block_masking
from keyless.engines.checkov_sarif import checkov_details
from keyless.engines.checkov_tfjson import install_record_names, provider_address
from keyless.findings import Finding
from keyless.lang.cloudformation_parsing import TemplateError, load_cloudformation
from keyless.lang.terraform import Block, unwrap
from keyless.rules import (
    cloudformation_scope,
    judges_module_call,
    rule_modules,
    runs_everywhere,
    scan_template,
    scan_terraform_block,
    terraform_scope,
)

log = logging.getLogger(__name__)
checkov_seam.install_log_masking()
checkov_seam.install_initialised_module_loader()  # modules `terraform init` fetched are followed
install_code_block_masking()  # every record's code block, whichever check writes it
install_record_names()  # .tf.json records under their .tf addresses
CATEGORIES = (CheckCategories.IAM, CheckCategories.SECRETS)
# checkov masks in its output the values a failing SECRETS check stores under `<check id>_secret...`.
_MASK_KEY = "_secret_"


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
_failure_observers: list[Callable[[Any, dict[str, Any], list[Finding]], None]] = []


@contextmanager
def observing_failures(observer: Callable[[Any, dict[str, Any], list[Finding]], None]) -> Iterator[None]:
    """Call observer(check, conf, findings) for every FAILED result, with the findings behind the record checkov
    is about to write, in the order checkov writes them."""
    _failure_observers.append(observer)
    try:
        yield
    finally:
        _failure_observers.remove(observer)


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
            conf[f"{self.id}{_MASK_KEY}{i}"] = variant
        worst = max((f.effective_severity for f in mine), key=SEVERITIES.index)
        self.severity = Severities[getattr(BcSeverities, worst)]
        self.details = checkov_details(mine)  # keyless.engines.checkov_sarif keeps them out of checkov's SARIF attachments
        for observe in _failure_observers:
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
        return mask_known(value, secrets)
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


def _file_lines(path: str | None) -> list[str]:
    if not path:
        return []
    try:
        stat = os.stat(path)
    except OSError:
        return []
    return _read_lines(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=16)
def _read_lines(path: str, _mtime: int, _size: int) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read().splitlines()
    except OSError:
        return []


def _base_kwargs(slug: str) -> dict[str, Any]:
    r = rule(slug)
    return {"name": r.title, "id": r.checkov_id, "categories": CATEGORIES, "guideline": r.guideline}


# --- Terraform ---------------------------------------------------------------------------------


def _tf_findings(check: Any, conf: dict[str, Any], kind: str, entity_type: str) -> tuple[list[Finding], str | None]:
    name = check.entity_path.rsplit(":", 1)[-1]
    if kind == "provider":
        entity_type = name.split(".", 1)[0]  # checkov gives providers no entity type; the name is the provider
    location = checkov_seam.terraform_location()
    file = location.file if location else ""
    module = location.module if location else ""
    tree = location.tree if location else ""
    if "__address__" not in conf and file.endswith(".tf.json"):
        # checkov's terraform_json framework gives no address: use the .tf path's, which its records carry too
        conf["__address__"] = terraform_json_address(kind, entity_type, name, conf)
    address = str(conf.get("__address__") or (f"{entity_type}.{name}" if kind in ("resource", "data") else name))

    def compute() -> list[Finding]:
        tf_json = file.endswith(".tf.json")
        # a check object outlives runs: after a Terraform run its `graph` is that run's, never a .tf.json file's
        graph = checkov_seam.terraform_json_graph() if tf_json else check.graph
        # data sources and module calls too: a template_file or cloudinit_config data source is judged by who uses it
        with_model = kind in ("resource", "data", "module")
        model = checkov_seam.terraform_model(graph) if with_model or tf_json else None
        # The block checkov handed this check, read as written; the model only serves cross-block lookups.
        rendered = unwrap({k: v for k, v in conf.items() if _MASK_KEY not in k})
        if tf_json and model is not None:
            # checkov's terraform_json checks get the file's text ("${var.x}"); its graph holds the rendering
            same = model.find(file, module, address)
            rendered = same.rendered if same is not None else rendered
        block = Block(kind=kind, type=entity_type, name=name, address=address, rendered=rendered,
                      file=file, module=module, lines=_lines(conf), tree=tree)
        return scan_terraform_block(block, model if with_model else None)

    return _tf_entities.get((kind, file, module, address), conf, compute), file or None


def terraform_json_address(kind: str, entity_type: str, name: str, conf: dict[str, Any]) -> str:
    """The address the `.tf` path gives a block, for one checkov hands over from a `.tf.json` file."""
    if kind == "provider":
        return provider_address(name, conf)
    return {"resource": f"{entity_type}.{name}", "data": f"data.{entity_type}.{name}"}.get(kind, f"module.{name}")


def _lines(conf: dict[str, Any]) -> tuple[int, int]:
    start, end = conf.get("__start_line__"), conf.get("__end_line__")
    if start is None:  # checkov's terraform_json framework (.tf.json) spells them as CloudFormation does
        start, end = conf.get("__startline__"), conf.get("__endline__")
    return (start, end) if isinstance(start, int) and isinstance(end, int) else (0, 0)


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
        result = self._judge(conf, *_tf_findings(self, conf, "module", "module"))
        if result == CheckResult.PASSED and not judges_module_call(self.slug, unwrap(conf)):
            return CheckResult.UNKNOWN  # e.g. rule 1 judges registry calls only: a local call's resources speak for it
        return result


# --- CloudFormation ----------------------------------------------------------------------------


class _Unhashed:
    """checkov's parse rides along to the cached scan without being part of the cache key."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __hash__(self) -> int:
        return 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Unhashed)


def _cfn_findings(path: str | None, checkov_definition: Any = None) -> list[Finding]:
    if path is None:
        return []
    try:
        stat = os.stat(path)
    except OSError:
        return []
    return _template_findings(path, stat.st_mtime_ns, stat.st_size, checkov_definition)


@lru_cache(maxsize=4)
def _template_findings(path: str, _mtime: int, _size: int, checkov_definition: _Unhashed) -> list[Finding]:
    try:
        try:
            template: Any = load_cloudformation(path, positions=False)  # checkov reports whole resources
        except TemplateError as error:
            # cfn-lint's decoder refuses what checkov's parser read (UTF-16, say): use checkov's parse
            log.info("keyless reads %s from checkov's parse: %s", path, error)
            template = checkov_definition.value
        return scan_template(template) if isinstance(template, dict) else []
    except Exception:  # a rule never raises inside an engine
        log.warning("keyless could not analyse %s; no keyless finding for it", path, exc_info=True)
        return []


class _CloudFormationJudge(_KeylessCheckMixin):
    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        logical_id = self.entity_path.rsplit(":", 1)[-1]
        path, definition = checkov_seam.cloudformation_template()
        findings = _cfn_findings(path, _Unhashed(definition))
        return self._judge(conf, [f for f in findings if logical_id in f.checkov_resources], path)


# --- registration --------------------------------------------------------------------------------

_TERRAFORM_BASES = {
    "resource": (_TerraformResourceCheck, "supported_resources"),
    "data": (_TerraformDataCheck, "supported_data"),
    "provider": (_TerraformProviderCheck, "supported_provider"),
    "module": (_TerraformModuleCheck, "supported_resources"),
}


def _make(base: type, slug: str, entities_kw: str, entities: Iterable[str]) -> Any:
    entities = list(entities)
    cls = type(f"Keyless_{base.__name__.strip('_')}_{rule(slug).number}", (base,),
               {"slug": slug, "reports_passes": not runs_everywhere(slug)})

    def __init__(self: Any) -> None:
        base.__init__(self, **_base_kwargs(slug), **{entities_kw: entities})
        self.severity = Severities[getattr(BcSeverities, rule(slug).severity)]

    cls.__init__ = __init__
    return cls()


@lru_cache(maxsize=1)
def _cloudformation_check() -> type:
    """checkov's CloudFormation check base, imported only when a CloudFormation check is registered:
    importing it loads every built-in CloudFormation check, which a Terraform-only audit never runs."""
    from checkov.cloudformation.checks.resource.base_resource_check import BaseResourceCheck

    return type("_CloudFormationCheck", (_CloudFormationJudge, BaseResourceCheck), {})


FRAMEWORKS = ("terraform", "cloudformation")


def register(slug: str, frameworks: Iterable[str] = FRAMEWORKS) -> list[Any]:
    """Instantiate (and so register with checkov) every check of one rule, for the frameworks given."""
    checks = []
    if "terraform" in frameworks:
        for kind, entities in terraform_scope(slug).items():
            base, keyword = _TERRAFORM_BASES[kind]
            checks.append(_make(base, slug, keyword, entities))
    if "cloudformation" in frameworks and cloudformation_scope(slug):
        checks.append(_make(_cloudformation_check(), slug, "supported_resources", cloudformation_scope(slug)))
    return checks


def register_all(frameworks: Iterable[str] = FRAMEWORKS) -> list[Any]:
    """Every check of every rule in the registry (`checks/keyless_checks.py`: both frameworks), and,
    while checkov loads them, its CloudFormation loops expanded."""
    frameworks = tuple(frameworks)
    if "cloudformation" in frameworks:
        checkov_seam.expand_cloudformation_loops()
    return [check for r, _ in rule_modules() for check in register(r.slug, frameworks)]
