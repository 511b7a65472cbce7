"""The text of a Terraform file as written: its top-level blocks with their lines, and its comments.

checkov hands checks only resources, data sources, providers and module calls, already rendered;
a key can also sit in a variable default, a local, an output, a backend configuration or a comment
(a commented-out provider is the classic). One linear pass over the characters, aware of strings,
heredocs and the three comment forms (`#`, `//`, `/* */`), finds where each of those is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HEREDOC = re.compile(r"<<-?\s*([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\r?$")
_HEADER = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_-]*)((?:\s+(?:"[^"]*"|[A-Za-z_][A-Za-z0-9_-]*))*)\s*$')
_INTERESTING = re.compile(r'[#/"<{}]')
_STRING_STOP = re.compile(r'[\\"$%]')
_INTERPOLATION_STOP = re.compile(r'["{}]')
_LABEL = re.compile(r'"([^"]*)"|([A-Za-z_][A-Za-z0-9_-]*)')


@dataclass(frozen=True)
class Comment:
    line: int  # the first line of the comment
    text: str  # with its markers, newlines kept for block comments


@dataclass(frozen=True)
class TopBlock:
    kind: str  # resource, data, provider, module, variable, output, locals, terraform, ...
    labels: tuple[str, ...]
    start: int  # first and last line (1-based)
    end: int

    @property
    def address(self) -> str:
        """How people name the block: aws_instance.web, data.x.y, var.x, output.x, provider aws, locals."""
        if self.kind == "resource":
            return ".".join(self.labels[:2])
        if self.kind == "data":
            return ".".join(("data", *self.labels[:2]))
        if self.kind == "variable":
            return f"var.{self.labels[0]}" if self.labels else "variable"
        if self.kind == "module":
            return f"module.{self.labels[0]}" if self.labels else "module"
        return ".".join((self.kind, *self.labels))


@dataclass
class TerraformText:
    blocks: list[TopBlock] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)

    def block_at(self, line: int) -> TopBlock | None:
        return next((b for b in self.blocks if b.start <= line <= b.end), None)


def read(text: str) -> TerraformText:
    """Top-level blocks and comments of HCL text (unbalanced input ends the pass quietly)."""
    out = TerraformText()
    lines = text.splitlines(keepends=True)
    depth = 0
    header_start, header = 0, ""
    block: tuple[str, tuple[str, ...], int] | None = None
    number = 0
    heredoc: str | None = None
    comment: list[str] | None = None  # an open /* */ comment: its pieces
    comment_line = 0
    for number, line in enumerate(lines, start=1):
        if heredoc is not None:
            if line.strip() == heredoc:
                heredoc = None
            continue
        i, n = 0, len(line)
        while i < n:
            if comment is None:
                jump = _INTERESTING.search(line, i)
                if jump is None:
                    break
                i = jump.start()
            if comment is not None:
                close = line.find("*/", i)
                if close < 0:
                    comment.append(line[i:])
                    break
                comment.append(line[i:close + 2])
                out.comments.append(Comment(comment_line, "".join(comment)))
                comment, i = None, close + 2
                continue
            c = line[i]
            if c == "#" or line.startswith("//", i):
                out.comments.append(Comment(number, line[i:].rstrip("\r\n")))
                break
            if line.startswith("/*", i):
                comment, comment_line = [], number
                continue
            if c == '"':
                i = _string_end(line, i + 1)
                continue
            if line.startswith("<<", i):
                m = _HEREDOC.match(line, i)
                if m:
                    heredoc = m.group(1)
                    break
            if c == "{":
                if depth == 0:
                    own = line[:i].strip() != ""
                    m = _HEADER.match(line[:i] if own or not header else header)
                    if m:
                        labels = tuple(a or b for a, b in _LABEL.findall(m.group(2)))
                        block = (m.group(1), labels, number if own or not header else header_start)
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0 and block is not None:
                    out.blocks.append(TopBlock(block[0], block[1], block[2], number))
                    block = None
                depth = max(depth, 0)
            i += 1
        if depth == 0 and block is None:
            stripped = line.split("#", 1)[0].strip()
            if stripped and "{" not in line:
                header_start, header = number, line
            else:
                header_start, header = 0, ""
    return out


def _string_end(line: str, i: int, depth: int = 0) -> int:
    """The index after the closing quote of a string whose text starts at `i` (or the line's end).

    Interpolations may hold braces and strings of their own (`"${jsonencode({ a = "}" })}"`).
    """
    n = len(line)
    while i < n:
        stop = _STRING_STOP.search(line, i)
        if stop is None:
            return n
        i = stop.start()
        c = line[i]
        if c == "\\":
            i += 2
        elif c == '"':
            return i + 1
        elif c in "$%" and line.startswith("{", i + 1) and not (i > 0 and line[i - 1] == c):  # `$${` is literal
            if depth > 20:
                return n
            i = _interpolation_end(line, i + 2, depth + 1)
        else:
            i += 1
    return n


def _interpolation_end(line: str, i: int, depth: int) -> int:
    n, braces = len(line), 1
    while i < n:
        stop = _INTERPOLATION_STOP.search(line, i)
        if stop is None:
            return n
        i = stop.start()
        c = line[i]
        if c == '"':
            i = _string_end(line, i + 1, depth)
            continue
        if c == "{":
            braces += 1
        elif c == "}":
            braces -= 1
            if braces == 0:
                return i + 1
        i += 1
    return n
