"""CKV_KEYLESS_3: Hardcoded AWS access key ID."""

from keyless.checkov_adapter import register

checks = register("hardcoded-access-key-id")
