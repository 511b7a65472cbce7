"""The audit cut into units: Terraform batches and forked workers report what one run reports."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from keyless.audit import plan, workers
from keyless.audit.report import audit

ROOT = Path(__file__).resolve().parents[2]
TREES = [ROOT / "examples", ROOT / "tests/fixtures/rules"]


def _document(tree: Path, jobs: int, excludes: tuple[str, ...] = ()) -> dict[str, Any]:
    report, failures = audit([str(tree)], excludes, progress=False, jobs=jobs)
    assert failures == []
    document = json.loads(report.to_json())
    document.pop("generated_at")
    return document


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_batches_keep_module_callers_with_their_modules(tmp_path: Path) -> None:
    _write(tmp_path / "envs/prod/main.tf", 'module "net" {\n  source = "../../modules/net"\n}\n')
    _write(tmp_path / "envs/dev/main.tf", 'module "net" {\n  source = "../../modules/net/"\n}\n')
    _write(tmp_path / "modules/net/main.tf", 'resource "aws_vpc" "v" {}\n')
    _write(tmp_path / "lonely/main.tf", 'resource "aws_s3_bucket" "b" {}\n')
    _write(tmp_path / "remote/main.tf", 'module "x" {\n  source = "terraform-aws-modules/vpc/aws"\n}\n')
    folders = ["envs/dev", "envs/prod", "lonely", "modules/net", "remote"]
    assert plan.batches(str(tmp_path), folders, budget=1) == [["envs/dev", "envs/prod", "modules/net"], ["lonely"],
                                                              ["remote"]]
    assert plan.batches(str(tmp_path), folders, budget=100) == [folders]
    # two cores: about two batches of about half the files each, module groups kept whole
    assert plan.batches(str(tmp_path), folders, parts=2) == [["envs/dev", "envs/prod", "modules/net"],
                                                             ["lonely", "remote"]]


def test_outside_batch_excludes_only_other_folders_terraform_files() -> None:
    import re

    pattern = re.compile(plan.outside_batch("/repo", ["a", "b/c", "."]))
    assert not pattern.search("/repo/a/main.tf")
    assert not pattern.search("/repo/b/c/terraform.tfvars")
    assert not pattern.search("/repo/root.tf")
    assert pattern.search("/repo/b/main.tf")
    assert pattern.search("/repo/a/sub/main.tf")
    assert pattern.search("/repo/ab/main.tf")
    assert not pattern.search("/repo/b")  # folders are walked on: a batch folder may lie below


@pytest.mark.parametrize("tree", TREES, ids=lambda p: p.name)
def test_batched_and_forked_audit_equals_one_run(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one_run = _document(tree, jobs=1)
    assert one_run["repositories"][0]["findings"], "the tree should have findings"
    monkeypatch.setattr(plan, "BATCH_FILES", 1)  # every module-closed group of folders its own checkov run
    monkeypatch.setattr("keyless.audit.scan.TEMPLATES_PER_UNIT", 3)
    assert _document(tree, jobs=1) == one_run
    if workers.can_fork():
        assert _document(tree, jobs=2) == one_run
    excludes = ("*-exposed", "hardcoded-?ecret*/**", "legacy/**")  # globs beside the batch exclusion
    monkeypatch.setattr(plan, "BATCH_FILES", 10**9)
    unbatched = _document(tree, jobs=1, excludes=excludes)
    assert (unbatched != one_run) == (tree.name == "rules"), "the globs should exclude fixture folders"
    monkeypatch.setattr(plan, "BATCH_FILES", 1)
    assert _document(tree, jobs=2, excludes=excludes) == unbatched


def test_a_failing_unit_ends_the_run_as_an_engine_failure() -> None:
    if not workers.can_fork():
        pytest.skip("units run in process here")

    def fails() -> list[int]:
        raise ValueError("broken unit")

    with pytest.raises(workers.EngineFailure, match="ValueError: broken unit"):
        list(workers.run([("ok", lambda: [1]), ("bad", fails)], jobs=2))
    with pytest.raises(workers.EngineFailure, match="died"):
        list(workers.run([("ok", lambda: [1]), ("dies", lambda: os._exit(3))], jobs=2))
    assert sorted(workers.run([(str(i), lambda i=i: i) for i in range(5)], jobs=2)) == [0, 1, 2, 3, 4]


def test_a_folder_with_a_bracket_is_audited_in_one_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """checkov's module finder cannot take an exclusion with `]`: such a tree falls back to one run."""
    _write(tmp_path / "a/main.tf", 'resource "aws_iam_access_key" "a" {\n  user = "a"\n}\n')
    _write(tmp_path / "z[1]/main.tf", 'resource "aws_iam_access_key" "z" {\n  user = "z"\n}\n')
    monkeypatch.setattr(plan, "BATCH_FILES", 1)
    assert len(plan.batches(str(tmp_path), ["a", "z[1]"])) == 2
    report, failures = audit([str(tmp_path)], progress=False, jobs=1)
    assert failures == []
    assert {f.file for f in report.repositories[0].findings} == {"a/main.tf", "z[1]/main.tf"}
