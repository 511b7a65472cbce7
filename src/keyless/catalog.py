"""The rule catalog: the single source of truth for IDs, titles, severities and recommendations.

Engine adapters, documentation and reports all read these records, so an ID or a severity
is changed here or nowhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

AWS_PAGE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/security-creds-programmatic-access.html"

# Where keyless lives, and where each rule's page (docs/rules/<slug>.md) is read on the web: checkov's
# `Guide:` link, cfn-lint's rule source, the audit's links and both SARIF outputs' `helpUri` derive from
# these two lines. A fork that publishes its own copy of the pages changes them here (README, "Forks").
HOME_URL = "https://github.com/keyless-dev/keyless"
RULE_PAGES_URL = f"{HOME_URL}/blob/main/docs/rules/"

# GitHub code scanning ranks an alert by the rule's `security-severity` (above 9.0 critical, 7.0 to 8.9
# high, 4.0 to 6.9 medium, 0.1 to 3.9 low). keyless uses one score from the middle of each band, and
# both its SARIF files (the audit's, and checkov's via keyless.engines.checkov_sarif) take it from here.
SECURITY_SEVERITY = {"CRITICAL": "9.5", "HIGH": "8.0", "MEDIUM": "5.5", "LOW": "3.0"}
SARIF_LEVEL = {"CRITICAL": "error", "HIGH": "error", "MEDIUM": "warning", "LOW": "note"}


@dataclass(frozen=True)
class Recommendation:
    key: str
    title: str


NO_EMBEDDED_KEYS = Recommendation(
    "no-embedded-keys",
    "Don't embed long-term access keys and secret access keys in your application code or in a code repository",
)
USE_ROLES = Recommendation(
    "use-roles", "Use IAM roles to generate temporary security credentials whenever possible"
)
CLI_ALTERNATIVES = Recommendation(
    "cli-alternatives",
    "Use alternatives to long-term access keys for the AWS Command Line Interface (AWS CLI) or the aws-shell",
)
NO_HUMAN_USER_KEYS = Recommendation(
    "no-human-user-keys",
    "Don't create long-term access keys for human users who need access to applications or AWS services",
)
NO_KEYS_IN_COMPUTE = Recommendation(
    "no-keys-in-compute", "Don't store long-term access keys within an AWS compute service"
)

RECOMMENDATIONS: tuple[Recommendation, ...] = (
    NO_EMBEDDED_KEYS,
    USE_ROLES,
    CLI_ALTERNATIVES,
    NO_HUMAN_USER_KEYS,
    NO_KEYS_IN_COMPUTE,
)

SEVERITIES = ("LOW", "MEDIUM", "HIGH", "CRITICAL")


@dataclass(frozen=True)
class Rule:
    number: int
    slug: str
    checkov_id: str
    cfn_lint_id: str | None
    severity: str
    recommendation: Recommendation
    title: str
    fix: str

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(i for i in (self.slug, self.checkov_id, self.cfn_lint_id) if i)

    @property
    def guideline(self) -> str:
        """The rule's own page: what it flags, why, examples, how to fix and suppress it."""
        return f"{RULE_PAGES_URL}{self.slug}.md"

    @property
    def security_severity(self) -> str:
        return SECURITY_SEVERITY[self.severity]


RULES: tuple[Rule, ...] = (
    Rule(
        1, "iam-access-key", "CKV_KEYLESS_1", "WK001", "HIGH", USE_ROLES,
        "IAM access key created in infrastructure code",
        "Delete the access key resource and give the workload an IAM role (instance profile, task role, "
        "IRSA, IAM Roles Anywhere) so it receives temporary credentials.",
    ),
    Rule(
        2, "human-user-access-key", "CKV_KEYLESS_2", "WK002", "HIGH", NO_HUMAN_USER_KEYS,
        "Access key for an IAM user who also has console access",
        "Give people IAM Identity Center access instead of an access key; keep machine users without a login profile.",
    ),
    Rule(
        3, "hardcoded-access-key-id", "CKV_KEYLESS_3", "EK003", "CRITICAL", NO_EMBEDDED_KEYS,
        "Hardcoded AWS access key ID",
        "Remove the key from code and history, deactivate and rotate it, and read credentials at run time from "
        "an IAM role or AWS Secrets Manager.",
    ),
    Rule(
        4, "hardcoded-secret-access-key", "CKV_KEYLESS_4", "EK004", "CRITICAL", NO_EMBEDDED_KEYS,
        "Hardcoded AWS secret access key or session token",
        "Remove the secret from code and history, rotate the key, and use an IAM role or a "
        "{{resolve:secretsmanager:...}} reference instead.",
    ),
    Rule(
        5, "provider-static-credentials", "CKV_KEYLESS_5", None, "MEDIUM", CLI_ALTERNATIVES,
        "Terraform AWS provider configured with static access keys",
        "Drop access_key/secret_key from the provider and authenticate with IAM Identity Center (SSO) profiles, "
        "assume_role or the environment's role credentials.",
    ),
    Rule(
        6, "ec2-instance-without-profile", "CKV_KEYLESS_6", "WK006", "MEDIUM", NO_KEYS_IN_COMPUTE,
        "EC2 instance without an instance profile",
        "Attach an IAM instance profile (directly or through its launch template) so software on the instance "
        "gets temporary credentials instead of stored keys.",
    ),
    Rule(
        7, "launch-template-without-profile", "CKV_KEYLESS_7", "WK007", "MEDIUM", NO_KEYS_IN_COMPUTE,
        "Launch template or launch configuration without an instance profile",
        "Set iam_instance_profile (IamInstanceProfile) on the launch template or launch configuration.",
    ),
    Rule(
        8, "credentials-in-compute", "CKV_KEYLESS_8", "EK008", "HIGH", NO_KEYS_IN_COMPUTE,
        "AWS credentials handed to a compute service",
        "Remove the credentials from the environment, user data or metadata and grant the compute an IAM role "
        "(execution/task role, instance profile, service role).",
    ),
    Rule(
        9, "access-key-secret-exposed", "CKV_KEYLESS_9", "EK009", "HIGH", NO_EMBEDDED_KEYS,
        "Access key secret exposed outside a secrets store",
        "Do not output the secret or store it in a plain parameter: write it to AWS Secrets Manager "
        "(or an SSM SecureString), or better, replace the key with a role.",
    ),
)

def rule(identifier: str) -> Rule:
    """Look a rule up by slug, checkov ID or cfn-lint ID, case-insensitively."""
    try:
        return _by_id(RULES)[identifier.strip().lower()]
    except KeyError:
        raise KeyError(f"unknown keyless rule {identifier!r}") from None


@lru_cache(maxsize=2)
def _by_id(rules: tuple[Rule, ...]) -> dict[str, Rule]:
    return {identifier.lower(): r for r in rules for identifier in r.ids}
