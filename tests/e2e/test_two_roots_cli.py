"""`keyless checkov` over two roots that share addresses equals separate runs over each root."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from test_two_roots import lay_out  # noqa: E402

KEYLESS = Path(sys.executable).with_name("keyless")


def failed(root: Path) -> set[tuple[str, str, str, str]]:
    done = subprocess.run([str(KEYLESS), "checkov", "-d", str(root), "--framework", "terraform", "--check",
                           "CKV_KEYLESS_*", "-o", "json", "--quiet"], capture_output=True, text=True, timeout=600)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    document: Any = json.loads(done.stdout)
    reports = document if isinstance(document, list) else [document]
    return {(c["check_id"], os.path.realpath(c["file_abs_path"]), c["resource"], " ".join(c.get("details") or []))
            for report in reports for c in report["results"]["failed_checks"]}


@pytest.mark.parametrize("dev_first", [True, False], ids=["dev-first", "prod-first"])
def test_keyless_checkov_keeps_each_roots_blocks_apart(tmp_path: Path, dev_first: bool) -> None:
    tree, dev, prod = lay_out(tmp_path, dev_first)
    together = failed(tree)
    assert together == failed(dev) | failed(prod)
    dev_file = os.path.realpath(dev / "main.tf")
    assert ("CKV_KEYLESS_8", dev_file, "aws_instance.web") in {f[:3] for f in together}
    assert not [f for f in together if f[1] == os.path.realpath(prod / "main.tf") and f[0] != "CKV_KEYLESS_9"]
