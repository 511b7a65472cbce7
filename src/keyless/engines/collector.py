"""Python's cyclic garbage collector, set for a scan in the processes keyless runs itself.

checkov keeps millions of objects alive for the whole run (parsed definitions, graphs, records) and
creates few reference cycles. With Python's default thresholds the collector runs often, and its
full collections walk the whole heap: on the bench's generated corpus at scale 1.0, eight full
collections took 2.5 s of a 16 s checkov run, and what imports create (checkov loads about 2,600
modules) is walked again each time. So `keyless checkov` and `keyless audit`, which own their
process, collect less often (`scan_thresholds`) and move what imports created out of the collector's
way once they are done (`freeze_imports`, before forking workers, which inherit it). Nothing else
changes: objects without cycles are freed as before, cycles a little later.

A Python caller (tests, the audit called as a library) keeps its own collector: both functions act
only in the `keyless` program's process (`keyless.cli.main` without arguments), and plain checkov
with keyless's checks folder keeps checkov's settings (docs/benchmarks.md shows how to set the same
there).
"""

from __future__ import annotations

import gc

# Allocations between young collections (Python's default: 700); the older generations keep their
# default ratios. See docs/benchmarks.md for the measurements behind it.
YOUNG_THRESHOLD = 10_000


def scan_thresholds() -> None:
    """Collect less often for the rest of this process (the `keyless` program only)."""
    if not gc.isenabled():  # someone turned the collector off on purpose: leave it off
        return
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)


def freeze_imports() -> bool:
    """Leave everything alive now out of later collections, in a process `scan_thresholds` set; once
    the engines are imported, these objects live as long as the process. Whether it froze."""
    tuned = gc.isenabled() and gc.get_threshold()[0] == YOUNG_THRESHOLD
    if not tuned or gc.get_freeze_count():
        return False
    gc.collect()
    gc.freeze()
    return True
