"""The engine layer: running the real engines in process with the keyless pack loaded.

Its public functions are what the audit and the tests use: a checkov or cfn-lint process costs
seconds of start-up, and cfn-lint's rule collection is worth building once. The adapters beside
this module turn keyless rules into checkov checks (`checkov_adapter`, with everything taken from
checkov's internals in `checkov_seam`) and cfn-lint rules (`cfn_lint_adapter`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import keyless.checks
from keyless.catalog import RULES
from keyless.findings import Finding

CHECKS_DIR = os.path.dirname(os.path.abspath(keyless.checks.__file__))
KEYLESS_CHECK_IDS = [r.checkov_id for r in RULES]
_REGISTERED: set[str] = set()  # frameworks whose keyless checks this process registered for lean runs


def run_checkov(
    root: str | None = None,
    frameworks: Sequence[str] = ("terraform", "cloudformation"),
    checks: Iterable[str] | None = None,
    files: list[str] | None = None,
    excluded_paths: Sequence[str] = (),
    lean: bool = False,
) -> list[Any]:
    """checkov's reports for a folder (or files), keyless checks only unless `checks` says otherwise.

    lean (the audit): the keyless checks of these frameworks are registered directly (not loaded from
    the checks folder, which registers both frameworks'), checkov's registries hold only the checks
    run, no debug record is created (nothing reads them), and checkov's Terraform rendering
    remembers what its pure helpers returned (`checkov_seam.remembered_rendering`); none of it
    changes a result.
    """
    from checkov.common.runners.runner_registry import RunnerRegistry
    from checkov.runner_filter import RunnerFilter

    wanted = list(KEYLESS_CHECK_IDS if checks is None else checks)
    registry = RunnerRegistry(
        "", RunnerFilter(framework=list(frameworks), checks=wanted, show_progress_bar=False,
                         excluded_paths=list(excluded_paths) or None),
        *(_runner(f)() for f in frameworks),
    )
    logging.getLogger("checkov").setLevel(logging.ERROR)
    if not lean:
        return registry.run(root_folder=root, files=files, external_checks_dir=[CHECKS_DIR])
    from keyless.engines import checkov_seam
    from keyless.engines.checkov_adapter import register_all

    # checkov's terraform_json runner runs the Terraform check registries
    engines = list(dict.fromkeys("terraform" if f == "terraform_json" else f for f in frameworks))
    unregistered = [f for f in engines if f not in _REGISTERED]
    if unregistered:  # only these frameworks' checks: a Terraform run never loads checkov's CloudFormation checks
        register_all(unregistered)
        _REGISTERED.update(unregistered)
    with (checkov_seam.registries_holding_only(wanted, engines), checkov_seam.quiet_debug_log(),
          checkov_seam.remembered_rendering()):
        return registry.run(root_folder=root, files=files)


def _runner(framework: str) -> Any:
    """One framework's checkov runner class, imported alone (each loads all its built-in checks)."""
    if framework == "terraform":
        from checkov.terraform.runner import Runner
    elif framework == "terraform_json":
        from checkov.terraform_json.runner import TerraformJsonRunner as Runner
    elif framework == "cloudformation":
        from checkov.cloudformation.runner import Runner
    else:
        raise ValueError(f"keyless runs checkov on terraform, terraform_json and cloudformation, not {framework}")
    return Runner


def run_checkov_with_findings(
    root: str, frameworks: Sequence[str] = ("terraform",), excluded_paths: Sequence[str] = (),
) -> tuple[list[Any], list[tuple[Any, list[Finding]]]]:
    """checkov's reports, and each failed record with the keyless findings behind it.

    checkov writes an entity's records right after running its checks, in order, so the findings
    observed for a (check, file, resource) are matched to its records first in, first out: two
    module instances of one file and address keep their own findings.
    """
    from keyless.engines.checkov_adapter import observing_failures

    observed: dict[tuple[str, str, str], list[list[Finding]]] = {}

    def observe(check: Any, conf: dict[str, Any], findings: list[Finding]) -> None:
        scanned_file = str(check.entity_path).rsplit(":", 2)[0]
        address = str(conf.get("__address__", ""))
        observed.setdefault((check.id, scanned_file, address), []).append(list(findings))

    reports: list[Any] = []
    with observing_failures(observe):
        # One framework per registry: with several, checkov runs them in forked workers, out of sight.
        for framework in frameworks:
            reports.extend(run_checkov(root, frameworks=[framework], excluded_paths=excluded_paths, lean=True))
    pairs = []
    for report in reports:
        for record in report.failed_checks:
            queue = observed.get((record.check_id, record.file_path, record.resource))
            pairs.append((record, queue.pop(0) if queue else []))
    return reports, pairs


@lru_cache(maxsize=2)
def cfn_lint_rules(include_builtin: bool = True) -> Any:
    """Built-in and keyless rules as the cfn-lint CLI builds them (`cfnlint.rules.Rules`).

    The legacy `cfnlint.core.get_rules` collection ignores the per-run config, so a template's
    `Metadata: cfn-lint: config: ignore_checks` and `--include-checks` would have no effect.
    """
    from cfnlint.config import _DEFAULT_RULESDIR
    from cfnlint.rules import Rules

    rules = Rules()
    if include_builtin:
        rules.update(Rules.create_from_directory(_DEFAULT_RULESDIR))
    rules.update(Rules.create_from_module("keyless.cfn_lint"))
    return rules


def run_cfn_lint(path: str, include_checks: Sequence[str] = ()) -> list[Any]:
    """cfn-lint's matches for one template file, with the keyless rules appended."""
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner.template.runner import run_template_by_file_path

    args = ["--include-checks", *include_checks] if include_checks else []
    config = ConfigMixIn(args)
    return list(run_template_by_file_path(path, config, cfn_lint_rules(), False))
