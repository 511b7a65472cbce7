"""Text from a report inside Markdown: one line, inert.

Merged reports carry text from other repositories' CI jobs. In a pull-request comment that text must not
become a link, an image, a mention, HTML, a new table cell or a new line: every Markdown character is
escaped, and code spans get a fence no backtick inside them can close (CommonMark).
"""

from __future__ import annotations

from keyless.audit.formats.common import printable

MARKDOWN_PUNCTUATION = frozenset("\\`*_[]<>|~#!@")


def one_line(value: object, limit: int | None = None) -> str:
    """Whitespace (newlines included) collapsed, other control characters shown as escapes (the comment may
    be printed in a CI log too); clipped to `limit` characters with an ellipsis."""
    text = printable(" ".join(str(value).split()))
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def text_cell(value: object, limit: int | None = None) -> str:
    """Plain text: one line, every Markdown character escaped."""
    return "".join("\\" + c if c in MARKDOWN_PUNCTUATION else c for c in one_line(value, limit))


def code_cell(value: object, limit: int | None = None) -> str:
    """A code span that shows `value` literally; pipes escaped so a table cell stays one cell."""
    text = one_line(value, limit)
    run = longest = 0
    for c in text:
        run = run + 1 if c == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text.replace('|', chr(92) + '|')}{pad}{fence}"
