"""Everything keyless takes from checkov's internals, in one place.

checkov hands a check one entity's rendered configuration and a root-relative file name, nothing
more. keyless needs three things checkov does not pass, and takes them here:

1. Where a Terraform entity lives: the absolute file and the module instance, from the
   `TFDefinitionKey` (`full_file_path`) of the runner's `run_block` frame. An address alone does not
   identify a block: two roots may declare the same one, and a module called from both is
   instantiated twice under one address.
2. The template a CloudFormation check is judging: the runner's `check_definitions` frame holds its
   absolute path and checkov's own parse of it (cross-resource rules need the whole template).
3. The blocks and references of checkov's Terraform graph (`check.graph`, a rustworkx graph whose
   vertices are (type, attributes) pairs).
4. The CloudFormation runner's parsed templates, to expand `Fn::ForEach` loops in them: checkov has
   no entity for a loop's resources otherwise. The runner loads external checks right after parsing
   and before it builds its contexts and graph, so the checks' loading is the one moment to do it.

It also adds one module loader: offline (`--skip-download`) checkov reads only local module sources and
ignores what `terraform init` fetched into `.terraform/modules`; the loader hands checkov that folder
for a registry or git source listed in `.terraform/modules/modules.json` (`initialised_module_dir`),
so those modules are expanded like local ones (for checkov's own checks too, as Terraform would).

`tests/engine/test_checkov_seam.py` drives a real checkov run through each of these, so a checkov
release that moves one fails a test instead of silently finding nothing.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from keyless.lang.terraform import Block, TerraformModel, unwrap
from keyless.lang.terraform_modules import initialised_module_dir


@dataclass(frozen=True)
class TerraformLocation:
    file: str  # absolute path of the file the entity is written in
    module: str  # the module instance ("" for a root module's own blocks)
    tree: str = ""  # the folder checkov scans


def terraform_location() -> TerraformLocation | None:
    """Where the Terraform entity being checked lives (None outside checkov's Terraform runner)."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "run_block" and "full_file_path" in frame.f_locals:
            key = frame.f_locals["full_file_path"]
            file = getattr(key, "file_path", key)
            tree = frame.f_locals.get("root_folder")
            return TerraformLocation(str(file), module_key(getattr(key, "tf_source_modules", None)),
                                     str(tree) if tree else "")
        frame = frame.f_back
    return None


def terraform_json_graph() -> Any:
    """The graph of checkov's `terraform_json` runner (`.tf.json`), which, unlike the Terraform runner,
    does not hand it to its checks: it keeps it behind its graph manager."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "run_block" and "full_file_path" in frame.f_locals:
            manager = getattr(frame.f_locals.get("self"), "graph_manager", None)
            try:
                return manager.get_reader_endpoint() if manager is not None else None
            except Exception:  # a connector without an in-memory graph: no cross-block lookups
                return None
        frame = frame.f_back
    return None


def cloudformation_template() -> tuple[str | None, Any]:
    """The absolute path of the template being checked, and checkov's own parse of it."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "check_definitions" and "file_abs_path" in frame.f_locals:
            return str(frame.f_locals["file_abs_path"]), frame.f_locals.get("definition")
        frame = frame.f_back
    return None, None


def expand_cloudformation_loops() -> None:
    """Expand `Fn::ForEach` in the templates of the CloudFormation runner loading keyless's checks.

    checkov skips a loop (its value has no `Type`), so neither keyless nor any built-in check would
    see the resources it declares. Expanded here, they are resources like any other, on the lines of
    the loop's body, as cfn-lint reports them.
    """
    from keyless.lang.cfn_foreach import expand, has_loops

    frame = sys._getframe(1)
    while frame is not None:
        runner = frame.f_locals.get("self")
        if frame.f_code.co_name == "run" and type(runner).__module__ == "checkov.cloudformation.runner":
            definitions = getattr(runner, "definitions", None)
            for template in (definitions.values() if isinstance(definitions, dict) else ()):
                if isinstance(template, dict) and has_loops(template):
                    try:
                        resources = expand(template)["Resources"]
                    except Exception:  # never break checkov's run over a loop
                        continue
                    template[_key_like(template, "Resources")] = resources
            return
        frame = frame.f_back


def _key_like(mapping: dict[Any, Any], key: str) -> Any:
    """The mapping's own key object (checkov keys sections with its string nodes)."""
    return next((k for k in mapping if k == key), key)


def module_key(module: Any) -> str:
    """One text for a module instance, whether checkov holds it as a TFModule or as its dict."""
    if not module:
        return ""
    if not isinstance(module, Mapping):
        module = dict(module)  # TFModule iterates as (field, value) pairs, nested modules as dicts
    return json.dumps(module, sort_keys=True, default=str)


def terraform_model(graph: Any) -> TerraformModel | None:
    """keyless's model of checkov's graph, built once per graph (all checks of a run share it)."""
    global _last_model
    if graph is None or not hasattr(graph, "node_indices"):
        return None
    if _last_model[0] is not graph:
        _last_model = (graph, _copy(graph))
    return _last_model[1]


_last_model: tuple[Any, TerraformModel | None] = (None, None)


def _copy(graph: Any) -> TerraformModel:
    model = TerraformModel()
    position: dict[int, int] = {}
    for index in graph.node_indices():
        attrs = graph[index][1]
        kind = attrs.get("block_type_", "")
        config = attrs.get("config_") or {}
        name = str(attrs.get("block_name_", ""))
        if kind in ("resource", "data") and "." in name:
            type_, _, short = name.partition(".")
            inner = config.get(type_, {}).get(short, {}) if isinstance(config, Mapping) else {}
        else:
            type_, short = kind, name
            inner = config.get(name, {}) if isinstance(config, Mapping) else {}
        position[index] = len(model.blocks)
        model.blocks.append(Block(
            kind=kind, type=type_, name=short, address=str(attrs.get("__address__", name)),
            rendered=unwrap(inner), file=str(attrs.get("file_path_", "")),
            module=module_key(attrs.get("source_module_object_")), lines=_lines(inner),
        ))
    for src, dst in graph.edge_list():
        if src in position and dst in position:
            label = (graph.get_edge_data(src, dst) or {}).get("label", "")
            model.edges.append((position[src], position[dst], str(label)))
    return model


def _lines(config: Any) -> tuple[int, int]:
    if not isinstance(config, Mapping):
        return 0, 0
    start, end = config.get("__start_line__"), config.get("__end_line__")
    if start is None:  # checkov's terraform_json framework (.tf.json) spells them as CloudFormation does
        start, end = config.get("__startline__"), config.get("__endline__")
    return (start, end) if isinstance(start, int) and isinstance(end, int) else (0, 0)


def _install_initialised_module_loader() -> None:
    try:
        from checkov.terraform.module_loading.content import ModuleContent
        from checkov.terraform.module_loading.loader import ModuleLoader
    except ImportError:  # a checkov without module loaders: nothing to add
        return

    class InitialisedModuleLoader(ModuleLoader):  # type: ignore[misc]
        """A registry or git source that `terraform init` already fetched into `.terraform/modules`."""

        def __init__(self) -> None:
            super().__init__()
            self.is_external = False  # runs offline, like the local path loader

        def discover(self, module_params: Any) -> None:
            pass

        def _is_matching_loader(self, module_params: Any) -> bool:
            source = str(module_params.module_source or "")
            if source.startswith(("./", "../", "/")):
                return False
            found = initialised_module_dir(module_params.current_dir, source, module_params.version)
            module_params.keyless_initialised_dir = found
            return found is not None

        def _find_module_path(self, module_params: Any) -> str:
            return str(getattr(module_params, "keyless_initialised_dir", None) or "")

        def _load_module(self, module_params: Any) -> Any:
            found = getattr(module_params, "keyless_initialised_dir", None)
            if not found:
                raise FileNotFoundError(module_params.module_source)
            return ModuleContent(found)

    InitialisedModuleLoader()  # registers itself (once: the registry compares loaders by type)


_install_initialised_module_loader()
