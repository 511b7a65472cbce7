"""CKV_KEYLESS_9: Access key secret exposed outside a secrets store."""

from keyless.checkov_adapter import register

checks = register("access-key-secret-exposed")
