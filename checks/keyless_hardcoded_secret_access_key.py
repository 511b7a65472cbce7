"""CKV_KEYLESS_4: Hardcoded AWS secret access key or session token."""

from keyless.checkov_adapter import register

checks = register("hardcoded-secret-access-key")
