"""keyless as cfn-lint rules: `cfn-lint -a keyless.cfn_lint -- template.yaml`.

cfn-lint instantiates every rule class found in this module's namespace, so one class per catalog
rule is placed here (`IamAccessKey`, `HardcodedAccessKeyId`, ...), derived from the rule registry.
"""

from keyless.engines import logmask
from keyless.engines.cfn_lint_adapter import rule_classes

logmask.install()
globals().update(rule_classes())
__all__ = sorted(rule_classes())  # noqa: PLE0605 - built from the catalog
