"""CKV_KEYLESS_2: Access key for an IAM user who also has console access."""

from keyless.checkov_adapter import register

checks = register("human-user-access-key")
