"""Terraform detection over configuration as checkov renders it, unwrapped to plain values.

Cross-resource rules (login profiles, launch templates, outputs) read a `TerraformGraph`: a plain
snapshot of the module's blocks and references that an adapter builds from its engine's graph.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from keyless.detect.material import is_credential_name
from keyless.detect.userdata import find_credential_writes
from keyless.detect.values import Origin, is_placeholder_value, terraform_origin
from keyless.findings import Finding, Path, dotted
from keyless.rules import compute_finding, key_material_findings, simple_finding


@dataclass(frozen=True)
class Block:
    kind: str  # resource, data, provider, module, output, variable, locals
    type: str  # resource/data type, provider name; "module" or "output" otherwise
    name: str  # the block's own name (resource name, output name)
    address: str
    config: Mapping[str, Any]
    scope: str = ""  # which module instance the block belongs to
    file: str = ""  # absolute path of the file the block is written in, when known

    @property
    def local_address(self) -> str:
        return f"{self.type}.{self.name}"


@dataclass
class TerraformGraph:
    """Blocks and references of a Terraform tree, with indexes built on first use.

    A checkov graph of a monorepo holds tens of thousands of blocks, and every resource is looked
    up: linear scans here made checkov with keyless quadratic in the size of the tree.
    """

    blocks: list[Block] = field(default_factory=list)
    edges: list[tuple[int, int, str]] = field(default_factory=list)

    @cached_property
    def _by_address(self) -> dict[str, int]:
        index: dict[str, int] = {}
        for i, block in enumerate(self.blocks):
            if block.kind == "resource":
                index.setdefault(block.address, i)
        return index

    @cached_property
    def _outgoing(self) -> dict[int, list[tuple[int, str]]]:
        out: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for src, dst, label in self.edges:
            out[src].append((dst, label))
        return out

    @cached_property
    def _incoming(self) -> dict[int, list[int]]:
        into: dict[int, list[int]] = defaultdict(list)
        for src, dst, _ in self.edges:
            into[dst].append(src)
        return into

    @cached_property
    def _by_scope(self) -> dict[str, list[Block]]:
        scopes: dict[str, list[Block]] = defaultdict(list)
        for block in self.blocks:
            scopes[block.scope].append(block)
        return scopes

    def index_of(self, address: str) -> int | None:
        return self._by_address.get(address)

    def targets(self, source: int, label_prefix: str = "") -> Iterator[Block]:
        for dst, label in self._outgoing.get(source, ()):
            if label.startswith(label_prefix):
                yield self.blocks[dst]

    def target_indexes(self, source: int, label_prefix: str = "") -> Iterator[int]:
        for dst, label in self._outgoing.get(source, ()):
            if label.startswith(label_prefix):
                yield dst

    def sources(self, target: int) -> Iterator[Block]:
        for src in self._incoming.get(target, ()):
            yield self.blocks[src]

    def in_scope(self, scope: str) -> list[Block]:
        """The blocks of one module instance."""
        return self._by_scope.get(scope, [])

    @cached_property
    def _files(self) -> list[str]:
        return sorted({b.file for b in self.blocks if b.file}, key=len)

    @cached_property
    def _tails(self) -> dict[str, str | None]:
        return {}

    @cached_property
    def _file_set(self) -> set[str]:
        return set(self._files)

    def file_ending_with(self, tail: str) -> str | None:
        """The file a root-relative path names; the shortest match, as deeper ones belong to modules.

        Once one tail is matched the root is known, and later lookups are a set membership test.
        """
        if tail not in self._tails:
            root = self._tails.get("")
            if root is not None and root + tail in self._file_set:
                self._tails[tail] = root + tail
            else:
                match = next((f for f in self._files if f.endswith(tail)), None)
                self._tails[tail] = match
                if match is not None and root is None:
                    self._tails[""] = match[: len(match) - len(tail)]
        return self._tails[tail]


def unwrap(value: Any) -> Any:
    """Undo checkov's list-wrapping of every attribute (`{"a": ["x"]}` -> `{"a": "x"}`)."""
    if isinstance(value, Mapping):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        if len(value) == 1:
            return unwrap(value[0])
        return [unwrap(v) for v in value]
    return value


def _blocks(config: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    """A nested block as a list, whether it appears once (a dict) or repeatedly (a list)."""
    value = config.get(key)
    if isinstance(value, Mapping):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, Mapping)]
    return []


def _present(value: Any) -> bool:
    return value not in (None, "", [], {}) and not (isinstance(value, list) and all(v in (None, "") for v in value))


# --- rule 1 and 2 ------------------------------------------------------------------------------


def _access_key(block: Block, graph: TerraformGraph | None) -> list[Finding]:
    findings = []
    status = block.config.get("status")
    if not (isinstance(status, str) and status.strip().lower() == "inactive"):
        state = f"status = {status}" if isinstance(status, str) and status else "status not set, so Active"
        findings.append(simple_finding("iam-access-key", block.address, ("status",),
                                       f"{block.address} creates an active long-term IAM access key ({state})"))
    profile = _login_profile_for(block, graph)
    if profile is not None:
        findings.append(simple_finding(
            "human-user-access-key", block.address, ("user",),
            f"{block.address} creates an access key for IAM user {block.config.get('user')!s} (user), "
            f"who also has console access through {profile}",
        ))
    return findings


def _login_profile_for(block: Block, graph: TerraformGraph | None) -> str | None:
    if graph is None:
        return None
    user = block.config.get("user")
    me = graph.index_of(block.address)
    my_users = set(graph.target_indexes(me, "user")) if me is not None else set()
    for other in graph.in_scope(block.scope):
        if other.kind != "resource" or other.type != "aws_iam_user_login_profile":
            continue
        same_value = isinstance(user, str) and user and other.config.get("user") == user
        index = graph.index_of(other.address)
        same_target = bool(my_users) and index is not None and not my_users.isdisjoint(graph.target_indexes(index, "user"))
        if same_value or same_target:
            return other.address
    return None


# --- rule 5 ------------------------------------------------------------------------------------


def _provider(block: Block) -> list[Finding]:
    if block.type != "aws":
        return []
    keys = [k for k in ("access_key", "secret_key", "token") if _present(block.config.get(k))]
    if not keys:
        return []
    return [simple_finding("provider-static-credentials", block.address, (keys[0],),
                           f'provider "aws" sets {", ".join(keys)} in code')]


# --- rules 6 and 7 -----------------------------------------------------------------------------

INSTANCE_TYPES = ("aws_instance", "aws_spot_instance_request")
LAUNCH_TYPES = ("aws_launch_template", "aws_launch_configuration")


def _has_profile(config: Mapping[str, Any]) -> bool:
    profile = config.get("iam_instance_profile")
    if isinstance(profile, Mapping):
        return _present(profile.get("name")) or _present(profile.get("arn"))
    return _present(profile)


def _instance(block: Block, graph: TerraformGraph | None) -> list[Finding]:
    if _has_profile(block.config):
        return []
    if _blocks(block.config, "launch_template"):
        me = graph.index_of(block.address) if graph else None
        # Only a launch template resource of this module can be read; a data source lookup, a template
        # in another module or one chosen by variable gets the benefit of the doubt.
        templates = [t for t in graph.targets(me, "launch_template")
                     if t.kind == "resource" and t.type == "aws_launch_template"] if graph and me is not None else []
        if not templates or any(_has_profile(t.config) for t in templates):
            return []
        what = (f"{block.address} has no instance profile (iam_instance_profile), and neither has its "
                f"launch template {templates[0].address} (launch_template)")
        where: tuple[str, ...] = ("launch_template",)
    else:
        what = f"{block.address} has no instance profile (iam_instance_profile)"
        where = ("iam_instance_profile",)
    return [simple_finding("ec2-instance-without-profile", block.address, where, what)]


def _launch(block: Block, graph: TerraformGraph | None) -> list[Finding]:
    if _has_profile(block.config):
        return []
    if block.type == "aws_launch_template" and graph is not None:
        me = graph.index_of(block.address)
        if me is not None and any(s.type == "aws_eks_node_group" for s in graph.sources(me)):
            return []  # EKS node groups supply the node role themselves
    return [simple_finding("launch-template-without-profile", block.address, ("iam_instance_profile",),
                           f"{block.address} has no instance profile (iam_instance_profile)")]


# --- rule 8 ------------------------------------------------------------------------------------

USER_DATA_TYPES = (*INSTANCE_TYPES, *LAUNCH_TYPES)
ENVIRONMENT_TYPES = (
    "aws_lambda_function",
    "aws_ecs_task_definition",
    "aws_batch_job_definition",
    "aws_codebuild_project",
    "aws_elastic_beanstalk_environment",
    "aws_elastic_beanstalk_configuration_template",
    "aws_apprunner_service",
)
COMPUTE_TYPES = (*USER_DATA_TYPES, *ENVIRONMENT_TYPES)
_SECRET_VALUE_TYPES = ("PARAMETER_STORE", "SECRETS_MANAGER")


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _name_value_list(items: Any, path: Path) -> Iterator[tuple[Path, str, Any]]:
    if isinstance(items, Mapping):
        items = [items]
    if not isinstance(items, list):
        return
    for i, item in enumerate(items):
        if isinstance(item, Mapping) and isinstance(item.get("name"), str):
            if str(item.get("type", "")).upper() in _SECRET_VALUE_TYPES:
                continue
            yield (*path, i, "value"), item["name"], item.get("value")


def _map(items: Any, path: Path) -> Iterator[tuple[Path, str, Any]]:
    if isinstance(items, Mapping):
        for name, value in items.items():
            if isinstance(name, str) and not name.startswith("__"):
                yield (*path, name), name, value


def environment_variables(block: Block) -> Iterator[tuple[Path, str, Any]]:
    """(path, name, value) of every environment variable a compute resource defines."""
    c = block.config
    if block.type == "aws_lambda_function":
        for env in _blocks(c, "environment"):
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
        for env in _blocks(c, "environment"):
            yield from _name_value_list(env.get("environment_variable"), ("environment", "environment_variable"))
    elif block.type.startswith("aws_elastic_beanstalk_"):
        for i, setting in enumerate(_blocks(c, "setting")):
            if setting.get("namespace") == "aws:elasticbeanstalk:application:environment":
                yield ("setting", i, "value"), str(setting.get("name", "")), setting.get("value")
    elif block.type == "aws_apprunner_service":
        for source in _blocks(c, "source_configuration"):
            for repo in _blocks(source, "image_repository"):
                for image in _blocks(repo, "image_configuration"):
                    yield from _map(image.get("runtime_environment_variables"),
                                    ("source_configuration", "image_repository", "image_configuration",
                                     "runtime_environment_variables"))
            for repo in _blocks(source, "code_repository"):
                for code in _blocks(repo, "code_configuration"):
                    for values in _blocks(code, "code_configuration_values"):
                        yield from _map(values.get("runtime_environment_variables"),
                                        ("source_configuration", "code_repository", "code_configuration",
                                         "code_configuration_values", "runtime_environment_variables"))


_ACCESS_KEY_SECRET = re.compile(r"aws_iam_access_key\.([A-Za-z0-9_-]+)(?:\[[^\]]*\])?\.(secret|ses_smtp_password_v4)\b")


def _strings(value: Any, path: Path = ()) -> Iterator[tuple[Path, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            if isinstance(k, str) and not k.startswith("__"):
                yield from _strings(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, (*path, i))


_WRAPPED_REFERENCE = re.compile(
    r"^\s*(?:base64encode|base64gzip|trimspace|chomp)\(\s*(local|var)\.([A-Za-z0-9_-]+)\s*\)\s*$")


def _lookup(graph: TerraformGraph, scope: str, kind: str, name: str) -> Any:
    """The value of `local.NAME` (or the default of `var.NAME`) in one module instance, or None."""
    for other in graph.in_scope(scope):
        if other.name != name:
            continue
        if kind == "local" and other.kind == "locals":
            return other.config
        if kind == "var" and other.kind == "variable" and isinstance(other.config, Mapping):
            return other.config.get("default")
    return None


def user_data_texts(block: Block, graph: TerraformGraph | None) -> list[tuple[str, str]]:
    """(attribute, text) of a block's user data, with `base64encode(local.script)` looked up.

    checkov leaves a reference inside base64encode(...) unrendered, so the script itself would be
    invisible to every rule; the local (or variable default) it names is in the graph.
    """
    texts = []
    for attr in ("user_data", "user_data_base64"):
        data = block.config.get(attr)
        if not isinstance(data, str):
            continue
        texts.append((attr, data))
        m = _WRAPPED_REFERENCE.match(data)
        resolved = _lookup(graph, block.scope, *m.groups()) if m and graph is not None else None
        if isinstance(resolved, str):
            texts.append((attr, resolved))
    return texts


# An interpolation checkov could not render: the value is assembled at plan time from outside the code.
_EXTERNAL_INTERPOLATION = re.compile(r"\$\{\s*(?:var|data|module)\.")


def _origin(value: Any) -> Origin:
    origin = terraform_origin(value)
    if origin is Origin.LITERAL and isinstance(value, str) and _EXTERNAL_INTERPOLATION.search(value):
        return Origin.EXTERNAL  # "prefix-${var.key}": the credential part is not written here
    return origin


def _compute(block: Block, graph: TerraformGraph | None = None) -> list[Finding]:
    findings: list[Finding] = []
    flagged: set[Path] = set()
    flagged_texts: set[str] = set()
    for path, name, value in environment_variables(block):
        origin = _origin(value)
        if origin is not Origin.ACCESS_KEY and not (
            origin is Origin.LITERAL and is_credential_name(name) and not is_placeholder_value(name, value)
        ):
            continue
        if origin is Origin.ACCESS_KEY:
            found = _ACCESS_KEY_SECRET.search(str(value))
            what = (f"the {found.group(2)} of an access key" if found else "an access key ID") + \
                f" is passed to {block.address} as {name}"
        else:
            what = f"{block.address} sets credential variable {name}"
        findings.append(compute_finding(block.address, path, f"{what} at {dotted(path)}"))
        flagged.add(path)
        flagged_texts.add(str(value))
    if block.type in USER_DATA_TYPES:
        for attr, data in user_data_texts(block, graph):
            if (attr,) in flagged:
                continue
            for write in find_credential_writes(data)[:1]:
                findings.append(compute_finding(
                    block.address, (attr,),
                    f"{attr} of {block.address} writes {write.variable} ({write.how}) with a hardcoded value"))
                flagged.add((attr,))
    for path, text in _strings(block.config):
        if path not in flagged and text not in flagged_texts and _ACCESS_KEY_SECRET.search(text):
            findings.append(compute_finding(block.address, path,
                                            f"an access key secret is passed to {block.address} at {dotted(path)}"))
            flagged.add(path)
    return findings


# --- rule 9 ------------------------------------------------------------------------------------


def _secret_exposure(block: Block, graph: TerraformGraph | None) -> list[Finding]:
    if graph is None:
        return []
    pattern = re.compile(
        rf"aws_iam_access_key\.{re.escape(block.name)}(?:\[[^\]]*\])?\.(?:secret|ses_smtp_password_v4)\b")
    leaks = []
    for other in graph.in_scope(block.scope):
        if other.kind == "output":
            prefix, note = f"output.{other.name}", " (an output: it is in the state, sensitive or not)"
        elif other.kind == "resource" and other.type == "aws_ssm_parameter" \
                and str(other.config.get("type", "String")) != "SecureString":
            prefix, note = other.address, f" (a plain {other.config.get('type', 'String')} SSM parameter)"
        else:
            continue
        paths = [path for path, text in _strings(other.config) if pattern.search(text)]
        if paths:
            leaks.append(f"{prefix}.{dotted(paths[0])}{note}")
    if not leaks:
        return []
    return [simple_finding("access-key-secret-exposed", block.address, (),
                           f"the secret of {block.address} leaves the secrets store through {', '.join(leaks)}")]


# --- entry point -------------------------------------------------------------------------------


def scan_block(block: Block, graph: TerraformGraph | None = None) -> list[Finding]:
    """All findings of every rule for one Terraform block (resource, data, provider or module call)."""
    findings = key_material_findings(block.address, block.config)
    for attr, text in user_data_texts(block, graph):
        if text != block.config.get(attr):  # a script looked up behind base64encode(local.x)
            findings += key_material_findings(block.address, {attr: text})
    if block.kind == "provider":
        findings += _provider(block)
    elif block.kind == "resource":
        if block.type == "aws_iam_access_key":
            findings += _access_key(block, graph)
            findings += _secret_exposure(block, graph)
        if block.type in INSTANCE_TYPES:
            findings += _instance(block, graph)
        if block.type in LAUNCH_TYPES:
            findings += _launch(block, graph)
        if block.type in COMPUTE_TYPES:
            findings += _compute(block, graph)
    return findings


# Which blocks each rule's checkov checks run on.
SCOPE: dict[str, dict[str, tuple[str, ...]]] = {
    "iam-access-key": {"resource": ("aws_iam_access_key",)},
    "human-user-access-key": {"resource": ("aws_iam_access_key",)},
    "hardcoded-access-key-id": {"resource": ("*",), "data": ("*",), "provider": ("*",), "module": ("module",)},
    "hardcoded-secret-access-key": {"resource": ("*",), "data": ("*",), "provider": ("*",), "module": ("module",)},
    "provider-static-credentials": {"provider": ("aws",)},
    "ec2-instance-without-profile": {"resource": INSTANCE_TYPES},
    "launch-template-without-profile": {"resource": LAUNCH_TYPES},
    "credentials-in-compute": {"resource": COMPUTE_TYPES},
    "access-key-secret-exposed": {"resource": ("aws_iam_access_key",)},
}
