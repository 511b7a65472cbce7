"""The published pre-commit hooks, run by pre-commit itself (`try-repo`) in a throwaway git repository.

The hooks are `language: system`: pre-commit installs nothing and calls this environment's `keyless`
and `cfn-lint`, so the hook repository only needs `.pre-commit-hooks.yaml`. It is copied into a
committed temporary repository because `try-repo` on a working tree ignores untracked files (a new
manifest would be invisible until committed).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from keyless.catalog import HOME_URL

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PRE_COMMIT = str(Path(sys.executable).parent / "pre-commit")

BAD_TF = 'resource "aws_iam_access_key" "ci" {\n  user = "ci"\n}\n'
GOOD_TF = 'resource "aws_s3_bucket" "logs" {\n  bucket = "logs-111122223333"\n}\n'
BAD_CFN = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  CiUser:
    Type: AWS::IAM::User
  CiKey:
    Type: AWS::IAM::AccessKey
    Properties:
      UserName: !Ref CiUser
"""
GOOD_CFN = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Logs:
    Type: AWS::S3::Bucket
"""


def _env(home: Path) -> dict[str, str]:
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, "PATH": path, "PRE_COMMIT_HOME": str(home / "pre-commit-home"),
            "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}


def _git(cwd: Path, env: dict[str, str], *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("hooks")
    env = _env(repo)
    shutil.copy(ROOT / ".pre-commit-hooks.yaml", repo / ".pre-commit-hooks.yaml")
    _git(repo, env, "init", "-q", "-b", "main")
    _git(repo, env, "add", ".pre-commit-hooks.yaml")
    _git(repo, env, "commit", "-q", "-m", "hooks")
    return repo


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    """A git repository with the files staged, as they are when `git commit` runs the hooks."""
    work = tmp_path / "project"
    work.mkdir()
    for name, text in files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(text, encoding="utf-8")
    env = _env(tmp_path)
    _git(work, env, "init", "-q")
    _git(work, env, "add", *files)
    return work


def _try_repo(hook_repo: Path, work: Path, hook: str, *files: str, stage: str = "pre-commit",
              ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PRE_COMMIT, "try-repo", str(hook_repo), hook, "--verbose", "--hook-stage", stage,
                           "--files", *files],
                          cwd=work, env=_env(work.parent), capture_output=True, text=True, timeout=600)


def test_manifest_offers_the_three_hooks() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    assert set(hooks) == {"keyless-checkov", "keyless-cfn-lint", "keyless-audit"}
    assert all(h["language"] == "system" for h in hooks.values())
    assert hooks["keyless-checkov"]["args"][-1] == "-f", "pre-commit appends the files after the args"


@pytest.mark.parametrize(("hook", "rule_id", "bad", "good"), [
    ("keyless-checkov", "CKV_KEYLESS_1", {"bad.tf": BAD_TF, "bad.yaml": BAD_CFN}, {"good.tf": GOOD_TF, "good.yaml": GOOD_CFN}),
    ("keyless-cfn-lint", "WK001", {"bad.yaml": BAD_CFN}, {"good.yaml": GOOD_CFN}),
])
def test_file_hook_fails_on_the_bad_files_only(hook_repo: Path, tmp_path: Path, hook: str, rule_id: str,
                                               bad: dict[str, str], good: dict[str, str]) -> None:
    work = _project(tmp_path, {**bad, **good})
    clean = _try_repo(hook_repo, work, hook, *good)
    assert clean.returncode == 0, clean.stdout[-3000:]
    both = _try_repo(hook_repo, work, hook, *bad, *good)
    assert both.returncode == 1, both.stdout[-3000:]
    hook_output = both.stdout.split("- hook id:", 1)[1]
    assert rule_id in hook_output
    for name in bad:
        assert name in hook_output, hook_output[-3000:]
    for name in good:
        assert name not in hook_output, hook_output[-3000:]


@pytest.mark.parametrize("stage", ["pre-push", "manual"])
def test_audit_hook_fails_once_a_bad_file_is_staged(hook_repo: Path, tmp_path: Path, stage: str) -> None:
    clean_dir, dirty_dir = tmp_path / "clean", tmp_path / "dirty"
    clean_dir.mkdir()
    dirty_dir.mkdir()
    clean = _try_repo(hook_repo, _project(clean_dir, {"good.tf": GOOD_TF, "good.yaml": GOOD_CFN}),
                      "keyless-audit", "good.tf", "good.yaml", stage=stage)
    assert clean.returncode == 0, clean.stdout[-3000:]
    dirty = _try_repo(hook_repo, _project(dirty_dir, {"bad.tf": BAD_TF, "good.tf": GOOD_TF}),
                      "keyless-audit", "good.tf", "bad.tf", stage=stage)
    assert dirty.returncode == 1, dirty.stdout[-3000:]
    assert "bad.tf" in dirty.stdout and "aws_iam_access_key.ci" in dirty.stdout


def test_audit_hook_does_not_rescan_the_repository_at_each_commit(hook_repo: Path, tmp_path: Path) -> None:
    """All hooks at once, as `git commit` and `git push` run them: the whole-repository audit runs at push only."""
    work = _project(tmp_path, {"good.tf": GOOD_TF})
    env = _env(tmp_path)
    runs = {}
    for stage in ("pre-commit", "pre-push"):
        runs[stage] = subprocess.run([PRE_COMMIT, "try-repo", str(hook_repo), "--hook-stage", stage, "--files", "good.tf"],
                                     cwd=work, env=env, capture_output=True, text=True, timeout=600)
        assert runs[stage].returncode == 0, runs[stage].stdout[-3000:]
    assert "checkov with the keyless checks" in runs["pre-commit"].stdout
    assert "keyless audit" not in runs["pre-commit"].stdout
    assert "keyless audit" in runs["pre-push"].stdout


ORDINARY_FILES = {
    "package.json": '{\n  "name": "web",\n  "version": "1.0.0",\n  "scripts": {"build": "tsc"}\n}\n',
    ".github/workflows/ci.yml": "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
                                "    steps:\n      - uses: actions/checkout@v4\n",
    ".pre-commit-config.yaml": "repos:\n  - repo: local\n    hooks: []\n",
    "config/settings.json": '{"Resources": "not a template, only a key of that name"}\n',
}
KEY_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  PartnerKeyId:
    Type: AWS::SSM::Parameter
    Properties:
      Type: String
      Value: AKIAIOSFODNN7EXAMPLE
"""
SAM_TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Export:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      InlineCode: "def handler(e, c): pass"
      Environment:
        Variables:
          PARTNER_ACCESS_KEY: AKIAIOSFODNN7EXAMPLE
"""


def test_cfn_lint_hook_lints_only_the_templates_of_an_ordinary_repository(hook_repo: Path, tmp_path: Path) -> None:
    files = {**ORDINARY_FILES, "infra/stack.yaml": KEY_TEMPLATE, "app/template.yaml": SAM_TEMPLATE}
    work = _project(tmp_path, files)
    ordinary = _try_repo(hook_repo, work, "keyless-cfn-lint", *ORDINARY_FILES)
    assert ordinary.returncode == 0, ordinary.stdout[-3000:]
    assert "E1001" not in ordinary.stdout
    both = _try_repo(hook_repo, work, "keyless-cfn-lint", *files)
    assert both.returncode == 1, both.stdout[-3000:]
    hook_output = both.stdout.split("- hook id:", 1)[1]
    assert "- exit code: 2" in hook_output, "cfn-lint's own exit code (2: errors) comes through"
    assert "infra/stack.yaml:7:" in hook_output and "app/template.yaml:11:" in hook_output
    assert "EK003" in hook_output and "AKIAIOSFODNN7EXAMPLE" not in hook_output
    for name in ORDINARY_FILES:
        assert name not in hook_output, hook_output[-3000:]


def test_the_documented_configuration_runs_at_commit(hook_repo: Path, tmp_path: Path) -> None:
    """docs/editor.md's .pre-commit-config.yaml, its repository URL pointed at a local copy of the hooks."""
    doc = (ROOT / "docs" / "editor.md").read_text(encoding="utf-8")
    (config,) = [b for b in re.findall(r"^```yaml\n(.*?)^```$", doc, re.M | re.S) if "# .pre-commit-config.yaml" in b]
    repos = yaml.safe_load(config)["repos"]
    assert [r["rev"] for r in repos] == ["main"], "the one reference that exists before a release"
    assert repos[0]["repo"] == HOME_URL
    work = _project(tmp_path, {**ORDINARY_FILES, "infra/stack.yaml": KEY_TEMPLATE, "good.tf": GOOD_TF,
                               ".pre-commit-config.yaml": config.replace(HOME_URL, str(hook_repo))})
    done = subprocess.run([PRE_COMMIT, "run", "--all-files"], cwd=work, env=_env(tmp_path), capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 1, done.stdout[-3000:]
    assert "infra/stack.yaml:7:" in done.stdout and "EK003" in done.stdout, done.stdout[-3000:]
    assert "E1001" not in done.stdout and "keyless audit" not in done.stdout
