"""CKV_KEYLESS_6: EC2 instance without an instance profile."""

from keyless.checkov_adapter import register

checks = register("ec2-instance-without-profile")
