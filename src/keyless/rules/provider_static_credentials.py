"""Rule 5: the Terraform AWS provider configured with static access keys (Terraform only)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from keyless.findings import Finding, simple_finding
from keyless.lang.cloudformation import Template

if TYPE_CHECKING:  # Terraform helpers are imported where a Terraform block is judged (see keyless.rules)
    from keyless.lang.terraform import Block, TerraformModel

SLUG = "provider-static-credentials"
TERRAFORM = {"provider": ("aws",)}
CLOUDFORMATION: tuple[str, ...] = ()


# LocalStack's and moto's conventional credentials: the emulators accept any, and their guides and samples
# use these ("test" in LocalStack's docs and tflocal, "fake" in localstack-terraform-samples, "testing" in moto's).
LOCAL_EMULATOR_CREDENTIALS = frozenset(
    {"test", "testing", "fake", "dummy", "mock_access_key", "mock_secret_key", "localstack"})
# Settings that point the provider at an endpoint other than AWS's (an emulator), beside `endpoints {}`.
_EMULATOR_SETTINGS = ("s3_use_path_style", "s3_force_path_style", "skip_credentials_validation")


def is_local_emulator(config: Mapping[str, Any]) -> bool:
    """A provider for LocalStack (or moto): every static credential one of the conventional dummies, and
    a custom endpoint (`endpoints {}`) or the settings an emulator needs. It holds no AWS key."""
    from keyless.lang.terraform import present

    values = [config.get(k) for k in ("access_key", "secret_key", "token") if present(config.get(k))]
    if not values or not all(isinstance(v, str) and v.strip() in LOCAL_EMULATOR_CREDENTIALS for v in values):
        return False
    return present(config.get("endpoints")) or any(
        config.get(k) is True or str(config.get(k)).strip().lower() == "true" for k in _EMULATOR_SETTINGS)


def terraform(block: Block, model: TerraformModel | None) -> list[Finding]:
    from keyless.lang.terraform import present

    keys = [k for k in ("access_key", "secret_key", "token") if present(block.config.get(k))]
    if not keys or is_local_emulator(block.config):
        return []
    return [simple_finding(SLUG, block.address, (keys[0],), f'provider "aws" sets {", ".join(keys)} in code')]


def cloudformation(name: str, tpl: Template) -> list[Finding]:
    return []
