"""The keyless checks for checkov, one per rule and entity kind, derived from the rule registry."""

from keyless.engines.checkov_adapter import register_all

checks = register_all()
