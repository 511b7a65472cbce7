"""CKV_KEYLESS_5: Terraform AWS provider configured with static access keys."""

from keyless.checkov_adapter import register

checks = register("provider-static-credentials")
