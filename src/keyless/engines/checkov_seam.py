"""Everything keyless takes from checkov's internals, in one place.

checkov hands a check one entity's rendered configuration and a root-relative file name, nothing
more. keyless needs more, and takes it here:

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

5. For the audit, which runs only keyless's checks: checkov's check registries (`checks` and
   `wildcard_checks` per entity type), emptied of every other check for the run
   (`registries_holding_only`). A run filter would skip them too, but only after asking it about
   each check on each entity.

6. For the `keyless audit` command only: checkov's Terraform check packages
   (`checkov.terraform.checks.resource` and its siblings), made importable without running their
   `__init__`, which imports every built-in Terraform check (about a second and a half of CPU) that
   the audit never runs (`terraform_without_builtin_checks`).

7. For the audit's runs only: four pure functions of checkov's Terraform variable rendering,
   remembered for the run (`remembered_rendering`). On a tree of `for_each` modules
   (terraform-aws-iam) rendering is nearly all of checkov's time, and it calls them again and
   again on the same strings: `evaluate` (a fresh asteval interpreter per call,
   `evaluate_terraform.evaluate`), `find_brackets_pairs`, `find_var_blocks` (as
   `evaluate_terraform` calls them), and bc-jsonpath-ng's parser, which
   rebuilds its LR tables (about 50 ms) for every path it parses. Their results are the same;
   mutable ones are handed out as copies. `keyless checkov` leaves checkov's rendering as it is,
   since checkov's own checks read it there.

It also adds one module loader: offline (`--skip-download`) checkov reads only local module sources and
ignores what `terraform init` fetched into `.terraform/modules`; the loader hands checkov that folder
for a registry or git source listed in `.terraform/modules/modules.json` (`initialised_module_dir`),
so those modules are expanded like local ones (for checkov's own checks too, as Terraform would).

And two things about checkov's logging (`checkov.logging_init`): it sets the root logger to DEBUG
and writes every record, formatted, into an in-memory buffer (`log_stream`) that only `--support`
reads, through `checkov.common.logger_streams.logger_streams`. keyless masks that buffer when it
is read rather than every record as it is written (`install_log_masking`), and `keyless checkov`
turns the unread buffer off (`skip_unread_debug_log`): most of checkov's cost per check run is
formatting debug records into it.

`tests/engine/test_checkov_seam.py` drives a real checkov run through each of these, so a checkov
release that moves one fails a test instead of silently finding nothing.
"""

from __future__ import annotations

import fnmatch
import importlib.machinery
import importlib.util
import json
import logging
import os
import sys
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
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


def install_initialised_module_loader() -> None:
    """Installed with keyless's checks (not on import: the audit imports this module before it decides
    which of checkov's Terraform code to load)."""
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



# --- logging -----------------------------------------------------------------------------------


def debug_buffer_handlers() -> list[logging.Handler]:
    """The root logger's handlers writing into checkov's in-memory debug buffer."""
    from checkov.logging_init import log_stream

    return [h for h in logging.getLogger().handlers if getattr(h, "stream", None) is log_stream]


def install_log_masking() -> None:
    """Mask what logging writes out, and checkov's debug buffer when `--support` reads it."""
    from keyless.engines import logmask

    logmask.install(unread=debug_buffer_handlers())
    mask_debug_buffer_when_read(logmask.mask_text)
    if debug_log_is_read(support=False):
        # LOG_LEVEL=DEBUG also makes checkov's expression evaluator (asteval) print the expressions it
        # cannot evaluate, secrets included, to stderr, not through logging: to the `sys.stderr`
        # asteval bound when it was imported, which plain checkov did before loading keyless.
        logmask.mask_console(stdout=False)
        try:
            import asteval.asteval as evaluator
        except ImportError:  # a checkov that no longer evaluates with asteval
            return
        if not isinstance(evaluator.stderr, logmask.MaskingStream):
            evaluator.stderr = logmask.MaskingStream(evaluator.stderr)


def mask_debug_buffer_when_read(mask: Callable[[str], str]) -> None:
    """Mask every buffer `logger_streams` holds (the main process's and each forked runner's) before
    checkov reads them: printed to stderr, written to files, or handed to the upload."""
    from checkov.common.logger_streams import LoggerStreams

    if getattr(LoggerStreams, "_keyless_masked", False):
        return
    get_streams, print_to_files, print_to_console = (
        LoggerStreams.get_streams, LoggerStreams.print_to_files, LoggerStreams.print_to_console)

    def mask_all(self: Any) -> None:
        for stream in get_streams(self).values():
            text = stream.getvalue()
            masked = mask(text)
            if masked != text:
                stream.seek(0)
                stream.truncate(0)
                stream.write(masked)

    def masked(read: Callable[..., Any]) -> Callable[..., Any]:
        def read_masked(self: Any, *args: Any, **kwargs: Any) -> Any:
            mask_all(self)
            return read(self, *args, **kwargs)
        return read_masked

    LoggerStreams.get_streams = masked(get_streams)  # type: ignore[method-assign]
    LoggerStreams.print_to_files = masked(print_to_files)  # type: ignore[method-assign]
    LoggerStreams.print_to_console = masked(print_to_console)  # type: ignore[method-assign]
    LoggerStreams._keyless_masked = True  # type: ignore[attr-defined]


def debug_log_is_read(support: bool) -> bool:
    """Whether anything will read checkov's debug records: `--support`, or LOG_LEVEL=DEBUG on stderr."""
    return support or os.getenv("LOG_LEVEL", "WARNING").upper() == "DEBUG"


def skip_unread_debug_log(support: bool) -> bool:
    """Raise the root logger from DEBUG to the level of checkov's console handler, unless the debug
    records are read; then records below it are never created. Returns whether it did."""
    from checkov.logging_init import LOG_LEVEL

    if debug_log_is_read(support):
        return False
    level = logging.getLevelName(LOG_LEVEL)
    logging.getLogger().setLevel(level if isinstance(level, int) else logging.WARNING)
    return True


@contextmanager
def quiet_debug_log() -> Iterator[None]:
    """For runs in process that nobody asked to debug: no debug record created while inside."""
    root = logging.getLogger()
    level = root.level
    skipped = skip_unread_debug_log(support=False)
    try:
        yield
    finally:
        if skipped:
            root.setLevel(level)


# --- check registries ----------------------------------------------------------------------------


def _registries(frameworks: Collection[str]) -> list[Any]:
    found = []
    if "terraform" in frameworks:
        from checkov.terraform.checks.data.registry import data_registry
        from checkov.terraform.checks.module.registry import module_registry
        from checkov.terraform.checks.provider.registry import provider_registry
        from checkov.terraform.checks.resource.registry import resource_registry

        found += [resource_registry, data_registry, provider_registry, module_registry]
    if "cloudformation" in frameworks:
        from checkov.cloudformation.checks.resource.registry import cfn_registry

        found.append(cfn_registry)
    return found


@contextmanager
def registries_holding_only(check_ids: Collection[str], frameworks: Collection[str]) -> Iterator[None]:
    """checkov's check registries hold only the given checks (IDs or patterns) while inside; then
    everything again, plus any check registered meanwhile (the external checks load during a run)."""
    def wanted(check: Any) -> bool:
        return any(fnmatch.fnmatchcase(check.id, pattern) for pattern in check_ids)

    saved = []
    for registry in _registries(frameworks):
        saved.append((registry, registry.checks, registry.wildcard_checks))
        for attribute in ("checks", "wildcard_checks"):
            kept = {entity: [c for c in checks if wanted(c)] for entity, checks in getattr(registry, attribute).items()}
            setattr(registry, attribute, defaultdict(list, {entity: checks for entity, checks in kept.items() if checks}))
    try:
        yield
    finally:
        for registry, checks, wildcard_checks in saved:
            for attribute, original in (("checks", checks), ("wildcard_checks", wildcard_checks)):
                for entity, added in getattr(registry, attribute).items():
                    known = {c.id for c in original[entity]}
                    original[entity].extend(c for c in added if c.id not in known)
                setattr(registry, attribute, original)


# --- remembered rendering (the audit) --------------------------------------------------------------


@contextmanager
def remembered_rendering() -> Iterator[dict[str, int]]:
    """While inside, checkov's Terraform rendering remembers what its pure helpers returned (item 7).

    Yields counters of calls answered from memory (a test checks that the helpers are the ones
    checkov calls). Everything is put back on leaving; if checkov moved a helper, that one is left
    as it is (the run is slower, never different).
    """
    hits = {"evaluate": 0, "find_brackets_pairs": 0, "find_var_blocks": 0, "jsonpath_parser": 0}
    patches: list[tuple[Any, str, Any]] = []
    try:
        from checkov.terraform.graph_builder.variable_rendering import evaluate_terraform
    except ImportError:
        evaluate_terraform = None
    if evaluate_terraform is not None:
        import copy

        fresh = {  # how each helper's result is handed out again: a new object where callers may change it
            "evaluate": lambda value: value if isinstance(value, _IMMUTABLE) else copy.deepcopy(value),
            "find_brackets_pairs": lambda pairs: [dict(pair) for pair in pairs],
            "find_var_blocks": lambda blocks: [type(b)(b.full_str, b.var_only) for b in blocks],  # callers reverse and edit
        }
        for name, hand_out in fresh.items():
            original = getattr(evaluate_terraform, name, None)
            if callable(original):
                patches.append((evaluate_terraform, name, original))
                setattr(evaluate_terraform, name, _remembered(original, hand_out, hits, name))
    parser_class = _jsonpath_parser_class()
    if parser_class is not None:
        original = parser_class.parse_token_stream
        patches.append((parser_class, "parse_token_stream", original))
        parser_class.parse_token_stream = _remember_parser_tables(hits)
    try:
        yield hits
    finally:
        for owner, name, original in reversed(patches):
            setattr(owner, name, original)


_IMMUTABLE = (str, int, float, bool, type(None))


def _remembered(function: Callable[..., Any], hand_out: Callable[[Any], Any], hits: dict[str, int],
                name: str) -> Callable[..., Any]:
    """`function` remembering its results by arguments. A failure is remembered too (the same string
    fails the same way) and raised again as ValueError: only `evaluate` fails, and its one caller
    (`_try_evaluate`) catches any Exception and falls back. A result holding a set is not remembered:
    a copy of a set may iterate in another order, which would move `for_each` instances."""
    memory: dict[tuple[Any, ...], tuple[bool, Any]] = {}

    def remembered(*args: Any) -> Any:
        try:
            ok, value = memory[args]
            hits[name] += 1
        except KeyError:
            try:
                ok, value = True, function(*args)
            except Exception as error:
                ok, value = False, str(error)
            if ok and _holds_set(value):
                return value
            memory[args] = (ok, value)
        except TypeError:  # an argument that is not hashable: never expected, they are strings
            return function(*args)
        if not ok:
            raise ValueError(value)
        return hand_out(value)

    return remembered


def _holds_set(value: Any) -> bool:
    if isinstance(value, (set, frozenset)):
        return True
    if isinstance(value, dict):
        return any(_holds_set(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_holds_set(v) for v in value)
    return False


def _jsonpath_parser_class() -> Any:
    try:
        from bc_jsonpath_ng import parser
    except ImportError:
        return None
    cls = getattr(parser, "JsonPathParser", None)
    needed = ("IteratorToTokenStream", "logger")
    return cls if cls is not None and hasattr(cls, "parse_token_stream") and all(hasattr(parser, n) for n in needed) else None


def _remember_parser_tables(hits: dict[str, int]) -> Callable[..., Any]:
    """bc-jsonpath-ng builds PLY's LR tables anew for every path it parses ("it doesn't actually take
    that long"): build them once per parser class and start symbol. Its grammar actions keep no
    state on the parser object."""
    import ply.yacc
    from bc_jsonpath_ng import parser

    tables: dict[tuple[type, str, Any], Any] = {}

    def parse_token_stream(self: Any, token_iterator: Any, start_symbol: str = "jsonpath") -> Any:
        key = (type(self), start_symbol, getattr(self, "debug", False))
        built = tables.get(key)
        if built is None:  # the arguments bc-jsonpath-ng passes
            tabmodule = "_".join(["parser", start_symbol, "parsetab"])
            built = tables[key] = ply.yacc.yacc(module=self, debug=key[2], tabmodule=tabmodule,
                                               outputdir=os.path.dirname(parser.__file__), write_tables=0,
                                               start=start_symbol, errorlog=parser.logger)
        else:
            hits["jsonpath_parser"] += 1
        return built.parse(lexer=parser.IteratorToTokenStream(token_iterator))

    return parse_token_stream


# The packages whose `__init__` imports every built-in check of its kind (and nothing else).
_BUILTIN_CHECK_PACKAGES = tuple(f"checkov.terraform.checks.{kind}" for kind in ("resource", "data", "provider", "module"))


def terraform_without_builtin_checks() -> bool:
    """Register checkov's Terraform check packages as packages whose `__init__` has not run, so the
    runner and the check bases (submodules of them) import without loading checkov's built-in
    Terraform checks. For a process that runs keyless's checks only (`keyless audit`); a no-op once
    anything imported checkov's Terraform code. Returns whether it did."""
    if "checkov.terraform" in sys.modules:
        return False
    try:
        checkov = importlib.util.find_spec("checkov")
    except ImportError:
        return False
    if checkov is None or not checkov.submodule_search_locations:
        return False
    checks = os.path.join(list(checkov.submodule_search_locations)[0], "terraform", "checks")
    # found without importing their parents: `checkov.terraform`'s own __init__ imports these packages
    specs = [(name, importlib.machinery.PathFinder.find_spec(name, [checks])) for name in _BUILTIN_CHECK_PACKAGES]
    if any(spec is None or not spec.submodule_search_locations for _, spec in specs):
        return False
    for name, spec in specs:
        sys.modules[name] = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]  # a package whose code never runs
    return True
