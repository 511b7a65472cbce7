"""`keyless audit` as a command: trees built here with keys made here, baselines, merge, exit codes."""

from __future__ import annotations

import base64
import json
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from keyless.audit.formats import FORMATS
from keyless.audit.model import Report
from keyless.cli import main
from keyless.detect.material import account_id_from_key_id

ROOT = Path(__file__).resolve().parents[2]
RNG = random.Random(20261128)
BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def encode_key_id(account: int, prefix: str = "AKIA") -> str:
    """An access key ID that carries `account`, built the way AWS lays the number into the ID.

    The 16 characters after the prefix are base32 for 10 bytes; bits 7..46 of the first six bytes
    hold the account number. The other bits are random here.
    """
    high = (RNG.getrandbits(1) << 47) | (account << 7) | RNG.getrandbits(7)
    raw = high.to_bytes(6, "big") + RNG.getrandbits(32).to_bytes(4, "big")
    return prefix + base64.b32encode(raw).decode()


def make_secret() -> str:
    while True:
        secret = "".join(RNG.choice(BASE64) for _ in range(40))
        if any(c.islower() for c in secret) and any(c.isupper() for c in secret):
            return secret


ACCOUNTS = [123456789012, 999999999999, 1, 210987654321]


@pytest.mark.parametrize("account", [*ACCOUNTS, 4242, 0x7FFFFFFF])
def test_account_id_decoding_of_constructed_keys(account: int) -> None:
    key = encode_key_id(account)
    assert len(key) == 20 and key[4:].isalnum()
    assert account_id_from_key_id(key) == f"{account:012d}"


# --- a tree with keys of known accounts, a broken file of each kind, and skipped folders ---------

TF_KEY, CFN_KEY, EXCLUDED_KEY = (encode_key_id(a) for a in ACCOUNTS[:3])
TF_SECRET, CFN_SECRET = make_secret(), make_secret()
SECRETS = (TF_SECRET, CFN_SECRET)

TERRAFORM = f'''
provider "aws" {{
  region     = "eu-west-1"
  access_key = "{TF_KEY}"
  secret_key = "{TF_SECRET}"
}}

resource "aws_lambda_function" "docs" {{
  function_name = "docs"
  role          = "arn:aws:iam::123456789012:role/docs"
  handler       = "app.handler"
  runtime       = "python3.12"
  filename      = "docs.zip"
  environment {{
    variables = {{
      S3_ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
    }}
  }}
}}
'''

TEMPLATE = f'''AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Export:
    Type: AWS::Lambda::Function
    Properties:
      Handler: app.handler
      Runtime: python3.12
      Role: arn:aws:iam::123456789012:role/export
      Code:
        ZipFile: "def handler(event, context): pass"
      Environment:
        Variables:
          PARTNER_ACCESS_KEY: {CFN_KEY}
          PARTNER_SECRET_KEY: {CFN_SECRET}
'''

BROKEN_TEMPLATE = '''AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Key:
    Type: AWS::IAM::AccessKey
    Properties: {UserName: [unclosed
'''

BROKEN_TERRAFORM = 'resource "aws_iam_access_key" "half" {\n  user = "x"\n'

ACCESS_KEY_TEMPLATE = '''AWSTemplateFormatVersion: "2010-09-09"
Resources:
  CiKey:
    Type: AWS::IAM::AccessKey
    Properties:
      UserName: ci
'''


def build_tree(root: Path) -> Path:
    files = {
        "infra/main.tf": TERRAFORM,
        "stacks/export.yaml": TEMPLATE,
        "stacks/broken.yaml": BROKEN_TEMPLATE,
        "broken-tf/main.tf": BROKEN_TERRAFORM,
        "ok-tf/main.tf": 'resource "aws_iam_access_key" "ci" {\n  user = "ci"\n}\n',
        "k8s/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
        "legacy/old.tf": f'provider "aws" {{\n  access_key = "{EXCLUDED_KEY}"\n}}\n',
        "legacy/old.yaml": ACCESS_KEY_TEMPLATE,
        "node_modules/pkg/template.yaml": ACCESS_KEY_TEMPLATE,
        ".git/template.yaml": ACCESS_KEY_TEMPLATE,
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def run_cli(*argv: str) -> int:
    return main(["audit", "--no-progress", *argv])


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tree(tmp_path_factory.mktemp("repo"))


@pytest.fixture(scope="module")
def tree_report(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any]]:
    out = tmp_path_factory.mktemp("out") / "report.json"
    code = run_cli(str(tree), "--exclude", "legacy", "--format", "json", "--output", str(out))
    return code, json.loads(out.read_text(encoding="utf-8"))


def _findings(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for repo in document["repositories"] for f in repo["findings"]]


def test_broken_files_are_listed_and_the_rest_is_kept(tree_report: tuple[int, dict[str, Any]]) -> None:
    code, document = tree_report
    assert code == 1
    errors = {e["file"]: e["reason"] for e in document["repositories"][0]["errors"]}
    assert set(errors) == {"stacks/broken.yaml", "broken-tf/main.tf"}
    assert all(reason for reason in errors.values())
    files = {f["file"] for f in _findings(document)}
    assert files == {"infra/main.tf", "stacks/export.yaml", "ok-tf/main.tf"}
    scanned = document["repositories"][0]["scanned"]
    assert scanned["cloudformation_templates"] == ["stacks/broken.yaml", "stacks/export.yaml"]
    assert "k8s" not in json.dumps(scanned)


def test_excluded_and_skipped_folders_are_not_scanned(tree_report: tuple[int, dict[str, Any]]) -> None:
    _, document = tree_report
    text = json.dumps(document)
    for skipped in ("legacy/", "node_modules", ".git/"):
        assert skipped not in text
    assert f"{ACCOUNTS[2]:012d}" not in text


def test_account_ids_and_documentation_examples(tree_report: tuple[int, dict[str, Any]]) -> None:
    _, document = tree_report
    key_findings = [f for f in _findings(document) if f["rule"] == "hardcoded-access-key-id"]
    by_file = {(f["file"], f["resource"]): f for f in key_findings}
    assert by_file[("infra/main.tf", "aws.default")]["account_id"] == f"{ACCOUNTS[0]:012d}"
    assert by_file[("stacks/export.yaml", "Export")]["account_id"] == f"{ACCOUNTS[1]:012d}"
    assert not by_file[("infra/main.tf", "aws.default")]["documentation_example"]
    assert by_file[("infra/main.tf", "aws_lambda_function.docs")]["documentation_example"]
    assert by_file[("stacks/export.yaml", "Export")]["evidence"] == f"{CFN_KEY[:4]}…{CFN_KEY[-4:]}"
    accounts = {a["account_id"] for a in document["summary"]["accounts"]}
    assert {f"{ACCOUNTS[0]:012d}", f"{ACCOUNTS[1]:012d}"} <= accounts


def test_no_format_contains_a_full_secret(tree: Path, tree_report: tuple[int, dict[str, Any]], tmp_path: Path) -> None:
    _, document = tree_report
    report_file = tmp_path / "r.json"
    report_file.write_text(json.dumps(document), encoding="utf-8")
    outputs = []
    for fmt in FORMATS:
        out = tmp_path / f"report.{fmt}"
        assert run_cli("merge", str(report_file), "--format", fmt, "--output", str(out), "--fail-on", "none") == 0
        outputs.append(out.read_text(encoding="utf-8"))
    baseline = tmp_path / "baseline.json"
    assert run_cli("merge", str(report_file), "--write-baseline", str(baseline), "--format", "json",
                   "--output", str(tmp_path / "x.json"), "--fail-on", "none") == 0
    outputs += [baseline.read_text(encoding="utf-8"), json.dumps(document)]
    for text in outputs:
        for secret in (*SECRETS, TF_KEY, CFN_KEY):
            assert secret not in text
            assert secret[:12] not in text


def test_progress_bar_stays_off_the_pipe(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["audit", str(tree / "stacks"), "--format", "json"])  # stderr is not a terminal here
    captured = capsys.readouterr()
    assert code == 1
    assert captured.err == ""
    assert json.loads(captured.out)["summary"]["total"] > 0


# --- baseline, merge, exit codes ---------------------------------------------------------------


def test_baseline_round_trip(tmp_path: Path) -> None:
    repo = tmp_path / "stacks"
    repo.mkdir()
    (repo / "keys.yaml").write_text(TEMPLATE, encoding="utf-8")
    baseline, out = tmp_path / "baseline.json", tmp_path / "out.json"
    assert run_cli(str(repo), "--write-baseline", str(baseline), "--format", "json", "--output", str(out)) == 1
    entries = json.loads(baseline.read_text(encoding="utf-8"))["findings"]
    assert len(entries) == json.loads(out.read_text(encoding="utf-8"))["summary"]["total"] > 0

    assert run_cli(str(repo), "--baseline", str(baseline), "--format", "json", "--output", str(out)) == 0
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["summary"]["total"] == 0
    assert document["summary"]["suppressed_by_baseline"] == len(entries)

    # Unrelated edits move every line: still suppressed. A new key in the same resource is new.
    new_key = encode_key_id(ACCOUNTS[3])
    edited = TEMPLATE.replace("Resources:\n", "Description: moved down\nMetadata:\n  Owner: team\nResources:\n")
    edited += f"          SECOND_ACCESS_KEY: {new_key}\n"
    (repo / "keys.yaml").write_text(edited, encoding="utf-8")
    assert run_cli(str(repo), "--baseline", str(baseline), "--format", "json", "--output", str(out)) == 1
    fresh = _findings(json.loads(out.read_text(encoding="utf-8")))
    assert fresh and all("SECOND_ACCESS_KEY" in f["path"] for f in fresh)
    assert {f["account_id"] for f in fresh if f["rule"] == "hardcoded-access-key-id"} == {f"{ACCOUNTS[3]:012d}"}


def _report_of(tmp_path: Path, name: str, template: str) -> Path:
    repo = tmp_path / name
    repo.mkdir()
    (repo / "template.yaml").write_text(template, encoding="utf-8")
    out = tmp_path / f"{name}.json"
    run_cli(str(repo), "--format", "json", "--output", str(out))
    return out


def test_merge_and_several_repositories(tmp_path: Path) -> None:
    a = _report_of(tmp_path, "team-a", TEMPLATE)
    b = _report_of(tmp_path, "team-b", ACCESS_KEY_TEMPLATE)
    merged = tmp_path / "merged.json"
    assert run_cli("merge", str(a), str(b), "--format", "json", "--output", str(merged)) == 1
    document = json.loads(merged.read_text(encoding="utf-8"))
    assert [r["name"] for r in document["repositories"]] == ["team-a", "team-b"]
    totals = [json.loads(p.read_text(encoding="utf-8"))["summary"]["total"] for p in (a, b)]
    assert document["summary"]["total"] == sum(totals)
    assert [r["summary"]["total"] for r in document["repositories"]] == totals

    html = tmp_path / "org.html"
    assert run_cli("merge", str(a), str(b), "--format", "html", "--output", str(html)) == 1
    page = html.read_text(encoding="utf-8")
    assert page.count('<section class="repository"') == 2 and "Overall summary" in page

    direct = tmp_path / "direct.md"
    assert run_cli(str(tmp_path / "team-a"), str(tmp_path / "team-b"), "--format", "markdown",
                   "--output", str(direct)) == 1
    text = direct.read_text(encoding="utf-8")
    assert "## Overall" in text and "## team-a" in text and "## team-b" in text
    assert Report.from_dict(document).findings == Report.from_dict(document).findings


def test_exit_codes(tmp_path: Path) -> None:
    report = _report_of(tmp_path, "iam", ACCESS_KEY_TEMPLATE)  # iam-access-key: HIGH, nothing higher
    quiet = ["--format", "json", "--output", str(tmp_path / "x.json")]
    assert run_cli("merge", str(report), *quiet) == 1
    assert run_cli("merge", str(report), "--fail-on", "high", *quiet) == 1
    assert run_cli("merge", str(report), "--fail-on", "CRITICAL", *quiet) == 0
    assert run_cli("merge", str(report), "--fail-on", "none", *quiet) == 0
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "main.tf").write_text('resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n', encoding="utf-8")
    assert run_cli(str(clean), *quiet) == 0
    assert run_cli(str(tmp_path / "missing"), *quiet) == 2
    assert run_cli("merge", *quiet) == 2
    (tmp_path / "junk.json").write_text("[1, 2]", encoding="utf-8")
    assert run_cli("merge", str(tmp_path / "junk.json"), *quiet) == 2
    with pytest.raises(SystemExit) as usage:
        run_cli(str(clean), "--fail-on", "urgent")
    assert usage.value.code == 2
    with pytest.raises(SystemExit) as usage:
        run_cli(str(clean), "--format", "pdf")
    assert usage.value.code == 2


def test_examples_tree_copy_reports_relative_paths(tmp_path: Path) -> None:
    examples = ROOT / "examples"
    if not examples.is_dir():
        pytest.skip("examples/ does not exist yet")
    copy = shutil.copytree(examples / "cloudformation", tmp_path / "copy")
    out = tmp_path / "r.json"
    run_cli(str(copy), "--format", "json", "--output", str(out))
    files = {f["file"] for f in _findings(json.loads(out.read_text(encoding="utf-8")))}
    assert files and all(not f.startswith(("/", "..")) for f in files)


class _Stream:
    def __init__(self, tty: bool) -> None:
        self.tty, self.text = tty, ""

    def isatty(self) -> bool:
        return self.tty

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


@pytest.mark.parametrize("tty", [True, False])
def test_progress_bar_only_on_a_terminal(tty: bool) -> None:
    from keyless.audit.progress import Progress

    stream = _Stream(tty)
    bar = Progress(2, stream=stream)  # type: ignore[arg-type]
    bar.step("repo: main.tf")
    bar.step("repo: stack.yaml")
    bar.close()
    assert ("repo: stack.yaml" in stream.text) is tty
    assert (stream.text == "") is (not tty)
