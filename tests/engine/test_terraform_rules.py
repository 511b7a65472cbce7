"""The nine keyless rules on Terraform, through the real checkov engine (one in-process run).

Expectations come from the fixtures' names, never from keyless's own output: in
`tests/fixtures/rules/<slug>/terraform/`, every block labelled `fail_...` (resource, data source, module
call, or provider alias) must fail that folder's rule and every `pass_...` block must pass it.
A resource inside a local module takes the intent of the nearest fail_/pass_ part of its address
(`module.fail_x.aws_ssm_parameter.stored` counts as `fail_x`), so a module call and the resources it
creates are judged together.

By design a keyless check says nothing (UNKNOWN, absent from checkov's lists) for an entity that holds
key material but passes the rule, so that checkov never prints an unmasked code block. The pass_
entities of every folder hold no key material, so they all appear as PASSED; `test_no_pass_record_*`
checks the UNKNOWN side of that design on the fail_ entities. Rules 3 and 4 run on every entity and
report failures only, so their pass_ entities must have been judged (seen through the checks' own
`_judge`) and stay silent.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from checkov.common.models.enums import CheckResult

from keyless.catalog import RULES, rule
from keyless.engines import checkov_adapter, run_checkov
from keyless.rules import runs_everywhere

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rules"
SLUGS = [r.slug for r in RULES]
_INTENT = re.compile(r"^(?:fail|pass)_\w+$")
_LABELS = re.compile(
    r'^\s*(?:resource|data)\s+"[^"]+"\s+"((?:fail|pass)_\w+)"'
    r'|^\s*module\s+"((?:fail|pass)_\w+)"'
    r'|^\s*alias\s*=\s*"((?:fail|pass)_\w+)"',
    re.MULTILINE,
)
# Rules that may fail on a folder's pass_ entities without being a false alarm.
ALLOWED_ON_PASS = {
    "human-user-access-key": {"iam-access-key"},  # every active key is a rule 1 finding
    "access-key-secret-exposed": {"iam-access-key"},
}
# Where a failed record's details must point, per rule (the attribute path or the attribute's name).
DETAIL_PATHS = {
    "iam-access-key": r"\bstatus\b",
    "human-user-access-key": r"\((user|source)\)",  # a registry module call: its source
    "hardcoded-access-key-id": r" at [\w.\[\]-]+",
    "hardcoded-secret-access-key": r" at [\w.\[\]-]+",
    "provider-static-credentials": r"\b(access_key|secret_key|token)\b",
    "ec2-instance-without-profile": r"\biam_instance_profile\b",
    "launch-template-without-profile": r"\biam_instance_profile\b",
    "credentials-in-compute": r"( at [\w.\[\]-]+|\buser_data(_base64)? of )",
    "access-key-secret-exposed": r"(output\.\w+\.value|aws_ssm_parameter\.\w+\.value|local_file\.\w+\.content)",
}
# Exact paths for a sample of findings, written from the fixtures.
SPOT_PATHS = {
    ("hardcoded-access-key-id", "aws_s3_bucket.fail_documentation_example_in_tags"): "tags.LegacyId",
    ("hardcoded-access-key-id", "aws_s3_object.fail_data_source"): " at key.",
    ("hardcoded-access-key-id", "aws.fail_provider_block"): " at access_key.",
    ("hardcoded-access-key-id", "fail_module_argument"): " at access_key_id.",
    ("hardcoded-access-key-id", "aws_instance.fail_base64_user_data"): " at user_data_base64.",
    ("hardcoded-secret-access-key", "aws_s3_bucket.fail_camel_case_name_in_tags"): "tags.secretKey",
    ("hardcoded-secret-access-key", "aws_secretsmanager_secret_version.fail_from_local"):
        "secret_string.secret_access_key",
    ("hardcoded-secret-access-key", "aws_secretsmanager_secret_version.fail_session_token"):
        "Session token YNBD… (180 characters) is hardcoded at secret_string.aws_session_token",
    ("credentials-in-compute", "aws_lambda_function.fail_lambda_literal_env"): "environment.variables.S3_ACCESS_KEY",
    ("credentials-in-compute", "aws_codebuild_project.fail_codebuild_plaintext"):
        "environment.environment_variable[1].value",
    ("credentials-in-compute", "aws_apprunner_service.fail_apprunner_env"):
        "runtime_environment_variables.AWS_SECRET_ACCESS_KEY",
    ("credentials-in-compute", "aws_instance.fail_user_data_base64_credentials_file"): "user_data_base64 of",
    ("access-key-secret-exposed", "aws_iam_access_key.fail_output_not_sensitive"): "output.ci_credentials.value.secret",
    ("access-key-secret-exposed", "aws_iam_access_key.fail_plain_ssm_parameter"):
        "aws_ssm_parameter.ci_secret_plain.value",
    ("ec2-instance-without-profile", "aws_instance.fail_template_without_profile"):
        "launch template aws_launch_template.without_profile",
}


def _folder(record: Any) -> str:
    return record.file_path.strip("/").split("/", 1)[0]


def intent(resource: str) -> str:
    """The fail_/pass_ name a record is judged by: the nearest such part of its address."""
    parts = [re.sub(r"\[.*\]$", "", p) for p in resource.split(".")]
    return next((p for p in reversed(parts) if _INTENT.match(p)), parts[-1])


def expected_names(slug: str, prefix: str) -> set[str]:
    """fail_/pass_ labels written in a rule folder's own .tf files (local modules excluded)."""
    names: set[str] = set()
    for path in (FIXTURES / slug / "terraform").glob("*.tf"):
        for match in _LABELS.finditer(path.read_text()):
            name = next(g for g in match.groups() if g)
            if name.startswith(prefix):
                names.add(name)
    return names


# (check ID, folder, intent) of every entity a keyless check judged and left out of checkov's lists
SILENT: set[tuple[str, str, str]] = set()


@pytest.fixture(scope="session")
def tf_records() -> list[Any]:
    judge = checkov_adapter._KeylessCheckMixin._judge

    def spy(check: Any, conf: dict[str, Any], *args: Any) -> CheckResult:
        result = judge(check, conf, *args)
        if result == CheckResult.UNKNOWN:
            address = str(conf.get("__address__") or check.entity_path.rsplit(":", 1)[-1])
            SILENT.add((check.id, check.entity_path.strip("/").split("/", 1)[0], intent(address)))
        return result

    checkov_adapter._KeylessCheckMixin._judge = spy  # type: ignore[method-assign]
    try:
        reports = run_checkov(str(FIXTURES), frameworks=["terraform"])
    finally:
        checkov_adapter._KeylessCheckMixin._judge = judge  # type: ignore[method-assign]
    records = [r for report in reports for r in (*report.failed_checks, *report.passed_checks)]
    assert {_folder(r) for r in records} >= set(SLUGS), "every rule folder should be scanned"
    return records


def _passed(records: Iterable[Any], slug: str, folder: str) -> set[str]:
    """Entities that passed a rule: PASSED records, or for rules 3 and 4 a judged entity left silent."""
    passed = {intent(r.resource) for r in _select(records, slug, folder, CheckResult.PASSED)}
    if runs_everywhere(slug):
        assert not passed, f"{slug} runs on every entity and reports failures only"
        failed = {intent(r.resource) for r in _select(records, slug, folder, CheckResult.FAILED)}
        passed = {name for check_id, where, name in SILENT
                  if check_id == rule(slug).checkov_id and where == folder and name not in failed}
    return passed


def _select(records: Iterable[Any], slug: str, folder: str, result: CheckResult) -> list[Any]:
    check_id = rule(slug).checkov_id
    return [r for r in records
            if r.check_id == check_id and _folder(r) == folder and r.check_result["result"] == result]


@pytest.mark.parametrize("slug", SLUGS)
def test_rule_fails_and_passes_exactly_the_named_entities(tf_records: list[Any], slug: str) -> None:
    failed = {intent(r.resource) for r in _select(tf_records, slug, slug, CheckResult.FAILED)}
    passed = _passed(tf_records, slug, slug)
    want_fail, want_pass = expected_names(slug, "fail_"), expected_names(slug, "pass_")
    assert want_fail and want_pass, f"{slug}: the fixture folder needs fail_ and pass_ cases"
    assert {n for n in failed if _INTENT.match(n)} == want_fail
    assert {n for n in passed if _INTENT.match(n)} == want_pass
    assert not failed & passed, f"{slug}: an entity both failed and passed"


@pytest.mark.parametrize("slug", SLUGS)
def test_failed_records_carry_severity_guideline_and_path(tf_records: list[Any], slug: str) -> None:
    records = _select(tf_records, slug, slug, CheckResult.FAILED)
    assert records
    for record in records:
        if slug == "hardcoded-access-key-id":
            temporary = re.match(r"fail_(asia|abia|acca)_", intent(record.resource))
            want = "HIGH" if temporary else "CRITICAL"
        else:
            want = rule(slug).severity
        assert record.severity is not None and record.severity.name == want, record.resource
        assert record.guideline == rule(slug).guideline and record.guideline.endswith(f"/docs/rules/{slug}.md")
        details = " ".join(record.details)
        assert re.search(DETAIL_PATHS[slug], details), f"{record.resource}: {details}"
        assert rule(slug).recommendation.title in details


def test_spot_checked_paths(tf_records: list[Any]) -> None:
    details: dict[tuple[str, str], str] = defaultdict(str)
    for record in tf_records:
        if record.check_result["result"] == CheckResult.FAILED:
            details[(rule(record.check_id).slug, record.resource)] += " ".join(record.details)
    for key, fragment in SPOT_PATHS.items():
        assert fragment in details[key], f"{key}: {details[key] or 'no failed record'}"


def test_documentation_example_is_named_as_such(tf_records: list[Any]) -> None:
    [record] = [r for r in _select(tf_records, "hardcoded-access-key-id", "hardcoded-access-key-id", CheckResult.FAILED)
                if r.resource.endswith("fail_documentation_example_in_tags")]
    assert "AWS's documentation example" in " ".join(record.details)
    assert "AKIA…MPLE" in " ".join(record.details)


@pytest.mark.parametrize("slug", SLUGS)
def test_no_other_rule_fires_on_pass_entities(tf_records: list[Any], slug: str) -> None:
    pass_names = expected_names(slug, "pass_")
    fired = {
        (intent(r.resource), rule(r.check_id).slug)
        for r in tf_records
        if _folder(r) == slug and r.check_result["result"] == CheckResult.FAILED and intent(r.resource) in pass_names
    }
    allowed = ALLOWED_ON_PASS.get(slug, set())
    assert {(name, other) for name, other in fired if other != slug and other not in allowed} == set()


@pytest.mark.parametrize("module_rule", ["hardcoded-access-key-id", "hardcoded-secret-access-key"])
def test_literals_passed_to_a_module_reach_its_resources(tf_records: list[Any], module_rule: str) -> None:
    failed = {r.resource for r in _select(tf_records, module_rule, module_rule, CheckResult.FAILED)}
    assert "fail_module_argument" in failed  # the module call itself
    assert any(r.startswith("module.fail_module_argument.") for r in failed)  # and the resource it creates
    assert not any(r.startswith("module.pass_module_argument.") for r in failed)
    assert "pass_module_argument" in _passed(tf_records, module_rule, module_rule)


def test_no_pass_record_for_an_entity_holding_key_material(tf_records: list[Any]) -> None:
    """An entity with a rule 3/4 finding is never reported PASSED by another keyless check (UNKNOWN instead)."""
    material = {rule("hardcoded-access-key-id").checkov_id, rule("hardcoded-secret-access-key").checkov_id}
    holders = {(r.file_path, r.resource) for r in tf_records
               if r.check_id in material and r.check_result["result"] == CheckResult.FAILED}
    assert len(holders) > 20
    passed = {(r.file_path, r.resource, r.check_id) for r in tf_records if r.check_result["result"] == CheckResult.PASSED}
    assert {p for p in passed if p[:2] in holders} == set()
    # e.g. an access key ID in an instance that has a profile: rule 6 says nothing rather than PASSED.
    rule6 = rule("ec2-instance-without-profile").checkov_id
    assert not [r for r in tf_records if r.check_id == rule6 and r.resource == "aws_instance.fail_heredoc_user_data"]


def test_provider_entities_are_named_by_alias(tf_records: list[Any]) -> None:
    providers = {r.resource for r in tf_records if _folder(r) == "provider-static-credentials"}
    assert "aws.fail_literal_keys" in providers and "aws.pass_sso_profile" in providers
    # rule 5 looks at the AWS provider only
    rule5 = rule("provider-static-credentials").checkov_id
    assert not [r for r in tf_records if r.check_id == rule5 and r.resource.startswith("azurerm.")]


def test_no_full_key_in_details(tf_records: list[Any]) -> None:
    # .tf and .tfvars, and the scripts and templates the code reads (terraform/files/)
    written = " ".join(p.read_text(errors="replace") for p in FIXTURES.rglob("*")
                       if p.suffix in {".tf", ".tfvars"} or (p.parent.name == "files" and p.is_file()))
    key_ids = set(re.findall(r"(?<![A-Za-z0-9])A(?:KIA|SIA|BIA|CCA)[A-Z0-9]{16}(?![A-Z0-9])", written))
    secrets = set(re.findall(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])", written))
    assert key_ids and secrets
    details = " ".join(d for r in tf_records for d in r.details)
    assert [k[:4] for k in key_ids if k in details] == []
    assert [s[:4] for s in secrets if s in details] == []
