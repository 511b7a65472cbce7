"""CodeBuild buildspecs written inline in a project (CloudFormation `Source.BuildSpec`, Terraform
`source { buildspec = <<EOF ... EOF }`): the variables and commands a build runs with.

`env.variables` are plain values CodeBuild hands the build as environment variables, so an access key
there is stored in the project like one in `Environment.EnvironmentVariables`. `env.parameter-store`
and `env.secrets-manager` name store entries CodeBuild fetches at run time, and pass. A buildspec
value is a file name (`buildspec-deploy.yml`) when it is not a YAML mapping: nothing to read then.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import yaml

from keyless.detect.userdata import ACCESS_KEY_MARKER
from keyless.detect.values import DYNAMIC_REFERENCE, Origin
from keyless.detect.walk import Path
from keyless.lang.cloudformation import Template

if TYPE_CHECKING:
    from keyless.lang.terraform import Block

CLOUDFORMATION_PROJECT = "AWS::CodeBuild::Project"
TERRAFORM_PROJECT = "aws_codebuild_project"
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_UNRESOLVED_ONLY = re.compile(r"^(?:\$\{[^}]*\})+$")  # what Template.text leaves of a reference it cannot resolve


class BuildspecVariable(NamedTuple):
    path: Path  # where the buildspec is written (a YAML string has no finer position)
    name: str
    value: str
    origin: Origin


class BuildspecCommands(NamedTuple):
    path: Path
    text: str  # every command of every phase, one per line


def parse(text: str) -> Mapping[str, Any] | None:
    """The buildspec as a mapping, or None for a file name or text that is not YAML."""
    if "\n" not in text.strip() and ":" not in text:
        return None
    try:
        doc = yaml.load(str(text), Loader=_Loader)  # noqa: S506 - a safe loader; str(): cfn-lint's nodes subclass it
    except (yaml.YAMLError, ValueError, RecursionError):  # not YAML: a file name or a template's own text
        return None
    return doc if isinstance(doc, Mapping) else None


def variables(doc: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(name, value) of `env.variables`; `parameter-store` and `secrets-manager` are store references."""
    env = doc.get("env")
    plain = env.get("variables") if isinstance(env, Mapping) else None
    for name, value in plain.items() if isinstance(plain, Mapping) else ():
        if isinstance(name, str) and value is not None:
            yield name, str(value)


def commands(doc: Mapping[str, Any]) -> str:
    """Every command of every phase (with `finally`), one per line."""
    lines: list[str] = []
    phases = doc.get("phases")
    for phase in phases.values() if isinstance(phases, Mapping) else ():
        if not isinstance(phase, Mapping):
            continue
        for key in ("commands", "finally"):
            listed = phase.get(key)
            lines += [str(c) for c in listed if isinstance(c, (str, int, float))] if isinstance(listed, list) else []
    return "\n".join(lines)


# --- CloudFormation ------------------------------------------------------------------------------


def _text_origin(value: str) -> Origin:
    """Origin of a value read from a buildspec flattened by `Template.text`."""
    text = value.strip()
    if ACCESS_KEY_MARKER in text:
        return Origin.ACCESS_KEY
    if not text or DYNAMIC_REFERENCE in text or _UNRESOLVED_ONLY.match(text):
        return Origin.EXTERNAL
    return Origin.LITERAL


def _cloudformation_buildspecs(name: str, tpl: Template) -> Iterator[tuple[Path, Mapping[str, Any]]]:
    if tpl.type_of(name) != CLOUDFORMATION_PROJECT:
        return
    props = tpl.properties(name)
    base: Path = ("Resources", name, "Properties")
    sources: list[tuple[Path, Any]] = [((*base, "Source"), props.get("Source"))]
    secondary = props.get("SecondarySources")
    sources += [((*base, "SecondarySources", i), s) for i, s in enumerate(secondary if isinstance(secondary, list) else [])]
    for path, source in sources:
        if isinstance(source, Mapping) and "BuildSpec" in source:
            doc = parse(tpl.text(source["BuildSpec"]))
            if doc is not None:
                yield (*path, "BuildSpec"), doc


def cloudformation_variables(name: str, tpl: Template) -> Iterator[BuildspecVariable]:
    for path, doc in _cloudformation_buildspecs(name, tpl):
        for var, value in variables(doc):
            yield BuildspecVariable(path, var, value, _text_origin(value))


def cloudformation_commands(name: str, tpl: Template) -> Iterator[BuildspecCommands]:
    for path, doc in _cloudformation_buildspecs(name, tpl):
        yield BuildspecCommands(path, commands(doc))


# --- Terraform -----------------------------------------------------------------------------------
# keyless.lang.terraform is imported inside these functions: cfn-lint in the editor imports keyless per
# template, and Terraform helpers load only when a Terraform block is judged.


def _terraform_buildspecs(block: Block) -> Iterator[tuple[Path, Mapping[str, Any]]]:
    from keyless.lang.terraform import nested_blocks

    if block.type != TERRAFORM_PROJECT:
        return
    for key in ("source", "secondary_sources"):
        for i, source in enumerate(nested_blocks(block.config, key)):
            text = source.get("buildspec")
            doc = parse(text) if isinstance(text, str) else None
            if doc is not None:
                yield ((key, "buildspec") if key == "source" else (key, i, "buildspec")), doc


def terraform_variables(block: Block) -> Iterator[BuildspecVariable]:
    from keyless.lang.terraform import origin

    for path, doc in _terraform_buildspecs(block):
        for var, value in variables(doc):
            yield BuildspecVariable(path, var, value, origin(value))


def terraform_commands(block: Block) -> Iterator[BuildspecCommands]:
    for path, doc in _terraform_buildspecs(block):
        yield BuildspecCommands(path, commands(doc))
