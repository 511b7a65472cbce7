"""What CloudFormation (and SAM) values mean: intrinsic functions, parameter defaults, SAM Globals.

Every front end hands the same parsed template here (cfn-lint's nodes are dict and str subclasses),
so checkov, cfn-lint and the audit read values alike by construction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from keyless.detect.userdata import ACCESS_KEY_MARKER
from keyless.detect.values import DYNAMIC_REFERENCE, Origin
from keyless.lang.sam import with_globals

TEMPLATE_SECTIONS = ("Parameters", "Mappings", "Outputs", "Conditions", "Metadata", "Rules", "Description")
ACCESS_KEY = "AWS::IAM::AccessKey"
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
        # What a Ref resolves to offline. An `AWS::SSM::Parameter::Value<...>` parameter's default is
        # the path of a Parameter Store entry, not its value: such a Ref is a store reference.
        self.defaults: dict[str, Any] = {
            name: p["Default"] for name, p in (params.items() if isinstance(params, Mapping) else ())
            if isinstance(p, Mapping) and "Default" in p and not is_store_parameter(p)
        }
        self.resources = with_globals(self.resources, template.get("Globals"))
        self.first_resource = next(iter(self.resources), "")

    def users_of(self, parameter: str) -> list[str]:
        """The resources that use a parameter (`Ref`, or `${Name}` in `Fn::Sub`), in template order."""
        return [name for name, res in self.resources.items() if _uses(res, parameter)]

    def type_of(self, name: Any) -> str:
        res = self.resources.get(name) if isinstance(name, str) else None
        return str(res.get("Type", "")) if res else ""

    def properties(self, name: str) -> Mapping[str, Any]:
        props = self.resources[name].get("Properties")
        return props if isinstance(props, Mapping) else {}

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
            return self._sub_origin(arg, value)
        if fn == "Fn::Join" and isinstance(arg, list) and len(arg) == 2:
            return Origin.EXTERNAL if is_dynamic_reference(self.text(value)) else self.origin(arg[1])
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

    def _sub_origin(self, arg: Any, value: Any) -> Origin:
        text, variables = (arg[0], arg[1]) if isinstance(arg, list) and len(arg) == 2 else (arg, {})
        if not isinstance(text, str) or DYNAMIC_REFERENCE in text or is_dynamic_reference(self.text(value)):
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


def _uses(value: Any, parameter: str, depth: int = 0) -> bool:
    if depth > 200:
        return False
    if isinstance(value, list):
        return any(_uses(v, parameter, depth + 1) for v in value)
    if not isinstance(value, Mapping):
        return False
    for fn, arg in value.items():
        if fn == "Ref" and arg == parameter:
            return True
        if fn == "Fn::Sub":
            text, variables = (arg[0], arg[1]) if isinstance(arg, list) and len(arg) == 2 else (arg, {})
            local = variables if isinstance(variables, Mapping) else {}
            if isinstance(text, str) and parameter not in local and parameter in _SUB_VARIABLE.findall(text):
                return True
            if _uses(local, parameter, depth + 1):
                return True
        elif _uses(arg, parameter, depth + 1):
            return True
    return False


SSM_PARAMETER_TYPE = "AWS::SSM::Parameter::Value<"
_DYNAMIC_REFERENCES = re.compile(r"\{\{resolve:[^{}]*\}\}")
_UNRESOLVED = re.compile(r"\$\{[^}]*\}")


def is_store_parameter(parameter: Mapping[str, Any]) -> bool:
    """A parameter CloudFormation fills from Parameter Store (its default names the entry)."""
    return str(parameter.get("Type", "")).replace(" ", "").startswith(SSM_PARAMETER_TYPE)


def is_dynamic_reference(text: str) -> bool:
    """Text that is nothing but `{{resolve:...}}` references once assembled (with Fn::Join or Fn::Sub)."""
    if DYNAMIC_REFERENCE not in text:
        return False
    return not _DYNAMIC_REFERENCES.sub("", _UNRESOLVED.sub("", text)).strip()


def present(value: Any, tpl: Template) -> bool:
    if value in (None, "", {}, []):
        return False
    if isinstance(value, Mapping) and set(value) == {"Ref"} and value["Ref"] in tpl.defaults:
        return tpl.defaults[value["Ref"]] not in (None, "")
    return True
