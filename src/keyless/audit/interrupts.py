"""Ending an audit cleanly on Ctrl-C or SIGTERM: one line, no traceback, no process left behind.

The audit forks worker processes, and checkov forks its own parsers inside them (and inside the
audit's process when `--jobs 1`). Forked processes inherit signal handlers, so one handler serves
every process: in the audit's own process it raises `Interrupted`, which unwinds the run (workers
are ended in `workers.run`'s cleanup); in a worker, which leads its own process group, it ends the
whole group, checkov's parsers included; in any other descendant it exits at once, quietly
(Python's default would print a KeyboardInterrupt traceback from every forked parser).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)
_main_pid: int | None = None
_pending: int | None = None  # a signal received; `check` raises it again if its exception was swallowed


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal; `exit_code` is the shell convention, 128 + the signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def _handle(signum: int, frame: FrameType | None) -> None:
    global _pending
    pid = os.getpid()
    if pid == _main_pid:
        _pending = signum
        raise Interrupted(signum)
    end_this_process(signum)


def check() -> None:
    """Raise the interruption again if it landed where Python ignores exceptions (e.g. fork hooks)."""
    if _pending is not None and os.getpid() == _main_pid:
        raise Interrupted(_pending)


def _quiet_unraisable(previous: Any) -> Any:
    def hook(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, Interrupted):
            return  # no traceback: `check` raises it again at the next safe point
        previous(unraisable)

    return hook


@contextlib.contextmanager
def signals_blocked() -> Iterator[None]:
    """Hold SIGINT/SIGTERM while forking (delivered right after, where the exception can propagate)."""
    if _main_pid != os.getpid() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)


def end_this_process(signum: int) -> None:
    """In a forked process: end it, and everything it forked when it leads a process group."""
    pid = os.getpid()
    try:
        leads_group = os.getpgid(0) == pid
    except OSError:
        leads_group = False
    if leads_group:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        try:
            os.killpg(pid, signal.SIGKILL)  # the group: this worker and checkov's forked parsers
        except OSError:
            pass
    os._exit(128 + signum)


@contextlib.contextmanager
def handled() -> Iterator[None]:
    """Handle SIGINT and SIGTERM in this process and in what it forks, the previous handlers restored after."""
    global _main_pid, _pending
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread; the embedding program decides
        return
    previous = {signum: signal.getsignal(signum) for signum in SIGNALS}
    previous_hook = sys.unraisablehook
    _main_pid, _pending = os.getpid(), None
    sys.unraisablehook = _quiet_unraisable(previous_hook)
    for signum in SIGNALS:
        signal.signal(signum, _handle)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        sys.unraisablehook = previous_hook
        _main_pid, _pending = None, None


def end_children() -> None:
    """End what this process forked and still runs (checkov's parsers when the audit scans in process)."""
    import multiprocessing

    children = multiprocessing.active_children()
    for child in children:
        child.terminate()
    for child in children:
        child.join(10)
        if child.is_alive():
            child.kill()
            child.join()


def for_worker(parent: int) -> None:
    """In a freshly forked worker: lead a process group, so the audit can end it with all it forks."""
    for signum in SIGNALS:
        signal.signal(signum, _handle)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)  # forked while the audit held them
    try:
        os.setpgid(0, 0)
    except OSError:
        pass
    _die_with_parent(parent)


def _die_with_parent(parent: int) -> None:
    """Linux: have the kernel send SIGTERM when the audit's process goes away, even by SIGKILL."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it died before the request: the kernel will not tell
        end_this_process(signal.SIGTERM)
