"""Ending an audit cleanly on Ctrl-C or SIGTERM: one line, no traceback, no process left behind.

The audit forks worker processes, and checkov forks its own parsers inside them (and inside the
audit's process when `--jobs 1`). Forked processes inherit signal handlers, so one handler serves
every process: in the audit's own process it raises `Interrupted`, which unwinds the run (workers
are ended in `workers.run`'s cleanup); in a worker, which leads its own process group, it ends the
whole group, checkov's parsers included; in any other descendant it exits at once, quietly
(Python's default would print a KeyboardInterrupt traceback from every forked parser).
"""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)
_main_pid: int | None = None


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal; `exit_code` is the shell convention, 128 + the signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def _handle(signum: int, frame: FrameType | None) -> None:
    pid = os.getpid()
    if pid == _main_pid:
        raise Interrupted(signum)
    end_this_process(signum)


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


def install() -> None:
    """Handle SIGINT and SIGTERM in this process and in everything it forks from now on."""
    global _main_pid
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread; the embedding program decides
    _main_pid = os.getpid()
    for signum in SIGNALS:
        signal.signal(signum, _handle)


def for_worker() -> None:
    """In a freshly forked worker: lead a process group, so the audit can end it with all it forks."""
    for signum in SIGNALS:
        signal.signal(signum, _handle)
    try:
        os.setpgid(0, 0)
    except OSError:
        pass
    _die_with_parent()


def _die_with_parent() -> None:
    """Linux: have the kernel send SIGTERM when the audit's process goes away, even by SIGKILL."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):
        pass
