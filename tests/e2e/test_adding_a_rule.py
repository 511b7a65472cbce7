"""Adding a rule takes a catalog entry and a rule module, nothing else: a throwaway rule runs everywhere.

A fresh interpreter appends a tenth rule to the catalog and loads its module, written to a file, as
`keyless.rules.throwaway_bucket`: exactly what a new rule's author writes. It then runs the real
checkov (the shipped `checks/` folder), the real cfn-lint (`keyless.cfn_lint`) and the audit with its
JSON schema. No other file knows of the rule.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent('''
    import json, sys
    from keyless import catalog
    from keyless.catalog import Rule, NO_KEYS_IN_COMPUTE

    catalog.RULES = (*catalog.RULES, Rule(10, "throwaway-bucket", "CKV_KEYLESS_10", "WK010", "LOW",
                     NO_KEYS_IN_COMPUTE, "A throwaway rule on buckets", "Nothing to fix: a test rule."))
    import importlib.util
    spec = importlib.util.spec_from_file_location("keyless.rules.throwaway_bucket", sys.argv[2])
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)

    from jsonschema import validate
    from keyless.audit.model import schema
    from keyless.audit.report import audit
    from keyless.engines import run_cfn_lint, run_checkov

    tree = sys.argv[1]
    checkov = sorted((r.check_id, r.resource) for rep in run_checkov(tree, checks=["CKV_KEYLESS_10"])
                     for r in rep.failed_checks)
    cfn_lint = sorted(m.rule.id for m in run_cfn_lint(tree + "/template.yaml") if m.rule.id == "WK010")
    report, failures = audit([tree], progress=False, jobs=1)
    document = json.loads(report.to_json())
    validate(document, schema())
    print(json.dumps({"checkov": checkov, "cfn_lint": cfn_lint, "failures": failures,
                      "audit": sorted((f["rule"], f["resource"]) for r in document["repositories"] for f in r["findings"]
                                      if f["rule"] == "throwaway-bucket")}))
''')


RULE_MODULE = '''"""A throwaway rule: every bucket fails."""
from keyless.findings import simple_finding

TERRAFORM = {"resource": ("aws_s3_bucket",)}
CLOUDFORMATION = ("AWS::S3::Bucket",)


def terraform(block, model):
    return [simple_finding("throwaway-bucket", block.address, ("bucket",), "a bucket " + block.address)]


def cloudformation(name, tpl):
    return [simple_finding("throwaway-bucket", name, ("Resources", name, "Type"), "a bucket " + name)]
'''


def test_a_throwaway_rule_runs_in_both_engines_and_the_audit(tmp_path: Path) -> None:
    (tmp_path / "rule.py").write_text(RULE_MODULE)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "main.tf").write_text('resource "aws_s3_bucket" "logs" {\n  bucket = "logs"\n}\n')
    (tree / "template.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Logs:\n    Type: AWS::S3::Bucket\n")
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tree), str(tmp_path / "rule.py")],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["checkov"] == [["CKV_KEYLESS_10", "AWS::S3::Bucket.Logs"], ["CKV_KEYLESS_10", "aws_s3_bucket.logs"]]
    assert result["cfn_lint"] == ["WK010"]
    assert result["failures"] == []
    assert result["audit"] == [["throwaway-bucket", "Logs"], ["throwaway-bucket", "aws_s3_bucket.logs"]]
