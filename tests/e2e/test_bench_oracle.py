"""The benchmark corpus is only worth its figures if keyless finds exactly what it plants: `keyless audit`
over a generated corpus reports every (check, place, resource) of `oracle.json` and nothing else.

A finding placed in a file the code reads (`templates/boot-*.sh.tpl`) counts for its module folder, which
is where the oracle puts every Terraform finding.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "bench"))

from generate import CFN_PLANTS, TF_PLANTERS, generate  # noqa: E402


def _matches(planted: tuple[str, str, str], found: tuple[str, str, str]) -> bool:
    check, place, resource = planted
    return found[0] == check and found[2] == resource and (found[1] == place or found[1].startswith(place + "/"))


def test_the_audit_finds_exactly_what_the_corpus_plants(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    generate(corpus, seed=7, scale=0.5)
    oracle = json.loads((corpus / "oracle.json").read_text())
    planted = {(o["check"], o["file"], o["resource"]) for o in oracle}
    # every planted form is in this corpus, the forms issue 12 added among them
    assert len(planted) >= len(TF_PLANTERS) + len(CFN_PLANTS)
    for marker in ('resource "aws_instance" "boot_', "base64encode(<<-EOF", 'provisioner "remote-exec"'):
        assert any(marker in p.read_text() for p in (corpus / "terraform").rglob("iam.tf")), marker
    report = tmp_path / "audit.json"
    process = subprocess.run([str(BIN / "keyless"), "audit", str(corpus), "--format", "json", "--output", str(report),
                              "--no-progress"], capture_output=True, text=True, check=False)
    assert process.returncode == 1, process.stderr[-2000:]  # findings
    data = json.loads(report.read_text())
    assert data["complete"] is True
    found = {(f["checkov_id"], f["file"], f["resource"]) for r in data["repositories"] for f in r["findings"]}
    missed = sorted(p for p in planted if not any(_matches(p, f) for f in found))
    unexpected = sorted(f for f in found if not any(_matches(p, f) for p in planted))
    assert missed == []
    assert unexpected == []
    assert any(f[1].startswith("terraform/") and "/templates/" in f[1] for f in found)  # placed in the file read
