"""`keyless audit [PATH ...]` and `keyless audit merge REPORT.json ...`.

Exit codes: 0 when no finding is at or above --fail-on, 1 when one is, 2 for usage errors and
for runs that could not complete (an engine failed on a whole tree, a report could not be read).
Files that cannot be parsed do not change the exit code: the report lists them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from typing import Any

from keyless.audit.formats import FORMATS

FAIL_ON = ("any", "low", "medium", "high", "critical", "none")
EPILOG = """\
examples:
  keyless audit                                  audit the current folder, terminal report
  keyless audit repo1 repo2 --format html --output audit.html
  keyless audit . --exclude 'legacy/**' --exclude vendor --fail-on high
  keyless audit . --write-baseline keyless-baseline.json      accept what is there today
  keyless audit . --baseline keyless-baseline.json            report only new findings
  keyless audit . --format markdown-summary --output comment.md   a pull-request comment (under 65,536 characters)
  keyless audit merge team-a.json team-b.json --format html --output org.html

exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 usage or internal error
"""


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
    parser.add_argument("--format", "-f", choices=FORMATS, default="terminal", help="report format (default: terminal)")
    parser.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of standard output")
    parser.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                        help="skip matching paths (relative glob like 'legacy/**', or a name like 'vendor'); repeatable")
    parser.add_argument("--baseline", metavar="FILE", help="report only findings not in this baseline (or JSON report)")
    parser.add_argument("--write-baseline", metavar="FILE", help="write every current finding to FILE as a baseline")
    parser.add_argument("--fail-on", type=str.lower, choices=FAIL_ON, default="any", metavar="SEVERITY",
                        help="exit 1 when a finding is at or above SEVERITY: any (default), low, medium, high, "
                             "critical, or none")
    parser.add_argument("--no-progress", action="store_true", help="never show the progress bar")
    parser.add_argument("--compact", action="store_true",
                        help="terminal format: one line per finding, without evidence and fix lines")
    parser.add_argument("--jobs", "-j", type=_positive, default=None, metavar="N",
                        help="processes scanning at once (default: the number of CPUs; 1 scans in this process)")
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
    from keyless.audit.baseline import apply_baseline, load_baseline, write_baseline
    from keyless.audit.formats import render
    from keyless.audit.report import audit, merge

    failures: list[str] = []
    try:
        if args.paths[:1] == ["merge"]:
            if len(args.paths) < 2:
                return _error("merge needs at least one JSON report")
            if args.exclude:
                return _error("--exclude applies to folders, not to merged reports")
            report = merge(args.paths[1:])
            failures = list(report.failures)
            if not report.repositories:
                for failure in failures:
                    _error(failure)
                return 2
        else:
            paths = args.paths or ["."]
            missing = [p for p in paths if not os.path.isdir(p)]
            if missing:
                return _error(f"not a folder: {', '.join(missing)}")
            progress = False if args.no_progress else None
            report, failures = audit(paths, args.exclude, progress=progress, jobs=args.jobs)
        if args.write_baseline:
            write_baseline(report, args.write_baseline)
        if args.baseline:
            apply_baseline(report, load_baseline(args.baseline), os.path.basename(args.baseline))
        colour = (args.format == "terminal" and not args.output and sys.stdout.isatty()
                  and "NO_COLOR" not in os.environ)
        text = render(report, args.format, colour=colour, compact=args.compact)
        if args.output:
            with open(args.output, "w", encoding="utf-8") as handle:
                handle.write(text)
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
    except (OSError, ValueError, json.JSONDecodeError) as error:
        return _error(str(error))
    except Exception:  # an internal error: say so plainly, with the traceback for a bug report
        traceback.print_exc()
        return _error("internal error (traceback above)")
    for failure in failures:
        print(f"keyless audit: error: {failure}", file=sys.stderr)
    if failures:
        return 2
    return exit_code(report, args.fail_on)
