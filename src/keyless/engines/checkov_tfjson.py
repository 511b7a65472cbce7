"""Name Terraform JSON (`.tf.json`, CDKTF's `cdk.tf.json`) entities the way checkov names them in `.tf`.

checkov scans `.tf.json` files with its `terraform_json` framework, whose records name an entity by
its block kind and label only: `resource.web_Instance_1A2B`, `provider.aws`. Two resources of different
types with the same label cannot be told apart, and nothing matches the `.tf` path's addresses
(`aws_instance.web_Instance_1A2B`, `data.aws_iam_user.u`, `aws.default`, `module.vpc`), which baselines,
suppressions and the audit rely on. Once keyless is loaded, the framework's records carry the `.tf`
path's address instead; keyless's checks use the same address for their findings (`address`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

_RECORD_LISTS = ("failed_checks", "passed_checks", "skipped_checks")


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def address(block_type: str, entity: Any) -> str | None:
    """The `.tf` path's address of one `terraform_json` entity ({type: {name: config}} or {name: config})."""
    if not isinstance(entity, Mapping) or len(entity) != 1:
        return None
    label, inner = next(iter(entity.items()))
    if block_type in ("resource", "data"):
        if not isinstance(inner, Mapping) or len(inner) != 1:
            return None
        name = next(iter(inner))
        return f"{label}.{name}" if block_type == "resource" else f"data.{label}.{name}"
    if block_type == "provider":
        alias = _first(inner.get("alias")) if isinstance(inner, Mapping) else None
        return f"{label}.{alias if isinstance(alias, str) and alias else 'default'}"
    if block_type == "module":
        return f"module.{label}"
    return None


def provider_address(name: str, conf: Mapping[str, Any]) -> str:
    """A provider's address from the configuration a check receives (`aws.default`, `aws.west`)."""
    alias = _first(conf.get("alias"))
    return f"{name}.{alias if isinstance(alias, str) and alias else 'default'}"


def install_record_names() -> None:
    """Have the `terraform_json` runner write each entity's records under its address (once per process)."""
    try:
        from checkov.terraform_json.runner import TerraformJsonRunner
    except ImportError:  # a checkov without the framework: nothing to name
        return
    original = TerraformJsonRunner.run_block
    if getattr(original, "keyless_names", False):
        return

    @functools.wraps(original)
    def run_block(self: Any, entities: list[Any], definition_context: Any, full_file_path: str, root_folder: Any,
                  report: Any, scanned_file: str, block_type: str, *args: Any, **kwargs: Any) -> None:
        for entity in entities:  # one at a time, so that each entity's records are known
            before = {kind: len(getattr(report, kind)) for kind in _RECORD_LISTS}
            original(self, [entity], definition_context, full_file_path, root_folder, report, scanned_file,
                     block_type, *args, **kwargs)
            named = address(block_type, entity)
            if named is None:
                continue
            for kind in _RECORD_LISTS:
                for record in getattr(report, kind)[before[kind]:]:
                    record.resource = named

    run_block.keyless_names = True  # type: ignore[attr-defined]
    TerraformJsonRunner.run_block = run_block  # type: ignore[method-assign]
