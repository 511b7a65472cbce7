"""The `keyless` command: the catalog, the installed checks folder, checkov with the pack, audits."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from keyless.catalog import AWS_PAGE, RULES


def _rules(args: argparse.Namespace) -> int:
    rows = [
        {
            "n": r.number, "slug": r.slug, "checkov_id": r.checkov_id, "cfn_lint_id": r.cfn_lint_id,
            "severity": r.severity, "title": r.title, "recommendation": r.recommendation.title,
        }
        for r in RULES
    ]
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'checkov':<14} {'cfn-lint':<9} {'severity':<9} slug")
    for row in rows:
        print(f"{row['checkov_id']:<14} {row['cfn_lint_id'] or '-':<9} {row['severity']:<9} {row['slug']}")
    print(f"\nEach rule maps to one recommendation of {AWS_PAGE}")
    return 0


def _checks_dir(args: argparse.Namespace) -> int:
    from keyless.engines import CHECKS_DIR

    print(CHECKS_DIR)
    return 0


def _checkov(argv: Sequence[str]) -> int:
    """Run checkov with the keyless checks loaded and no network access.

    Unlike plain checkov, debug records are not created unless something reads them (`--support`, or
    LOG_LEVEL=DEBUG): checkov formats every one into a buffer only `--support` reads, and that is
    most of what a check run costs it.
    """
    from keyless.engines import CHECKS_DIR, checkov_seam, logmask

    logmask.mask_console()  # checkov's expression evaluator prints failing expressions to stderr directly
    checkov_seam.install_log_masking()  # before checkov parses anything: its debug log quotes code
    import keyless.engines.checkov_sarif  # noqa: F401  (importing it makes checkov's SARIF valid for keyless findings)
    from keyless.engines.checkov_codeblocks import install_code_block_masking

    install_code_block_masking()  # before checkov forks a worker per framework (its secrets scan loads no keyless)
    args = list(argv)
    extra = ["--external-checks-dir", CHECKS_DIR]
    if "--skip-download" not in args:
        extra.append("--skip-download")
    from checkov.main import Checkov

    from keyless.engines.checkov_sarif import install_sarif_repair

    install_sarif_repair()  # makes checkov's SARIF valid for keyless findings
    from keyless.engines import collector

    collector.freeze_imports()  # checkov.main has imported every runner (acts in the program's process only)
    checkov = Checkov(argv=[*args, *extra])  # parses the arguments and config files
    checkov_seam.skip_unread_debug_log(bool(getattr(checkov.config, "support", False)))
    return int(checkov.run() or 0)


def main(argv: Sequence[str] | None = None) -> int:
    command_line = argv is None  # the `keyless` program itself, not a call from Python
    argv = list(sys.argv[1:] if argv is None else argv)
    auditing = argv[:1] == ["audit"] and argv[1:2] != ["merge"]
    if command_line and (auditing or argv[:1] == ["checkov"]):
        from keyless.engines import collector

        collector.scan_thresholds()  # the program's own process only (engines/collector.py)
    if command_line and auditing:
        from keyless.engines import checkov_seam

        # The audit runs keyless's checks only: checkov's built-in Terraform checks need not load.
        # Only in the program's own process: a Python caller may run checkov's checks afterwards.
        checkov_seam.terraform_without_builtin_checks()
    if argv[:1] == ["checkov"]:
        return _checkov(argv[1:])
    if argv[:1] == ["cfn-lint"]:
        from keyless.cfn_lint_command import main as cfn_lint_templates

        return cfn_lint_templates(argv[1:])
    parser = argparse.ArgumentParser(prog="keyless", description=__doc__)
    try:
        from keyless.audit.cli import _Version

        parser.add_argument("--version", action=_Version, help="print the versions of keyless, checkov and cfn-lint")
    except ImportError:  # like the audit command itself, optional
        pass
    commands = parser.add_subparsers(dest="command", required=True)
    rules = commands.add_parser("rules", help="list the rule catalog")
    rules.add_argument("--format", choices=("table", "json"), default="table")
    rules.set_defaults(func=_rules)
    checks = commands.add_parser("checks-dir", help="print the installed checks folder, for --external-checks-dir")
    checks.set_defaults(func=_checks_dir)
    commands.add_parser("checkov", help="run checkov with the keyless checks loaded (arguments pass through)")
    commands.add_parser("cfn-lint", help="run cfn-lint with the keyless rules on the CloudFormation templates among "
                                         "the files, folders and globs given (options pass through)")
    _add_optional_commands(commands)
    args = parser.parse_args(argv)
    return int(args.func(args))


def _add_optional_commands(commands: argparse._SubParsersAction) -> None:
    """Commands that live in their own modules register themselves here."""
    for module in ("keyless.explain", "keyless.audit.cli"):
        try:
            mod = __import__(module, fromlist=["add_parser"])
        except ImportError as error:
            if os.environ.get("KEYLESS_DEBUG"):
                print(f"keyless: {module} unavailable: {error}", file=sys.stderr)
            continue
        mod.add_parser(commands)
