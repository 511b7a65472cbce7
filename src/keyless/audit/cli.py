"""`keyless audit [PATH ...]` and `keyless audit merge REPORT.json ...`.

Exit codes: 0 when no finding is at or above --fail-on (or with --soft-fail), 1 when one is, 2 for
usage errors and for runs that did not complete (an engine failed, nothing was found to audit, a
report could not be read or written), 130/143 when stopped by SIGINT/SIGTERM. Files that cannot be
parsed do not change the exit code: the report lists them.

Everything that can be wrong in the command line (options, config file, paths, rule IDs, the
baseline) is checked before the engines are imported, which alone takes seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import traceback
from typing import Any

from keyless.audit import options
from keyless.audit.formats import FORMATS

FAIL_ON = ("any", "low", "medium", "high", "critical", "none")
DEFAULTS: dict[str, Any] = {
    "format": "terminal", "output": None, "output_file": [], "exclude": [], "baseline": None,
    "write_baseline": None, "fail_on": "any", "soft_fail": False, "check": [], "skip_check": [], "jobs": None,
    "no_progress": False, "compact": False,
}
EPILOG = """\
examples:
  keyless audit                                  audit the current folder, terminal report
  keyless audit repo1 repo2 --format html --output audit.html
  keyless audit . --exclude 'legacy/**' --exclude vendor --fail-on high
  keyless audit . --output-file sarif:keyless.sarif --output-file json:keyless.json   terminal report too
  keyless audit . --skip-check CKV_KEYLESS_6,launch-template-without-profile
  keyless audit . --write-baseline keyless-baseline.json      accept what is there today
  keyless audit . --baseline keyless-baseline.json            report only new findings
  keyless audit . --format markdown-summary --output comment.md   a pull-request comment (under 65,536 characters)
  keyless audit merge team-a.json team-b.json --format html --output org.html

config file: --config FILE, else .keyless.yaml in the working directory, else in the one audited
folder; it holds long options by name (skip-check: [CKV_KEYLESS_6]); the command line wins.

exit codes: 0 nothing at or above --fail-on (or --soft-fail), 1 findings at or above it,
2 usage error or incomplete run (engine failure, nothing to audit, unwritable report),
130/143 interrupted by SIGINT/SIGTERM
"""


class _Version(argparse.Action):
    """--version: keyless and the engines it runs, looked up only when asked for."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        print(version_text())
        parser.exit()


def version_text() -> str:
    from keyless.audit.report import tool_versions

    versions = tool_versions()
    return "\n".join(f"{name} {versions[key]}" for name, key in
                     (("keyless", "keyless"), ("checkov", "checkov"), ("cfn-lint", "cfn_lint")))


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "audit", help="audit whole repositories for long-term AWS access keys (reports in five formats)",
        description="Audit Terraform and CloudFormation/SAM in one or more repositories with the keyless rules "
                    "(run by checkov and cfn-lint) and write a report. `keyless audit merge A.json B.json ...` "
                    "combines JSON reports instead.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="repository folders (default: .); after `merge`, JSON reports")
    parser.add_argument("--format", "-f", type=str.lower, choices=FORMATS, default=None,
                        help="report format (default: terminal)")
    parser.add_argument("--output", "-o", metavar="FILE", default=None,
                        help="write the report to FILE instead of standard output")
    parser.add_argument("--output-file", action="append", default=None, metavar="FORMAT:FILE",
                        help="also write the report in FORMAT to FILE (e.g. sarif:keyless.sarif); repeatable")
    parser.add_argument("--exclude", action="append", default=None, metavar="GLOB",
                        help="skip matching paths (relative glob like 'legacy/**', or a name like 'vendor'); repeatable")
    parser.add_argument("--check", "-c", action="append", default=None, metavar="RULE",
                        help="report only these rules: slug, checkov or cfn-lint ID, wildcards (CKV_KEYLESS_*), "
                             "comma lists; repeatable")
    parser.add_argument("--skip-check", action="append", default=None, metavar="RULE",
                        help="do not report these rules (same forms as --check); repeatable")
    parser.add_argument("--baseline", metavar="FILE", help="report only findings not in this baseline (or JSON report)")
    parser.add_argument("--write-baseline", metavar="FILE", help="write every current finding to FILE as a baseline")
    parser.add_argument("--fail-on", type=str.lower, choices=FAIL_ON, default=None, metavar="SEVERITY",
                        help="exit 1 when a finding is at or above SEVERITY: any (default), low, medium, high, "
                             "critical, or none")
    parser.add_argument("--soft-fail", action="store_true", default=None,
                        help="exit 0 whatever the findings (like --fail-on none); failures still exit 2")
    parser.add_argument("--config", metavar="FILE",
                        help="options from this YAML file (default: .keyless.yaml here or in the audited folder)")
    parser.add_argument("--no-progress", action="store_true", default=None, help="never show the progress bar")
    parser.add_argument("--compact", action="store_true", default=None,
                        help="terminal format: one line per finding, without evidence and fix lines")
    parser.add_argument("--jobs", "-j", type=_positive, default=None, metavar="N",
                        help="processes scanning at once (default: the number of CPUs; 1 scans in this process)")
    parser.add_argument("--version", action=_Version, help="print the versions of keyless, checkov and cfn-lint")
    parser.set_defaults(func=run)
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _threshold(fail_on: str) -> int | None:
    from keyless.audit.model import severity_rank

    if fail_on == "none":
        return None
    return 0 if fail_on == "any" else severity_rank(fail_on)


def exit_code(report: Any, fail_on: str) -> int:
    from keyless.audit.model import severity_rank

    threshold = _threshold(fail_on)
    if threshold is None:
        return 0
    return 1 if any(severity_rank(f.severity) >= threshold for f in report.findings) else 0


def _error(message: str) -> int:
    print(f"keyless audit: error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from keyless.audit import interrupts

    with interrupts.handled():
        try:
            return _run(args)
        except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM as interrupts.Interrupted
            interrupts.end_children()
            signum = getattr(stop, "signum", signal.SIGINT)
            print(f"keyless audit: interrupted by {signal.Signals(signum).name}; no report written", file=sys.stderr)
            return 128 + int(signum)


def _settings(args: argparse.Namespace, merging: bool) -> argparse.Namespace:
    """Command line over config file over defaults, every value checked."""
    paths = [] if merging else (args.paths or ["."])
    config_file = options.find_config(args.config, paths)
    config = options.load_config(config_file) if config_file else {}
    settings = argparse.Namespace(paths=args.paths, config_file=config_file)
    for dest, default in DEFAULTS.items():
        given = getattr(args, dest, None)
        value = given if given is not None else config.get(dest.replace("_", "-"), default)
        setattr(settings, dest, value)
    if merging:
        settings.exclude = args.exclude or []  # a config's exclusions are for folders, not merged reports
    settings.format = str(settings.format).lower()
    if settings.format not in FORMATS:
        raise options.UsageError(f"format {settings.format!r}: choose from {', '.join(FORMATS)}")
    settings.fail_on = str(settings.fail_on).lower()
    if settings.fail_on not in FAIL_ON:
        raise options.UsageError(f"fail-on {settings.fail_on!r}: choose from {', '.join(FAIL_ON)}")
    settings.rules = options.selected_rules(settings.check, settings.skip_check)
    settings.targets = options.output_targets(settings.output_file, FORMATS)
    _check_targets(settings)
    return settings


def _check_targets(settings: argparse.Namespace) -> None:
    """No two outputs into one file, and never the baseline read into the one written."""
    files = [("--output", settings.output)] if settings.output else []
    files += [("--output-file", target) for _, target in settings.targets]
    if settings.write_baseline:
        files.append(("--write-baseline", settings.write_baseline))
    for i, (option, path) in enumerate(files):
        for other_option, other in files[:i]:
            if options.same_file(path, other):
                raise options.UsageError(f"{other_option} and {option} both write {path}")
    if settings.baseline:
        for option, path in files:
            if options.same_file(settings.baseline, path):
                raise options.UsageError(f"{option} {path} would overwrite the baseline being read; "
                                         "write the new baseline to another file")


def _run(args: argparse.Namespace) -> int:
    from keyless.audit import interrupts
    from keyless.audit.baseline import apply_baseline, load_baseline, write_baseline
    from keyless.audit.files import WriteError, write_text_atomically
    from keyless.audit.formats import render
    from keyless.audit.report import audit, empty_repositories, merge, select_rules

    merging = args.paths[:1] == ["merge"]
    try:
        if merging and len(args.paths) < 2:
            return _error("merge needs at least one JSON report")
        if merging and args.exclude:
            return _error("--exclude applies to folders, not to merged reports")
        settings = _settings(args, merging)
        paths = args.paths[1:] if merging else (args.paths or ["."])
        if not merging:
            missing = [p for p in paths if not os.path.isdir(p)]
            if missing:
                return _error(f"not a folder: {', '.join(missing)} (nothing was audited)")
        baseline = load_baseline(settings.baseline) if settings.baseline else None
    except (OSError, ValueError) as error:  # UsageError, a missing or invalid baseline
        return _error(str(error))

    failures: list[str] = []
    try:
        if merging:
            report = merge(paths)
            if not report.repositories:
                for failure in report.failures:
                    _error(failure)
                return 2
            if settings.rules is not None:
                select_rules(report, settings.rules)
        else:
            progress = False if settings.no_progress else None
            report, _ = audit(paths, settings.exclude, progress=progress, jobs=settings.jobs, rules=settings.rules)
            if len(report.repositories) > 1:
                for repo in empty_repositories(report):
                    print(f"keyless audit: warning: nothing to audit in {repo.path}", file=sys.stderr)
        failures = list(report.failures)
        if settings.write_baseline:
            if failures:
                failures.append(f"not writing the baseline {settings.write_baseline}: the run is incomplete")
            else:
                try:
                    write_baseline(report, settings.write_baseline)
                except WriteError as error:
                    failures.append(str(error))
        if baseline is not None:
            apply_baseline(report, baseline, os.path.basename(settings.baseline))
        rendered = [(fmt, target, render(report, fmt)) for fmt, target in settings.targets]
        colour = (settings.format == "terminal" and not settings.output and sys.stdout.isatty()
                  and "NO_COLOR" not in os.environ)
        main_text = render(report, settings.format, colour=colour, compact=settings.compact)
    except (OSError, ValueError, json.JSONDecodeError) as error:
        return _error(str(error))
    except Exception:  # an internal error: say so plainly, with the traceback for a bug report
        traceback.print_exc()
        return _error("internal error (traceback above)")

    interrupts.check()
    for _, target, text in rendered:
        try:
            write_text_atomically(target, text)
        except WriteError as error:
            failures.append(str(error))
    if settings.output:
        try:
            write_text_atomically(settings.output, main_text)
        except WriteError as error:
            failures.append(str(error))
    else:
        sys.stdout.write(main_text)
        sys.stdout.flush()
    for failure in failures:
        print(f"keyless audit: error: {failure}", file=sys.stderr)
    if failures:
        return 2
    return 0 if settings.soft_fail else exit_code(report, settings.fail_on)
