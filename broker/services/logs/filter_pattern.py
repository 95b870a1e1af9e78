"""CloudWatch Logs filter patterns (FilterLogEvents, TestMetricFilter): parsing and matching.

Three forms, as AWS's "Filter pattern syntax" describes them:
- terms: `ERROR "disk full" ?WARN -DEBUG %reg[e]x%` — every plain term must appear (case-sensitive substring), at
  least one `?` term when there are any, no `-` term; quoted phrases match literally; `%...%` is a regular
  expression of AWS's restricted syntax (no groups, ASCII only);
- JSON: `{ $.a.b[0] = "x*" && ($.n > 5 || $.flag IS TRUE) }` — selectors into the event parsed as JSON; strings
  compare with `=`/`!=` and `*` wildcards (or `%regex%`), numbers with `= != < > <= >=`; `IS TRUE`, `IS FALSE`,
  `IS NULL`, `NOT EXISTS`; `&&`, `||`, parentheses. An event that is not JSON never matches;
- space-delimited: `[ip, user, ..., status = 4* && status != 404, bytes > 1000]` — the event split into words (a
  `"..."` or `[...]` run is one word), one field per word, `...` any number of words.

An empty pattern matches every event. A pattern that does not parse raises InvalidFilterPattern.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson


class InvalidFilterPattern(ValueError):
    """The pattern does not parse (the operations answer AWS's InvalidParameterException)."""


# AWS's regex subset: alphanumerics, the symbols : _ # = @ / ; , - and the operators ^ $ ? [ ] { } | \ * + .
_REGEX_CHARS = re.compile(r"[A-Za-z0-9:_#=@/;,\-^$?\[\]{}|\\*+.]*")
# Characters a bare term cannot hold (they need quotes).
_BARE_FORBIDDEN = set('"{}[]()%?&|,')


def _regex(body: str) -> re.Pattern[str]:
    if not body or not _REGEX_CHARS.fullmatch(body):
        raise InvalidFilterPattern(f"invalid regular expression %{body}%")
    try:
        return re.compile(body)
    except re.error as e:
        raise InvalidFilterPattern(f"invalid regular expression %{body}%: {e}") from None


def _wildcard(text: str) -> re.Pattern[str]:
    """A string value with `*` wildcards as a whole-value regex."""
    return re.compile(".*".join(re.escape(part) for part in text.split("*")), re.DOTALL)


class Pattern:
    """A compiled filter pattern."""

    def matches(self, message: str) -> bool:
        raise NotImplementedError

    def extracted(self, message: str) -> dict[str, str]:
        """The values the pattern extracts from a matching event (TestMetricFilter's extractedValues)."""
        return {}

    def required_substrings(self) -> list[str]:
        """Strings every matching event contains: a database prefilter (a superset of the matches)."""
        return []


class MatchAll(Pattern):
    def matches(self, message: str) -> bool:
        return True


# -- terms ----------------------------------------------------------------------------------------------------------
@dataclass
class Term:
    text: str = ""
    regex: re.Pattern[str] | None = None

    def found(self, message: str) -> bool:
        if self.regex is not None:
            return self.regex.search(message) is not None
        return self.text in message


@dataclass
class TermPattern(Pattern):
    required: list[Term] = field(default_factory=list)
    optional: list[Term] = field(default_factory=list)
    excluded: list[Term] = field(default_factory=list)

    def matches(self, message: str) -> bool:
        if not all(t.found(message) for t in self.required):
            return False
        if self.optional and not any(t.found(message) for t in self.optional):
            return False
        return not any(t.found(message) for t in self.excluded)

    def required_substrings(self) -> list[str]:
        return [t.text for t in self.required if t.regex is None]


def _quoted(text: str, i: int) -> tuple[str, int]:
    """The string of a `"..."` starting at text[i] (backslash escapes a quote or a backslash) and the index after."""
    out: list[str] = []
    j = i + 1
    while j < len(text):
        c = text[j]
        if c == "\\" and j + 1 < len(text) and text[j + 1] in '"\\':
            out.append(text[j + 1])
            j += 2
            continue
        if c == '"':
            return "".join(out), j + 1
        out.append(c)
        j += 1
    raise InvalidFilterPattern("unterminated quoted term")


def _terms(text: str) -> TermPattern:
    pattern = TermPattern()
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        target = pattern.required
        if text[i] in "?-":
            target = pattern.optional if text[i] == "?" else pattern.excluded
            i += 1
            if i >= n or text[i].isspace():
                raise InvalidFilterPattern("an operator without a term")
        if text[i] == '"':
            value, i = _quoted(text, i)
            if not value:
                raise InvalidFilterPattern("empty quoted term")
            term = Term(value)
        elif text[i] == "%":
            end = text.find("%", i + 1)
            if end < 0:
                raise InvalidFilterPattern("unterminated regular expression")
            term = Term(regex=_regex(text[i + 1 : end]))
            i = end + 1
        else:
            start = i
            while i < n and not text[i].isspace():
                i += 1
            value = text[start:i]
            if any(c in _BARE_FORBIDDEN for c in value):
                raise InvalidFilterPattern(f"invalid character(s) in term {value!r}")
            term = Term(value)
        if i < n and not text[i].isspace():
            raise InvalidFilterPattern("terms must be separated by spaces")
        target.append(term)
    return pattern


# -- values shared by JSON and space-delimited conditions ------------------------------------------------------------
@dataclass
class Value:
    """The right-hand side of a comparison."""

    kind: str  # "number" | "string" | "regex" | "any"
    number: float = 0.0
    regex: re.Pattern[str] | None = None


_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


def _value_of(token: str, quoted: bool) -> Value:
    if not quoted:
        if token.startswith("%") and token.endswith("%") and len(token) >= 2:
            return Value("regex", regex=_regex(token[1:-1]))
        if token == "*":
            return Value("any")
        if _NUMBER.fullmatch(token):
            return Value("number", number=float(token))
        if not token or any(c in _BARE_FORBIDDEN for c in token):
            raise InvalidFilterPattern(f"invalid value {token!r}")
    elif token == "*":
        return Value("any")
    return Value("string", regex=_wildcard(token))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _text(value: Any) -> str | None:
    """A JSON scalar as the text a string comparison sees."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    return None


def _compare(op: str, value: Value, actual: Any) -> bool:
    if value.kind == "any":
        return op == "="
    if value.kind == "number":
        number = _number(actual)
        if number is None and isinstance(actual, str) and _NUMBER.fullmatch(actual.strip()):
            number = float(actual)  # space-delimited words are text
        return number is not None and _COMPARE[op](number, value.number)
    text = _text(actual)
    if text is None:
        return False
    assert value.regex is not None
    hit = value.regex.search(text) is not None if value.kind == "regex" else value.regex.fullmatch(text) is not None
    return hit if op == "=" else not hit


# -- JSON patterns -------------------------------------------------------------------------------------------------
_MISSING = object()


class Node:
    def eval(self, doc: Any) -> bool:
        raise NotImplementedError


@dataclass
class Selector:
    text: str
    path: list[str | int]

    def resolve(self, doc: Any) -> Any:
        cur = doc
        for step in self.path:
            if isinstance(step, int):
                if not isinstance(cur, list) or step >= len(cur):
                    return _MISSING
                cur = cur[step]
            else:
                if not isinstance(cur, dict) or step not in cur:
                    return _MISSING
                cur = cur[step]
        return cur


@dataclass
class Comparison(Node):
    selector: Selector
    op: str
    value: Value

    def eval(self, doc: Any) -> bool:
        actual = self.selector.resolve(doc)
        if actual is _MISSING:
            return False
        return _compare(self.op, self.value, actual)


@dataclass
class Check(Node):
    selector: Selector
    what: str  # "TRUE" | "FALSE" | "NULL" | "NOT EXISTS"

    def eval(self, doc: Any) -> bool:
        actual = self.selector.resolve(doc)
        if self.what == "NOT EXISTS":
            return actual is _MISSING
        if self.what == "NULL":
            return actual is None
        return actual is (self.what == "TRUE")


@dataclass
class BoolOp(Node):
    op: str  # "&&" | "||"
    parts: list[Node]

    def eval(self, doc: Any) -> bool:
        if self.op == "&&":
            return all(p.eval(doc) for p in self.parts)
        return any(p.eval(doc) for p in self.parts)


@dataclass
class JsonPattern(Pattern):
    root: Node
    selectors: list[Selector]

    def _doc(self, message: str) -> Any:
        try:
            doc = orjson.loads(message)
        except orjson.JSONDecodeError:
            return _MISSING
        return doc if isinstance(doc, dict | list) else _MISSING

    def matches(self, message: str) -> bool:
        doc = self._doc(message)
        return doc is not _MISSING and self.root.eval(doc)

    def extracted(self, message: str) -> dict[str, str]:
        doc = self._doc(message)
        out: dict[str, str] = {}
        for sel in self.selectors:
            value = sel.resolve(doc) if doc is not _MISSING else _MISSING
            text = _text(value) if value is not _MISSING else None
            if text is not None:
                out[sel.text] = text
        return out


MAX_NESTING = 50
_JSON_TOKEN = re.compile(
    r"""\s*(?:
        (?P<quoted>")
      | (?P<regex>%[^%]*%)
      | (?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\))
      | (?P<word>[^\s"()&|=!<>]+)
    )""",
    re.VERBOSE,
)


class _JsonParser:
    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []  # (kind, text): kind "q" quoted, "op", "w" word
        i = 0
        while i < len(text):
            if text[i].isspace():
                i += 1
                continue
            m = _JSON_TOKEN.match(text, i)
            if m is None:
                raise InvalidFilterPattern(f"unexpected character {text[i]!r}")
            if m.group("quoted"):
                value, i = _quoted(text, m.start("quoted"))
                self.tokens.append(("q", value))
                continue
            kind = "w" if m.group("word") or m.group("regex") else "op"
            self.tokens.append((kind, m.group(m.lastgroup or "word")))
            i = m.end()
        self.pos = 0
        self.depth = 0
        self.selectors: list[Selector] = []

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise InvalidFilterPattern("unexpected end of pattern")
        self.pos += 1
        return tok

    def parse(self) -> JsonPattern:
        if not self.tokens:
            raise InvalidFilterPattern("empty JSON pattern")
        root = self.expr()
        if self.peek() is not None:
            raise InvalidFilterPattern(f"unexpected {self.peek()}")
        return JsonPattern(root, self.selectors)

    def expr(self) -> Node:
        parts = [self.conjunction()]
        while self.peek() == ("op", "||"):
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else BoolOp("||", parts)

    def conjunction(self) -> Node:
        parts = [self.primary()]
        while self.peek() == ("op", "&&"):
            self.take()
            parts.append(self.primary())
        return parts[0] if len(parts) == 1 else BoolOp("&&", parts)

    def primary(self) -> Node:
        if self.peek() == ("op", "("):
            self.take()
            self.depth += 1
            if self.depth > MAX_NESTING:  # the parser recurses per level
                raise InvalidFilterPattern("parentheses nested too deep")
            node = self.expr()
            if self.take() != ("op", ")"):
                raise InvalidFilterPattern("missing )")
            self.depth -= 1
            return node
        kind, text = self.take()
        if kind != "w":
            raise InvalidFilterPattern(f"expected a selector, got {text!r}")
        selector = self.selector(text)
        nxt = self.take()
        if nxt[0] == "w" and nxt[1] in ("IS", "NOT"):
            word = self.take()
            if nxt[1] == "IS" and word[0] == "w" and word[1] in ("TRUE", "FALSE", "NULL"):
                return Check(selector, word[1])
            if nxt[1] == "NOT" and word == ("w", "EXISTS"):
                return Check(selector, "NOT EXISTS")
            raise InvalidFilterPattern(f"unexpected {nxt[1]} {word[1]}")
        if nxt[0] != "op" or nxt[1] not in _COMPARE:
            raise InvalidFilterPattern(f"expected a comparison after {text}")
        vkind, vtext = self.take()
        if vkind == "op":
            raise InvalidFilterPattern(f"expected a value after {nxt[1]}")
        value = _value_of(vtext, quoted=vkind == "q")
        if value.kind in ("string", "regex", "any") and nxt[1] not in ("=", "!="):
            raise InvalidFilterPattern(f"{nxt[1]} compares numbers only")
        return Comparison(selector, nxt[1], value)

    def selector(self, text: str) -> Selector:
        if not text.startswith("$"):
            raise InvalidFilterPattern(f"a selector starts with $: {text!r}")
        path: list[str | int] = []
        for m in re.finditer(r"\.([^.\[\]]+)|\[(\d+)\]|(.)", text[1:]):
            if m.group(1) is not None:
                path.append(m.group(1))
            elif m.group(2) is not None:
                path.append(int(m.group(2)))
            else:
                raise InvalidFilterPattern(f"invalid selector {text!r}")
        if not path:
            raise InvalidFilterPattern(f"invalid selector {text!r}")
        sel = Selector(text, path)
        self.selectors.append(sel)
        return sel


# -- space-delimited patterns ----------------------------------------------------------------------------------------
@dataclass
class Field:
    name: str  # "" for a literal field, "..." for the ellipsis
    condition: Node | None = None  # over {"v": word}


@dataclass
class WordCondition(Node):
    op: str
    value: Value

    def eval(self, doc: Any) -> bool:
        return _compare(self.op, self.value, doc["v"])


@dataclass
class DelimitedPattern(Pattern):
    fields: list[Field]

    def _bind(self, words: list[str]) -> dict[str, str] | None:
        """The word of each named field when the event's words fit the fields, else None. Dynamic programming over
        (field, words consumed), iterative: cost fields x words whatever the ellipses, no recursion."""
        fields, n = self.fields, len(words)
        reach: list[set[int]] = [{0}] + [set() for _ in fields]
        came_from: dict[tuple[int, int], int] = {}  # (field index + 1, words consumed) -> words consumed before it
        for fi, f in enumerate(fields):
            if not reach[fi]:
                return None
            if f.name == "...":
                starts = sorted(reach[fi])
                j = 0
                for k in range(starts[0], n + 1):
                    while j + 1 < len(starts) and starts[j + 1] <= k:
                        j += 1
                    reach[fi + 1].add(k)
                    came_from[(fi + 1, k)] = starts[j]  # the ellipsis took words[starts[j]:k]
                continue
            for wi in reach[fi]:
                if wi < n and (f.condition is None or f.condition.eval({"v": words[wi]})):
                    reach[fi + 1].add(wi + 1)
                    came_from[(fi + 1, wi + 1)] = wi
        if n not in reach[len(fields)]:
            return None
        bound: dict[str, str] = {}
        k = n
        for fi in range(len(fields), 0, -1):
            before = came_from[(fi, k)]
            f = fields[fi - 1]
            if f.name and f.name != "...":
                bound[f.name] = words[before]
            k = before
        return dict(reversed(bound.items()))

    def matches(self, message: str) -> bool:
        return self._bind(split_words(message)) is not None

    def extracted(self, message: str) -> dict[str, str]:
        bound = self._bind(split_words(message)) or {}
        return {f"${name}": word for name, word in bound.items()}


def split_words(message: str) -> list[str]:
    """An event's words for space-delimited patterns: a run in double quotes or square brackets is one word (without
    them)."""
    words: list[str] = []
    i, n = 0, len(message)
    while i < n:
        c = message[i]
        if c.isspace():
            i += 1
            continue
        close = {'"': '"', "[": "]"}.get(c)
        if close is not None:
            end = message.find(close, i + 1)
            if end >= 0:
                words.append(message[i + 1 : end])
                i = end + 1
                continue
        start = i
        while i < n and not message[i].isspace():
            i += 1
        words.append(message[start:i])
    return words


_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _delimited(body: str) -> DelimitedPattern:
    fields: list[Field] = []
    for raw in _split_top(body, ","):
        spec = raw.strip()
        if not spec:
            raise InvalidFilterPattern("empty field")
        if spec == "...":
            fields.append(Field("..."))
            continue
        if spec.startswith('"'):
            value, end = _quoted(spec, 0)
            if spec[end:].strip():
                raise InvalidFilterPattern(f"invalid field {spec!r}")
            fields.append(Field("", WordCondition("=", _value_of(value, quoted=True))))
            continue
        m = _FIELD_NAME.match(spec)
        if m is None:
            raise InvalidFilterPattern(f"invalid field {spec!r}")
        name, rest = m.group(0), spec[m.end() :].strip()
        fields.append(Field(name, _field_condition(name, rest) if rest else None))
    return DelimitedPattern(fields)


def _field_condition(name: str, text: str) -> Node:
    """`= 4*`, `!= 200 && != 404`, or with the field's name repeated: `= 4* && status != 404`."""
    toks = _JsonParser(text).tokens

    def condition(i: int) -> tuple[Node, int]:
        if i < len(toks) and toks[i] == ("w", name):
            i += 1  # the field's own name before a later comparison
        if i + 1 >= len(toks) or toks[i][0] != "op" or toks[i][1] not in _COMPARE or toks[i + 1][0] == "op":
            raise InvalidFilterPattern(f"invalid condition on {name}")
        op, (vkind, vtext) = toks[i][1], toks[i + 1]
        value = _value_of(vtext, quoted=vkind == "q")
        if value.kind != "number" and op not in ("=", "!="):
            raise InvalidFilterPattern(f"{op} compares numbers only")
        return WordCondition(op, value), i + 2

    node, i = condition(0)
    while i < len(toks):
        joiner = toks[i]
        if joiner not in (("op", "&&"), ("op", "||")):
            raise InvalidFilterPattern(f"invalid condition on {name}")
        nxt, i = condition(i + 1)
        node = BoolOp(joiner[1], [node, nxt])  # left to right, as written
    return node


def _split_top(text: str, sep: str) -> list[str]:
    """`text` split at `sep` outside double quotes."""
    parts, cur, quoted, i = [], [], False, 0
    while i < len(text):
        c = text[i]
        if c == "\\" and quoted and i + 1 < len(text):
            cur.append(text[i : i + 2])
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        if c == sep and not quoted:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    if quoted:
        raise InvalidFilterPattern("unterminated quoted value")
    parts.append("".join(cur))
    return parts


# -- entry point ---------------------------------------------------------------------------------------------------
def compile_pattern(text: str | None) -> Pattern:
    """The pattern `text` compiled (InvalidFilterPattern when it does not parse)."""
    body = (text or "").strip()
    if not body:
        return MatchAll()
    if body.startswith("{"):
        if not body.endswith("}"):
            raise InvalidFilterPattern("If a filter pattern starts with '{' it must end with '}'")
        return _JsonParser(body[1:-1]).parse()
    if body.startswith("["):
        if not body.endswith("]"):
            raise InvalidFilterPattern("If a filter pattern starts with '[' it must end with ']'")
        return _delimited(body[1:-1])
    return _terms(body)
