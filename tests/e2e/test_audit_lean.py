"""The audit's lean checkov runs report exactly what a full checkov run reports.

`keyless audit` (the program) keeps checkov's built-in Terraform checks from loading, registers only
keyless's Terraform checks and empties checkov's registries of the rest for each run. Each side runs
in a fresh interpreter, since what is imported is the point.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rules"
RUN = """
import json, sys
from keyless.engines import checkov_seam, run_checkov, run_checkov_with_findings
lean = sys.argv[1] == "lean"
if lean:
    assert checkov_seam.terraform_without_builtin_checks()
out = []
for folder in sys.argv[2:]:
    if lean:
        reports, failed = run_checkov_with_findings(folder)
    else:
        reports = run_checkov(folder, frameworks=["terraform"])
        failed = [(r, None) for report in reports for r in report.failed_checks]
    out += sorted([r.check_id, r.file_path, r.resource, list(r.file_line_range)] for r, _ in failed)
    out.append(sorted(str(p) for report in reports for p in report.parsing_errors))
from checkov.common.checks.base_check_registry import BaseCheckRegistry
ids = {c.id for c in BaseCheckRegistry.get_all_registered_checks()}
print(json.dumps({"records": out, "builtin_loaded": any(not i.startswith("CKV_KEYLESS_") for i in ids)}))
"""


def _run(mode: str, folders: list[str]) -> dict[str, object]:
    process = subprocess.run([sys.executable, "-c", RUN, mode, *folders], capture_output=True, text=True, check=False)
    assert process.returncode == 0, process.stderr[-3000:]
    return json.loads(process.stdout.strip().splitlines()[-1])


def test_lean_runs_load_no_builtin_check_and_report_what_a_full_run_reports() -> None:
    folders = sorted(str(p) for p in FIXTURES.glob("*/terraform") if p.is_dir())
    assert len(folders) >= 5
    lean, full = _run("lean", folders), _run("full", folders)
    assert lean["builtin_loaded"] is False and full["builtin_loaded"] is True
    failed = [r for r in lean["records"] if r and str(r[0]).startswith("CKV_KEYLESS_")]  # type: ignore[union-attr]
    assert len(failed) > 20
    assert lean["records"] == full["records"]
