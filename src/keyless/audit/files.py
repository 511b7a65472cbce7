"""Writing reports and baselines so that a failed write never destroys the previous file.

A CI job that runs out of disk half-way through a report must not leave a truncated JSON that the
next job (a merge, a baseline comparison, an upload) reads as a smaller, cleaner result. So the text
goes to a temporary file in the same folder (same file system, so the rename is atomic) and only a
complete file replaces the old one. Targets that are not regular files (`/dev/stdout`, a FIFO) are
written directly: they cannot be replaced, and there is no previous content to protect.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile


class WriteError(OSError):
    """A file could not be written; the message names it and the previous content is intact."""


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_text_atomically(path: str, text: str) -> None:
    """Replace `path` with `text` in one step, or leave it as it was and raise WriteError naming it."""
    target = os.path.realpath(path)  # a symlinked report is updated where it points, the link kept
    try:
        existing = os.stat(target)
    except FileNotFoundError:
        existing = None
    except OSError as error:
        raise WriteError(f"cannot write {path}: {error.strerror or error}") from error
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        _write_directly(path, target, text)
        return
    folder = os.path.dirname(target) or "."
    temporary = None
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=folder)
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, stat.S_IMODE(existing.st_mode) if existing is not None else _default_mode())
        os.replace(temporary, target)
        temporary = None
    except OSError as error:
        raise WriteError(f"cannot write {path}: {error.strerror or error} (the previous file, if any, is unchanged)") \
            from error
    finally:
        if temporary is not None:  # also on Ctrl-C: no stray temporary file is left behind
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def _write_directly(path: str, target: str, text: str) -> None:
    try:
        with open(target, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
    except OSError as error:
        raise WriteError(f"cannot write {path}: {error.strerror or error}") from error
