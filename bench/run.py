"""keyless benchmarks: what keyless costs on top of the scanners people already run.

    python bench/run.py [--runs 5] [--engine-scale 0.1] [--audit-scales 0.25,0.5,1.0] [--out bench/out]

Every figure is a ratio or a median of interleaved runs made in this one session on this one
machine; nothing here is asserted by the test suite. Results go to OUT/results.json and a
Markdown table is printed for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402

BIN = Path(sys.executable).parent
NEAREST_BUILTINS = "CKV_AWS_41,CKV_AWS_45,CKV_AWS_46,CKV2_AWS_41,CKV_SECRET_*"


def measure(command: Sequence[str], cwd: Path | None = None) -> tuple[float, int, int]:
    """Wall seconds, peak resident kB and exit code of one command, run through a small wrapper."""
    wrapper = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode\n"
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rc)\n"
    )
    out = subprocess.run([sys.executable, "-c", wrapper, *command], capture_output=True, text=True, cwd=cwd, check=True)
    seconds, rss, rc = out.stdout.split()
    return float(seconds), int(rss), int(rc)


def interleaved(pairs: dict[str, list[str]], runs: int) -> dict[str, dict[str, float]]:
    """Run each command once per round, rounds repeated, so drift hits every command alike."""
    times: dict[str, list[float]] = {name: [] for name in pairs}
    peaks: dict[str, list[int]] = {name: [] for name in pairs}
    for _ in range(runs):
        for name, command in pairs.items():
            seconds, rss, _ = measure(command)
            times[name].append(seconds)
            peaks[name].append(rss)
    return {
        name: {"median_s": statistics.median(times[name]), "min_s": min(times[name]), "max_s": max(times[name]),
               "peak_mb": max(peaks[name]) / 1024, "runs": runs}
        for name in pairs
    }


def templates_of(corpus: Path) -> list[str]:
    return sorted(str(p) for p in (corpus / "cloudformation").iterdir())


def checkov(corpus: Path, *extra: str) -> list[str]:
    return [str(BIN / "checkov"), "-d", str(corpus), "--skip-download", "--quiet", "--compact", "-o", "json", *extra]


def engine_benchmarks(corpus: Path, runs: int) -> dict[str, object]:
    checks_dir = subprocess.run([str(BIN / "keyless"), "checks-dir"], capture_output=True, text=True, check=True).stdout.strip()
    frameworks = ["--framework", "terraform", "cloudformation"]
    results: dict[str, object] = {}
    results["1_checkov_all"] = interleaved({
        "builtin": checkov(corpus, *frameworks),
        "builtin+keyless": checkov(corpus, *frameworks, "--external-checks-dir", checks_dir),
    }, runs)
    results["2_checkov_keyless_vs_nearest"] = interleaved({
        "nearest_builtins": checkov(corpus, "--framework", "terraform", "cloudformation", "secrets",
                                    "--check", NEAREST_BUILTINS),
        "keyless_only": checkov(corpus, *frameworks, "--external-checks-dir", checks_dir, "--check", "CKV_KEYLESS_*"),
    }, runs)
    templates = templates_of(corpus)
    results["3_cfn_lint"] = interleaved({
        "builtin": [str(BIN / "cfn-lint"), "--format", "parseable", "--", *templates],
        "builtin+keyless": [str(BIN / "cfn-lint"), "--format", "parseable", "-a", "keyless.cfn_lint", "--", *templates],
    }, runs)
    return results


def audit_benchmarks(out: Path, scales: list[float], runs: int) -> dict[str, object]:
    commands = {}
    for scale in scales:
        corpus = out / f"corpus-{scale}"
        if not (corpus / "oracle.json").exists():
            generate(corpus, seed=7, scale=scale)
        commands[f"audit@{scale}"] = [str(BIN / "keyless"), "audit", str(corpus), "--format", "json", "--output",
                                      str(out / f"audit-{scale}.json"), "--no-progress"]
    return interleaved(commands, runs)


def core_throughput() -> dict[str, float]:
    """MB/s of the detection core on 10 MB strings, benign and adversarial."""
    import random
    import string

    from keyless.detect.userdata import find_credential_writes
    from keyless.detect.walk import find_key_material

    size = 10_000_000
    rng = random.Random(1)
    inputs = {
        "benign prose": "the quick brown fox jumps over the lazy dog\n" * (size // 44),
        "uppercase and digits": "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(size)),
        "base64 alphabet": "".join(rng.choice(string.ascii_letters + string.digits + "+/") for _ in range(size)),
        "AKIA near misses": ("AKIA" + "B" * 15 + " ") * (size // 20),
        "credential names, short values": ("secret_key=" + "a" * 39 + " ") * (size // 51),
        "export without values": ("export AWS_SECRET_ACCESS_KEY" + " " * 50) * (size // 78),
    }
    rates = {}
    for label, text in inputs.items():
        start = time.perf_counter()
        find_key_material({"UserData": text})
        find_credential_writes(text)
        rates[label] = len(text) / 1e6 / (time.perf_counter() - start)
    return rates


def oracle_check(corpus: Path, report: Path) -> dict[str, int]:
    """Every planted finding found, no look-alike flagged: compares the audit's JSON with the oracle."""
    expected = {(o["check"], o["file"], o["resource"]) for o in json.loads((corpus / "oracle.json").read_text())}
    found = set()
    for repo in json.loads(report.read_text())["repositories"]:
        for finding in repo["findings"]:
            file = finding["file"]
            if file.startswith("terraform/"):
                file = os.path.dirname(file)
            found.add((finding["checkov_id"], file, finding["resource"]))
    return {"planted": len(expected), "missed": len(expected - found), "unexpected": len(found - expected)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--engine-scale", type=float, default=0.1)
    parser.add_argument("--audit-scales", default="0.25,0.5,1.0")
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--only", choices=("engines", "audit", "core"), action="append")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    only = set(args.only or ("engines", "audit", "core"))
    results: dict[str, object] = {"python": sys.version.split()[0], "cpus": os.cpu_count()}
    if "core" in only:
        results["5_core_mb_per_s"] = core_throughput()
    if "engines" in only:
        corpus = args.out / f"corpus-{args.engine_scale}"
        if not (corpus / "oracle.json").exists():
            generate(corpus, seed=7, scale=args.engine_scale)
        results.update(engine_benchmarks(corpus, args.runs))
    if "audit" in only:
        scales = [float(s) for s in args.audit_scales.split(",")]
        results["4_audit"] = audit_benchmarks(args.out, scales, args.runs)
        results["oracle"] = {str(s): oracle_check(args.out / f"corpus-{s}", args.out / f"audit-{s}.json") for s in scales}
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
