"""Generate a seeded, realistic infrastructure monorepo with planted findings and an oracle.

    python bench/generate.py OUT [--seed 7] [--scale 1.0]

At scale 1.0: about 2,000 .tf files in 200 modules and 700 CloudFormation templates (YAML and
JSON, SAM among them). Planted mistakes and clean look-alikes are drawn from the catalogues
below; `OUT/oracle.json` lists every (checkov ID, file, resource) keyless must report, and
nothing else may be reported.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import string
from collections.abc import Callable
from pathlib import Path

B32 = string.ascii_uppercase + "234567"
B64 = string.ascii_letters + string.digits + "/+"


class Rng(random.Random):
    def key_id(self, prefix: str = "AKIA") -> str:
        return prefix + "".join(self.choice(B32) for _ in range(16))

    def secret(self) -> str:
        while True:
            value = "".join(self.choice(B64) for _ in range(40))
            if any(c.islower() for c in value) and any(c.isupper() for c in value):
                return value

    def sha(self) -> str:
        return "".join(self.choice("0123456789abcdef") for _ in range(40))

    def hash64(self) -> str:
        return base64.b64encode(bytes(self.getrandbits(8) for _ in range(32))).decode()

    def word(self) -> str:
        return self.choice(["orders", "billing", "search", "ingest", "reports", "auth", "media", "audit", "events"])


# --- Terraform -----------------------------------------------------------------------------------
# Each planter returns (hcl, [(checkov_id, address)]) for one resource group in module file context.

TfPlanter = Callable[[Rng, str], tuple[str, list[tuple[str, str]]] | tuple[str, list[tuple[str, str]], dict[str, str]]]


def tf_access_key(r: Rng, n: str) -> tuple[str, list[tuple[str, str]]]:
    return (f'resource "aws_iam_user" "svc_{n}" {{\n  name = "svc-{n}"\n}}\n\n'
            f'resource "aws_iam_access_key" "svc_{n}" {{\n  user = aws_iam_user.svc_{n}.name\n}}\n',
            [("CKV_KEYLESS_1", f"aws_iam_access_key.svc_{n}")])


def tf_human_key(r: Rng, n: str) -> tuple[str, list[tuple[str, str]]]:
    return (f'resource "aws_iam_user" "person_{n}" {{\n  name = "person-{n}"\n}}\n\n'
            f'resource "aws_iam_user_login_profile" "person_{n}" {{\n  user = aws_iam_user.person_{n}.name\n}}\n\n'
            f'resource "aws_iam_access_key" "person_{n}" {{\n  user = aws_iam_user.person_{n}.name\n}}\n',
            [("CKV_KEYLESS_1", f"aws_iam_access_key.person_{n}"), ("CKV_KEYLESS_2", f"aws_iam_access_key.person_{n}")])


def tf_key_id_tag(r: Rng, n: str) -> tuple[str, list[tuple[str, str]]]:
    return (f'resource "aws_s3_bucket" "legacy_{n}" {{\n  bucket = "legacy-{n}"\n  tags = {{\n'
            f'    uploader = "{r.key_id()}"\n  }}\n}}\n', [("CKV_KEYLESS_3", f"aws_s3_bucket.legacy_{n}")])


def tf_secret_in_ssm(r: Rng, n: str) -> tuple[str, list[tuple[str, str]]]:
    return (f'resource "aws_ssm_parameter" "partner_{n}" {{\n  name  = "/partner/{n}"\n  type  = "SecureString"\n'
            f'  value = jsonencode({{ aws_secret_access_key = "{r.secret()}" }})\n}}\n',
            [("CKV_KEYLESS_4", f"aws_ssm_parameter.partner_{n}")])


def tf_instance_no_profile(r: Rng, n: str) -> tuple[str, list[tuple[str, str]]]:
    return (f'resource "aws_instance" "worker_{n}" {{\n  ami           = "ami-0abcdef1234567890"\n'
            f'  instance_type = "t3.micro"\n}}\n', [("CKV_KEYLESS_6", f"aws_instance.worker_{n}")])


def tf_template_no_profile(r: Rng, n: str) -> tuple[str, list[tuple[str, str]]]:
    return (f'resource "aws_launch_template" "batch_{n}" {{\n  name_prefix = "batch-{n}"\n'
            f'  image_id    = "ami-0abcdef1234567890"\n}}\n', [("CKV_KEYLESS_7", f"aws_launch_template.batch_{n}")])


def tf_lambda_env(r: Rng, n: str) -> tuple[str, list[tuple[str, str]]]:
    return (f'resource "aws_lambda_function" "export_{n}" {{\n  function_name = "export-{n}"\n'
            f'  role          = "arn:aws:iam::123456789012:role/export"\n  handler       = "app.handler"\n'
            f'  runtime       = "python3.12"\n  filename      = "export.zip"\n  environment {{\n    variables = {{\n'
            f'      PARTNER_SECRET_KEY = var.partner_secret_{n}\n    }}\n  }}\n}}\n\n'
            f'variable "partner_secret_{n}" {{\n  default = "{r.secret()}"\n}}\n',
            [("CKV_KEYLESS_8", f"aws_lambda_function.export_{n}"), ("CKV_KEYLESS_4", f"aws_lambda_function.export_{n}")])


def tf_user_data(r: Rng, n: str) -> tuple[str, list[tuple[str, str]]]:
    return (f'resource "aws_instance" "legacy_{n}" {{\n  ami                  = "ami-0abcdef1234567890"\n'
            f'  iam_instance_profile = "legacy"\n  user_data            = <<-EOT\n    #!/bin/bash\n'
            f'    aws configure set aws_access_key_id ${{var.legacy_key_{n}}}\n  EOT\n}}\n\n'
            f'variable "legacy_key_{n}" {{\n  default = "{r.key_id()}"\n}}\n',
            [("CKV_KEYLESS_8", f"aws_instance.legacy_{n}"), ("CKV_KEYLESS_3", f"aws_instance.legacy_{n}")])


def tf_output_secret(r: Rng, n: str) -> tuple[str, list[tuple[str, str]]]:
    return (f'resource "aws_iam_user" "ci_{n}" {{\n  name = "ci-{n}"\n}}\n\n'
            f'resource "aws_iam_access_key" "ci_{n}" {{\n  user = aws_iam_user.ci_{n}.name\n}}\n\n'
            f'output "ci_secret_{n}" {{\n  value     = aws_iam_access_key.ci_{n}.secret\n  sensitive = true\n}}\n',
            [("CKV_KEYLESS_1", f"aws_iam_access_key.ci_{n}"), ("CKV_KEYLESS_9", f"aws_iam_access_key.ci_{n}")])


TF_PLANTERS: dict[str, TfPlanter] = {
    "access-key": tf_access_key, "human-key": tf_human_key, "key-id-tag": tf_key_id_tag,
    "secret-in-ssm": tf_secret_in_ssm, "instance-no-profile": tf_instance_no_profile,
    "template-no-profile": tf_template_no_profile, "lambda-env": tf_lambda_env, "user-data": tf_user_data,
    "output-secret": tf_output_secret,
}


# Resolved forms (issue 12): what the rules must read through, planted beside the simple forms.
def tf_roleless_profile(r: Rng, n: str) -> tuple[str, list[tuple[str, str]]]:
    return (f'resource "aws_iam_instance_profile" "bare_{n}" {{\n  name = "bare-{n}"\n}}\n\n'
            f'resource "aws_instance" "bare_{n}" {{\n  ami                  = "ami-0abcdef1234567890"\n'
            f'  instance_type        = "t3.micro"\n  iam_instance_profile = aws_iam_instance_profile.bare_{n}.name\n}}\n',
            [("CKV_KEYLESS_6", f"aws_instance.bare_{n}")])


def tf_spot_fleet(r: Rng, n: str) -> tuple[str, list[tuple[str, str]]]:
    return (f'resource "aws_spot_fleet_request" "crunch_{n}" {{\n'
            f'  iam_fleet_role  = "arn:aws:iam::123456789012:role/spot-fleet"\n  target_capacity = 2\n'
            f'  launch_specification {{\n    ami           = "ami-0abcdef1234567890"\n'
            f'    instance_type = "m5.large"\n  }}\n}}\n', [("CKV_KEYLESS_6", f"aws_spot_fleet_request.crunch_{n}")])


def tf_for_expression_secret(r: Rng, n: str) -> tuple[str, list[tuple[str, str]]]:
    """Robot keys beside people with console access, all written `user = each.value.name`: rule 2 must
    not match them; their secrets leave through a `for` expression: rule 9."""
    return (f'resource "aws_iam_user" "robot_{n}" {{\n  for_each = toset(["build-{n}", "deploy-{n}"])\n'
            f'  name     = each.key\n}}\n\n'
            f'resource "aws_iam_user" "staff_{n}" {{\n  for_each = toset(["ann-{n}", "bob-{n}"])\n  name     = each.key\n}}\n\n'
            f'resource "aws_iam_user_login_profile" "staff_{n}" {{\n  for_each = aws_iam_user.staff_{n}\n'
            f'  user     = each.value.name\n}}\n\n'
            f'resource "aws_iam_access_key" "robot_{n}" {{\n  for_each = aws_iam_user.robot_{n}\n'
            f'  user     = each.value.name\n}}\n\n'
            f'output "robot_secrets_{n}" {{\n'
            f'  value     = {{ for k, v in aws_iam_access_key.robot_{n} : k => v.secret }}\n  sensitive = true\n}}\n',
            [("CKV_KEYLESS_1", f"aws_iam_access_key.robot_{n}"), ("CKV_KEYLESS_9", f"aws_iam_access_key.robot_{n}")])


TF_PLANTERS.update({
    "roleless-profile": tf_roleless_profile, "spot-fleet": tf_spot_fleet,
    "for-expression-secret": tf_for_expression_secret,
})


def tf_templatefile_user_data(r: Rng, n: str) -> tuple[str, list[tuple[str, str]], dict[str, str]]:
    """User data read from a template next to the module: the key is in the referenced file."""
    script = (f"#!/bin/bash\nyum install -y awscli\naws configure set region ${{region}}\n"
              f"aws configure set aws_access_key_id {r.key_id()}\n"
              f"aws configure set aws_secret_access_key {r.secret()}\n")
    return (f'resource "aws_instance" "boot_{n}" {{\n  ami                  = "ami-0abcdef1234567890"\n'
            f'  iam_instance_profile = "boot"\n'
            f'  user_data            = templatefile("${{path.module}}/templates/boot-{n}.sh.tpl",\n'
            f'    {{ region = var.region }})\n}}\n',
            [("CKV_KEYLESS_8", f"aws_instance.boot_{n}"), ("CKV_KEYLESS_3", f"aws_instance.boot_{n}"),
             ("CKV_KEYLESS_4", f"aws_instance.boot_{n}")],
            {f"templates/boot-{n}.sh.tpl": script})


def tf_base64_heredoc(r: Rng, n: str) -> tuple[str, list[tuple[str, str]]]:
    return (f'resource "aws_launch_template" "agent_{n}" {{\n  name_prefix = "agent-{n}"\n'
            f'  iam_instance_profile {{\n    name = "agent"\n  }}\n'
            f'  user_data = base64encode(<<-EOF\n    #!/bin/bash\n'
            f'    echo "starting" > /var/log/boot.log && export AWS_ACCESS_KEY_ID={r.key_id()}\n'
            f'    export AWS_SECRET_ACCESS_KEY={r.secret()}\n  EOF\n  )\n}}\n',
            [("CKV_KEYLESS_8", f"aws_launch_template.agent_{n}"), ("CKV_KEYLESS_3", f"aws_launch_template.agent_{n}"),
             ("CKV_KEYLESS_4", f"aws_launch_template.agent_{n}")])


def tf_remote_exec(r: Rng, n: str) -> tuple[str, list[tuple[str, str]]]:
    return (f'resource "null_resource" "configure_{n}" {{\n  provisioner "remote-exec" {{\n    inline = [\n'
            f'      "aws configure set aws_secret_access_key {r.secret()}",\n    ]\n  }}\n}}\n',
            [("CKV_KEYLESS_8", f"null_resource.configure_{n}"), ("CKV_KEYLESS_4", f"null_resource.configure_{n}")])


TF_PLANTERS.update({
    "templatefile-user-data": tf_templatefile_user_data, "base64-heredoc": tf_base64_heredoc,
    "remote-exec": tf_remote_exec,
})

def tf_clean(r: Rng, n: str, kind: int) -> str:
    """Look-alikes and good patterns: none of them may be flagged."""
    if kind == 0:
        return (f'resource "aws_s3_bucket" "artifacts_{n}" {{\n  bucket = "artifacts-{n}"\n  tags = {{\n'
                f'    git_commit = "{r.sha()}"\n    owner_role = "AROA{r.key_id("")}"\n'
                f'    description = "{"".join(r.choice(string.ascii_letters) for _ in range(40))}"\n  }}\n}}\n')
    if kind == 1:
        return (f'resource "aws_lambda_function" "api_{n}" {{\n  function_name    = "api-{n}"\n'
                f'  role             = "arn:aws:iam::123456789012:role/api"\n  handler          = "app.handler"\n'
                f'  runtime          = "python3.12"\n  filename         = "api.zip"\n'
                f'  source_code_hash = "{r.hash64()}"\n  environment {{\n    variables = {{\n'
                f'      DB_SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-{n}"\n'
                f'      SECRET_KEY    = data.aws_secretsmanager_secret_version.api_{n}.secret_string\n'
                f'      GIT_SHA       = "{r.sha()}"\n    }}\n  }}\n}}\n\n'
                f'data "aws_secretsmanager_secret_version" "api_{n}" {{\n  secret_id = "api-{n}"\n}}\n')
    if kind == 2:
        return (f'resource "aws_launch_template" "web_{n}" {{\n  name_prefix = "web-{n}"\n'
                f'  iam_instance_profile {{\n    name = aws_iam_instance_profile.web_{n}.name\n  }}\n}}\n\n'
                f'resource "aws_iam_instance_profile" "web_{n}" {{\n  name = "web-{n}"\n  role = "web"\n}}\n\n'
                f'resource "aws_instance" "web_{n}" {{\n  launch_template {{\n'
                f'    id      = aws_launch_template.web_{n}.id\n    version = "$Latest"\n  }}\n}}\n')
    if kind == 3:
        return (f'resource "aws_ecs_task_definition" "svc_{n}" {{\n  family = "svc-{n}"\n'
                f'  container_definitions = jsonencode([{{\n    name  = "app"\n    image = "app:1"\n'
                f'    secrets = [{{ name = "AWS_SECRET_ACCESS_KEY", valueFrom = "arn:aws:ssm:eu-west-1:1:parameter/k" }}]\n'
                f'    environment = [{{ name = "REGION", value = "eu-west-1" }}]\n  }}])\n}}\n')
    return (f'locals {{\n  name_{n} = "{r.word()}-{n}"\n  build_{n} = "{r.sha()}"\n}}\n\n'
            f'resource "aws_sqs_queue" "q_{n}" {{\n  name = local.name_{n}\n'
            f'  tags = {{ build = local.build_{n} }}\n}}\n')


def generate_terraform(root: Path, r: Rng, modules: int, oracle: list[dict[str, str]]) -> int:
    files = 0
    names = list(TF_PLANTERS)
    for m in range(modules):
        folder = root / "terraform" / f"svc-{m:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        files_text: dict[str, list[str]] = {
            "versions.tf": ['terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n  }\n}\n'],
            "providers.tf": ['provider "aws" {\n  region = var.region\n}\n'],
            "variables.tf": ['variable "region" {\n  default = "eu-west-1"\n}\n'],
        }
        for f in ("main.tf", "compute.tf", "lambda.tf", "ecs.tf", "iam.tf", "network.tf", "outputs.tf"):
            files_text[f] = []
        for i in range(8):
            target = r.choice(["main.tf", "compute.tf", "lambda.tf", "ecs.tf", "network.tf"])
            files_text[target].append(tf_clean(r, f"{m}_{i}", r.randrange(5)))
        if r.random() < 0.5:
            planter = names[(m // 2) % len(names)]
            hcl, expected, *extra = TF_PLANTERS[planter](r, f"p{m}")
            for rel, text in (extra[0] if extra else {}).items():  # files the code reads (templatefile)
                (folder / rel).parent.mkdir(parents=True, exist_ok=True)
                (folder / rel).write_text(text)
            target = "iam.tf"
            files_text[target].append(hcl)
            for check_id, address in expected:
                oracle.append({"check": check_id, "file": f"terraform/svc-{m:03d}", "resource": address})
        for name, parts in files_text.items():
            (folder / name).write_text("\n".join(parts) or "# nothing here yet\n")
            files += 1
        (folder / "terraform.tfvars").write_text('region = "eu-west-1"\n')
    return files


# --- CloudFormation ------------------------------------------------------------------------------


def cfn_resources(r: Rng, n: int, planted: str | None) -> tuple[dict[str, object], list[tuple[str, str]], bool]:
    """Resources of one template, what keyless must report, and whether it is a SAM template."""
    res: dict[str, object] = {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": f"q-{n}",
                  "Tags": [{"Key": "build", "Value": r.sha()}, {"Key": "role", "Value": "AROA" + r.key_id("")}]}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                    "Action": "sts:AssumeRole"}]}}},
        "Profile": {"Type": "AWS::IAM::InstanceProfile", "Properties": {"Roles": [{"Ref": "Role"}]}},
        "Web": {"Type": "AWS::EC2::Instance", "Properties": {"ImageId": "ami-0abcdef1234567890",
                                                              "IamInstanceProfile": {"Ref": "Profile"}}},
    }
    expected: list[tuple[str, str]] = []
    sam = False
    if planted == "access-key":
        res["User"] = {"Type": "AWS::IAM::User", "Properties": {}}
        res["Key"] = {"Type": "AWS::IAM::AccessKey", "Properties": {"UserName": {"Ref": "User"}}}
        expected = [("CKV_KEYLESS_1", "Key")]
    elif planted == "human-key":
        res["User"] = {"Type": "AWS::IAM::User", "Properties": {"LoginProfile": {
            "Password": "{{resolve:secretsmanager:initial}}", "PasswordResetRequired": True}}}
        res["Key"] = {"Type": "AWS::IAM::AccessKey", "Properties": {"UserName": {"Ref": "User"}}}
        expected = [("CKV_KEYLESS_1", "Key"), ("CKV_KEYLESS_2", "Key")]
    elif planted == "instance-no-profile":
        res["Worker"] = {"Type": "AWS::EC2::Instance", "Properties": {"ImageId": "ami-0abcdef1234567890"}}
        expected = [("CKV_KEYLESS_6", "Worker")]
    elif planted == "template-no-profile":
        res["Batch"] = {"Type": "AWS::EC2::LaunchTemplate", "Properties": {"LaunchTemplateData": {
            "ImageId": "ami-0abcdef1234567890"}}}
        expected = [("CKV_KEYLESS_7", "Batch")]
    elif planted == "lambda-env":
        sam = True
        res["Export"] = {"Type": "AWS::Serverless::Function", "Properties": {
            "Handler": "app.handler", "Runtime": "python3.12", "CodeUri": "s3://b/k.zip",
            "Environment": {"Variables": {"PARTNER_ACCESS_KEY": r.key_id()}}}}
        expected = [("CKV_KEYLESS_3", "Export"), ("CKV_KEYLESS_8", "Export")]
    elif planted == "secret-in-tags":
        res["Legacy"] = {"Type": "AWS::S3::Bucket", "Properties": {"Tags": [
            {"Key": "aws_secret_access_key", "Value": r.secret()}]}}
        expected = [("CKV_KEYLESS_4", "Legacy")]
    elif planted == "output-secret":
        res["User"] = {"Type": "AWS::IAM::User", "Properties": {}}
        res["Key"] = {"Type": "AWS::IAM::AccessKey", "Properties": {"UserName": {"Ref": "User"}}}
        expected = [("CKV_KEYLESS_1", "Key"), ("CKV_KEYLESS_9", "Key")]
    elif planted == "cfn-init-credentials":
        res["User"] = {"Type": "AWS::IAM::User", "Properties": {}}
        res["Key"] = {"Type": "AWS::IAM::AccessKey", "Properties": {"UserName": {"Ref": "User"}}}
        res["Legacy"] = {"Type": "AWS::EC2::Instance", "Metadata": {"AWS::CloudFormation::Init": {"config": {
            "files": {"/root/.aws/credentials": {"mode": "000600", "content": {"Fn::Join": ["", [
                "[default]\naws_access_key_id = ", {"Ref": "Key"}, "\naws_secret_access_key = ",
                {"Fn::GetAtt": ["Key", "SecretAccessKey"]}, "\n"]]}}}}}},
            "Properties": {"ImageId": "ami-0abcdef1234567890", "IamInstanceProfile": {"Ref": "Profile"}}}
        expected = [("CKV_KEYLESS_1", "Key"), ("CKV_KEYLESS_8", "Legacy")]
    elif planted == "buildspec-env":
        res["Build"] = {"Type": "AWS::CodeBuild::Project", "Properties": {
            "ServiceRole": "arn:aws:iam::123456789012:role/build", "Artifacts": {"Type": "NO_ARTIFACTS"},
            "Environment": {"Type": "LINUX_CONTAINER", "ComputeType": "BUILD_GENERAL1_SMALL",
                            "Image": "aws/codebuild/standard:7.0"},
            "Source": {"Type": "NO_SOURCE", "BuildSpec": (
                "version: 0.2\nenv:\n  variables:\n"
                f"    AWS_SECRET_ACCESS_KEY: {r.secret()}\n"
                "phases:\n  build:\n    commands:\n      - make deploy\n")}}}
        expected = [("CKV_KEYLESS_8", "Build"), ("CKV_KEYLESS_4", "Build")]
    elif r.random() < 0.3:
        sam = True
        res["Api"] = {"Type": "AWS::Serverless::Function", "Properties": {
            "Handler": "app.handler", "Runtime": "python3.12", "CodeUri": "s3://b/api.zip",
            "Environment": {"Variables": {"SECRET_KEY": "{{resolve:secretsmanager:api:SecretString:key}}",
                                          "GIT_SHA": r.sha()}}}}
    return res, expected, sam


CFN_PLANTS = ["access-key", "human-key", "instance-no-profile", "template-no-profile", "lambda-env",
              "secret-in-tags", "output-secret", "cfn-init-credentials", "buildspec-env"]


def generate_cloudformation(root: Path, r: Rng, count: int, oracle: list[dict[str, str]]) -> int:
    folder = root / "cloudformation"
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        planted = CFN_PLANTS[(n // 3) % len(CFN_PLANTS)] if n % 3 == 0 else None
        resources, expected, sam = cfn_resources(r, n, planted)
        template: dict[str, object] = {"AWSTemplateFormatVersion": "2010-09-09", "Description": f"stack {n}"}
        if sam:
            template["Transform"] = "AWS::Serverless-2016-10-31"
        template["Resources"] = resources
        if planted == "output-secret":
            template["Outputs"] = {"Secret": {"Value": {"Fn::GetAtt": ["Key", "SecretAccessKey"]}}}
        name = f"stack-{n:04d}.json" if n % 4 == 1 else f"stack-{n:04d}.yaml"
        text = json.dumps(template, indent=2) if name.endswith(".json") else _yaml(template)
        (folder / name).write_text(text)
        for check_id, logical_id in expected:
            oracle.append({"check": check_id, "file": f"cloudformation/{name}", "resource": logical_id})
    return count


def _yaml(value: object, indent: int = 0) -> str:
    """A small YAML writer (block style) so the generator needs nothing beyond the standard library."""
    pad = "  " * indent
    if isinstance(value, dict):
        lines = []
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v:
                lines.append(f"{pad}{k}:\n{_yaml(v, indent + 1)}")
            else:
                lines.append(f"{pad}{k}: {_scalar(v)}")
        return "\n".join(lines) + ("\n" if indent == 0 else "")
    if isinstance(value, list):
        lines = []
        for v in value:
            if isinstance(v, dict) and v:
                inner = _yaml(v, indent + 1).lstrip()
                lines.append(f"{pad}- {inner}")
            else:
                lines.append(f"{pad}- {_scalar(v)}")
        return "\n".join(lines)
    return pad + _scalar(value)


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict) or isinstance(value, list):
        return json.dumps(value)
    return json.dumps(str(value))


def generate(out: Path, seed: int = 7, scale: float = 1.0) -> dict[str, int]:
    r = Rng(seed)
    oracle: list[dict[str, str]] = []
    tf_files = generate_terraform(out, r, max(1, round(200 * scale)), oracle)
    templates = generate_cloudformation(out, r, max(1, round(700 * scale)), oracle)
    oracle.sort(key=lambda o: (o["file"], o["resource"], o["check"]))
    (out / "oracle.json").write_text(json.dumps(oracle, indent=1) + "\n")
    return {"tf_files": tf_files, "templates": templates, "planted": len(oracle)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    print(json.dumps(generate(args.out, args.seed, args.scale)))


if __name__ == "__main__":
    main()
