"""A one-line progress bar on stderr, shown only when stderr is a terminal.

CI logs and redirected output stay clean: the audit prints nothing but the report.
"""

from __future__ import annotations

import sys
from typing import TextIO


class Progress:
    def __init__(self, total: int, enabled: bool | None = None, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.total = max(total, 1)
        self.done = 0
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._width = 0

    def step(self, label: str) -> None:
        """Announce the next unit of work (it counts as done once the following step starts)."""
        if not self.enabled:
            return
        filled = int(30 * self.done / self.total)
        line = f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} {label[-60:]}"
        self.stream.write(line.ljust(self._width))
        self._width = len(line)
        self.stream.flush()
        self.done += 1

    def close(self) -> None:
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
