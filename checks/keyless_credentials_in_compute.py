"""CKV_KEYLESS_8: AWS credentials handed to a compute service."""

from keyless.checkov_adapter import register

checks = register("credentials-in-compute")
