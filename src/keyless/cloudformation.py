"""CloudFormation (and SAM) detection over a whole template, as plain dicts, lists and strings.

Both engines hand the same parsed template here (cfn-lint's nodes are dict and str subclasses), so
checkov and cfn-lint report the same findings by construction. Every finding is attributed to a
resource; a value written outside Resources (Parameters, Mappings, Outputs) is attributed to the
template's first resource, the only entity checkov can report it on, while its path still points
at the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from keyless.detect.material import is_credential_name
from keyless.detect.userdata import ACCESS_KEY_MARKER, find_credential_writes
from keyless.detect.values import DYNAMIC_REFERENCE, Origin, is_placeholder_value
from keyless.detect.walk import find_key_material
from keyless.findings import Finding, Path, dotted
from keyless.rules import compute_finding, key_material_findings, material_finding, simple_finding

TEMPLATE_SECTIONS = ("Parameters", "Mappings", "Outputs", "Conditions", "Metadata", "Rules")
ACCESS_KEY = "AWS::IAM::AccessKey"
INSTANCE_TYPES = ("AWS::EC2::Instance",)
LAUNCH_TYPES = ("AWS::EC2::LaunchTemplate", "AWS::AutoScaling::LaunchConfiguration")
FUNCTION_TYPES = ("AWS::Lambda::Function", "AWS::Serverless::Function")
ENVIRONMENT_TYPES = (
    *FUNCTION_TYPES,
    "AWS::ECS::TaskDefinition",
    "AWS::Batch::JobDefinition",
    "AWS::CodeBuild::Project",
    "AWS::ElasticBeanstalk::Environment",
    "AWS::ElasticBeanstalk::ConfigurationTemplate",
    "AWS::AppRunner::Service",
)
COMPUTE_TYPES = (*INSTANCE_TYPES, *LAUNCH_TYPES, *ENVIRONMENT_TYPES)
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class Template:
    """A parsed template with the lookups the rules need."""

    def __init__(self, template: Mapping[str, Any]) -> None:
        self.raw = template
        resources = template.get("Resources")
        self.resources: dict[str, Mapping[str, Any]] = {
            name: res for name, res in (resources.items() if isinstance(resources, Mapping) else ())
            if isinstance(name, str) and isinstance(res, Mapping)
        }
        params = template.get("Parameters")
        self.defaults: dict[str, Any] = {
            name: p["Default"] for name, p in (params.items() if isinstance(params, Mapping) else ())
            if isinstance(p, Mapping) and "Default" in p
        }
        self.first_resource = next(iter(self.resources), "")
        self._merge_sam_globals(template.get("Globals"))

    def type_of(self, name: Any) -> str:
        res = self.resources.get(name) if isinstance(name, str) else None
        return str(res.get("Type", "")) if res else ""

    def properties(self, name: str) -> Mapping[str, Any]:
        props = self.resources[name].get("Properties")
        return props if isinstance(props, Mapping) else {}

    def _merge_sam_globals(self, globals_: Any) -> None:
        """Give each SAM function what it inherits from Globals.Function (its own values win)."""
        inherited = globals_.get("Function") if isinstance(globals_, Mapping) else None
        if not isinstance(inherited, Mapping):
            return
        for name, res in list(self.resources.items()):
            if res.get("Type") == "AWS::Serverless::Function":
                merged = dict(res)
                merged["Properties"] = _merge(inherited, self.properties(name))
                self.resources[name] = merged

    # --- values ---------------------------------------------------------------------------------

    def origin(self, value: Any) -> Origin:
        """Where a property value comes from, following Ref, Sub, Join and If."""
        if isinstance(value, str):
            return Origin.EXTERNAL if not value.strip() or DYNAMIC_REFERENCE in value else Origin.LITERAL
        if isinstance(value, (bool, int, float)):
            return Origin.LITERAL
        if isinstance(value, list):
            return max((self.origin(v) for v in value), default=Origin.EXTERNAL)
        if not isinstance(value, Mapping) or len(value) != 1:
            return Origin.EXTERNAL
        (fn, arg), = value.items()
        if fn == "Ref":
            return self._ref_origin(arg)
        if fn == "Fn::GetAtt":
            return Origin.ACCESS_KEY if self._is_secret_attribute(arg) else Origin.EXTERNAL
        if fn == "Fn::Sub":
            return self._sub_origin(arg)
        if fn == "Fn::Join" and isinstance(arg, list) and len(arg) == 2:
            return self.origin(arg[1])
        if fn == "Fn::If" and isinstance(arg, list) and len(arg) == 3:
            return max(self.origin(arg[1]), self.origin(arg[2]))
        if fn in ("Fn::Base64", "Fn::Select"):
            return self.origin(arg)
        if fn == "Fn::FindInMap":
            return Origin.LITERAL
        return Origin.EXTERNAL

    def _ref_origin(self, name: Any) -> Origin:
        if self.type_of(name) == ACCESS_KEY:
            return Origin.ACCESS_KEY
        if isinstance(name, str) and name in self.defaults:
            return self.origin(self.defaults[name])
        return Origin.EXTERNAL

    def _is_secret_attribute(self, arg: Any) -> bool:
        if isinstance(arg, str):
            arg = arg.split(".", 1)
        return (isinstance(arg, list) and len(arg) == 2 and arg[1] == "SecretAccessKey"
                and self.type_of(arg[0]) == ACCESS_KEY)

    def _sub_origin(self, arg: Any) -> Origin:
        text, variables = (arg[0], arg[1]) if isinstance(arg, list) and len(arg) == 2 else (arg, {})
        if not isinstance(text, str) or DYNAMIC_REFERENCE in text:
            return Origin.EXTERNAL
        origins = [Origin.LITERAL if _SUB_VARIABLE.sub("", text).strip() else Origin.EXTERNAL]
        for var in _SUB_VARIABLE.findall(text):
            if isinstance(variables, Mapping) and var in variables:
                origins.append(self.origin(variables[var]))
            elif "." in var:
                origins.append(Origin.ACCESS_KEY if self._is_secret_attribute(var) else Origin.EXTERNAL)
            else:
                origins.append(self._ref_origin(var))
        return max(origins)

    def text(self, value: Any) -> str:
        """Flatten a script (UserData) to text: parameters by their defaults, access keys by a marker."""
        if isinstance(value, str):
            return value
        if isinstance(value, list):
            return "".join(self.text(v) for v in value)
        if not isinstance(value, Mapping) or len(value) != 1:
            return ""
        (fn, arg), = value.items()
        if fn == "Fn::Base64":
            return self.text(arg)
        if fn == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list):
            sep = arg[0] if isinstance(arg[0], str) else ""
            return sep.join(self.text(v) for v in arg[1])
        if fn == "Fn::Sub":
            text, variables = (arg[0], arg[1]) if isinstance(arg, list) and len(arg) == 2 else (arg, {})
            if not isinstance(text, str):
                return ""
            return _SUB_VARIABLE.sub(lambda m: self._variable_text(m.group(1), variables), text)
        if fn == "Ref":
            return self._variable_text(arg, {})
        if fn == "Fn::GetAtt":
            return ACCESS_KEY_MARKER if self._is_secret_attribute(arg) else "${GetAtt}"
        return ""

    def _variable_text(self, var: Any, variables: Any) -> str:
        if isinstance(variables, Mapping) and var in variables:
            return self.text(variables[var])
        if isinstance(var, str):
            name = var.split(".", 1)[0]
            if self.type_of(name) == ACCESS_KEY:
                return ACCESS_KEY_MARKER
            if var in self.defaults and isinstance(self.defaults[var], str):
                return self.defaults[var]
        return "${" + str(var) + "}"

    def secret_references(self, value: Any) -> set[str]:
        """Logical IDs of access keys whose SecretAccessKey appears in a value."""
        found: set[str] = set()
        if isinstance(value, list):
            for v in value:
                found |= self.secret_references(v)
        elif isinstance(value, Mapping):
            for fn, arg in value.items():
                if fn == "Fn::GetAtt" and self._is_secret_attribute(arg):
                    found.add(arg.split(".", 1)[0] if isinstance(arg, str) else arg[0])
                elif fn == "Fn::Sub":
                    text = arg[0] if isinstance(arg, list) and arg else arg
                    if isinstance(text, str):
                        found |= {v.split(".", 1)[0] for v in _SUB_VARIABLE.findall(text) if self._is_secret_attribute(v)}
                    found |= self.secret_references(arg[1:] if isinstance(arg, list) else [])
                else:
                    found |= self.secret_references(arg)
        return found


def _merge(inherited: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(inherited)
    for key, value in own.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _present(value: Any, tpl: Template) -> bool:
    if value in (None, "", {}, []):
        return False
    if isinstance(value, Mapping) and set(value) == {"Ref"} and value["Ref"] in tpl.defaults:
        return tpl.defaults[value["Ref"]] not in (None, "")
    return True


# --- rules 1, 2 and 9 ------------------------------------------------------------------------


def _access_key(name: str, tpl: Template) -> list[Finding]:
    props = tpl.properties(name)
    base: Path = ("Resources", name, "Properties")
    findings = []
    status = props.get("Status")
    resolved = tpl.defaults.get(status["Ref"]) if isinstance(status, Mapping) and "Ref" in status else status
    if not (isinstance(resolved, str) and resolved.strip().lower() == "inactive"):
        # Without a Status the key is active: point at the properties where Status is missing.
        findings.append(simple_finding("iam-access-key", name, (*base, "Status") if status else base,
                                       f"{name} creates an active long-term IAM access key"))
    user = props.get("UserName")
    user_ref = user.get("Ref") if isinstance(user, Mapping) else None
    for other, res in tpl.resources.items():
        if res.get("Type") != "AWS::IAM::User" or not _present(tpl.properties(other).get("LoginProfile"), tpl):
            continue
        if user_ref == other or (isinstance(user, str) and user == tpl.properties(other).get("UserName")):
            findings.append(simple_finding(
                "human-user-access-key", name, (*base, "UserName"),
                f"{name} creates an access key for IAM user {other}, who also has console access (LoginProfile)"))
            break
    leaks: list[tuple[Path, str]] = []
    outputs = tpl.raw.get("Outputs")
    for out_name, output in (outputs.items() if isinstance(outputs, Mapping) else ()):
        if name in tpl.secret_references(output):
            leaks.append((("Outputs", out_name, "Value"), f"output {out_name}"))
    for other, res in tpl.resources.items():
        if res.get("Type") == "AWS::SSM::Parameter" and name in tpl.secret_references(tpl.properties(other)):
            leaks.append((("Resources", other, "Properties", "Value"), f"plain SSM parameter {other}"))
    for path, where in leaks:
        findings.append(simple_finding("access-key-secret-exposed", name, path,
                                       f"The secret of {name} leaves the secrets store through {where}"))
    return findings


# --- rules 6 and 7 ---------------------------------------------------------------------------


def _template_of(reference: Mapping[str, Any], tpl: Template) -> str | None:
    """The launch template resource a LaunchTemplate specification points at, if it is in the template."""
    for key in ("LaunchTemplateId", "Id", "LaunchTemplateName", "Name"):
        value = reference.get(key)
        if isinstance(value, Mapping):
            target = value.get("Ref")
            if target is None and "Fn::GetAtt" in value:
                att = value["Fn::GetAtt"]
                target = att.split(".", 1)[0] if isinstance(att, str) else (att[0] if isinstance(att, list) and att else None)
            if tpl.type_of(target) == "AWS::EC2::LaunchTemplate":
                return str(target)
        elif isinstance(value, str):
            for other, res in tpl.resources.items():
                if res.get("Type") == "AWS::EC2::LaunchTemplate" and tpl.properties(other).get("LaunchTemplateName") == value:
                    return other
    return None


def _launch_template_profile(name: str, tpl: Template) -> bool:
    data = tpl.properties(name).get("LaunchTemplateData")
    return isinstance(data, Mapping) and _present(data.get("IamInstanceProfile"), tpl)


def _instance(name: str, tpl: Template) -> list[Finding]:
    props = tpl.properties(name)
    if _present(props.get("IamInstanceProfile"), tpl):
        return []
    spec = props.get("LaunchTemplate")
    where: Path = ("Resources", name, "Properties")  # where the missing profile belongs
    if isinstance(spec, Mapping):
        target = _template_of(spec, tpl)
        if target is None or _launch_template_profile(target, tpl):
            return []  # an external launch template cannot be read: benefit of the doubt
        what = f"{name} has no IamInstanceProfile, and its launch template {target} has none"
        where = (*where, "LaunchTemplate")
    else:
        what = f"{name} has no IamInstanceProfile"
    return [simple_finding("ec2-instance-without-profile", name, where, what)]


def _launch(name: str, tpl: Template) -> list[Finding]:
    if tpl.type_of(name) == "AWS::EC2::LaunchTemplate":
        if _launch_template_profile(name, tpl):
            return []
        for other, res in tpl.resources.items():
            spec = tpl.properties(other).get("LaunchTemplate") if res.get("Type") == "AWS::EKS::Nodegroup" else None
            if isinstance(spec, Mapping) and _template_of(spec, tpl) == name:
                return []  # EKS node groups supply the node role themselves
    elif _present(tpl.properties(name).get("IamInstanceProfile"), tpl):
        return []
    where: Path = ("Resources", name, "Properties")  # where the missing profile belongs
    if tpl.type_of(name) == "AWS::EC2::LaunchTemplate":
        where = (*where, "LaunchTemplateData")
    return [simple_finding("launch-template-without-profile", name, where,
                           f"{name} has no IamInstanceProfile")]


# --- rule 8 ----------------------------------------------------------------------------------


def _name_values(items: Any, path: Path, name_key: str = "Name") -> Iterator[tuple[Path, str, Any]]:
    if not isinstance(items, list):
        return
    for i, item in enumerate(items):
        if isinstance(item, Mapping) and isinstance(item.get(name_key), str):
            if str(item.get("Type", "")).upper() in ("PARAMETER_STORE", "SECRETS_MANAGER"):
                continue
            yield (*path, i, "Value"), item[name_key], item.get("Value")


def environment_variables(name: str, tpl: Template) -> Iterator[tuple[Path, str, Any]]:
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

    if kind in FUNCTION_TYPES:
        variables = get("Environment", "Variables")
        if isinstance(variables, Mapping):
            for var, value in variables.items():
                yield (*base, "Environment", "Variables", var), str(var), value
    elif kind == "AWS::ECS::TaskDefinition":
        containers = get("ContainerDefinitions")
        for i in range(len(containers) if isinstance(containers, list) else 0):
            yield from _name_values(get("ContainerDefinitions", i, "Environment"),
                                    (*base, "ContainerDefinitions", i, "Environment"))
    elif kind == "AWS::Batch::JobDefinition":
        yield from _name_values(get("ContainerProperties", "Environment"), (*base, "ContainerProperties", "Environment"))
    elif kind == "AWS::CodeBuild::Project":
        yield from _name_values(get("Environment", "EnvironmentVariables"), (*base, "Environment", "EnvironmentVariables"))
    elif kind.startswith("AWS::ElasticBeanstalk::"):
        settings = get("OptionSettings")
        for i, item in enumerate(settings if isinstance(settings, list) else []):
            if isinstance(item, Mapping) and item.get("Namespace") == "aws:elasticbeanstalk:application:environment":
                yield (*base, "OptionSettings", i, "Value"), str(item.get("OptionName", "")), item.get("Value")
    elif kind == "AWS::AppRunner::Service":
        for sub in (("ImageRepository", "ImageConfiguration"),
                    ("CodeRepository", "CodeConfiguration", "CodeConfigurationValues")):
            yield from _name_values(get("SourceConfiguration", *sub, "RuntimeEnvironmentVariables"),
                                    (*base, "SourceConfiguration", *sub, "RuntimeEnvironmentVariables"))


def _user_data(name: str, tpl: Template) -> tuple[Path, Any] | None:
    props = tpl.properties(name)
    base: Path = ("Resources", name, "Properties")
    if tpl.type_of(name) == "AWS::EC2::LaunchTemplate":
        data = props.get("LaunchTemplateData")
        if isinstance(data, Mapping) and "UserData" in data:
            return (*base, "LaunchTemplateData", "UserData"), data["UserData"]
    elif "UserData" in props:
        return (*base, "UserData"), props["UserData"]
    return None


def _compute(name: str, tpl: Template) -> list[Finding]:
    findings: list[Finding] = []
    flagged: set[Path] = set()
    for path, var, value in environment_variables(name, tpl):
        origin = tpl.origin(value)
        if origin is Origin.ACCESS_KEY or (origin is Origin.LITERAL and is_credential_name(var)
                                           and not is_placeholder_value(var, value)):
            what = (f"An access key is passed to {name}" if origin is Origin.ACCESS_KEY
                    else f"{name} sets credential variable {var}")
            findings.append(compute_finding(name, path, f"{what} at {dotted(path[3:])}"))
            flagged.add(path)
    user_data = _user_data(name, tpl)
    if user_data is not None:
        path, value = user_data
        writes = find_credential_writes(tpl.text(value))
        if writes:
            findings.append(compute_finding(
                name, path, f"UserData of {name} writes {writes[0].variable} ({writes[0].how}) with a hardcoded value"))
            flagged.add(path)
    metadata = tpl.resources[name].get("Metadata")
    auth = metadata.get("AWS::CloudFormation::Authentication") if isinstance(metadata, Mapping) else None
    for auth_name, block in (auth.items() if isinstance(auth, Mapping) else ()):
        if not isinstance(block, Mapping):
            continue
        keys = [k for k in ("accessKeyId", "secretKey") if k in block and tpl.origin(block[k]) is not Origin.EXTERNAL]
        if keys:
            path = ("Resources", name, "Metadata", "AWS::CloudFormation::Authentication", auth_name, keys[0])
            findings.append(compute_finding(
                name, path, f"AWS::CloudFormation::Authentication {auth_name} of {name} carries {' and '.join(keys)}"))
            flagged.add(path)
    if not any(f.path[:3] == ("Resources", name, "Properties") for f in findings):
        where = _secret_reference_path(tpl, tpl.properties(name), ("Resources", name, "Properties"))
        if where is not None:
            findings.append(compute_finding(name, where, f"An access key secret is passed to {name} at {dotted(where[3:])}"))
    return findings


def _secret_reference_path(tpl: Template, value: Any, path: Path) -> Path | None:
    """Where the first access key secret referenced under a value is written (for the line number)."""
    if isinstance(value, Mapping) and len(value) == 1 and next(iter(value)) in ("Fn::GetAtt", "Fn::Sub"):
        return path if tpl.secret_references(value) else None
    items = value.items() if isinstance(value, Mapping) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = _secret_reference_path(tpl, item, (*path, key))
        if found is not None:
            return found
    return None


# --- entry point -----------------------------------------------------------------------------


def scan_template(template: Mapping[str, Any]) -> list[Finding]:
    """Every finding of every CloudFormation rule in one template."""
    if not isinstance(template, Mapping):
        return []
    tpl = Template(template)
    findings: list[Finding] = []
    for name, res in tpl.resources.items():
        kind = tpl.type_of(name)
        findings += key_material_findings(name, res.get("Properties"), ("Resources", name, "Properties"), ())
        findings += key_material_findings(name, res.get("Metadata"), ("Resources", name, "Metadata"), ("Metadata",))
        if kind == ACCESS_KEY:
            findings += _access_key(name, tpl)
        if kind in INSTANCE_TYPES:
            findings += _instance(name, tpl)
        if kind in LAUNCH_TYPES:
            findings += _launch(name, tpl)
        if kind in COMPUTE_TYPES:
            findings += _compute(name, tpl)
    if tpl.first_resource:
        for section in TEMPLATE_SECTIONS:
            findings += _section_findings(tpl.first_resource, section, template.get(section))
    # A joined secret already reported in the same resource, or at a parameter default that the
    # join pulled in, is not reported twice.
    reported = {(f.resource if f.path[0] == "Resources" else "", s) for f in findings for s in f.secrets}
    for name, res in tpl.resources.items():
        for part in ("Properties", "Metadata"):
            findings += [f for f in _joined_findings(name, res.get(part), ("Resources", name, part), tpl)
                         if not any((name, s) in reported or ("", s) in reported for s in f.secrets)]
    return [f for f in findings if not _is_logical_id(f, template)]


def _joined_findings(resource: str, value: Any, path: Path, tpl: Template, name: str = "") -> list[Finding]:
    """Rule 4 across the parts of Fn::Join and Fn::Sub.

    `aws_secret_access_key=` and the secret, or a key ID and its secret, may sit in different parts;
    each part alone is a bare string. Key IDs need no context and are found part by part.
    """
    found: list[Finding] = []
    if isinstance(value, Mapping) and len(value) == 1 and next(iter(value)) in ("Fn::Join", "Fn::Sub"):
        for where, material in find_key_material(tpl.text(value), path, name):
            if material.kind != "access-key-id":
                found.append(material_finding(resource, where, dotted(where[3:]), material))
        return found
    items = value.items() if isinstance(value, Mapping) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        label = name if isinstance(key, int) or str(key).startswith("Fn::") else str(key)
        found += _joined_findings(resource, item, (*path, key), tpl, label)
    return found


def _is_logical_id(finding: Finding, template: Mapping[str, Any]) -> bool:
    """A 40-character "secret" that names a resource, parameter or output is a long logical ID."""
    if finding.slug != "hardcoded-secret-access-key" or not finding.secrets:
        return False
    names: set[str] = set()
    for section in ("Resources", "Parameters", "Outputs", "Conditions", "Mappings"):
        entries = template.get(section)
        names |= {str(n) for n in entries} if isinstance(entries, Mapping) else set()
    return all(secret in names for secret in finding.secrets)


# The entry of a Parameter or an Output whose name is the entry's own name: `Parameters:
# DeployerSecretAccessKey: Default: ...` is a secret under a credential name.
_NAMED_ENTRY_VALUE = {"Parameters": "Default", "Outputs": "Value"}


def _section_findings(anchor: str, section: str, value: Any) -> list[Finding]:
    """Rules 3 and 4 in a template section, attributed to the anchor (the first resource)."""
    value_key = _NAMED_ENTRY_VALUE.get(section)
    if value_key is None or not isinstance(value, Mapping):
        return key_material_findings(anchor, value, (section,), (section,))
    findings: list[Finding] = []
    for entry, body in value.items():
        if not isinstance(body, Mapping):
            findings += key_material_findings(anchor, body, (section, entry), (section, entry))
            continue
        for key, item in body.items():
            if key == value_key:
                path: Path = (section, entry, key)
                findings += key_material_findings(anchor, item, path, path, name=str(entry))
            else:
                findings += key_material_findings(anchor, {key: item}, (section, entry), (section, entry))
    return findings


# Which resource types each rule's checkov checks run on (rule 5 is Terraform only).
SCOPE: dict[str, tuple[str, ...]] = {
    "iam-access-key": (ACCESS_KEY,),
    "human-user-access-key": (ACCESS_KEY,),
    "hardcoded-access-key-id": ("*",),
    "hardcoded-secret-access-key": ("*",),
    "ec2-instance-without-profile": INSTANCE_TYPES,
    "launch-template-without-profile": LAUNCH_TYPES,
    "credentials-in-compute": COMPUTE_TYPES,
    "access-key-secret-exposed": (ACCESS_KEY,),
}
