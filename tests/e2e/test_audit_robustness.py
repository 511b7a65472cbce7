"""Failures are never reported as clean: engine failures, full disks, signals, FIFOs, empty paths.

Everything here drives the real command (in process or as a subprocess) with real checkov, real
signals, real FIFOs, sockets and devices, and a real full file system where one can be mounted.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from keyless.audit.discover import Exclusions, discover
from keyless.audit.model import schema
from keyless.cli import main

ROOT = Path(__file__).resolve().parents[2]
KEYLESS = [sys.executable, "-m", "keyless"]
ACCESS_KEY_TF = 'resource "aws_iam_access_key" "ci" {\n  user = "ci"\n}\n'
ACCESS_KEY_TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  CiKey:
    Type: AWS::IAM::AccessKey
    Properties:
      UserName: ci
"""


def run_cli(*argv: str) -> int:
    return main(["audit", "--no-progress", *argv])


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _repo(root: Path) -> Path:
    _write(root / "infra/main.tf", ACCESS_KEY_TF)
    _write(root / "stacks/key.yaml", ACCESS_KEY_TEMPLATE)
    return root


def _validate(document: dict[str, Any]) -> None:
    import jsonschema

    jsonschema.validate(document, schema())


# --- an engine that fails: every report says so ----------------------------------------------------

FAILING_EXCLUDE = "[ab]*"  # a valid glob that makes checkov raise (issue 11)


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path, Path]:
    repo = _repo(tmp_path_factory.mktemp("failing"))
    out = tmp_path_factory.mktemp("failing-out")
    previous_baseline = _write(out / "baseline.json", '{"format": "keyless-baseline", "version": 1, "findings": []}\n')
    code = run_cli(str(repo), "--exclude", FAILING_EXCLUDE, "--format", "terminal", "--output", str(out / "report.txt"),
                   "--output-file", f"json:{out / 'report.json'}", "--output-file", f"markdown:{out / 'report.md'}",
                   "--write-baseline", str(previous_baseline))
    return code, out, repo


def test_an_engine_failure_exits_2_and_the_json_says_incomplete(failed_run: tuple[int, Path, Path]) -> None:
    code, out, _ = failed_run
    assert code == 2
    document = json.loads((out / "report.json").read_text(encoding="utf-8"))
    _validate(document)
    assert document["complete"] is False
    assert document["failures"] and "checkov failed" in document["failures"][0]


@pytest.mark.parametrize("name", ["report.txt", "report.md"])
def test_an_engine_failure_heads_the_readable_reports(failed_run: tuple[int, Path, Path], name: str) -> None:
    _, out, _ = failed_run
    text = (out / name).read_text(encoding="utf-8")
    head = "\n".join(text.splitlines()[:8])
    assert "FAILED" in head and "checkov failed" in head


def test_a_failed_run_keeps_the_previous_baseline(failed_run: tuple[int, Path, Path]) -> None:
    _, out, _ = failed_run
    assert json.loads((out / "baseline.json").read_text(encoding="utf-8"))["findings"] == []


def test_a_complete_run_says_complete(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    assert run_cli(str(_repo(tmp_path / "repo")), "--format", "json", "--output", str(out)) == 1
    document = json.loads(out.read_text(encoding="utf-8"))
    _validate(document)
    assert document["complete"] is True and document["failures"] == []
    assert "FAILED" not in Path(tmp_path / "r.json").read_text(encoding="utf-8")


def test_merge_keeps_failures(failed_run: tuple[int, Path, Path], tmp_path: Path) -> None:
    _, out, _ = failed_run
    good = tmp_path / "good.json"
    run_cli(str(_repo(tmp_path / "good")), "--format", "json", "--output", str(good))
    merged = tmp_path / "merged.json"
    assert run_cli("merge", str(good), str(out / "report.json"), "--format", "json", "--output", str(merged)) == 2
    document = json.loads(merged.read_text(encoding="utf-8"))
    _validate(document)
    assert document["complete"] is False
    assert document["failures"][0].startswith(f"{out / 'report.json'}: checkov failed")
    assert run_cli("merge", str(good), "--format", "json", "--output", str(merged)) == 1


# --- atomic writes ---------------------------------------------------------------------------------

PREVIOUS = '{"previous": "report"}\n'


def _mount_tmpfs_works() -> bool:
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                            "d=$(mktemp -d) && mount -t tmpfs -o size=8k tmpfs $d && umount $d"],
                           capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _mount_tmpfs_works(), reason="cannot mount a tmpfs in a user namespace here")
def test_a_full_disk_leaves_the_previous_report_and_baseline(tmp_path: Path) -> None:
    """A real 8 KiB file system: the previous files fit, the new report and baseline do not."""
    repo = tmp_path / "repo"
    for i in range(12):  # enough findings that report and baseline outgrow what is free
        _write(repo / f"stacks/key{i}.yaml", ACCESS_KEY_TEMPLATE)
    disk = tmp_path / "disk"
    disk.mkdir()
    script = f"""
mount -t tmpfs -o size=8k tmpfs {disk}
printf '%s' '{PREVIOUS.strip()}' > {disk}/report.json
printf '%s' '{PREVIOUS.strip()}' > {disk}/baseline.json
{sys.executable} -m keyless audit {repo} --no-progress --format json --output {disk}/report.json \\
    --write-baseline {disk}/baseline.json 2>{tmp_path}/stderr
echo "exit=$?"
cat {disk}/report.json; echo; cat {disk}/baseline.json; echo; ls -a {disk}
"""
    result = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
                            capture_output=True, text=True, cwd=ROOT)
    stderr = (tmp_path / "stderr").read_text(encoding="utf-8")
    assert "exit=2" in result.stdout, result.stdout + stderr
    assert result.stdout.count(PREVIOUS.strip()) == 2  # both files as they were
    assert ".tmp" not in result.stdout  # no temporary file left behind
    errors = [line for line in stderr.splitlines() if "cannot write" in line]
    assert any(f"{disk}/report.json" in line and "No space left" in line for line in errors), stderr
    assert any(f"{disk}/baseline.json" in line for line in errors), stderr
    assert "Traceback" not in stderr


def test_a_write_error_names_the_file_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    repo = _repo(tmp_path / "repo")
    json_out = tmp_path / "r.json"
    assert run_cli(str(repo), "--output", "/dev/full", "--output-file", f"json:{json_out}") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["keyless audit: error: cannot write /dev/full: No space left on device"]
    assert json.loads(json_out.read_text(encoding="utf-8"))["summary"]["total"] > 0  # the other output is written
    assert run_cli(str(repo), "--output", os.devnull) == 1  # a device is written to, never replaced
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_an_unwritable_folder_keeps_the_previous_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Injected failure for machines without tmpfs: the report's folder is a file."""
    from keyless.audit.files import WriteError, write_text_atomically

    _write(tmp_path / "blocker", "a file where a folder should be\n")
    with pytest.raises(WriteError, match=r"cannot write .*blocker/report\.json"):
        write_text_atomically(str(tmp_path / "blocker" / "report.json"), "{}")
    previous = _write(tmp_path / "report.json", PREVIOUS)
    previous.chmod(0o640)
    write_text_atomically(str(previous), "{}\n")
    assert previous.read_text(encoding="utf-8") == "{}\n"
    assert previous.stat().st_mode & 0o777 == 0o640  # the file's mode survives the replacement
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker", "report.json"]


# --- signals ------------------------------------------------------------------------------------------


def _processes() -> list[tuple[int, str, int, int, int]]:
    """(pid, state, parent, process group, session) of every process, from /proc."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out.append((int(entry), fields[0], int(fields[1]), int(fields[2]), int(fields[3])))
    return out


@pytest.fixture(scope="module")
def busy_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Enough units (templates in groups of 50, Terraform batches) that workers are running when signalled."""
    root = tmp_path_factory.mktemp("busy")
    for i in range(600):
        _write(root / f"stacks{i % 20}/t{i}.yaml", ACCESS_KEY_TEMPLATE)
    for i in range(40):
        for j in range(15):
            _write(root / f"tf{i}/m{j}.tf", ACCESS_KEY_TF.replace('"ci"', f'"k{j}"', 1))
    return root


def _start_audit(tree: Path, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([*KEYLESS, "audit", str(tree), "--jobs", "2", "--no-progress", "--format", "json",
                             "--output", str(out)], start_new_session=True, stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True, cwd=ROOT)


def _wait_for_workers(process: subprocess.Popen[str]) -> list[int]:
    """The audit's worker processes (each leads its own process group), once one runs."""
    while process.poll() is None:
        workers = [pid for pid, state, parent, group, _ in _processes() if parent == process.pid and group == pid]
        if workers:
            return workers
        time.sleep(0.05)
    pytest.fail(f"the audit ended before any worker started: {process.stderr.read() if process.stderr else ''}")


def _left_in_session(session: int) -> list[tuple[int, str, int, int, int]]:
    return [p for p in _processes() if p[4] == session and p[1] != "Z"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux only")
@pytest.mark.parametrize(("signum", "to_group", "code"), [(signal.SIGINT, True, 130), (signal.SIGTERM, False, 143)])
def test_a_signal_ends_the_run_cleanly(busy_tree: Path, tmp_path: Path, signum: int, to_group: bool,
                                       code: int) -> None:
    """Ctrl-C reaches the terminal's process group; SIGTERM (a CI runner, `kill`) only the audit."""
    out = tmp_path / "report.json"
    audit = _start_audit(busy_tree, out)
    workers = _wait_for_workers(audit)
    if to_group:
        os.killpg(audit.pid, signum)
    else:
        os.kill(audit.pid, signum)
    _, stderr = audit.communicate(timeout=600)
    assert audit.returncode == code, stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr
    assert stderr.strip().splitlines() == [f"keyless audit: interrupted by {signal.Signals(signum).name}; "
                                           "no report written"]
    assert not out.exists()
    assert _left_in_session(audit.pid) == []
    assert not any(os.path.exists(f"/proc/{pid}") and _state(pid) != "Z" for pid in workers)


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


SLEEPING_UNITS = """
import time
from keyless.audit import workers
workers.warm_up = lambda *_: None  # the units below need no engine
list(workers.run([(str(i), lambda: time.sleep(3600)) for i in range(2)], jobs=2))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux only")
def test_workers_die_with_a_killed_audit() -> None:
    """SIGKILL cannot be handled: the kernel tells the workers (PR_SET_PDEATHSIG) and they end their groups.

    The units sleep for an hour, so only that notice can end them within the test.
    """
    parent = subprocess.Popen([sys.executable, "-c", SLEEPING_UNITS], start_new_session=True, cwd=ROOT)
    workers = _wait_for_workers(parent)  # type: ignore[arg-type]
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    for _ in range(600):
        if not _left_in_session(parent.pid):
            break
        time.sleep(0.1)
    assert _left_in_session(parent.pid) == []
    assert all(_state(pid) in ("gone", "Z") for pid in workers)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux only")
def test_a_killed_worker_fails_the_run_and_the_report_says_so(busy_tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    audit = _start_audit(busy_tree, out)
    os.kill(_wait_for_workers(audit)[0], signal.SIGKILL)
    _, stderr = audit.communicate(timeout=600)
    assert audit.returncode == 2, stderr
    assert "died (exit code -9)" in stderr and "Traceback" not in stderr
    document = json.loads(out.read_text(encoding="utf-8"))
    _validate(document)
    assert document["complete"] is False and "died" in document["failures"][0]
    assert _left_in_session(audit.pid) == []


# --- FIFOs, sockets and devices named like infrastructure code ----------------------------------------


@pytest.fixture
def special_tree(tmp_path: Path) -> Path:
    # short names: a unix socket's path must stay under 108 bytes
    root = _repo(tmp_path / "r")
    os.mkfifo(root / "infra/fifo.tf")
    os.mkfifo(root / "stacks/fifo.yaml")
    os.mkfifo(root / "infra/terraform.tfvars")
    os.symlink("/dev/zero", root / "infra/zero.tf")
    os.symlink("/dev/zero", root / "stacks/zero.json")
    _write(root / "only-fifo/.keep", "")
    os.mkfifo(root / "only-fifo/main.tf")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(root / "stacks/s.yaml"))
    listener.close()
    return root


EXPECTED_UNREADABLE = {
    "infra/fifo.tf": "FIFO", "stacks/fifo.yaml": "FIFO", "infra/terraform.tfvars": "FIFO", "only-fifo/main.tf": "FIFO",
    "infra/zero.tf": "character device", "stacks/zero.json": "character device", "stacks/s.yaml": "socket",
}


def test_discovery_lists_special_files_as_unreadable(special_tree: Path) -> None:
    found = discover(str(special_tree), Exclusions(str(special_tree)))
    assert set(found.unreadable) == set(EXPECTED_UNREADABLE)
    for rel, kind in EXPECTED_UNREADABLE.items():
        assert kind in found.unreadable[rel] and "\n" not in found.unreadable[rel]
    assert found.terraform_roots == ["infra"]  # a folder holding only a FIFO is not Terraform
    assert found.templates == ["stacks/key.yaml"]
    exclusions = Exclusions(str(special_tree)).with_files(found.not_regular)
    assert all(exclusions.excluded(rel) for rel in EXPECTED_UNREADABLE)
    assert not exclusions.excluded("infra/main.tf")
    assert not any("]" in pattern for pattern in exclusions.regexes())


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_special_files_never_hang_the_audit(special_tree: Path, tmp_path: Path, jobs: str) -> None:
    """Real checkov gets the folder: it must be kept away from the FIFOs too (it would block on them)."""
    out = tmp_path / "r.json"
    result = subprocess.run([*KEYLESS, "audit", str(special_tree), "--jobs", jobs, "--no-progress", "--format", "json",
                             "--output", str(out)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 1, result.stderr
    document = json.loads(out.read_text(encoding="utf-8"))
    errors = {e["file"]: e["reason"] for e in document["repositories"][0]["errors"]}
    assert set(errors) == set(EXPECTED_UNREADABLE)
    assert {f["file"] for repo in document["repositories"] for f in repo["findings"]} == {"infra/main.tf",
                                                                                         "stacks/key.yaml"}
    assert document["complete"] is True


# --- empty and mistyped paths -------------------------------------------------------------------------

IMPORT_PROBE = """
import sys
from keyless.cli import main
code = main(sys.argv[1:])
print("checkov imported" if any(m == "checkov" or m.startswith("checkov.") for m in sys.modules) else "no checkov")
sys.exit(code)
"""


def _probe(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", IMPORT_PROBE, "audit", "--no-progress", *argv],
                          capture_output=True, text=True, cwd=ROOT)


def test_a_mistyped_path_is_reported_before_checkov_is_imported(tmp_path: Path) -> None:
    result = _probe(str(tmp_path / "infar"))
    assert result.returncode == 2
    assert result.stdout.strip() == "no checkov"
    assert result.stderr.strip() == f"keyless audit: error: not a folder: {tmp_path / 'infar'} (nothing was audited)"


def test_a_mistyped_path_imports_no_engine_per_importtime(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "keyless", "audit", str(tmp_path / "missing")],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2
    imported = [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time")]
    assert "keyless.audit.cli" in imported  # the probe sees the audit's imports at all
    assert not [m for m in imported if m.split(".")[0] in ("checkov", "cfnlint")]


def test_the_probe_would_see_checkov(tmp_path: Path) -> None:
    """The import probe can fail: a real audit does import checkov."""
    result = _probe(str(_repo(tmp_path / "repo")), "--format", "json", "--output", str(tmp_path / "r.json"))
    assert result.returncode == 1 and result.stdout.strip() == "checkov imported"


def test_an_empty_folder_says_nothing_was_audited(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    _write(empty / "README.md", "no infrastructure here\n")
    out = tmp_path / "r.json"
    assert run_cli(str(empty), "--format", "json", "--output", str(out)) == 2
    assert f"nothing to audit in {empty}" in capsys.readouterr().err
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["complete"] is False and "nothing to audit" in document["failures"][0]
    assert run_cli(str(empty), "--soft-fail", "--format", "json", "--output", str(out)) == 2


def test_one_empty_folder_among_several_is_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "r.json"
    assert run_cli(str(_repo(tmp_path / "repo")), str(empty), "--format", "json", "--output", str(out)) == 1
    assert capsys.readouterr().err.strip() == f"keyless audit: warning: nothing to audit in {empty}"
    assert json.loads(out.read_text(encoding="utf-8"))["complete"] is True


# --- the baseline, before the scan --------------------------------------------------------------------


def test_an_invalid_baseline_is_refused_before_the_scan(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    broken = _write(tmp_path / "baseline.json", '{"format": "keyless-baseline", "version": 1, "findings": [{}]}')
    result = _probe(str(repo), "--baseline", str(broken))
    assert result.returncode == 2 and result.stdout.strip() == "no checkov"
    assert "every baseline entry needs" in result.stderr
    missing = _probe(str(repo), "--baseline", str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and missing.stdout.strip() == "no checkov"
    assert missing.stderr.strip() == (f"keyless audit: error: baseline {tmp_path / 'nope.json'}: cannot be read: "
                                      "No such file or directory")


def test_the_baseline_read_is_never_the_one_written(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    baseline = _write(tmp_path / "baseline.json", '{"format": "keyless-baseline", "version": 1, "findings": []}\n')
    before = baseline.read_text(encoding="utf-8")
    os.symlink(baseline, tmp_path / "link.json")
    for target in (str(baseline), str(tmp_path / "link.json"), str(tmp_path / "." / "baseline.json")):
        result = _probe(str(repo), "--baseline", str(baseline), "--write-baseline", target)
        assert result.returncode == 2 and result.stdout.strip() == "no checkov"
        assert "would overwrite the baseline being read" in result.stderr
    assert baseline.read_text(encoding="utf-8") == before
