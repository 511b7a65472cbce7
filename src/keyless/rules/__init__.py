"""The rule registry: each catalog entry's logic lives in `keyless.rules.<slug>` (dashes as underscores).

A rule module holds one rule for both formats:
- `TERRAFORM`: the blocks it judges, as {block kind: types} ("*" for every type), or {} for none;
- `CLOUDFORMATION`: the resource types it judges ("*" for every type), or () for none;
- `terraform(block, model)` and `cloudformation(name, template)`: its findings for one block or resource.

The engine adapters, the audit and the tests loop over `rule_modules()`, so adding a rule means a
catalog entry, a rule module, a fixture folder and a doc page, and nothing else.

cfn-lint in the editor imports keyless once per template, so the CloudFormation path loads no
Terraform module: a rule module imports its Terraform helpers inside `terraform()` (or a Terraform-side
helper module it imports there), and names Terraform types for annotations under `TYPE_CHECKING` only.
tests/unit/test_import_cost.py holds every rule to it.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from functools import lru_cache
from types import ModuleType
from typing import TYPE_CHECKING, Any

from keyless import catalog
from keyless.findings import Finding
from keyless.lang.cfn_foreach import expand as expand_loops
from keyless.lang.cloudformation import Template

if TYPE_CHECKING:
    from keyless.lang.terraform import Block, TerraformModel

EVERY_TYPE = "*"


def module_name(slug: str) -> str:
    return f"{__name__}.{slug.replace('-', '_')}"


def rule_modules() -> list[tuple[catalog.Rule, ModuleType]]:
    """Every catalog rule with its module, in catalog order."""
    return _modules(catalog.RULES)


@lru_cache(maxsize=2)
def _modules(rules: tuple[catalog.Rule, ...]) -> list[tuple[catalog.Rule, ModuleType]]:
    return [(r, importlib.import_module(module_name(r.slug))) for r in rules]


def terraform_scope(slug: str) -> Mapping[str, tuple[str, ...]]:
    return _module(slug).TERRAFORM


def cloudformation_scope(slug: str) -> tuple[str, ...]:
    return _module(slug).CLOUDFORMATION


def _module(slug: str) -> Any:
    return next(module for r, module in rule_modules() if r.slug == slug)


def runs_everywhere(slug: str) -> bool:
    """Whether a rule judges every entity (rules 3 and 4: key material can be anywhere)."""
    return any(EVERY_TYPE in types for types in (*terraform_scope(slug).values(), cloudformation_scope(slug)))


def judges_module_call(slug: str, config: Mapping[str, Any]) -> bool:
    """Whether a rule judges this module call at all (a rule module may define `judges_module_call`)."""
    judge = getattr(_module(slug), "judges_module_call", None)
    return True if judge is None else bool(judge(config))


def _applies(types: tuple[str, ...], type_: str) -> bool:
    return EVERY_TYPE in types or type_ in types


def scan_terraform_block(block: Block, model: TerraformModel | None = None) -> list[Finding]:
    """Every rule's findings for one Terraform block (resource, data source, provider or module call).

    A block Terraform never creates (`count = 0`, an empty `for_each`, a module call switched off) is
    judged by the rules that read what is written wherever it is (key material, rules 3 and 4) only.
    A finding inside a module instance is placed at the module call (`terraform_modules.placed`).
    """
    from keyless.lang.terraform_modules import placed  # Terraform only: see the module docstring

    exists = model is None or model.created(block)
    findings: list[Finding] = []
    for rule_, module in rule_modules():
        if not exists and not runs_everywhere(rule_.slug):
            continue
        if _applies(module.TERRAFORM.get(block.kind, ()), block.type):
            findings += module.terraform(block, model)
    return placed(findings, block, model) if block.module else findings


def scan_template(template: Mapping[str, Any]) -> list[Finding]:
    """Every rule's findings in one CloudFormation (or SAM) template."""
    if not isinstance(template, Mapping):
        return []
    tpl = Template(expand_loops(template))  # cfn-lint hands its template expanded already: a no-op then
    findings: list[Finding] = []
    modules = [module for _, module in rule_modules()]  # once: each call hashes the catalog for its cache
    for name in tpl.resources:
        kind = tpl.type_of(name)
        for module in modules:
            if _applies(module.CLOUDFORMATION, kind):
                findings += module.cloudformation(name, tpl)
    return findings
