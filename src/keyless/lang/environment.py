"""Where compute services take environment variables, in each format: the tables rule 8 reads.

Each function yields (path, name, value) for every variable a compute resource defines: environment
variables, and the settings that play their part (Glue job arguments, EMR configuration properties,
Beanstalk option settings). A value the service fetches from a store at run time (`PARAMETER_STORE`,
`SECRETS_MANAGER` types) is skipped. The list of compute is documented in
docs/rules/credentials-in-compute.md ("What it flags"); keep the two in step.

The CloudFormation half runs in cfn-lint, which the editor starts once per template: the Terraform
helpers are imported inside `terraform_environment`, so CloudFormation never loads them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from keyless.detect.walk import Path
from keyless.lang.cloudformation import Template

if TYPE_CHECKING:
    from keyless.lang.terraform import Block, TerraformModel

_STORE_TYPES = ("PARAMETER_STORE", "SECRETS_MANAGER")
BEANSTALK_ENVIRONMENT_NAMESPACE = "aws:elasticbeanstalk:application:environment"

# --- Terraform -----------------------------------------------------------------------------------

TERRAFORM_INSTANCE_TYPES = ("aws_instance", "aws_spot_instance_request")
TERRAFORM_LAUNCH_TYPES = ("aws_launch_template", "aws_launch_configuration")
TERRAFORM_USER_DATA_TYPES = (*TERRAFORM_INSTANCE_TYPES, *TERRAFORM_LAUNCH_TYPES)
# What else hands a machine a script (read in keyless.lang.terraform_scripts): Lightsail user data,
# provisioners, and the data sources that render user data.
LIGHTSAIL_TYPES = ("aws_lightsail_instance",)
PROVISIONER_TYPES = ("null_resource", "terraform_data")
RENDERING_DATA_TYPES = ("template_file", "cloudinit_config")
TERRAFORM_ENVIRONMENT_TYPES = (
    "aws_lambda_function",
    "aws_ecs_task_definition",
    "aws_batch_job_definition",
    "aws_codebuild_project",
    "aws_elastic_beanstalk_environment",
    "aws_elastic_beanstalk_configuration_template",
    "aws_apprunner_service",
    "aws_glue_job",
    "aws_sagemaker_model",
    "aws_emr_cluster",
    "aws_emr_instance_group",
)


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _name_value_list(items: Any, path: Path, name_key: str = "name", value_key: str = "value",
                     type_key: str = "type") -> Iterator[tuple[Path, str, Any]]:
    if isinstance(items, Mapping):
        items = [items]
    if not isinstance(items, list):
        return
    for i, item in enumerate(items):
        if isinstance(item, Mapping) and isinstance(item.get(name_key), str):
            if str(item.get(type_key, "")).upper() in _STORE_TYPES:
                continue
            yield (*path, i, value_key), item[name_key], item.get(value_key)


def _map(items: Any, path: Path) -> Iterator[tuple[Path, str, Any]]:
    if isinstance(items, Mapping):
        for name, value in items.items():
            if isinstance(name, str):
                yield (*path, name), name, value


def _emr_configurations(items: Any, path: Path, properties_key: str = "Properties",
                        depth: int = 0) -> Iterator[tuple[Path, str, Any]]:
    """The properties of EMR configurations, nested ones included (`hadoop-env` > `export`)."""
    if isinstance(items, Mapping):
        items = [items]
    if not isinstance(items, list) or depth > 8:
        return
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            continue
        yield from _map(item.get(properties_key), (*path, i, properties_key))
        yield from _emr_configurations(item.get("Configurations"), (*path, i, "Configurations"), properties_key,
                                       depth + 1)


def terraform_environment(block: Block, model: TerraformModel | None = None) -> Iterator[tuple[Path, str, Any]]:
    """(path within the block, name, value) of every environment variable a compute resource defines.

    With the model, `dynamic "setting"` blocks of Beanstalk are expanded from a `for_each` that names a
    local or a variable (see keyless.lang.dynamic_blocks)."""
    from keyless.lang.dynamic_blocks import instances
    from keyless.lang.terraform import nested_blocks

    c = block.config
    if block.type == "aws_lambda_function":
        for env in nested_blocks(c, "environment"):
            yield from _map(env.get("variables"), ("environment", "variables"))
    elif block.type == "aws_ecs_task_definition":
        containers = _json(c.get("container_definitions"))
        if isinstance(containers, Mapping):
            containers = [containers]
        for i, container in enumerate(containers if isinstance(containers, list) else []):
            if isinstance(container, Mapping):
                yield from _name_value_list(container.get("environment"), ("container_definitions", i, "environment"))
    elif block.type == "aws_batch_job_definition":
        props = _json(c.get("container_properties"))
        if isinstance(props, Mapping):
            yield from _name_value_list(props.get("environment"), ("container_properties", "environment"))
    elif block.type == "aws_codebuild_project":
        for env in nested_blocks(c, "environment"):
            yield from _name_value_list(env.get("environment_variable"), ("environment", "environment_variable"))
    elif block.type.startswith("aws_elastic_beanstalk_"):
        static: set[tuple[str, str]] = set()
        for i, setting in enumerate(nested_blocks(c, "setting")):
            if setting.get("namespace") == BEANSTALK_ENVIRONMENT_NAMESPACE:
                static.add((str(setting.get("name", "")), str(setting.get("value"))))
                yield ("setting", i, "value"), str(setting.get("name", "")), setting.get("value")
        for i, setting in enumerate(instances(block, model, "setting")):  # `dynamic "setting"`, by its content
            pair = (str(setting.get("name", "")), str(setting.get("value")))
            if setting.get("namespace") == BEANSTALK_ENVIRONMENT_NAMESPACE and pair not in static:
                yield ("dynamic", "setting", i, "value"), pair[0], setting.get("value")
    elif block.type == "aws_apprunner_service":
        for source in nested_blocks(c, "source_configuration"):
            for repo in nested_blocks(source, "image_repository"):
                for image in nested_blocks(repo, "image_configuration"):
                    yield from _map(image.get("runtime_environment_variables"),
                                    ("source_configuration", "image_repository", "image_configuration",
                                     "runtime_environment_variables"))
            for repo in nested_blocks(source, "code_repository"):
                for code in nested_blocks(repo, "code_configuration"):
                    for values in nested_blocks(code, "code_configuration_values"):
                        yield from _map(values.get("runtime_environment_variables"),
                                        ("source_configuration", "code_repository", "code_configuration",
                                         "code_configuration_values", "runtime_environment_variables"))
    elif block.type == "aws_glue_job":
        for attr in ("default_arguments", "non_overridable_arguments"):
            yield from _map(c.get(attr), (attr,))
    elif block.type == "aws_sagemaker_model":
        for attr in ("primary_container", "container"):
            for i, container in enumerate(nested_blocks(c, attr)):
                yield from _map(container.get("environment"), (attr, i, "environment"))
    elif block.type.startswith("aws_emr_"):
        for attr in ("configurations_json", "configurations"):
            yield from _emr_configurations(_json(c.get(attr)), (attr,))


# --- CloudFormation ------------------------------------------------------------------------------

CLOUDFORMATION_INSTANCE_TYPES = ("AWS::EC2::Instance",)
CLOUDFORMATION_LAUNCH_TYPES = ("AWS::EC2::LaunchTemplate", "AWS::AutoScaling::LaunchConfiguration")
CLOUDFORMATION_FUNCTION_TYPES = ("AWS::Lambda::Function", "AWS::Serverless::Function")
CLOUDFORMATION_ENVIRONMENT_TYPES = (
    *CLOUDFORMATION_FUNCTION_TYPES,
    "AWS::ECS::TaskDefinition",
    "AWS::Batch::JobDefinition",
    "AWS::CodeBuild::Project",
    "AWS::ElasticBeanstalk::Environment",
    "AWS::ElasticBeanstalk::ConfigurationTemplate",
    "AWS::AppRunner::Service",
    "AWS::Glue::Job",
    "AWS::SageMaker::Model",
    "AWS::EMR::Cluster",
    "AWS::EMR::InstanceGroupConfig",
)


def cloudformation_environment(name: str, tpl: Template) -> Iterator[tuple[Path, str, Any]]:
    """(path from the template root, name, value) of every environment variable a resource defines."""
    kind = tpl.type_of(name)
    props = tpl.properties(name)
    base: Path = ("Resources", name, "Properties")

    def get(*keys: str | int) -> Any:
        value: Any = props
        for key in keys:
            if isinstance(key, int):
                value = value[key] if isinstance(value, list) and len(value) > key else None
            else:
                value = value.get(key) if isinstance(value, Mapping) else None
        return value

    def name_values(items: Any, path: Path) -> Iterator[tuple[Path, str, Any]]:
        if isinstance(items, list):
            yield from _name_value_list(items, path, "Name", "Value", "Type")

    if kind in CLOUDFORMATION_FUNCTION_TYPES:
        variables = get("Environment", "Variables")
        if isinstance(variables, Mapping):
            for var, value in variables.items():
                yield (*base, "Environment", "Variables", var), str(var), value
    elif kind == "AWS::ECS::TaskDefinition":
        containers = get("ContainerDefinitions")
        for i in range(len(containers) if isinstance(containers, list) else 0):
            yield from name_values(get("ContainerDefinitions", i, "Environment"),
                                   (*base, "ContainerDefinitions", i, "Environment"))
    elif kind == "AWS::Batch::JobDefinition":
        yield from name_values(get("ContainerProperties", "Environment"), (*base, "ContainerProperties", "Environment"))
    elif kind == "AWS::CodeBuild::Project":
        yield from name_values(get("Environment", "EnvironmentVariables"), (*base, "Environment", "EnvironmentVariables"))
    elif kind.startswith("AWS::ElasticBeanstalk::"):
        settings = get("OptionSettings")
        for i, item in enumerate(settings if isinstance(settings, list) else []):
            if isinstance(item, Mapping) and item.get("Namespace") == BEANSTALK_ENVIRONMENT_NAMESPACE:
                yield (*base, "OptionSettings", i, "Value"), str(item.get("OptionName", "")), item.get("Value")
    elif kind == "AWS::AppRunner::Service":
        for sub in (("ImageRepository", "ImageConfiguration"),
                    ("CodeRepository", "CodeConfiguration", "CodeConfigurationValues")):
            yield from name_values(get("SourceConfiguration", *sub, "RuntimeEnvironmentVariables"),
                                   (*base, "SourceConfiguration", *sub, "RuntimeEnvironmentVariables"))
    elif kind == "AWS::Glue::Job":
        for attr in ("DefaultArguments", "NonOverridableArguments"):
            yield from _map(get(attr), (*base, attr))
    elif kind == "AWS::SageMaker::Model":
        yield from _map(get("PrimaryContainer", "Environment"), (*base, "PrimaryContainer", "Environment"))
        containers = get("Containers")
        for i in range(len(containers) if isinstance(containers, list) else 0):
            yield from _map(get("Containers", i, "Environment"), (*base, "Containers", i, "Environment"))
    elif kind.startswith("AWS::EMR::"):
        yield from _emr_configurations(get("Configurations"), (*base, "Configurations"), "ConfigurationProperties")


def cloudformation_user_data(name: str, tpl: Template) -> tuple[Path, Any] | None:
    """Where a resource's UserData is written, and its value."""
    props = tpl.properties(name)
    base: Path = ("Resources", name, "Properties")
    if tpl.type_of(name) == "AWS::EC2::LaunchTemplate":
        data = props.get("LaunchTemplateData")
        if isinstance(data, Mapping) and "UserData" in data:
            return (*base, "LaunchTemplateData", "UserData"), data["UserData"]
    elif "UserData" in props:
        return (*base, "UserData"), props["UserData"]
    return None
