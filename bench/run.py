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


def measure(command: Sequence[str], cwd: Path | None = None) -> tuple[float, float, int, int]:
    """Wall seconds, CPU seconds (the process and its descendants), largest process's peak RSS (kB), exit code."""
    start = time.perf_counter()
    process = subprocess.Popen(list(command), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, process.returncode


def peak_tree_memory_kb(command: Sequence[str]) -> int:
    """Peak, over samples every 100 ms, of the proportional set size (PSS) summed over the whole process
    tree: the audit forks workers, and summing their RSS would count pages shared with the parent several
    times. Sampling costs CPU, so it runs apart from the timed runs."""
    process = subprocess.Popen(list(command), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while process.poll() is None:
        peak = max(peak, tree_pss_kb(process.pid))
        time.sleep(0.1)
    return peak


def tree_pss_kb(root: int) -> int:
    """PSS of a process and all its descendants, from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/smaps_rollup") as handle:
                total += next((int(line.split()[1]) for line in handle if line.startswith("Pss:")), 0)
        except OSError:
            continue
    return total


def interleaved(pairs: dict[str, list[str]], runs: int, tree_memory: bool = False) -> dict[str, dict[str, float]]:
    """Run each command once per round, rounds repeated, so drift hits every command alike.

    With tree_memory, one more (untimed) run of each command samples the memory of its process tree.
    """
    times: dict[str, list[float]] = {name: [] for name in pairs}
    cpu: dict[str, list[float]] = {name: [] for name in pairs}
    peaks: dict[str, list[int]] = {name: [] for name in pairs}
    for _ in range(runs):
        for name, command in pairs.items():
            seconds, cpu_seconds, rss, _ = measure(command)
            times[name].append(seconds)
            cpu[name].append(cpu_seconds)
            peaks[name].append(rss)
    results: dict[str, dict[str, float]] = {
        name: {"median_s": statistics.median(times[name]), "min_s": min(times[name]), "max_s": max(times[name]),
               "median_cpu_s": statistics.median(cpu[name]), "largest_process_mb": max(peaks[name]) / 1024,
               "runs": runs}
        for name in pairs
    }
    if tree_memory:
        for name, command in pairs.items():
            results[name]["tree_pss_mb"] = peak_tree_memory_kb(command) / 1024
    return results


def templates_of(corpus: Path) -> list[str]:
    return sorted(str(p) for p in (corpus / "cloudformation").iterdir())


def checkov(corpus: Path, *extra: str) -> list[str]:
    return [str(BIN / "checkov"), "-d", str(corpus), "--skip-download", "--quiet", "--compact", "-o", "json", *extra]


NOOP_CHECKS = """\
\"\"\"Nine checks with keyless's IDs' scopes and results that do no work: checkov's own cost for them.\"\"\"
from checkov.cloudformation.checks.resource.base_resource_check import BaseResourceCheck as Cfn
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.data.base_check import BaseDataCheck as Data
from checkov.terraform.checks.module.base_module_check import BaseModuleCheck as Module
from checkov.terraform.checks.provider.base_check import BaseProviderCheck as Provider
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck as Resource

from keyless.catalog import RULES
from keyless.rules import cloudformation_scope, runs_everywhere, terraform_scope

KINDS = {"resource": (Resource, "scan_resource_conf", "supported_resources"),
         "data": (Data, "scan_data_conf", "supported_data"),
         "provider": (Provider, "scan_provider_conf", "supported_provider"),
         "module": (Module, "scan_module_conf", "supported_resources")}


def noop(base, method, keyword, number, entities, result):
    def init(self):
        base.__init__(self, name="no-op", id=f"CKV_NOOP_{number}", categories=[CheckCategories.IAM],
                      **{keyword: list(entities)})

    cls = type(f"Noop{base.__name__}{number}", (base,), {method: lambda self, conf: result, "__init__": init})
    return cls()


for r in RULES:
    result = CheckResult.UNKNOWN if runs_everywhere(r.slug) else CheckResult.PASSED
    for kind, entities in terraform_scope(r.slug).items():
        noop(*KINDS[kind], r.number, entities, result)
    if cloudformation_scope(r.slug):
        noop(Cfn, "scan_resource_conf", "supported_resources", r.number, cloudformation_scope(r.slug), result)
"""


def noop_checks(out: Path) -> Path:
    """A checks folder like keyless's, whose checks return at once: what checkov charges per check run."""
    folder = out / "noop-checks"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "__init__.py").write_text("")
    (folder / "keyless_noop.py").write_text(NOOP_CHECKS)
    return folder


def engine_benchmarks(corpus: Path, runs: int, out: Path) -> dict[str, object]:
    checks_dir = subprocess.run([str(BIN / "keyless"), "checks-dir"], capture_output=True, text=True, check=True).stdout.strip()
    noop_dir = str(noop_checks(out))
    results: dict[str, object] = {}
    for label, frameworks in (("1_checkov_all", ["terraform", "cloudformation"]),
                              ("1a_checkov_terraform", ["terraform"]),
                              ("1b_checkov_cloudformation", ["cloudformation"])):
        chosen = ["--framework", *frameworks]
        results[label] = interleaved({
            "builtin": checkov(corpus, *chosen),
            "builtin+noop": checkov(corpus, *chosen, "--external-checks-dir", noop_dir),
            "builtin+keyless": checkov(corpus, *chosen, "--external-checks-dir", checks_dir),
        }, runs)
    frameworks = ["--framework", "terraform", "cloudformation"]
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
    for scale in (scales[0], scales[-1]):  # one process: memory per process, and what the second core buys
        commands[f"audit@{scale} --jobs 1"] = [str(BIN / "keyless"), "audit", str(out / f"corpus-{scale}"), "--format",
                                               "json", "--output", str(out / f"audit-{scale}-jobs1.json"),
                                               "--no-progress", "--jobs", "1"]
    return interleaved(commands, runs, tree_memory=True)


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
        results.update(engine_benchmarks(corpus, args.runs, args.out))
    if "audit" in only:
        scales = [float(s) for s in args.audit_scales.split(",")]
        results["4_audit"] = audit_benchmarks(args.out, scales, args.runs)
        results["oracle"] = {str(s): oracle_check(args.out / f"corpus-{s}", args.out / f"audit-{s}.json") for s in scales}
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
