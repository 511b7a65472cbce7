"""A one-line progress bar with an ETA on stderr (tqdm), shown only when stderr is a terminal.

CI logs and redirected output stay clean: the audit prints nothing but the report, and `--no-progress`
turns the bar off on a terminal too. The ETA is tqdm's, from the rate at which units of work start
(with `--jobs N`, N run at once, so starts track completions closely after the first N).
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

from tqdm import tqdm

BAR_FORMAT = "{percentage:3.0f}% |{bar}| {n_fmt}/{total_fmt} units  {elapsed} elapsed, ETA {remaining}  {desc}"
BAR_AND_COUNTS = 60  # columns the rest of the line needs (a bar of 10 at least); the label gets what is left
LABEL_CHARS = 50


def _printable(label: str, limit: int) -> str:
    """A path from the scanned tree, safe on a terminal (no escape sequences from crafted file names), its end
    kept when it is too long."""
    text = "".join(c if c.isprintable() else "?" for c in label)
    return text if len(text) <= limit else "…" + text[-(limit - 1):]


class _Bar(tqdm):
    monitor_interval = 0  # no monitor thread: the audit forks worker processes while the bar runs


def _size(stream: TextIO) -> tuple[int, int]:
    """The terminal's columns and lines; 80x24 where it reports none (a pseudo-terminal nobody sized says 0x0,
    and tqdm would then draw nothing)."""
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return 80, 24
    return size.columns or 80, size.lines or 24


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real stream
        return False


class Progress:
    def __init__(self, total: int, enabled: bool | None = None, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = _is_terminal(self.stream) if enabled is None else enabled
        self._steps = 0
        self._label_chars = LABEL_CHARS
        self._bar: _Bar | None = None
        self._total = total
        if self.enabled:
            columns, lines = _size(self.stream)
            self._label_chars = max(min(LABEL_CHARS, columns - BAR_AND_COUNTS), 10)
            self._bar = _Bar(total=max(total, 1), file=self.stream, bar_format=BAR_FORMAT, leave=False,
                             ncols=columns, nrows=lines, mininterval=0.2, smoothing=0.1)

    @property
    def total(self) -> int:
        return self._total

    @total.setter
    def total(self, value: int) -> None:
        """Repositories add their units as they are planned, so the total grows during the run."""
        self._total = value
        if self._bar is not None:
            self._bar.total = max(value, 1)
            self._bar.refresh()

    @property
    def done(self) -> int:
        return max(self._steps - 1, 0)

    def step(self, label: str) -> None:
        """Announce the next unit of work (it counts as done once the following step starts)."""
        self._steps += 1
        if self._bar is None:
            return
        if self._steps > 1:
            self._bar.update(1)
        self._bar.set_description_str(_printable(label, self._label_chars), refresh=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()  # leave=False: the line is cleared, the report starts on a clean line
            self._bar = None
