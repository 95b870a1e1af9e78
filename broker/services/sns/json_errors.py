"""Why a JSON text does not parse, worded as the Jackson parser behind SNS words it.

SNS refuses a policy attribute that is not JSON with "<Attribute>: failed to parse JSON. " followed by Jackson's
message and location, e.g. for `{invalidjson}`:

    Unexpected character ('i' (code 105)): was expecting double-quote to start field name
     at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 2]

`describe()` walks the text as Jackson's reader does (strict JSON: no comments, no single quotes, no unquoted
names, no NaN) and reports the first problem with Jackson's wording: an unexpected character at its own column, a
token, an end marker or the end of input at the column after what was read.
"""

from __future__ import annotations

__all__ = ["describe", "failed_to_parse"]

SOURCE = "[Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: {line}, column: {column}]"
VALID_VALUES = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
WHITESPACE = " \t\n\r"
ESCAPES = '"\\/bfnrt'
HEX = "0123456789abcdefABCDEF"


class _Problem(Exception):
    def __init__(self, message: str, at: int) -> None:
        super().__init__(message)
        self.message = message
        self.at = at  # the index whose column the location shows


def describe(text: str) -> str:
    """Jackson's message for the first problem of `text`, with its location; "" when the first value parses."""
    try:
        _Reader(text).document()
    except _Problem as problem:
        return f"{problem.message}\n at {_location(text, problem.at)}"
    return ""


def failed_to_parse(text: str) -> str:
    """The reason SNS gives for an attribute that is not JSON: "failed to parse JSON." and Jackson's details."""
    detail = describe(text)
    return f"failed to parse JSON. {detail}" if detail else "failed to parse JSON."


def _location(text: str, at: int) -> str:
    line, row_start, i = 1, 0, 0
    while i < at and i < len(text):
        if text[i] == "\n" or (text[i] == "\r" and text[i + 1 : i + 2] != "\n"):
            line, row_start = line + 1, i + 1
        i += 1
    return SOURCE.format(line=line, column=at - row_start + 1)


def _char(c: str) -> str:
    """A character as Jackson shows it in "Unexpected character (...)"."""
    code = ord(c)
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return f"(CTRL-CHAR, code {code})"
    if code > 255:
        return f"'{c}' (code {code} / 0x{code:x})"
    return f"'{c}' (code {code})"


def _identifier_part(c: str) -> bool:
    return c.isalnum() or c in "_$"


class _Reader:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0

    # -- errors --------------------------------------------------------------------------------------------
    def unexpected(self, at: int, comment: str) -> _Problem:
        return _Problem(f"Unexpected character ({_char(self.s[at])}): {comment}", at)

    def token(self, start: int) -> _Problem:
        """An unrecognized token: what was read from `start`, with the identifier characters that follow it."""
        end = self.i
        while end < len(self.s) and _identifier_part(self.s[end]):
            end += 1
        return _Problem(f"Unrecognized token '{self.s[start:end]}': was expecting {VALID_VALUES}", end)

    def eof(self, message: str) -> _Problem:
        return _Problem(f"Unexpected end-of-input{message}", len(self.s))

    def unclosed(self, kind: str, start: int) -> _Problem:
        return self.eof(f": expected close marker for {kind} (start marker at {_location(self.s, start)})")

    # -- reading -------------------------------------------------------------------------------------------
    def skip(self) -> str | None:
        """The next character after whitespace (consumed), or None at the end."""
        while self.i < len(self.s):
            c = self.s[self.i]
            self.i += 1
            if c in WHITESPACE:
                continue
            if c == "/":
                raise self.unexpected(
                    self.i - 1,
                    "maybe a (non-standard) comment? (not recognized as one since Feature 'ALLOW_COMMENTS' not "
                    "enabled for parser)",
                )
            return c
        return None

    def document(self) -> None:
        c = self.skip()
        if c is None:
            raise _Problem("No content to map due to end-of-input", 0)
        self.value(c)

    def value(self, c: str) -> None:
        at = self.i - 1
        if c == "{":
            self.object(at)
        elif c == "[":
            self.array(at)
        elif c == '"':
            self.string("a string value")
        elif c == "-" or c.isdigit():
            self.number(c, at)
        elif c in "tfn":
            self.literal({"t": "true", "f": "false", "n": "null"}[c], at)
        elif c in "NI":
            self.non_numeric(c, at)
        elif c in "]},":
            raise self.unexpected(at, "expected a value")
        elif c.isidentifier() or c == "$":
            raise self.token(at)
        else:
            raise self.unexpected(at, f"expected a valid value {VALID_VALUES}")

    def object(self, start: int) -> None:
        c = self.skip()
        if c == "}":
            return
        if c == "]":
            raise self.mismatched("]", "}", "Object", start)
        while True:
            if c is None:
                raise self.unclosed("Object", start)
            if c != '"':
                raise self.unexpected(self.i - 1, "was expecting double-quote to start field name")
            self.string("name")
            c = self.skip()
            if c is None:
                raise self.unclosed("Object", start)
            if c != ":":
                raise self.unexpected(self.i - 1, "was expecting a colon to separate field name and value")
            c = self.skip()
            if c is None:
                raise self.unclosed("Object", start)
            self.value(c)
            c = self.skip()
            if c is None:
                raise self.unclosed("Object", start)
            if c == "}":
                return
            if c == "]":
                raise self.mismatched("]", "}", "Object", start)
            if c != ",":
                raise self.unexpected(self.i - 1, "was expecting comma to separate Object entries")
            c = self.skip()

    def array(self, start: int) -> None:
        c = self.skip()
        if c == "]":
            return
        if c == "}":
            raise self.mismatched("}", "]", "Array", start)
        while True:
            if c is None:
                raise self.unclosed("Array", start)
            self.value(c)
            c = self.skip()
            if c is None:
                raise self.unclosed("Array", start)
            if c == "]":
                return
            if c == "}":
                raise self.mismatched("}", "]", "Array", start)
            if c != ",":
                raise self.unexpected(self.i - 1, "was expecting comma to separate Array entries")
            c = self.skip()

    def mismatched(self, actual: str, expected: str, kind: str, start: int) -> _Problem:
        return _Problem(
            f"Unexpected close marker '{actual}': expected '{expected}' (for {kind} starting at "
            f"{_location(self.s, start)})",
            self.i,
        )

    def string(self, what: str) -> None:
        while True:
            if self.i >= len(self.s):
                ending = " in field name" if what == "name" else ": was expecting closing quote for a string value"
                raise self.eof(ending)
            c = self.s[self.i]
            self.i += 1
            if c == '"':
                return
            if c == "\\":
                if self.i >= len(self.s):
                    raise self.eof(" in character escape sequence")
                e = self.s[self.i]
                self.i += 1
                if e == "u":
                    for _ in range(4):
                        if self.i >= len(self.s):
                            raise self.eof(" in character escape sequence")
                        if self.s[self.i] not in HEX:
                            raise self.unexpected(self.i, "expected a hex-digit for character escape sequence")
                        self.i += 1
                elif e not in ESCAPES:
                    raise _Problem(f"Unrecognized character escape {_char(e)}", self.i)
            elif ord(c) < 0x20:
                raise _Problem(
                    f"Illegal unquoted character ({_char(c)}): has to be escaped using backslash to be included in "
                    f"{what}",
                    self.i,
                )

    def number(self, c: str, start: int) -> None:
        if c == "-":
            if self.i >= len(self.s):
                raise self.eof(" in a Number value")
            c = self.s[self.i]
            if not c.isdigit():
                raise _Problem(
                    f"Unexpected character ({_char(c)}) in numeric value: expected digit (0-9) to follow minus sign, "
                    "for valid numeric value",
                    self.i + 1,
                )
            self.i += 1
        if c == "0" and self.i < len(self.s) and self.s[self.i].isdigit():
            raise _Problem("Invalid numeric value: Leading zeroes not allowed", self.i + 1)
        self.digits()
        if self.i < len(self.s) and self.s[self.i] == ".":
            self.i += 1
            self.fraction("Decimal point not followed by a digit")
        if self.i < len(self.s) and self.s[self.i] in "eE":
            self.i += 1
            if self.i < len(self.s) and self.s[self.i] in "+-":
                self.i += 1
            self.fraction("Exponent indicator not followed by a digit")

    def digits(self) -> None:
        while self.i < len(self.s) and self.s[self.i].isdigit():
            self.i += 1

    def fraction(self, problem: str) -> None:
        if self.i >= len(self.s):
            raise self.eof(" in a Number value")
        if not self.s[self.i].isdigit():
            raise _Problem(f"Unexpected character ({_char(self.s[self.i])}) in numeric value: {problem}", self.i + 1)
        self.digits()

    def literal(self, word: str, start: int) -> None:
        for k in range(1, len(word)):
            if self.i >= len(self.s) or self.s[self.i] != word[k]:
                raise self.token(start)
            self.i += 1
        if self.i < len(self.s) and _identifier_part(self.s[self.i]):
            raise self.token(start)

    def non_numeric(self, c: str, start: int) -> None:
        word = "NaN" if c == "N" else "Infinity"
        if self.s.startswith(word, start):
            self.i = start + len(word)
            raise _Problem(
                f"Non-standard token '{word}': enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow", self.i
            )
        raise self.token(start)
