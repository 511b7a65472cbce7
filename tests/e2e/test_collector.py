"""The `keyless` program collects garbage less often while it scans, and a Python caller keeps its own
collector (engines/collector.py). Each case runs in a fresh interpreter: the collector is per process."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
# As the `keyless` console script does (main() without arguments), or as a Python caller does
# (main(argv)); then the collector's state after the command, on the last line.
PROGRAM = """
import gc, json, sys
from keyless.cli import main
as_program = sys.argv.pop(1) == "program"
default = gc.get_threshold()
try:
    code = main() if as_program else main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
print()
print(json.dumps({"code": code, "default": default, "threshold": gc.get_threshold(), "frozen": gc.get_freeze_count()}))
"""


def _collector_after(how: str, *argv: str, tmp_path: Path) -> dict[str, object]:
    process = subprocess.run([sys.executable, "-c", PROGRAM, how, *argv], capture_output=True, text=True,
                             check=False, cwd=tmp_path)
    assert process.stdout.strip(), process.stderr[-3000:]
    state = json.loads(process.stdout.strip().splitlines()[-1])
    assert state["code"] in (0, 1), process.stderr[-3000:]  # 1: keyless found keys in the examples
    return state


def test_keyless_checkov_collects_less_often_and_freezes_what_imports_created(tmp_path: Path) -> None:
    from keyless.engines.collector import YOUNG_THRESHOLD

    state = _collector_after("program", "checkov", "-d", str(EXAMPLES), "--framework", "terraform", "cloudformation",
                             "--check", "CKV_KEYLESS_*", "--quiet", "--compact", tmp_path=tmp_path)
    assert state["threshold"] == [YOUNG_THRESHOLD, *state["default"][1:]]
    assert state["threshold"] != state["default"]
    assert state["frozen"] > 100_000  # checkov and its runners, imported before the scan


def test_keyless_audit_freezes_before_forking_its_workers(tmp_path: Path) -> None:
    from keyless.engines.collector import YOUNG_THRESHOLD

    state = _collector_after("program", "audit", str(EXAMPLES), "--jobs", "2", "--no-progress", "--format", "json",
                             "--output", str(tmp_path / "audit.json"), tmp_path=tmp_path)
    assert state["threshold"][0] == YOUNG_THRESHOLD
    assert state["frozen"] > 100_000
    assert json.loads((tmp_path / "audit.json").read_text())["complete"] is True


@pytest.mark.parametrize("argv", [
    ("checkov", "-d", str(EXAMPLES / "terraform"), "--framework", "terraform", "--quiet", "--compact"),
    ("audit", str(EXAMPLES), "--jobs", "2", "--no-progress", "--format", "json", "--output", "audit.json"),
])
def test_a_python_caller_keeps_its_own_collector(argv: tuple[str, ...], tmp_path: Path) -> None:
    state = _collector_after("caller", *argv, tmp_path=tmp_path)
    assert state["threshold"] == state["default"]
    assert state["frozen"] == 0


def test_a_collector_switched_off_stays_off(tmp_path: Path) -> None:
    code = ("import gc; gc.disable(); from keyless.engines import collector; collector.scan_thresholds(); "
            "print(gc.isenabled(), gc.get_threshold()[0] != collector.YOUNG_THRESHOLD, collector.freeze_imports())")
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert process.stdout.split() == ["False", "True", "False"]


def test_the_plain_checkov_recipe_runs_and_reports_keylesss_findings(tmp_path: Path) -> None:
    """docs/benchmarks.md's recipe for plain checkov (quiet logging, the collector set), run as written."""
    section = (ROOT / "docs" / "benchmarks.md").read_text().split("## The same speed in plain checkov", 1)[1]
    recipe = section.split("```sh\n", 1)[1].split("```", 1)[0].strip()
    assert "gc.freeze()" in recipe and "gc.set_threshold" in recipe
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    process = subprocess.run(["bash", "-c", recipe.replace("python -c", shlex.quote(sys.executable) + " -c", 1)
                              + " --framework terraform cloudformation --compact"],
                             capture_output=True, text=True, check=False, cwd=EXAMPLES, env=env)
    assert process.returncode == 1, process.stderr[-3000:]  # the examples hold keys
    assert "CKV_KEYLESS_3" in process.stdout
