"""SAM Globals: what each serverless function inherits, so rules judge the function as deployed.

cfn-lint merges Globals the same way (and reports inherited values at their Globals line).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SERVERLESS_FUNCTION = "AWS::Serverless::Function"


def with_globals(resources: dict[str, Mapping[str, Any]], globals_: Any) -> dict[str, Mapping[str, Any]]:
    """The resources, each SAM function given what it inherits from Globals.Function (its own values win)."""
    inherited = globals_.get("Function") if isinstance(globals_, Mapping) else None
    if not isinstance(inherited, Mapping):
        return resources
    merged_resources = dict(resources)
    for name, res in resources.items():
        if res.get("Type") == SERVERLESS_FUNCTION:
            own = res.get("Properties")
            merged = dict(res)
            merged["Properties"] = _merge(inherited, own if isinstance(own, Mapping) else {})
            merged_resources[name] = merged
    return merged_resources


def _merge(inherited: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(inherited)
    for key, value in own.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged
