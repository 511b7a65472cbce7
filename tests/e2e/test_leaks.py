"""No full secret access key or session token from the fixtures reaches either engine's output."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Planted forms (tests/fixtures/leaks): secrets under neutral names beside a key ID, heredoc key pairs (joined
# by checkov into the next word), commented-out provider keys, two roots with the same addresses; and
# CDKTF's cdk.tf.json stacks (tests/fixtures/cdktf).
PLANTED = [ROOT / "tests" / "fixtures" / "leaks", ROOT / "tests" / "fixtures" / "cdktf"]
SCANNED = [ROOT / "examples", ROOT / "tests" / "fixtures" / "rules", *PLANTED]
_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_PLANTED_SECRET = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_TOKEN = re.compile(r"[A-Za-z0-9/+=]{100,}")
# A line that means its 40-character string as a secret: a credential word or a key ID beside it.
_CONTEXT = re.compile(r"(?i:secret|token|credential)|A[KS]IA[A-Z0-9]{16}")


def _secrets() -> set[str]:
    """Every secret-shaped string written in the scanned trees (found independently of keyless's detectors)."""
    found: set[str] = set()
    look_alikes: set[str] = set()
    for folder in SCANNED:
        for path in folder.rglob("*") if folder.exists() else []:
            # and the scripts and templates Terraform fixtures read (terraform/files/: boot.sh, credentials, ...)
            if path.is_file() and (path.suffix in {".tf", ".tfvars", ".yaml", ".yml", ".json", ".template"}
                                   or (path.parent.name == "files" and "terraform" in path.parts)):
                planted = any(folder == p for p in PLANTED)  # every secret-shaped string there is a planted secret
                for line in path.read_text(errors="replace").splitlines():
                    shaped = {s for s in _SECRET.findall(line) if re.search(r"[a-z]", s) and re.search(r"[A-Z]", s)}
                    if planted:  # after `=` too (`AWS_SECRET_ACCESS_KEY=...` in a script)
                        found |= {s for s in _PLANTED_SECRET.findall(line) if re.search(r"[0-9/+]", s)
                                  and re.search(r"[a-z]", s) and re.search(r"[A-Z]", s)}
                        continue
                    if not _CONTEXT.search(line) or not any(re.search(r"[0-9/+]", s) for s in shaped):
                        look_alikes |= shaped  # 40-character look-alikes (names, hashes) are printed legitimately
                        continue
                    found |= {s for s in shaped if re.search(r"[0-9/+]", s)}
                    found |= set(_TOKEN.findall(line)) if "token" in line.lower() else set()
    return found - look_alikes


def _assert_clean(name: str, text: str, secrets: set[str]) -> None:
    """Neither the secret nor a masked form showing more than its first four characters may be printed."""
    leaked = sorted(s[:4] + "…" for s in secrets if s in text or re.search(re.escape(s[:5]) + r"[A-Za-z0-9/+]*\*", text))
    assert not leaked, f"{name} prints more than four characters of secrets starting {leaked}"


@pytest.fixture(scope="module")
def secrets() -> set[str]:
    found = _secrets()
    assert len(found) >= 2, "the fixtures should hold secrets for this test to mean anything"
    return found


def test_checkov_outputs_and_debug_logs_hold_no_secret(tmp_path: Path, secrets: set[str]) -> None:
    folders = [str(p) for p in SCANNED if p.exists()]
    formats = ["cli", "json", "sarif", "junitxml", "github_failed_only"]
    for folder in folders:
        out = tmp_path / Path(folder).name
        result = subprocess.run(
            [str(BIN / "keyless"), "checkov", "-d", folder, "--framework", "terraform", "terraform_json", "cloudformation",
             "--check", "CKV_KEYLESS_*", *(arg for fmt in formats for arg in ("-o", fmt)), "--output-file-path", str(out)],
            capture_output=True, text=True, cwd=ROOT, env={**os.environ, "LOG_LEVEL": "DEBUG"},
        )
        assert result.returncode in (0, 1), result.stderr[-2000:]
        assert "DEBUG" in result.stderr  # the debug log really was produced, and is checked here
        _assert_clean(f"checkov output and debug log on {folder}", result.stdout + result.stderr, secrets)
        written = list(out.iterdir())
        assert len(written) == len(formats), written
        for path in written:
            _assert_clean(f"checkov {path.name} on {folder}", path.read_text(), secrets)
        assert "CKV_KEYLESS_" in (out / "results_json.json").read_text()


def planted_secrets() -> set[str]:
    texts = [p.read_text(errors="replace") for folder in PLANTED for p in folder.rglob("*") if p.is_file()]
    return {s for s in _secrets() if any(s in text for text in texts)}


def test_every_planted_form_is_counted() -> None:
    """Neutral names, heredoc pairs, comments, the second root, CloudFormation and CDKTF: 2 + 2 + 2 + 1 + 2 + 2."""
    assert len(planted_secrets()) >= 11


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "LOG_LEVEL=DEBUG"])
def test_plain_checkov_with_every_framework_holds_no_secret(tmp_path: Path, debug: bool) -> None:
    """The README's plain command, with checkov's built-in checks and its secrets scan: the code blocks of
    failed and passed records, and the debug log's records, hold no planted secret."""
    secrets = planted_secrets()
    for folder in PLANTED:
        checks_dir = subprocess.run([str(BIN / "keyless"), "checks-dir"], capture_output=True, text=True,
                                    check=True).stdout.strip()
        result = subprocess.run(
            [str(BIN / "checkov"), "-d", str(folder), "--external-checks-dir", checks_dir, "-o", "json", "-o", "cli",
             # the frameworks that read these files, checkov's secrets scan included (the others find nothing here)
             "--framework", "terraform", "terraform_json", "cloudformation", "secrets",
             "-o", "sarif", "--output-file-path", str(tmp_path / folder.name), "--skip-download"],
            capture_output=True, text=True, cwd=ROOT, env={**os.environ, "LOG_LEVEL": "DEBUG" if debug else "WARNING"},
        )
        assert result.returncode in (0, 1), result.stderr[-2000:]
        written = {p.name: p.read_text() for p in (tmp_path / folder.name).iterdir()}
        assert "CKV_KEYLESS_3" in written["results_json.json"]
        assert '"passed_checks"' in written["results_json.json"]
        outputs = {"stdout": result.stdout, **written}
        if debug:
            # Under plain checkov the debug log's stream is not keyless's to wrap (`keyless checkov` wraps it:
            # see the test below and test_checkov_outputs_and_debug_logs_hold_no_secret); its records are.
            assert "DEBUG" in result.stderr
        else:
            outputs["stderr"] = result.stderr
        for name, text in outputs.items():
            _assert_clean(f"plain checkov {name} on {folder.name}{' (debug)' if debug else ''}", text, secrets)


def test_keyless_checkov_debug_log_masks_values_glued_to_the_next_word() -> None:
    """checkov joins an interpolated heredoc's lines: `...secret` runs into `runcmd:`; the debug log shows it."""
    secrets = planted_secrets()
    result = subprocess.run(
        [str(BIN / "keyless"), "checkov", "-d", str(PLANTED[0] / "heredoc"), "--framework", "terraform", "-o", "json"],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "LOG_LEVEL": "DEBUG"},
    )
    assert result.returncode in (0, 1), result.stderr[-2000:]
    glued = re.compile(r"aws_secret_access_key = [A-Za-z0-9/+]{4}(?:…|\\u2026) \(40 characters\)runcmd:")
    assert glued.search(result.stdout + result.stderr), "the joined heredoc should be in the output, masked"
    _assert_clean("LOG_LEVEL=DEBUG keyless checkov on a joined heredoc", result.stdout + result.stderr, secrets)


def test_audit_reports_hold_no_secret(tmp_path: Path, secrets: set[str]) -> None:
    from keyless.cli import main

    folders = [str(p) for p in SCANNED if p.exists()]
    report = tmp_path / "report.json"
    assert main(["audit", *folders, "--format", "json", "--output", str(report), "--no-progress"]) == 1
    texts = {"json": report.read_text()}
    for fmt in ("terminal", "markdown", "sarif", "html"):
        out = tmp_path / f"report.{fmt}"
        main(["audit", "merge", str(report), "--format", fmt, "--output", str(out)])
        texts[fmt] = out.read_text()
    for fmt, text in texts.items():
        assert "CKV_KEYLESS_3" in text or "hardcoded-access-key-id" in text, fmt
        _assert_clean(f"keyless audit --format {fmt}", text, secrets)


@pytest.mark.parametrize("fmt", ["parseable", "json", "sarif", "junit"])
def test_cfn_lint_outputs_hold_no_secret(fmt: str, secrets: set[str]) -> None:
    """Each format once; the parseable run also has --debug, so cfn-lint's debug log is checked too."""
    templates = sorted(
        str(p) for folder in SCANNED if folder.exists() for p in folder.rglob("*")
        if p.suffix in {".yaml", ".yml", ".json"} and "terraform" not in p.parts and not p.name.endswith(".tf.json")
    )
    result = subprocess.run(
        [str(BIN / "cfn-lint"), "--format", fmt, *(["--debug"] if fmt == "parseable" else []),
         "-a", "keyless.cfn_lint", "--", *templates],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert "K00" in result.stdout, result.stderr[-2000:]
    _assert_clean(f"cfn-lint --format {fmt}", result.stdout + result.stderr, secrets)
