"""CKV_KEYLESS_7: Launch template or launch configuration without an instance profile."""

from keyless.checkov_adapter import register

checks = register("launch-template-without-profile")
