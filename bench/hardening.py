"""How long each engine, with keyless, takes on each broken or hostile file (the bounds in docs/benchmarks.md).

    python bench/hardening.py [--out bench/out]

Each file of tests/fixtures/malformed (plus a generated 20 MB user data template) is scanned alone,
so a slow file shows as itself: checkov with the keyless checks, cfn-lint with the keyless rules,
and `keyless audit`. A run that has not finished after --limit seconds is stopped and reported so.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def timed(command: list[str], limit: float) -> float | None:
    start = time.perf_counter()
    try:
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=limit)
    except subprocess.TimeoutExpired:
        return None
    return round(time.perf_counter() - start, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--limit", type=float, default=120.0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="keyless-malformed-"))
    shutil.copytree(ROOT / "tests" / "fixtures" / "malformed", work, dirs_exist_ok=True)
    filler = "echo the quick brown fox jumps over the lazy dog; " * 400_000
    (work / "cloudformation" / "huge.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  FailHuge:\n    Type: AWS::EC2::Instance\n"
        f"    Properties:\n      ImageId: ami-12345678\n      UserData: '{filler}'\n")
    huge_tf = work / "terraform" / "huge"
    huge_tf.mkdir()
    (huge_tf / "main.tf").write_text(f'resource "aws_instance" "fail_huge" {{\n  user_data = <<-EOT\n{filler}\n  EOT\n}}\n')
    rows = []
    for template in sorted((work / "cloudformation").iterdir()):
        alone = work / "alone" / template.name.replace(".", "-")  # the audit takes folders: give each template its own
        alone.mkdir(parents=True)
        shutil.copy(template, alone)
        rows.append({
            "file": f"cloudformation/{template.name}",
            "checkov": timed([str(BIN / "keyless"), "checkov", "-f", str(template), "--framework", "cloudformation",
                              "--check", "CKV_KEYLESS_*", "-o", "json"], args.limit),
            "cfn-lint": timed([str(BIN / "cfn-lint"), "-a", "keyless.cfn_lint", "--", str(template)], args.limit),
            "audit": timed([str(BIN / "keyless"), "audit", str(alone), "--format", "json", "--output", "/dev/null",
                            "--no-progress"], args.limit),
        })
    for folder in sorted((work / "terraform").iterdir()):
        rows.append({
            "file": f"terraform/{folder.name}/main.tf",
            "checkov": timed([str(BIN / "keyless"), "checkov", "-d", str(folder), "--framework", "terraform",
                              "--check", "CKV_KEYLESS_*", "-o", "json"], args.limit),
            "cfn-lint": None,
            "audit": timed([str(BIN / "keyless"), "audit", str(folder), "--format", "json", "--output", "/dev/null",
                            "--no-progress"], args.limit),
        })
    shutil.rmtree(work / "alone")
    whole = timed([str(BIN / "keyless"), "audit", str(work), "--format", "json", "--output", "/dev/null", "--no-progress"],
                  args.limit * 5)
    result = {"per_file_seconds": rows, "audit_whole_tree_seconds": whole, "limit_seconds": args.limit}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "hardening.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
