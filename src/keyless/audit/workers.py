"""Running the audit's units of work in forked processes, a fresh one per unit.

A fresh process per unit gives its memory back when the unit ends, so an audit's peak memory is
the parent's plus `jobs` units, whatever the size of the repositories. The parent loads checkov,
cfn-lint and the keyless checks once before forking, so a unit starts warm (checkov's first run in
a process costs about a second of registry loading). Where `fork` is unavailable (Windows, and
macOS, where forking a process with loaded frameworks is unsafe), units run one after the other
in this process.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator
from functools import lru_cache
from multiprocessing.connection import Connection, wait
from typing import Any, TypeVar

from keyless.audit import interrupts
from keyless.audit.progress import Progress
from keyless.engines import collector

T = TypeVar("T")


class EngineFailure(RuntimeError):
    """An engine failed on a whole tree: the report is incomplete (exit code 2)."""


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def can_fork() -> bool:
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def at_once(jobs: int | None) -> int:
    """How many units run at the same time for `--jobs` (None: one per CPU); 1 where forking is unsafe."""
    return max(1, default_jobs() if jobs is None else jobs) if can_fork() else 1


@lru_cache(maxsize=4)
def warm_up(frameworks: tuple[str, ...] = ("terraform", "cloudformation")) -> None:
    """Load what the units need, once, in the parent (children inherit it through fork); only what
    they need: cfn-lint costs about 2 s of CPU to import, checkov's Terraform runner about 2 s more."""
    if "cloudformation" in frameworks:
        import cfnlint.decode  # noqa: F401
        import cfnlint.template  # noqa: F401

        import keyless.engines.cfn_lint_adapter  # noqa: F401
    if "terraform" in frameworks:
        from keyless.engines import run_checkov

        with tempfile.TemporaryDirectory(prefix="keyless-warm-up-") as empty:
            run_checkov(empty, frameworks=["terraform"], lean=True)


def run(units: list[tuple[str, Callable[[], T]]], jobs: int | None = None,
        progress: Progress | None = None, warm: tuple[str, ...] = ("terraform", "cloudformation")) -> Iterator[T]:
    """Each unit's result, in the order units finish; a unit's exception ends the run as EngineFailure."""
    jobs = at_once(jobs)
    if jobs <= 1 or len(units) <= 1:
        for label, work in units:
            interrupts.check()
            if progress is not None:
                progress.step(label)
            yield work()
        return
    warm_up(warm)
    collector.freeze_imports()  # the workers inherit it (acts in the `keyless` program's process only)
    context = multiprocessing.get_context("fork")
    pending = list(units)
    running: dict[Any, tuple[Any, str]] = {}
    try:
        while pending or running:
            interrupts.check()
            while pending and len(running) < jobs:
                label, work = pending.pop(0)
                if progress is not None:
                    progress.step(label)
                receiver, sender = context.Pipe(duplex=False)
                process = context.Process(target=_child, args=(work, sender, os.getpid()), name=f"keyless: {label}")
                with interrupts.signals_blocked():
                    process.start()
                    with contextlib.suppress(OSError):  # the child does it too; whichever runs first wins
                        os.setpgid(process.pid, process.pid)
                sender.close()
                running[receiver] = (process, label)
            for receiver in wait(list(running)):
                process, label = running.pop(receiver)  # type: ignore[index]
                try:
                    status, payload = receiver.recv()  # type: ignore[union-attr]
                except EOFError:
                    _signal_group(process.pid, signal.SIGKILL)  # what it forked may still run
                    process.join()
                    raise EngineFailure(f"the process scanning {label} died (exit code {process.exitcode})") from None
                finally:
                    receiver.close()  # type: ignore[union-attr]
                process.join()
                if status != "ok":
                    raise EngineFailure(payload)
                yield payload
    finally:
        end([process for process, _ in running.values()])


def end(processes: list[Any]) -> None:
    """End workers with everything they forked (each leads its own process group), and reap them."""
    for process in processes:
        _signal_group(process.pid, signal.SIGTERM)
    for process in processes:
        process.join(10)
        if process.is_alive():  # never expected: the workers' handler exits at once
            _signal_group(process.pid, signal.SIGKILL)
            process.join()


def _signal_group(pid: int | None, signum: int) -> None:
    if pid is None:
        return
    try:
        os.killpg(pid, signum)
    except OSError:  # not (or no longer) a group leader: the process alone
        with contextlib.suppress(OSError):
            os.kill(pid, signum)


def _child(work: Callable[[], Any], sender: Connection, parent: int) -> None:
    interrupts.for_worker(parent)
    try:
        result: tuple[str, Any] = ("ok", work())
    except BaseException as error:  # reported to the parent, which decides
        result = ("error", str(error) if isinstance(error, EngineFailure) else f"{type(error).__name__}: {error}")
    try:
        try:
            sender.send(result)
        except Exception as error:  # a result that cannot be pickled: say so rather than die silently
            sender.send(("error", f"cannot return the result: {type(error).__name__}: {error}"))
    finally:
        sender.close()
