"""`AWS::CloudFormation::Init` metadata (cfn-init): where it writes credentials onto an instance.

cfn-init runs on the instance and writes what the template says: `files` (a credentials or config
file), `commands` (`aws configure set ...`, `export AWS_...=`) and each command's `env`. Whatever
fills such a credential, a literal, a parameter or an access key's `SecretAccessKey`, ends up on
the instance's disk and in its metadata: a long-term key stored in compute. A value cfn-init leaves
to the instance's shell (`$(aws secretsmanager ...)`, `$VAR`) or that CloudFormation fetches from a
store (an `AWS::SSM::Parameter::Value<...>` parameter) hands nothing over; nor does `{{resolve:...}}`
text, which CloudFormation resolves only in resource properties.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from keyless.detect.material import is_credential_name
from keyless.detect.userdata import ACCESS_KEY_MARKER, iter_assignments
from keyless.detect.values import is_placeholder_value
from keyless.detect.walk import Path
from keyless.lang.cloudformation import Template, is_store_parameter

INIT = "AWS::CloudFormation::Init"
CONFIG_SETS = "configSets"
# Where the AWS CLI and SDKs read shared credentials (any user's home, `~`, or an absolute path).
CREDENTIALS_FILE = re.compile(r"(?:^|/)\.aws/credentials$")
_PARAMETER_MARKER = "keyless-parameter-"
_MARKED_PARAMETER = re.compile(re.escape(_PARAMETER_MARKER) + r"([A-Za-z0-9]+)")


@dataclass(frozen=True)
class InitWrite:
    """One credential that cfn-init writes, and where the template says so."""

    path: Path  # from the template root
    where: str  # "config 'setup', file /root/.aws/credentials", "config 'setup', command 01-configure"
    variable: str  # aws_secret_access_key, AWS_ACCESS_KEY_ID, ...
    source: str  # "a literal value", "parameter SecretKey", "an access key"


class _MarkingParameters(Template):
    """A view of a template whose script text marks parameters without a usable default, so a value
    taken from a parameter can be told from a shell expansion (`${Param}` reads alike in both)."""

    def __init__(self, tpl: Template) -> None:  # a view: no parse, the template's own lookups
        self.__dict__.update(tpl.__dict__)
        params = tpl.raw.get("Parameters")
        self._parameters = {
            str(name) for name, p in (params.items() if isinstance(params, Mapping) else ())
            if isinstance(p, Mapping) and not is_store_parameter(p)
        }

    def _variable_text(self, var: Any, variables: Any) -> str:
        text = super()._variable_text(var, variables)
        if text == "${" + str(var) + "}" and var in self._parameters:
            return _PARAMETER_MARKER + str(var)
        return text


def init_writes(name: str, tpl: Template) -> list[InitWrite]:
    """Every credential the resource's cfn-init metadata writes with a value it hands over."""
    metadata = tpl.resources[name].get("Metadata")
    init = metadata.get(INIT) if isinstance(metadata, Mapping) else None
    if not isinstance(init, Mapping):
        return []
    view = _MarkingParameters(tpl)
    base: Path = ("Resources", name, "Metadata", INIT)
    writes: list[InitWrite] = []
    for config_name, config in init.items():  # configSets only order the configs: every config runs
        if config_name != CONFIG_SETS and isinstance(config, Mapping):
            writes += _config_writes(view, (*base, config_name), str(config_name), config)
    return writes


def _config_writes(view: _MarkingParameters, path: Path, config_name: str, config: Mapping[str, Any]) -> list[InitWrite]:
    writes: list[InitWrite] = []
    files = config.get("files")
    for file_name, spec in files.items() if isinstance(files, Mapping) else ():
        if not isinstance(spec, Mapping):
            continue
        where = f"config '{config_name}', file {file_name}"
        file_path: Path = (*path, "files", file_name)
        if "content" in spec:
            writes += _one_write((*file_path, "content"), where, _script_writes(view, spec["content"]))
        elif "source" in spec and CREDENTIALS_FILE.search(str(file_name)):
            # Downloaded at boot: not readable offline, but a credentials file holds nothing but keys.
            writes.append(InitWrite((*file_path, "source"), where, "a credentials file", "a download"))
    commands = config.get("commands")
    for command_name, spec in commands.items() if isinstance(commands, Mapping) else ():
        if not isinstance(spec, Mapping):
            continue
        where = f"config '{config_name}', command {command_name}"
        command_path: Path = (*path, "commands", command_name)
        if "command" in spec:
            command = spec["command"]
            if isinstance(command, list):  # an argument list, run without a shell: one word per item
                command = " ".join(view.text(part) for part in command)
            writes += _one_write((*command_path, "command"), where, _script_writes(view, command))
        env = spec.get("env")
        for variable, value in env.items() if isinstance(env, Mapping) else ():
            if isinstance(variable, str) and is_credential_name(variable) and not is_placeholder_value(variable, value):
                source = _source(view.text(value))
                if source:
                    writes.append(InitWrite((*command_path, "env", variable), where, variable, source))
    return writes


def _one_write(path: Path, where: str, found: Iterator[tuple[str, str]]) -> list[InitWrite]:
    """The credentials one file or command writes, as one write (a key pair is one finding)."""
    pairs = list(found)
    if not pairs:
        return []
    variables = " and ".join(dict.fromkeys(variable for variable, _ in pairs))
    sources = " and ".join(dict.fromkeys(source for _, source in pairs))
    return [InitWrite(path, where, variables, sources)]


def _script_writes(view: _MarkingParameters, value: Any) -> Iterator[tuple[str, str]]:
    """(variable, source) of each credential assignment in a file's content or a command."""
    for assignment in iter_assignments(view.text(value)):
        source = _source(assignment.value)
        if source:
            yield assignment.variable, source


def _source(value: str) -> str:
    """What fills a credential cfn-init writes ("" when it hands nothing over)."""
    value = value.strip().strip("\"'")
    if ACCESS_KEY_MARKER in value:
        return "an access key"
    parameter = _MARKED_PARAMETER.search(value)
    if parameter:
        return f"parameter {parameter.group(1)}"
    if not value or value.startswith(("$", "`", "{{resolve:")):
        return ""
    return "a literal value"
