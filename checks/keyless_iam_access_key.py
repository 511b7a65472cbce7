"""CKV_KEYLESS_1: IAM access key created in infrastructure code."""

from keyless.checkov_adapter import register

checks = register("iam-access-key")
