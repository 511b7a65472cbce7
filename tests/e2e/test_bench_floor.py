"""The benchmark's checkov floor: the no-op checks bench/run.py writes run in real checkov with keyless's
scopes and import nothing from keyless (an import of keyless's adapter installs its log masking, which
is keyless's cost, not checkov's)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "bench"))

from run import checks_dir, noop_checks, noop_specs, without_rules_checks  # noqa: E402


def _checkov_with(checks: Path, tree: Path, prefix: str = "CKV_NOOP_*") -> tuple[dict[str, dict[str, int]], set[str]]:
    """Summary per framework, and the keyless modules the checkov process imported."""
    process = subprocess.run(
        [sys.executable, "-X", "importtime", str(BIN / "checkov"), "-d", str(tree), "--skip-download", "--quiet",
         "--framework", "terraform", "cloudformation", "-o", "json", "--external-checks-dir", str(checks),
         "--check", prefix, "--soft-fail"],
        capture_output=True, text=True, check=False,
    )
    assert process.returncode == 0, process.stderr[-2000:]
    reports = json.loads(process.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    imported = {line.rsplit("|", 1)[-1].strip() for line in process.stderr.splitlines() if line.startswith("import time:")}
    return ({r["check_type"]: r["summary"] for r in reports},
            {name for name in imported if name == "keyless" or name.startswith("keyless.")})


def test_no_op_checks_have_keyless_scopes_and_import_nothing_from_it(tmp_path: Path) -> None:
    from keyless.catalog import RULES
    from keyless.engines.checkov_adapter import register

    specs = noop_specs()
    registered = [check for r in RULES for check in register(r.slug)]
    assert len(specs) == len(registered)
    assert sorted(tuple(sorted(s[5])) for s in specs) == sorted(tuple(sorted(c.supported_entities)) for c in registered)

    plain, importing = noop_checks(tmp_path)
    templates = ROOT / "examples" / "cloudformation"
    assert templates.is_dir()
    plain_summary, plain_imports = _checkov_with(plain, templates)
    importing_summary, importing_imports = _checkov_with(importing, templates)
    assert plain_imports == set()
    assert "keyless.engines.checkov_adapter" in importing_imports  # the variant that measures keyless's imports and masking
    assert plain_summary == importing_summary
    assert plain_summary["cloudformation"]["passed"] > 0 and plain_summary["cloudformation"]["parsing_errors"] == 0


def test_keyless_checks_without_rules_run_on_the_same_entities_and_find_nothing(tmp_path: Path) -> None:
    """The variant that splits keyless's share: its checks run where keyless's run, with every call
    into the rules switched off (were the adapter to call them by another name, this would find keys)."""
    examples = ROOT / "examples"
    with_rules, _ = _checkov_with(Path(checks_dir()), examples, "CKV_KEYLESS_*")
    without_rules, imported_without = _checkov_with(without_rules_checks(tmp_path), examples, "CKV_KEYLESS_*")
    assert "keyless.engines.checkov_adapter" in imported_without
    for framework in ("terraform", "cloudformation"):
        assert with_rules[framework]["failed"] > 0
        assert without_rules[framework]["failed"] == 0
        ran = with_rules[framework]["passed"] + with_rules[framework]["failed"]
        assert 0 < without_rules[framework]["passed"] <= ran
