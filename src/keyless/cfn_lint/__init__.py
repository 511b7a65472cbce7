"""keyless as cfn-lint rules: `cfn-lint -a keyless.cfn_lint -- template.yaml`.

cfn-lint instantiates every rule class found in this module's namespace, so the classes are
re-exported here.
"""

from keyless import logmask
from keyless.cfn_lint.rules import (
    AccessKeySecretExposed,
    CredentialsInCompute,
    Ec2InstanceWithoutProfile,
    HardcodedAccessKeyId,
    HardcodedSecretAccessKey,
    HumanUserAccessKey,
    IamAccessKey,
    LaunchTemplateWithoutProfile,
)

logmask.install()

__all__ = [
    "AccessKeySecretExposed",
    "CredentialsInCompute",
    "Ec2InstanceWithoutProfile",
    "HardcodedAccessKeyId",
    "HardcodedSecretAccessKey",
    "HumanUserAccessKey",
    "IamAccessKey",
    "LaunchTemplateWithoutProfile",
]
