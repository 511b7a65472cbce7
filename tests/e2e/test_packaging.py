"""The built wheel is a working rule pack: checks, rule pages and commands, away from the source tree.

The wheel is built offline (`--no-build-isolation`), installed without dependencies into a fresh
virtual environment, and the engines already installed here are reused through a `.pth` line (a
venv's `--system-site-packages` reaches the base interpreter, not this environment). The new
environment must import keyless from the wheel, never from the editable source checkout.
"""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path
from typing import Any

import pytest

from keyless.catalog import RULES
from keyless.engines import run_cfn_lint, run_checkov

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
KEYLESS_CHECKOV = {r.checkov_id for r in RULES}
KEYLESS_CFN_LINT = {r.cfn_lint_id for r in RULES if r.cfn_lint_id}


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    done = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT))
    assert done.returncode == 0, done.stderr[-3000:]
    (built,) = out.glob("keyless-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("venv") / "env"
    assert _run(sys.executable, "-m", "venv", "--without-pip", str(home)).returncode == 0
    python = home / "bin" / "python"
    site = Path(_run(str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    # The engines of this environment, after the venv's own site-packages (so the wheel's keyless wins).
    # A plain path line does not run that folder's .pth files, so the editable keyless stays out.
    (site / "zz_engines.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    done = _run(sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel))
    assert done.returncode == 0, done.stderr[-3000:]
    return home


def test_wheel_ships_the_checks_and_the_rule_pages(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "keyless/checks/keyless_checks.py" in names
    for r in RULES:
        assert f"keyless/rules/{r.slug.replace('-', '_')}.py" in names
        page = zipfile.ZipFile(wheel).read(f"keyless/rule_docs/{r.slug}.md").decode("utf-8")
        assert page == (ROOT / "docs" / "rules" / f"{r.slug}.md").read_text(encoding="utf-8")
    assert "keyless/checks/__init__.py" in names, "checkov skips a checks folder without __init__.py"


def test_keyless_is_imported_from_the_wheel(venv: Path) -> None:
    done = _run(str(venv / "bin" / "python"), "-c", "import keyless, checkov; print(keyless.__file__)")
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_relative_to(venv)


def test_installed_commands_work_offline(venv: Path, tmp_path: Path) -> None:
    checks = _run(str(venv / "bin" / "keyless"), "checks-dir", cwd=tmp_path)
    folder = Path(checks.stdout.strip())
    assert checks.returncode == 0 and folder.is_relative_to(venv) and (folder / "__init__.py").is_file()
    for r in RULES:
        explained = _run(str(venv / "bin" / "keyless"), "explain", r.cfn_lint_id or r.checkov_id, cwd=tmp_path)
        assert explained.returncode == 0 and explained.stdout.startswith(f"# {r.slug}: {r.title}\n")


def _failed(report: Any) -> list[dict[str, Any]]:
    reports = report if isinstance(report, list) else [report]
    return [c for rep in reports for c in rep["results"]["failed_checks"]]


def test_plain_checkov_with_the_installed_checks_dir(venv: Path) -> None:
    python = str(venv / "bin" / "python")
    folder = _run(str(venv / "bin" / "keyless"), "checks-dir").stdout.strip()
    done = _run(python, "-m", "checkov.main", "-d", "examples", "--external-checks-dir", folder,
                "--framework", "terraform", "cloudformation", "--skip-download", "-o", "json")
    assert done.returncode == 1, done.stderr[-3000:]
    installed = {(c["check_id"], Path(c["file_path"]).name, c["resource"])
                 for c in _failed(json.loads(done.stdout)) if c["check_id"] in KEYLESS_CHECKOV}
    source = {(r.check_id, Path(r.file_path).name, r.resource)
              for rep in run_checkov(str(EXAMPLES)) for r in rep.failed_checks}
    assert installed and installed == source
    assert {c for c, _, _ in installed} == KEYLESS_CHECKOV, "examples/ exercises every rule"


def test_cfn_lint_with_the_installed_module(venv: Path) -> None:
    templates = sorted(str(p.relative_to(ROOT)) for p in (EXAMPLES / "cloudformation").glob("*.yaml"))
    runner = "import sys; from cfnlint.runner.cli import main; sys.argv[0] = 'cfn-lint'; main()"
    done = _run(str(venv / "bin" / "python"), "-c", runner, "-a", "keyless.cfn_lint", "--format", "json", "--", *templates)
    assert done.returncode != 0, done.stderr[-3000:]
    installed = {(m["Rule"]["Id"], Path(m["Filename"]).name, m["Location"]["Start"]["LineNumber"])
                 for m in json.loads(done.stdout) if m["Rule"]["Id"] in KEYLESS_CFN_LINT}
    source = {(m.rule.id, Path(t).name, m.linenumber)
              for t in templates for m in run_cfn_lint(str(ROOT / t)) if m.rule.id in KEYLESS_CFN_LINT}
    assert installed and installed == source
    assert {i for i, _, _ in installed} == KEYLESS_CFN_LINT, "examples/ exercises every rule"


def test_installed_audit_renders_every_format_from_package_data(venv: Path, tmp_path: Path) -> None:
    """The HTML templates and the report schema (which merge validates against) come from the wheel."""
    keyless = str(venv / "bin" / "keyless")
    report = tmp_path / "report.json"
    done = _run(keyless, "audit", str(EXAMPLES / "cloudformation"), "--no-progress", "--format", "json",
                "--output", str(report), cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    for fmt in ("html", "markdown-summary", "terminal"):
        out = tmp_path / f"merged.{fmt}"
        done = _run(keyless, "audit", "merge", str(report), str(report), "--format", fmt, "--output", str(out), cwd=tmp_path)
        assert done.returncode == 1 and done.stderr == "", done.stderr
        assert "cloudformation'" in html.unescape(out.read_text(encoding="utf-8"))  # the second copy, renamed
    assert '<table class="ranking">' in (tmp_path / "merged.html").read_text(encoding="utf-8")
