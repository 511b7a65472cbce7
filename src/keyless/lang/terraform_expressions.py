"""Evaluating the Terraform expressions that decide what a module creates, where their inputs are known.

checkov drops a resource's `count` (or keeps it unevaluated) and leaves conditional references as text,
so `count = var.create && var.create_access_key ? 1 : 0` or `for_each = local.name != null ? [1] : []`
cannot be read from its rendering. This evaluates the subset of HCL those switches are written in:
literals, lists and maps, `var.`/`local.` references (through a resolver the caller gives), `!`, `&&`,
`||`, comparisons, arithmetic, `? :`, indexing and a few pure functions (`length`, `try`, `coalesce`,
`concat`, `merge`, `compact`, `lookup`, `contains`, `tobool`...).

Anything else (a resource attribute, a data source, `for` expressions, other functions) is `UNKNOWN`,
and unknowns propagate the way Terraform's own unknown values do: `false && unknown` is false,
`unknown ? 1 : 1` is 1, `unknown ? 1 : 0` is unknown. The caller decides what an unknown means.
The parser is a plain recursive descent over tokens, linear in the expression's length.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any


class _Unknown:
    """A value that cannot be known offline (a resource attribute, an input nobody sets...)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()
# resolve("var", "create") -> the value, or UNKNOWN
Resolver = Callable[[str, str], Any]

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>&&|\|\||==|!=|<=|>=|=>|\.\.\.|[!?:<>+\-*/%()\[\]{},.=])
  | (?P<ident>[A-Za-z_][A-Za-z0-9_-]*)
""", re.VERBOSE)
_CONSTANTS = {"true": True, "false": False, "null": None, "True": True, "False": False, "None": None}
_REFERENCE_ROOTS = ("var", "local")


class _Unparsable(Exception):
    pass


def _tokens(text: str) -> list[tuple[str, str]]:
    out, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise _Unparsable(text[position:position + 20])
        kind = match.lastgroup or ""
        if kind != "space":
            out.append((kind, match.group()))
        position = match.end()
    return out


def expression_text(value: Any) -> str | None:
    """The expression an HCL parser's string stands for: `${...}` unwrapped, None for a plain literal."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.startswith("${") and text.endswith("}") and _balanced_interpolation(text):
        return text[2:-1]
    return None


def _balanced_interpolation(text: str) -> bool:
    """Whether `${` ... `}` wrap the whole text (not `${a}-${b}`)."""
    depth = 0
    for i, char in enumerate(text):
        if char in "{[(":
            depth += 1
        elif char in "}])":
            depth -= 1
            if depth == 0 and i != len(text) - 1:
                return False
    return depth == 0


def evaluate_value(value: Any, resolve: Resolver) -> Any:
    """What an attribute as the HCL parser gives it evaluates to (strings holding `${...}` evaluated)."""
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
        value = value[0]  # the parser's list wrapping of an attribute
    if isinstance(value, str):
        expression = expression_text(value)
        if expression is not None:
            return evaluate(expression, resolve)
        return UNKNOWN if "${" in value else value
    if isinstance(value, list):
        items = [evaluate_value(v, resolve) for v in value]
        return items
    if isinstance(value, Mapping):
        return {k: evaluate_value(v, resolve) for k, v in value.items() if not str(k).startswith("__")}
    return value


def evaluate(expression: str, resolve: Resolver) -> Any:
    """The value of one expression, or UNKNOWN."""
    try:
        parser = _Parser(_tokens(expression), resolve)
        value = parser.expression()
        return value if parser.at_end() else UNKNOWN
    except (_Unparsable, IndexError, RecursionError):
        return UNKNOWN


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], resolve: Resolver) -> None:
        self.tokens = tokens
        self.i = 0
        self.resolve = resolve

    # --- token helpers
    def at_end(self) -> bool:
        return self.i >= len(self.tokens)

    def peek(self) -> str:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else ""

    def take(self, expected: str | None = None) -> tuple[str, str]:
        token = self.tokens[self.i]
        if expected is not None and token[1] != expected:
            raise _Unparsable(f"expected {expected}, got {token[1]}")
        self.i += 1
        return token

    # --- grammar, lowest precedence first
    def expression(self) -> Any:
        condition = self.logical_or()
        if self.peek() != "?":
            return condition
        self.take("?")
        yes = self.expression()
        self.take(":")
        no = self.expression()
        if condition is UNKNOWN:
            return yes if _known_equal(yes, no) else UNKNOWN
        return yes if _truthy(condition) else no

    def logical_or(self) -> Any:
        left = self.logical_and()
        while self.peek() == "||":
            self.take()
            right = self.logical_and()
            if left is True or right is True:
                left = True
            elif left is UNKNOWN or right is UNKNOWN:
                left = UNKNOWN
            else:
                left = bool(left) or bool(right)
        return left

    def logical_and(self) -> Any:
        left = self.equality()
        while self.peek() == "&&":
            self.take()
            right = self.equality()
            if left is False or right is False:
                left = False
            elif left is UNKNOWN or right is UNKNOWN:
                left = UNKNOWN
            else:
                left = bool(left) and bool(right)
        return left

    def equality(self) -> Any:
        left = self.comparison()
        while self.peek() in ("==", "!="):
            op = self.take()[1]
            right = self.comparison()
            if left is UNKNOWN or right is UNKNOWN:
                left = UNKNOWN
            else:
                left = (left == right) if op == "==" else (left != right)
        return left

    def comparison(self) -> Any:
        left = self.additive()
        while self.peek() in ("<", ">", "<=", ">="):
            op = self.take()[1]
            right = self.additive()
            left = _arithmetic(op, left, right)
        return left

    def additive(self) -> Any:
        left = self.multiplicative()
        while self.peek() in ("+", "-"):
            op = self.take()[1]
            left = _arithmetic(op, left, self.multiplicative())
        return left

    def multiplicative(self) -> Any:
        left = self.unary()
        while self.peek() in ("*", "/", "%"):
            op = self.take()[1]
            left = _arithmetic(op, left, self.unary())
        return left

    def unary(self) -> Any:
        if self.peek() == "!":
            self.take()
            value = self.unary()
            return UNKNOWN if value is UNKNOWN else not _truthy(value)
        if self.peek() == "-":
            self.take()
            return _arithmetic("-", 0, self.unary())
        return self.postfix(self.primary())

    def postfix(self, value: Any) -> Any:
        while self.peek() in (".", "["):
            if self.take()[1] == ".":
                kind, name = self.take()
                if kind == "op" and name == "*":
                    value = UNKNOWN  # splat
                else:
                    value = _index(value, name)
            else:
                key = self.expression()
                self.take("]")
                value = _index(value, key)
        return value

    def primary(self) -> Any:
        kind, text = self.take()
        if kind == "number":
            return float(text) if "." in text else int(text)
        if kind == "string":
            body = text[1:-1]
            inner = expression_text(body)  # the HCL parser writes nested interpolations as '${...}'
            if inner is not None:
                return evaluate(inner, self.resolve)
            if "${" in body or "%{" in body:
                return UNKNOWN
            return bytes(body, "utf-8").decode("unicode_escape") if "\\" in body else body
        if kind == "ident":
            if text in _CONSTANTS:
                return _CONSTANTS[text]
            if self.peek() == "(":
                return self.call(text)
            if text in _REFERENCE_ROOTS and self.peek() == ".":
                self.take(".")
                return self.resolve(text, self.take()[1])
            self.skip_reference()
            return UNKNOWN  # a resource, data source, module output, each/count/path...
        if text == "(":
            value = self.expression()
            self.take(")")
            return value
        if text == "[":
            return self.collection("]")
        if text == "{":
            return self.collection("}")
        raise _Unparsable(text)

    def skip_reference(self) -> None:
        while self.peek() in (".", "["):
            if self.take()[1] == ".":
                self.take()
            else:
                self.expression()
                self.take("]")

    def collection(self, closing: str) -> Any:
        if self.peek() == "for":
            self.skip_to(closing)
            return UNKNOWN
        items: list[Any] = []
        pairs: dict[Any, Any] = {}
        unknown_key = False
        while self.peek() != closing:
            bare_key = closing == "}" and self.tokens[self.i][0] == "ident" and \
                self.i + 1 < len(self.tokens) and self.tokens[self.i + 1][1] in ("=", ":")
            item = self.take()[1] if bare_key else self.expression()
            if closing == "}":
                if self.peek() not in ("=", ":"):
                    raise _Unparsable("map without a key")
                self.take()
                value = self.expression()
                if item is UNKNOWN or not isinstance(item, (str, int, float, bool)):
                    unknown_key = True
                else:
                    pairs[str(item)] = value
            else:
                items.append(item)
            if self.peek() == ",":
                self.take()
        self.take(closing)
        if closing == "]":
            return items
        return UNKNOWN if unknown_key else pairs

    def skip_to(self, closing: str) -> None:
        depth = 0
        while True:
            text = self.take()[1]
            if text in "([{" and text:
                depth += 1
            elif text in ")]}" and text:
                if depth == 0 and text == closing:
                    return
                depth -= 1

    def call(self, name: str) -> Any:
        self.take("(")
        args: list[Any] = []
        while self.peek() != ")":
            args.append(self.expression())
            if self.peek() == "...":
                self.take()
                args[-1] = UNKNOWN
            if self.peek() == ",":
                self.take()
        self.take(")")
        function = _FUNCTIONS.get(name)
        if function is None:
            return UNKNOWN
        try:
            return function(args)
        except (TypeError, ValueError, KeyError, IndexError, AttributeError):
            return UNKNOWN


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _known_equal(a: Any, b: Any) -> bool:
    return a is not UNKNOWN and b is not UNKNOWN and a == b and not _holds_unknown(a)


def _holds_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, list):
        return any(_holds_unknown(v) for v in value)
    if isinstance(value, Mapping):
        return any(_holds_unknown(v) for v in value.values())
    return False


def _index(value: Any, key: Any) -> Any:
    if value is UNKNOWN or key is UNKNOWN:
        return UNKNOWN
    if isinstance(value, Mapping):
        return value.get(str(key), UNKNOWN)
    if isinstance(value, list) and isinstance(key, int) and 0 <= key < len(value):
        return value[key]
    return UNKNOWN


def _arithmetic(op: str, left: Any, right: Any) -> Any:
    if left is UNKNOWN or right is UNKNOWN:
        return UNKNOWN
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (left, right)):
        return UNKNOWN
    try:
        return {
            "+": lambda: left + right, "-": lambda: left - right, "*": lambda: left * right,
            "/": lambda: left / right, "%": lambda: left % right,
            "<": lambda: left < right, ">": lambda: left > right,
            "<=": lambda: left <= right, ">=": lambda: left >= right,
        }[op]()
    except ZeroDivisionError:
        return UNKNOWN


def _all_known(args: list[Any]) -> bool:
    return not any(_holds_unknown(a) for a in args)


def _length(args: list[Any]) -> Any:
    (value,) = args
    if value is UNKNOWN or not isinstance(value, (list, Mapping, str)):
        return UNKNOWN
    return len(value)


def _try(args: list[Any]) -> Any:
    # An argument that fails is UNKNOWN here too, so only a known first argument is certain.
    return args[0] if args and args[0] is not UNKNOWN else UNKNOWN


def _coalesce(args: list[Any]) -> Any:
    for value in args:
        if value is UNKNOWN:
            return UNKNOWN
        if value not in (None, ""):
            return value
    return UNKNOWN  # Terraform fails when every argument is null


def _concat(args: list[Any]) -> Any:
    if not _all_known(args) or not all(isinstance(a, list) for a in args):
        return UNKNOWN
    return [item for a in args for item in a]


def _merge(args: list[Any]) -> Any:
    if not _all_known(args):
        return UNKNOWN
    merged: dict[Any, Any] = {}
    for a in args:
        if a is None:
            continue
        if not isinstance(a, Mapping):
            return UNKNOWN
        merged.update(a)
    return merged


def _compact(args: list[Any]) -> Any:
    (value,) = args
    if not _all_known([value]) or not isinstance(value, list):
        return UNKNOWN
    return [v for v in value if v not in (None, "")]


def _lookup(args: list[Any]) -> Any:
    mapping, key, *default = args
    if mapping is UNKNOWN or key is UNKNOWN or not isinstance(mapping, Mapping):
        return UNKNOWN
    return mapping.get(str(key), default[0] if default else UNKNOWN)


def _contains(args: list[Any]) -> Any:
    collection, item = args
    if not _all_known([collection, item]) or not isinstance(collection, list):
        return UNKNOWN
    return item in collection


def _identity(args: list[Any]) -> Any:
    (value,) = args
    return value


def _tobool(args: list[Any]) -> Any:
    (value,) = args
    if value is UNKNOWN or value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value in ("true", "false"):
        return value == "true"
    return UNKNOWN


_FUNCTIONS: dict[str, Callable[[list[Any]], Any]] = {
    "length": _length, "try": _try, "coalesce": _coalesce, "concat": _concat, "merge": _merge,
    "compact": _compact, "lookup": _lookup, "contains": _contains, "tobool": _tobool,
    "tolist": _identity, "toset": _identity, "tomap": _identity, "tostring": _identity, "tonumber": _identity,
    "nonsensitive": _identity, "sensitive": _identity,
}
