"""Go's ``encoding/base64`` (RawURLEncoding) and ``encoding/json`` as the API server's continue tokens use them.

A list's ``continue`` token is Go's ``base64.RawURLEncoding`` of Go's ``json.Marshal`` of a small struct
(``k8s.io/apiserver/pkg/storage/continue.go``), and a token that does not decode is refused with Go's own error
text inside the 400's message (``invalid continue token: continue key is not valid: illegal base64 data at input
byte 4``). So the encoders here write what Go writes, and the decoders fail where Go's fail, with Go's words:
``decodeQuantum`` of ``encoding/base64/base64.go`` and the scanner of ``encoding/json/scanner.go`` (Go 1.23, what
Kubernetes 1.32 is built with) ported state for state, and ``Unmarshal``'s type errors for a struct of string and
int64 fields.

Pure Python: standard library only.
"""

from __future__ import annotations

import base64
import json

_URL_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_DECODE = {c: i for i, c in enumerate(_URL_ALPHABET)}

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class GoError(ValueError):
    """A Go decoding error; ``str()`` is Go's ``err.Error()``."""


# -- encoding/base64 ---------------------------------------------------------------------------------------------

def raw_url_b64encode(data: bytes) -> str:
    """``base64.RawURLEncoding.EncodeToString``: the URL alphabet, no padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def raw_url_b64decode(src: bytes) -> bytes:
    """``base64.RawURLEncoding.DecodeString``: newlines are skipped; any other byte outside the alphabet (padding
    included), or a lone last character, is a ``CorruptInputError`` at Go's offset."""
    out = bytearray()
    si, end = 0, len(src)
    while True:
        quantum, size = [0, 0, 0, 0], 4
        j = 0
        while j < 4:
            if si == end:
                if j == 0:
                    return bytes(out)
                if j == 1:
                    raise GoError(f"illegal base64 data at input byte {si - j}")
                size = j
                break
            c = src[si]
            si += 1
            value = _DECODE.get(c)
            if value is not None:
                quantum[j] = value
                j += 1
            elif c not in (0x0A, 0x0D):
                raise GoError(f"illegal base64 data at input byte {si - 1}")
        bits = quantum[0] << 18 | quantum[1] << 12 | quantum[2] << 6 | quantum[3]
        out.extend(bits.to_bytes(3, "big")[: size - 1])
        if size < 4:
            return bytes(out)


# -- encoding/json: Marshal of a string ---------------------------------------------------------------------------

def marshal_string(value: str) -> str:
    """A JSON string as Go's ``json.Marshal`` writes it: HTML-safe (``<``, ``>``, ``&`` escaped) and U+2028/U+2029
    escaped, the rest as Python writes it without ASCII escaping (both escape ``\\b \\f \\n \\r \\t`` by name and
    other control characters as ``\\u00XX``)."""
    text = json.dumps(value, ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                          ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


# -- encoding/json: the scanner's syntax errors -------------------------------------------------------------------

def _quote_char(c: int) -> str:
    """``quoteChar``: the offending byte as Go's error message shows it (a byte above 0x7F as the rune of that
    value, as Go's ``string(c)`` does)."""
    if c == ord("'"):
        return "'\\''"
    if c == ord('"'):
        return "'\"'"
    char = chr(c)
    named = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v",
             "\\": "\\\\"}
    if char in named:
        return f"'{named[char]}'"
    if c < 0x80:
        return f"'{char}'" if char.isprintable() else f"'\\x{c:02x}'"
    return f"'{char}'" if char.isprintable() else f"'\\u{c:04x}'"


_SPACE = b" \t\r\n"
_OBJECT_KEY, _OBJECT_VALUE, _ARRAY_VALUE = "key", "value", "array"


class _Scanner:
    """``encoding/json``'s ``scanner``: one state function per byte, a stack of open objects and arrays."""

    def __init__(self):
        self.step = self.begin_value
        self.stack: list[str] = []
        self.end_top = False
        self.error: str | None = None

    def fail(self, c: int, context: str) -> bool:
        self.step = self.stopped
        self.error = f"invalid character {_quote_char(c)} {context}"
        return False

    def stopped(self, c: int) -> bool:
        return False

    def push(self, state: str) -> bool:
        self.stack.append(state)
        return True

    def pop(self) -> bool:
        self.stack.pop()
        if not self.stack:
            self.step, self.end_top = self.end_of_top, True
        else:
            self.step = self.end_value
        return True

    def begin_value_or_empty(self, c: int) -> bool:
        if c in _SPACE:
            return True
        if c == ord("]"):
            return self.end_value(c)
        return self.begin_value(c)

    def begin_value(self, c: int) -> bool:
        if c in _SPACE:
            return True
        char = chr(c)
        if char == "{":
            self.step = self.begin_string_or_empty
            return self.push(_OBJECT_KEY)
        if char == "[":
            self.step = self.begin_value_or_empty
            return self.push(_ARRAY_VALUE)
        literal = {'"': self.in_string, "-": self.negative, "0": self.zero, "t": self.literal("true"),
                   "f": self.literal("false"), "n": self.literal("null")}.get(char)
        if literal is None and "1" <= char <= "9":
            literal = self.digits
        if literal is None:
            return self.fail(c, "looking for beginning of value")
        self.step = literal
        return True

    def begin_string_or_empty(self, c: int) -> bool:
        if c in _SPACE:
            return True
        if c == ord("}"):
            self.stack[-1] = _OBJECT_VALUE
            return self.end_value(c)
        return self.begin_string(c)

    def begin_string(self, c: int) -> bool:
        if c in _SPACE:
            return True
        if c == ord('"'):
            self.step = self.in_string
            return True
        return self.fail(c, "looking for beginning of object key string")

    def end_value(self, c: int) -> bool:
        if not self.stack:
            self.step, self.end_top = self.end_of_top, True
            return self.end_of_top(c)
        if c in _SPACE:
            self.step = self.end_value
            return True
        char, state = chr(c), self.stack[-1]
        if state == _OBJECT_KEY:
            if char == ":":
                self.stack[-1], self.step = _OBJECT_VALUE, self.begin_value
                return True
            return self.fail(c, "after object key")
        if state == _OBJECT_VALUE:
            if char == ",":
                self.stack[-1], self.step = _OBJECT_KEY, self.begin_string
                return True
            if char == "}":
                return self.pop()
            return self.fail(c, "after object key:value pair")
        if char == ",":
            self.step = self.begin_value
            return True
        if char == "]":
            return self.pop()
        return self.fail(c, "after array element")

    def end_of_top(self, c: int) -> bool:
        if c not in _SPACE:
            self.fail(c, "after top-level value")  # reported at the next byte, or at the end
        return True

    def in_string(self, c: int) -> bool:
        if c == ord('"'):
            self.step = self.end_value
        elif c == ord("\\"):
            self.step = self.in_string_escape
        elif c < 0x20:
            return self.fail(c, "in string literal")
        return True

    def in_string_escape(self, c: int) -> bool:
        if chr(c) in 'bfnrt\\/"':
            self.step = self.in_string
            return True
        if c == ord("u"):
            self.step = self.hex_escape(4)
            return True
        return self.fail(c, "in string escape code")

    def hex_escape(self, left: int):
        def state(c: int) -> bool:
            if chr(c) not in "0123456789abcdefABCDEF":
                return self.fail(c, "in \\u hexadecimal character escape")
            self.step = self.in_string if left == 1 else self.hex_escape(left - 1)
            return True
        return state

    def negative(self, c: int) -> bool:
        if c == ord("0"):
            self.step = self.zero
            return True
        if ord("1") <= c <= ord("9"):
            self.step = self.digits
            return True
        return self.fail(c, "in numeric literal")

    def digits(self, c: int) -> bool:
        if ord("0") <= c <= ord("9"):
            return True
        return self.zero(c)

    def zero(self, c: int) -> bool:
        if c == ord("."):
            self.step = self.dot
            return True
        if c in b"eE":
            self.step = self.exponent
            return True
        return self.end_value(c)

    def dot(self, c: int) -> bool:
        if ord("0") <= c <= ord("9"):
            self.step = self.fraction
            return True
        return self.fail(c, "after decimal point in numeric literal")

    def fraction(self, c: int) -> bool:
        if ord("0") <= c <= ord("9"):
            return True
        if c in b"eE":
            self.step = self.exponent
            return True
        return self.end_value(c)

    def exponent(self, c: int) -> bool:
        if c in b"+-":
            self.step = self.exponent_sign
            return True
        return self.exponent_sign(c)

    def exponent_sign(self, c: int) -> bool:
        if ord("0") <= c <= ord("9"):
            self.step = self.exponent_digits
            return True
        return self.fail(c, "in exponent of numeric literal")

    def exponent_digits(self, c: int) -> bool:
        if ord("0") <= c <= ord("9"):
            return True
        return self.end_value(c)

    def literal(self, word: str, seen: int = 1):
        def state(c: int) -> bool:
            expected = word[seen]
            if chr(c) != expected:
                return self.fail(c, f"in literal {word} (expecting '{expected}')")
            self.step = self.end_value if seen + 1 == len(word) else self.literal(word, seen + 1)
            return True
        return state


def check_valid(data: bytes) -> None:
    """``checkValid``: raise Go's ``SyntaxError`` text when ``data`` is not one JSON value."""
    scanner = _Scanner()
    for c in data:
        if not scanner.step(c):
            raise GoError(scanner.error)
    if scanner.error is not None:
        raise GoError(scanner.error)
    if not scanner.end_top:
        scanner.step(ord(" "))
        if not scanner.end_top:
            raise GoError(scanner.error or "unexpected end of JSON input")


# -- encoding/json: Unmarshal into a struct of string and int64 fields --------------------------------------------

class _Number(str):
    """A JSON number's literal text, as Go's decoder keeps it for its messages."""


class _Object(list):
    """A JSON object as its (key, value) pairs in order, duplicates kept."""


def _kind(value) -> str:
    if isinstance(value, _Number):
        return "number"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, _Object):
        return "object"
    return {str: "string", list: "array"}[type(value)]


def unmarshal_struct(data: bytes, struct: str, fields: dict[str, type]) -> dict:
    """``json.Unmarshal(data, &v)`` for a Go struct named ``struct`` (``package.Type``) whose JSON fields map to
    ``str`` or ``int`` (int64). Answers the fields set, by JSON name; raises ``GoError`` with Go's message for a
    syntax error or the first type mismatch. As Go: keys match case-insensitively, unknown keys and nulls are
    ignored, a later duplicate wins."""
    check_valid(data)
    document = json.loads(data.decode("utf-8", errors="replace"), parse_int=_Number, parse_float=_Number,
                          object_pairs_hook=_Object)
    if document is None:
        return {}
    if not isinstance(document, _Object):
        raise GoError(f"json: cannot unmarshal {_kind(document)} into Go value of type {struct}")
    name = struct.rsplit(".", 1)[-1]
    folded = {key.casefold(): key for key in fields}
    found: dict = {}
    first_error: str | None = None
    for key, value in document:
        field = key if key in fields else folded.get(key.casefold())
        if field is None or value is None:
            continue
        problem = None
        if fields[field] is str:
            if _kind(value) == "string":
                found[field] = value
            else:
                problem = _kind(value)
        elif isinstance(value, _Number):
            digits = value[1:] if value.startswith("-") else value
            if digits.isascii() and digits.isdigit() and INT64_MIN <= int(value) <= INT64_MAX:
                found[field] = int(value)
            else:
                problem = f"number {value}"
        else:
            problem = _kind(value)
        if problem is not None and first_error is None:
            go_type = "string" if fields[field] is str else "int64"
            first_error = f"json: cannot unmarshal {problem} into Go struct field {name}.{field} of type {go_type}"
    if first_error is not None:
        raise GoError(first_error)
    return found
