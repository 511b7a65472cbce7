"""keyless benchmarks: the six cost goals of issue 13, each as interleaved pairs of commands.

    python bench/run.py --quick                      # all six goals in about 10 minutes
    python bench/run.py                              # the full run (about an hour)
    python bench/run.py --goals 2,5 --runs 5         # some goals only

Every command of a goal runs once per round, rounds repeated (`--runs`), so load from other work
hits each command alike; each figure is the median of the per-round ratios of CPU time (user +
system of the command and all its processes), with their min-max, and the same for wall time.
CPU time is the figure to read on a shared machine: wall time swings with other people's work.
Results go to OUT/results.json, and OUT/summary.md holds the tables for docs/benchmarks.md.

1. the floor: checkov's built-in checks, then plus no-op checks with keyless's scopes that import
   nothing from keyless (what checkov itself charges for keyless's check runs);
2. plain checkov with keyless's checks folder against built-in only (goal <= 1.08) and against
   the floor (keyless's own share, goal <= 2 points), the share split into being loaded (keyless's
   checks with its rules switched off) and the rules themselves;
3. `keyless checkov` against plain `checkov` without keyless (goal <= 1.00);
4. the detection core, MB/s of CPU time on realistic and adversarial user data (goal >= 50);
5. `keyless audit` against `keyless checkov --framework terraform --check 'CKV_KEYLESS_*'` on
   Terraform-only trees (goal >= 2x faster, same findings), and its memory from 1x to 4x;
6. cfn-lint per template, as the editor runs it (one process per template), without and with
   `-a keyless.cfn_lint` (goal <= 1.04).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
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
PUBLIC = Path("/work/corpus")  # where the public repositories are checked out (`--public-dir`)
# (name, folder under --public-dir, what it holds)
PUBLIC_REPOS = (
    ("terragoat", "bridgecrewio+terragoat", "terraform+cloudformation"),
    ("widdix", "widdix", "cloudformation"),
    ("terraform-aws-iam", "terraform-aws-modules+terraform-aws-iam", "terraform"),
)


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


def interleaved(commands: dict[str, list[str]], runs: int, tree_memory: bool = False) -> dict[str, dict[str, object]]:
    """Run each command once per round, rounds repeated, so drift hits every command alike.

    Keeps every round's figures (for per-round ratios). With tree_memory, one more (untimed) run of
    each command samples the memory of its process tree.
    """
    rounds: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": [], "rss_mb": []} for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            seconds, cpu_seconds, rss, _ = measure(command)
            rounds[name]["wall"].append(round(seconds, 3))
            rounds[name]["cpu"].append(round(cpu_seconds, 3))
            rounds[name]["rss_mb"].append(round(rss / 1024, 1))
    results: dict[str, dict[str, object]] = {}
    for name, figures in rounds.items():
        results[name] = {"median_s": statistics.median(figures["wall"]), "median_cpu_s": statistics.median(figures["cpu"]),
                         "min_cpu_s": min(figures["cpu"]), "max_cpu_s": max(figures["cpu"]),
                         "largest_process_mb": max(figures["rss_mb"]), "rounds": figures}
        if tree_memory:
            results[name]["tree_pss_mb"] = round(peak_tree_memory_kb(commands[name]) / 1024, 1)
    return results


def ratio(results: dict[str, dict[str, object]], numerator: str, denominator: str, minus: str | None = None) -> dict[str, object]:
    """Per-round ratios numerator/denominator (or (numerator - minus)/denominator: a share in points),
    CPU and wall: median and min-max over the rounds."""
    out: dict[str, object] = {}
    for kind in ("cpu", "wall"):
        top = results[numerator]["rounds"][kind]  # type: ignore[index]
        bottom = results[denominator]["rounds"][kind]  # type: ignore[index]
        less = results[minus]["rounds"][kind] if minus else [0.0] * len(top)  # type: ignore[index]
        per_round = [(t - m) / b for t, m, b in zip(top, less, bottom, strict=True) if b]
        out[kind] = {"median": round(statistics.median(per_round), 3), "min": round(min(per_round), 3),
                     "max": round(max(per_round), 3)}
    return out


def templates_of(corpus: Path) -> list[str]:
    return sorted(str(p) for p in (corpus / "cloudformation").iterdir())


def checkov(corpus: Path, *extra: str) -> list[str]:
    return [str(BIN / "checkov"), "-d", str(corpus), "--skip-download", "--quiet", "--compact", "-o", "json", *extra]


# The no-op checks are plain checkov checks that import nothing from keyless: importing keyless's
# checkov adapter installs its log masking on every record checkov creates, which is keyless's cost,
# not checkov's. Their data (scopes, categories, results, names) is read from keyless here, at bench
# time, and written out as literals.
NOOP_MODULE = '''\
"""Generated by bench/run.py: {count} checks with keyless's scopes, categories and results that do no work,
so a run with them costs what checkov itself charges for keyless's check runs. Imports nothing from keyless."""
from checkov.cloudformation.checks.resource.base_resource_check import BaseResourceCheck as Cfn
from checkov.common.bridgecrew.severities import BcSeverities, Severities
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.data.base_check import BaseDataCheck as Data
from checkov.terraform.checks.module.base_module_check import BaseModuleCheck as Module
from checkov.terraform.checks.provider.base_check import BaseProviderCheck as Provider
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck as Resource

KINDS = {{"resource": (Resource, "scan_resource_conf", "supported_resources"),
         "data": (Data, "scan_data_conf", "supported_data"),
         "provider": (Provider, "scan_provider_conf", "supported_provider"),
         "module": (Module, "scan_module_conf", "supported_resources"),
         "cloudformation": (Cfn, "scan_resource_conf", "supported_resources")}}
# (kind, rule number, name, guideline, severity, entities, categories, result)
CHECKS = {checks}


def noop(kind, number, name, guideline, severity, entities, categories, result):
    base, method, keyword = KINDS[kind]
    outcome = CheckResult[result]

    def init(self):
        base.__init__(self, name=name, id=f"CKV_NOOP_{{number}}", guideline=guideline,
                      categories=[CheckCategories[c] for c in categories], **{{keyword: list(entities)}})
        self.severity = Severities[getattr(BcSeverities, severity)]

    return type(f"Noop{{kind.title()}}{{number}}", (base,), {{method: lambda self, conf: outcome, "__init__": init}})()


checks = [noop(*spec) for spec in CHECKS]
'''
# The first round's variant (the same checks, importing keyless's adapter), kept because its difference to
# the plain no-op checks is what keyless's imports and log masking cost without any analysis.
IMPORTING_KEYLESS = (
    "# Not checkov's floor: this import installs keyless's log masking on every record checkov creates.\n"
    "import keyless.engines.checkov_adapter  # noqa: F401\n"
)


# keyless's own checks with its rules switched off: checkov runs them on the same entities and keyless does
# everything around its rules (imports, masking, locating each entity, copying checkov's Terraform graph),
# so the difference to the no-op checks is what being loaded costs, and the difference to keyless's
# checks is what its rules cost. The three names are the adapter's only calls into the rules.
WITHOUT_RULES = """\
\"\"\"Generated by bench/run.py: keyless's checks with its rules switched off (they find nothing).\"\"\"
from keyless.engines import checkov_adapter

checkov_adapter.scan_terraform_block = lambda block, model=None: []
checkov_adapter.scan_template = lambda template: []
checkov_adapter.load_cloudformation = lambda path, positions=True: None

checks = checkov_adapter.register_all()
"""


def without_rules_checks(out: Path) -> Path:
    """A checks folder: keyless's checks, its rules switched off."""
    folder = out / "keyless-checks-without-rules"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "__init__.py").write_text("")
    (folder / "keyless_without_rules.py").write_text(WITHOUT_RULES)
    return folder


def noop_specs() -> list[tuple[str, int, str, str, str, list[str], list[str], str]]:
    """One spec per check keyless registers: kind, rule number, name, guideline, severity, entities, categories, result."""
    from keyless.catalog import RULES
    from keyless.engines.checkov_adapter import CATEGORIES
    from keyless.rules import cloudformation_scope, runs_everywhere, terraform_scope

    categories = [c.name for c in CATEGORIES]
    specs = []
    for r in RULES:
        result = "UNKNOWN" if runs_everywhere(r.slug) else "PASSED"  # rules 3 and 4 report failures only
        scopes = [*terraform_scope(r.slug).items()]
        if cloudformation_scope(r.slug):
            scopes.append(("cloudformation", cloudformation_scope(r.slug)))
        specs += [(kind, r.number, r.title, r.guideline, r.severity, list(entities), categories, result)
                  for kind, entities in scopes]
    return specs


def noop_checks(out: Path) -> tuple[Path, Path]:
    """Two checks folders: the no-op checks (checkov's floor), and the same plus keyless's adapter import."""
    import pprint

    specs = noop_specs()
    module = NOOP_MODULE.format(count=len(specs), checks=pprint.pformat(specs, width=110, compact=True))
    folders = (out / "noop-checks", out / "noop-checks-importing-keyless")
    for folder, text in zip(folders, (module, IMPORTING_KEYLESS + module), strict=True):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "__init__.py").write_text("")
        (folder / "keyless_noop.py").write_text(text)
    return folders


def checks_dir() -> str:
    return subprocess.run([str(BIN / "keyless"), "checks-dir"], capture_output=True, text=True, check=True).stdout.strip()


def checkov_trees(corpus: Path, public: Path, quick: bool) -> dict[str, tuple[Path, list[str]]]:
    """Trees for goals 1-3: the generated corpus (both frameworks) and public repositories."""
    both = ["terraform", "cloudformation"]
    trees = {f"generated ({corpus.name})": (corpus, both)}
    for name, folder, _ in PUBLIC_REPOS[: 1 if quick else None]:
        if (public / folder).is_dir():
            trees[name] = (public / folder, both)
    return trees


def goals_1_2(trees: dict[str, tuple[Path, list[str]]], runs: int, out: Path) -> dict[str, object]:
    """Plain checkov: built-in checks; plus the no-op checks (the floor); plus keyless's checks."""
    keyless_checks = checks_dir()
    noop_dir = str(noop_checks(out)[0])
    without_rules = str(without_rules_checks(out))
    results: dict[str, object] = {}
    for label, (tree, frameworks) in trees.items():
        chosen = ["--framework", *frameworks]
        timed = interleaved({
            "builtin": checkov(tree, *chosen),
            "builtin+noop": checkov(tree, *chosen, "--external-checks-dir", noop_dir),
            "builtin+keyless-without-rules": checkov(tree, *chosen, "--external-checks-dir", without_rules),
            "builtin+keyless": checkov(tree, *chosen, "--external-checks-dir", keyless_checks),
        }, runs)
        results[label] = {
            "commands": timed,
            "1_floor (noop / builtin)": ratio(timed, "builtin+noop", "builtin"),
            "2_keyless (keyless / builtin, goal <= 1.08)": ratio(timed, "builtin+keyless", "builtin"),
            "2_keyless_share ((keyless - noop) / builtin, goal <= 0.02)": ratio(timed, "builtin+keyless", "builtin",
                                                                               minus="builtin+noop"),
            # the share split in two: being loaded (rules off), and the rules themselves
            "2_share_loaded ((keyless without rules - noop) / builtin)": ratio(
                timed, "builtin+keyless-without-rules", "builtin", minus="builtin+noop"),
            "2_share_rules ((keyless - keyless without rules) / builtin)": ratio(
                timed, "builtin+keyless", "builtin", minus="builtin+keyless-without-rules"),
        }
    return results


def goal_3(trees: dict[str, tuple[Path, list[str]]], runs: int) -> dict[str, object]:
    """`keyless checkov` (built-in + keyless) against plain `checkov` with built-in checks only."""
    results: dict[str, object] = {}
    for label, (tree, frameworks) in trees.items():
        chosen = ["--framework", *frameworks]
        plain = checkov(tree, *chosen)
        wrapped = [str(BIN / "keyless"), "checkov", *plain[1:]]
        timed = interleaved({"checkov": plain, "keyless checkov": wrapped}, runs)
        results[label] = {"commands": timed, "3_keyless_checkov (keyless checkov / checkov, goal <= 1.00)":
                          ratio(timed, "keyless checkov", "checkov")}
    return results


def terraform_trees(corpus: Path, public: Path, quick: bool) -> dict[str, Path]:
    trees = {f"generated ({corpus.name}/terraform)": corpus / "terraform"}
    for name, folder, holds in PUBLIC_REPOS:
        if "terraform" in holds and (public / folder).is_dir():
            tree = public / folder / ("terraform" if name == "terragoat" else "")
            trees[name] = tree
    return trees


def findings_of_checkov(report: str) -> set[tuple[str, str, str]]:
    reports = json.loads(report) if report.strip() else []
    reports = reports if isinstance(reports, list) else [reports]
    return {(r["check_id"], r.get("file_abs_path") or r["file_path"], r["resource"])
            for report in reports for r in report.get("results", {}).get("failed_checks", [])}


def findings_of_audit(path: Path, tree: Path) -> set[tuple[str, str, str]]:
    found = set()
    for repo in json.loads(path.read_text())["repositories"]:
        for finding in repo["findings"]:
            found.add((finding["checkov_id"], str(tree / finding["file"]), finding["resource"]))
    return found


def goal_5(trees: dict[str, Path], runs: int, out: Path, scales: list[float]) -> dict[str, object]:
    """The audit against checkov with keyless's checks on Terraform-only trees; memory from 1x to 4x."""
    results: dict[str, object] = {}
    for label, tree in trees.items():
        report = out / f"audit-{tree.parent.name}-{tree.name}.json"
        audit = [str(BIN / "keyless"), "audit", str(tree), "--format", "json", "--output", str(report), "--no-progress"]
        via_checkov = [str(BIN / "keyless"), "checkov", "-d", str(tree), "--framework", "terraform", "--check",
                       "CKV_KEYLESS_*", "--quiet", "--compact", "-o", "json"]
        timed = interleaved({"keyless checkov --check CKV_KEYLESS_*": via_checkov, "keyless audit": audit}, runs)
        checkov_found = findings_of_checkov(subprocess.run(via_checkov, capture_output=True, text=True).stdout)
        audit_found = findings_of_audit(report, tree)
        results[label] = {
            "commands": timed,
            "5_audit_speed-up (checkov / audit, goal >= 2)": ratio(timed, "keyless checkov --check CKV_KEYLESS_*",
                                                                   "keyless audit"),
            # written_at moves a finding to the file its value is written in: compare (check, resource) too
            "parity": {"checkov_findings": len(checkov_found), "audit_findings": len(audit_found),
                       "same_check_and_resource": {(c, r) for c, _, r in checkov_found} == {(c, r) for c, _, r in audit_found}},
        }
    results["all trees"] = several_repositories(trees, runs, out)
    commands = {}
    for scale in scales:
        corpus = out / f"corpus-{scale}"
        if not (corpus / "oracle.json").exists():
            generate(corpus, seed=7, scale=scale)
        commands[f"audit@{scale}"] = [str(BIN / "keyless"), "audit", str(corpus / "terraform"), "--format", "json",
                                      "--output", str(out / f"audit-terraform-{scale}.json"), "--no-progress"]
    memory = interleaved(commands, max(1, runs // 2), tree_memory=True)
    results["memory"] = {name: {k: v for k, v in figures.items() if k != "rounds"} for name, figures in memory.items()}
    return results


def several_repositories(trees: dict[str, Path], runs: int, out: Path) -> dict[str, object]:
    """What a security team runs: one audit over several repositories, against checkov once per repository
    (checkov takes one root per run); the audit pays checkov's start-up once."""
    audit = [str(BIN / "keyless"), "audit", *map(str, trees.values()), "--format", "json",
             "--output", str(out / "audit-all-trees.json"), "--no-progress"]
    each = [[str(BIN / "keyless"), "checkov", "-d", str(tree), "--framework", "terraform", "--check", "CKV_KEYLESS_*",
             "--quiet", "--compact", "-o", "json"] for tree in trees.values()]
    # a shell runs them one after the other; its CPU time holds theirs
    via_checkov = ["/bin/sh", "-c", " ; ".join(shlex.join(command) + " > /dev/null" for command in each)]
    timed = interleaved({"keyless checkov per tree": via_checkov, "keyless audit (all trees)": audit}, runs)
    return {"commands": timed,
            "5_audit_speed-up (checkov / audit, goal >= 2)": ratio(timed, "keyless checkov per tree",
                                                                   "keyless audit (all trees)")}


def goal_6(corpus: Path, public: Path, runs: int, count: int) -> dict[str, object]:
    """cfn-lint on one template per process, as an editor runs it, without and with keyless's rules."""
    templates = templates_of(corpus)[:: max(1, len(templates_of(corpus)) // max(1, count // 2))][: count // 2]
    widdix = public / "widdix"
    if widdix.is_dir():
        more = sorted(str(p) for p in widdix.rglob("*.yaml")
                      if not p.name.startswith(".") and "AWSTemplateFormatVersion" in p.read_text(errors="replace"))
        templates += more[:: max(1, len(more) // max(1, count - len(templates)))][: count - len(templates)]
    commands: dict[str, list[str]] = {}
    for index, template in enumerate(templates):
        commands[f"{index} cfn-lint"] = [str(BIN / "cfn-lint"), "--format", "parseable", "--", template]
        commands[f"{index} cfn-lint -a keyless.cfn_lint"] = [str(BIN / "cfn-lint"), "--format", "parseable", "-a",
                                                             "keyless.cfn_lint", "--", template]
    timed = interleaved(commands, runs)
    per_template = {template: ratio(timed, f"{i} cfn-lint -a keyless.cfn_lint", f"{i} cfn-lint")
                    for i, template in enumerate(templates)}
    medians = {kind: [r[kind]["median"] for r in per_template.values()] for kind in ("cpu", "wall")}  # type: ignore[index]
    return {"templates": per_template,
            "6_cfn_lint (with keyless / without, per template, goal <= 1.04)": {
                kind: {"median": round(statistics.median(v), 3), "min": min(v), "max": max(v)} for kind, v in medians.items()},
            "mean_cpu_s_without": round(statistics.mean(statistics.median(timed[f"{i} cfn-lint"]["rounds"]["cpu"])  # type: ignore[index]
                                                         for i in range(len(templates))), 3)}


# A boot script as user data holds it: AWS_ variables, credential writes (the findings), fetched values.
BOOT_SCRIPT = """\
#!/bin/bash
set -euo pipefail
export AWS_DEFAULT_REGION=eu-west-1
export AWS_REGION="$AWS_DEFAULT_REGION"
export AWS_PROFILE=deploy
export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
export AWS_SESSION_TOKEN=$(aws sts get-session-token --query Credentials.SessionToken --output text)
aws configure set aws_session_token "$AWS_SESSION_TOKEN" --profile deploy
mkdir -p ~/.aws && printf '[default]\\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\\n' > ~/.aws/credentials
aws s3 cp "s3://artifacts-$AWS_REGION/app.tar.gz" /opt/app.tar.gz && tar -xzf /opt/app.tar.gz -C /opt
yum install -y httpd jq amazon-cloudwatch-agent
DB_PASSWORD=$(aws secretsmanager get-secret-value --secret-id prod/db --query SecretString --output text | jq -r .password)
echo "Deployed by $(whoami) at $(date) in $AWS_REGION" >> /var/log/deploy.log
systemctl enable --now httpd
"""
BENIGN_SCRIPT = """\
#!/bin/bash
set -euo pipefail
export AWS_DEFAULT_REGION=eu-west-1
INSTANCE_ID=$(curl -s http://169.254.169.254/latest/meta-data/instance-id)
yum update -y && yum install -y nginx git amazon-cloudwatch-agent
cat > /opt/aws/amazon-cloudwatch-agent/etc/config.json <<'JSON'
{"logs": {"logs_collected": {"files": {"collect_list": [
  {"file_path": "/var/log/nginx/access.log", "log_group_name": "web-access", "log_stream_name": "{instance_id}"},
  {"file_path": "/var/log/nginx/error.log", "log_group_name": "web-error", "log_stream_name": "{instance_id}"}]}}}}
JSON
/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s \\
  -c file:/opt/aws/amazon-cloudwatch-agent/etc/config.json
aws ssm get-parameter --name /web/config --with-decryption --query Parameter.Value --output text > /etc/web.conf
echo "the quick brown fox jumps over the lazy dog on $INSTANCE_ID in $AWS_DEFAULT_REGION" > /var/www/index.html
systemctl enable --now nginx
"""


def core_inputs(size: int = 10_000_000) -> dict[str, dict[str, str]]:
    """Realistic user data (what the 50 MB/s goal is about), then adversarial input (linear, slower)."""
    import base64
    import random
    import string

    rng = random.Random(1)
    # test_hardening's 20 MB user data: one credential export after 20 MB of shell
    huge = "echo the quick brown fox jumps over the lazy dog; " * 400_000 + " export AWS_ACCESS_KEY_ID=AKIAQYLPMN5HFIQR7ABC"
    # one script in ten writes credentials: most user data only uses AWS_ variables and the CLI
    script = (BOOT_SCRIPT + BENIGN_SCRIPT * 9) * (size // (len(BOOT_SCRIPT) + 9 * len(BENIGN_SCRIPT)))
    return {
        "realistic": {
            "20 MB user data, one AWS_ export at the end": huge,
            "boot scripts with AWS_ variables and credential writes": script,
            "the same scripts, base64 (user_data_base64)": base64.b64encode(script[: size * 3 // 4].encode()).decode(),
            "benign prose": "the quick brown fox jumps over the lazy dog\n" * (size // 44),
        },
        "adversarial": {
            "uppercase and digits": "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(size)),
            "base64 alphabet": "".join(rng.choice(string.ascii_letters + string.digits + "+/") for _ in range(size)),
            "AKIA near misses": ("AKIA" + "B" * 15 + " ") * (size // 20),
            "credential names, short values": ("secret_key=" + "a" * 39 + " ") * (size // 51),
            "export without values": ("export AWS_SECRET_ACCESS_KEY" + " " * 50) * (size // 78),
            "assignment names glued to a word": ("xAWS_ACCESS_KEY_ID=" + "aws_access_key_id=" * 3) * (size // 73),
        },
    }


def core_throughput(repeats: int = 3, size: int = 10_000_000) -> dict[str, dict[str, float]]:
    """MB/s (CPU time, median of `repeats`) of the detection core: find_key_material on a `UserData` value
    (so base64 decoding is attempted too) plus find_credential_writes, as the user data rules run them."""
    from keyless.detect import material
    from keyless.detect.userdata import find_credential_writes
    from keyless.detect.walk import find_key_material

    def forget_decoded() -> None:
        """Empty the cache of decoded base64 values (where keyless has one: older versions decode every time)."""
        cache = getattr(material, "_decode_base64", None)
        if cache is not None:
            cache.cache_clear()

    rates: dict[str, dict[str, float]] = {}
    for group, inputs in core_inputs(size).items():
        rates[group] = {}
        for label, text in inputs.items():
            seconds = []
            for _ in range(repeats):
                forget_decoded()  # each repeat decodes base64 again, as the first rule to read a value does
                start = time.process_time()
                find_key_material({"UserData": text})
                find_credential_writes(text)
                seconds.append(time.process_time() - start)
            rates[group][label] = round(len(text) / 1e6 / statistics.median(seconds), 1)
    return rates


def _cell(figure: dict[str, object]) -> str:
    cpu, wall = figure["cpu"], figure["wall"]  # type: ignore[index]
    return (f"**{cpu['median']:.3f}** ({cpu['min']:.3f}–{cpu['max']:.3f}) | "  # type: ignore[index]
            f"{wall['median']:.3f} ({wall['min']:.3f}–{wall['max']:.3f})")  # type: ignore[index]


def summary(results: dict[str, object]) -> str:
    """The Markdown tables of docs/benchmarks.md: per-round ratios, median (min–max), CPU then wall."""
    lines = [f"runs per command: {results['runs']}; CPU ratio median (min–max) | wall ratio median (min–max)", ""]
    for goal in ("goals_1_2", "goal_3", "goal_5"):
        if goal not in results:
            continue
        lines += [f"### {goal}", "", "| tree | figure | CPU | wall | CPU s (median) per command |", "|---|---|---|---|---|"]
        for tree, figures in results[goal].items():  # type: ignore[union-attr]
            if tree == "memory":
                continue
            seconds = ", ".join(f"{name} {c['median_cpu_s']:.1f}" for name, c in figures["commands"].items())
            for name, figure in figures.items():
                if name[:1].isdigit():
                    lines.append(f"| {tree} | {name} | {_cell(figure)} | {seconds} |")
            if "parity" in figures:
                lines.append(f"| {tree} | parity | {figures['parity']} | | |")
        if goal == "goal_5" and "memory" in results[goal]:  # type: ignore[operator]
            lines += ["", "| audit (Terraform) | CPU s | wall s | tree PSS MB | largest process MB |", "|---|---|---|---|---|"]
            for name, m in results[goal]["memory"].items():  # type: ignore[index]
                lines.append(f"| {name} | {m['median_cpu_s']:.1f} | {m['median_s']:.1f} | {m['tree_pss_mb']:.0f} | "
                             f"{m['largest_process_mb']:.0f} |")
        lines.append("")
    if "goal_4" in results:
        lines += ["### goal_4 (MB/s of CPU time)", "", "| input | MB/s |", "|---|---|"]
        for group in results["goal_4"].values():  # type: ignore[union-attr]
            lines += [f"| {label} | {rate} |" for label, rate in group.items()]
        lines.append("")
    if "goal_6" in results:
        name = next(k for k in results["goal_6"] if k.startswith("6_"))  # type: ignore[union-attr]
        lines += ["### goal_6", "", "| figure | CPU | wall |", "|---|---|---|",
                  f"| {name} over {len(results['goal_6']['templates'])} templates | {_cell(results['goal_6'][name])} |",  # type: ignore[index]
                  ""]
    return "\n".join(lines)


def compile_keyless() -> str:
    """Write keyless's bytecode, as installing a wheel does, and say where it went.

    An editable install (`pip install -e .`) leaves keyless's modules uncompiled, and with
    PYTHONDONTWRITEBYTECODE set (as on CI machines and in many containers) every process compiles
    them from source again: about 75 ms of CPU per process that imports keyless, charged to keyless
    in goals 2, 3, 5 and 6 although no installed keyless ever pays it. Compiling them first
    measures keyless as users install it.
    """
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("keyless")
    folder = str(Path(spec.origin).parent) if spec and spec.origin else ""
    if folder and not compileall.compile_dir(folder, quiet=1):
        raise SystemExit(f"could not compile keyless's bytecode in {folder}")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="all six goals in about 10 minutes (3 rounds, small inputs)")
    parser.add_argument("--goals", default="1,2,3,4,5,6", help="comma-separated goal numbers (1 and 2 run together)")
    parser.add_argument("--runs", type=int, help="rounds per goal (quick: 3, full: 5)")
    parser.add_argument("--engine-scale", type=float, help="generated corpus for goals 1-3, 5, 6 (quick: 0.1, full: 1.0)")
    parser.add_argument("--audit-scales", help="goal 5's memory scales (quick: 0.25,1.0; full: 1.0,2.0,4.0)")
    parser.add_argument("--templates", type=int, help="templates for goal 6 (quick: 6, full: 20)")
    parser.add_argument("--public-dir", type=Path, default=PUBLIC, help="where the public repositories are")
    parser.add_argument("--out", type=Path, default=HERE / "out")
    args = parser.parse_args()
    quick = args.quick
    runs = args.runs or (3 if quick else 5)
    scale = args.engine_scale or (0.1 if quick else 1.0)
    scales = [float(x) for x in (args.audit_scales or ("0.25,1.0" if quick else "1.0,2.0,4.0")).split(",")]
    goals = set(args.goals.split(","))
    args.out.mkdir(parents=True, exist_ok=True)
    corpus = args.out / f"corpus-{scale}"
    if not (corpus / "oracle.json").exists():
        generate(corpus, seed=7, scale=scale)
    results: dict[str, object] = {"python": sys.version.split()[0], "cpus": os.cpu_count(), "runs": runs, "quick": quick,
                                  "engine_scale": scale, "keyless_bytecode": compile_keyless(),
                                  "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    trees = checkov_trees(corpus, args.public_dir, quick)
    steps = [  # the cheap goals first
        ("goal_4", goals & {"4"}, lambda: core_throughput(3, 2_000_000 if quick else 10_000_000)),
        ("goal_6", goals & {"6"}, lambda: goal_6(corpus, args.public_dir, runs, args.templates or (6 if quick else 20))),
        ("goal_5", goals & {"5"}, lambda: goal_5(terraform_trees(corpus, args.public_dir, quick), runs, args.out, scales)),
        ("goal_3", goals & {"3"}, lambda: goal_3(trees, runs)),
        ("goals_1_2", goals & {"1", "2"}, lambda: goals_1_2(trees, runs, args.out)),
    ]
    for name, wanted, run in steps:
        if wanted:
            started = time.perf_counter()
            results[name] = run()
            print(f"{name}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
            (args.out / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    text = summary(results)
    (args.out / "summary.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
