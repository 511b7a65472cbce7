"""Plain checkov with keyless's checks folder (no `keyless checkov` wrapper) prints no secret either.

keyless masks log records where they are written out, so this runs checkov with LOG_LEVEL=DEBUG:
every debug record then reaches stderr through checkov's own handler.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from test_leaks import SCANNED, _assert_clean, secrets  # noqa: F401  (secrets is a fixture)

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_plain_checkov_debug_log_holds_no_secret(secrets: set[str]) -> None:  # noqa: F811
    for folder in (str(p) for p in SCANNED if p.exists()):
        result = subprocess.run(
            [str(BIN / "checkov"), "-d", folder, "--framework", "terraform", "terraform_json", "cloudformation",
             "--external-checks-dir", str(ROOT / "checks"), "--skip-download", "--check", "CKV_KEYLESS_*", "--compact"],
            capture_output=True, text=True, cwd=ROOT, env={**os.environ, "LOG_LEVEL": "DEBUG"},
        )
        assert result.returncode in (0, 1), result.stderr[-2000:]
        assert "DEBUG" in result.stderr and "CKV_KEYLESS_" in result.stdout
        _assert_clean(f"plain checkov output and debug log on {folder}", result.stdout + result.stderr, secrets)
