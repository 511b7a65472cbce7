"""What keyless takes from checkov's internals (`keyless.engines.checkov_seam`), driven by a real checkov run.

A probe check records what the seam returns while checkov runs it: if a checkov release moves any of
it, these fail instead of keyless silently finding nothing.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from checkov.cloudformation.checks.resource.base_resource_check import BaseResourceCheck as CfnCheck
from checkov.cloudformation.checks.resource.registry import cfn_registry
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck as TfCheck
from checkov.terraform.checks.resource.registry import resource_registry

from keyless.engines import checkov_seam, run_checkov

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SEEN: list[dict[str, Any]] = []


class _TerraformProbe(TfCheck):
    def __init__(self) -> None:
        super().__init__(name="probe", id="CKV_SEAM_1", categories=[CheckCategories.IAM],
                         supported_resources=["aws_lambda_function", "aws_instance", "aws_iam_access_key"])

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        model = checkov_seam.terraform_model(self.graph)
        SEEN.append({"address": conf["__address__"], "location": checkov_seam.terraform_location(), "model": model})
        return CheckResult.PASSED


class _CloudFormationProbe(CfnCheck):
    def __init__(self) -> None:
        super().__init__(name="probe", id="CKV_SEAM_2", categories=[CheckCategories.IAM],
                         supported_resources=["AWS::IAM::AccessKey"])

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        SEEN.append({"template": checkov_seam.cloudformation_template()})
        return CheckResult.PASSED


@pytest.fixture()
def probes() -> Any:
    checks = [_TerraformProbe(), _CloudFormationProbe()]  # instantiating registers them
    SEEN.clear()
    yield
    for check, registry in zip(checks, (resource_registry, cfn_registry), strict=True):
        for entity in check.supported_entities:
            registry.checks[entity] = [c for c in registry.checks.get(entity, []) if c is not check]


def test_terraform_location_names_the_file_and_the_module_instance(probes: Any, tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "two-roots", tmp_path, dirs_exist_ok=True)
    run_checkov(str(tmp_path), frameworks=["terraform"], checks=["CKV_SEAM_1"])
    lambdas = [s for s in SEEN if s["address"] == "module.app.aws_lambda_function.app"]
    assert len(lambdas) == 2, "the module is called from two roots"
    locations = {s["location"] for s in lambdas}
    assert {loc.file for loc in locations} == {str(tmp_path / "modules/app/main.tf")}
    assert len({loc.module for loc in locations}) == 2 and all(loc.module for loc in locations)
    roots = {s["location"] for s in SEEN if s["address"] == "aws_instance.web"}
    assert {loc.file for loc in roots} == {str(tmp_path / "envs/dev/main.tf"), str(tmp_path / "envs/prod/main.tf")}
    assert {loc.module for loc in roots} == {""}


def test_the_model_copies_blocks_with_file_module_lines_and_references(probes: Any, tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "two-roots", tmp_path, dirs_exist_ok=True)
    run_checkov(str(tmp_path), frameworks=["terraform"], checks=["CKV_SEAM_1"])
    model = SEEN[0]["model"]
    assert model is not None and all(s["model"] is model for s in SEEN), "one model per graph"
    for seen in SEEN:
        location = seen["location"]
        block = model.find(location.file, location.module, seen["address"])
        assert block is not None, seen["address"]
        assert block.lines[0] >= 1 and block.lines[1] > block.lines[0]
    dev_key = model.find(str(tmp_path / "envs/dev/main.tf"), "", "aws_iam_access_key.deploy")
    assert {b.type for b in model.targets(dev_key, "user")} == {"aws_iam_user"}
    assert {b.address for b in model.in_scope(dev_key)} >= {"aws_iam_user_login_profile.deploy"}
    prod_key = model.find(str(tmp_path / "envs/prod/main.tf"), "", "aws_iam_access_key.deploy")
    assert "aws_iam_user_login_profile.deploy" not in {b.address for b in model.in_scope(prod_key)}


def test_cloudformation_template_gives_the_path_and_checkov_parse(probes: Any) -> None:
    folder = FIXTURES / "rules" / "iam-access-key" / "cloudformation"
    run_checkov(str(folder), frameworks=["cloudformation"], checks=["CKV_SEAM_2"])
    templates = {path: definition for seen in SEEN for path, definition in [seen["template"]]}
    assert set(templates) == {str(p) for p in folder.iterdir()}
    assert all(isinstance(d, dict) and "Resources" in d for d in templates.values())


def test_outside_checkov_the_seam_says_so() -> None:
    assert checkov_seam.terraform_location() is None
    assert checkov_seam.cloudformation_template() == (None, None)
    assert checkov_seam.terraform_model(None) is None


def test_loops_are_expanded_in_checkov_s_templates_while_it_loads_the_checks(tmp_path: Path) -> None:
    """checkov alone has no entity for an `Fn::ForEach` loop's resources; with keyless loaded, every check
    (a built-in one here) sees each resource the loop declares, on the lines of the loop's body."""
    fixture = FIXTURES / "rules" / "credentials-in-compute" / "cloudformation" / "credentials-in-compute-foreach.yaml"
    shutil.copy(fixture, tmp_path / fixture.name)
    lines = fixture.read_text().splitlines()
    body = next(i for i, line in enumerate(lines, 1) if line.strip().startswith("- Fail${FunctionName}Function:"))
    reports = run_checkov(str(tmp_path), frameworks=["cloudformation"], checks=["CKV_AWS_115"])  # Lambda concurrency
    records = [r for report in reports for r in (*report.failed_checks, *report.passed_checks)]
    assert {r.resource for r in records} == {"AWS::Lambda::Function.FailAlphaFunction",
                                            "AWS::Lambda::Function.FailBetaFunction",
                                            "AWS::Lambda::Function.PassbillingFunction",
                                            "AWS::Lambda::Function.PassreportsFunction"}
    alpha = next(r for r in records if r.resource.endswith("FailAlphaFunction"))
    assert alpha.file_line_range[0] == body
