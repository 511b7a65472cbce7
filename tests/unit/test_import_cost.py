"""cfn-lint in the editor runs one process per template and imports keyless in each: that path loads
no Terraform-only keyless module and no checkov (issue 13, goal 6).

A fresh interpreter imports `keyless.cfn_lint`, lints a fixture through cfn-lint's API with the keyless
rules appended (as `cfn-lint -a keyless.cfn_lint` does), and scans every CloudFormation fixture, so
each rule's `cloudformation()` runs; then it reports what is in `sys.modules`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from keyless.catalog import RULES

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "rules"
LINTED = FIXTURES / "credentials-in-compute" / "cloudformation" / "credentials-in-compute-buildspec.yaml"

TERRAFORM_ONLY = (
    "keyless.lang.terraform",
    "keyless.lang.terraform_source",
    "keyless.lang.terraform_files",
    "keyless.lang.terraform_text",
    "keyless.lang.terraform_modules",
    "keyless.lang.terraform_expressions",
    "keyless.lang.terraform_scripts",
    "keyless.lang.registry_modules",
    "keyless.lang.dynamic_blocks",
    "keyless.lang.terraform_profiles",
    "keyless.rules._key_material_terraform",
    "keyless.rules._key_material_text",
    "keyless.rules._compute_files",
    "keyless.rules._referenced_material",
)

_PROBE = """
import json, sys
from pathlib import Path

import keyless.cfn_lint
from cfnlint.api import ManualArgs, lint_file
from cfnlint.decode import decode

from keyless.rules import scan_template

linted = [m.rule.id for m in lint_file(Path(sys.argv[1]), ManualArgs(append_rules=["keyless.cfn_lint"]))]
slugs = set()
for path in sorted(Path(sys.argv[2]).glob("*/cloudformation/*")):
    template, errors = decode(str(path))
    slugs |= {f.slug for f in scan_template(template or {})}
print(json.dumps({"linted": linted, "slugs": sorted(slugs), "modules": sorted(sys.modules)}))
"""


def _probe() -> dict[str, list[str]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", _PROBE, str(LINTED), str(FIXTURES)],
                          capture_output=True, text=True, env=env, check=True, timeout=300)
    result: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_cloudformation_path_loads_no_terraform_module_nor_checkov() -> None:
    result = _probe()
    keyless_ids = {r.cfn_lint_id for r in RULES if r.cfn_lint_id}
    assert keyless_ids & set(result["linted"]), result["linted"]
    # every rule cfn-lint runs found something in the fixtures: its CloudFormation code ran
    assert {r.slug for r in RULES if r.cfn_lint_id} <= set(result["slugs"])
    modules = set(result["modules"])
    assert "keyless.cfn_lint" in modules
    assert sorted(m for m in modules if m in TERRAFORM_ONLY or m.startswith("keyless.lang.terraform")) == []
    assert [m for m in modules if m == "checkov" or m.startswith(("checkov.", "keyless.engines.checkov"))] == []
