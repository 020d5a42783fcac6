"""Label selectors and name validation, as in k8s.io/apimachinery 0.32.

Kubernetes selects objects by label in three places this project emulates: the
``labelSelector=`` query parameter (string syntax, ``labels.Parse``), the
``LabelSelector`` object inside Job/DaemonSet specs (``metav1.LabelSelectorAsSelector``)
and the SELECTOR column kubectl prints (``metav1.FormatLabelSelector``). All three
live here so that the simulated controllers and the fake API server agree on
what matches, and so that error messages read exactly like a real API server's.

The module also carries the string validators of
``k8s.io/apimachinery/pkg/util/validation`` that label parsing depends on
(qualified names, label values, DNS-1123 labels and subdomains), with upstream's
exact message wording; object validation elsewhere reuses them.

Pure Python: standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Mapping

__all__ = [
    "DNS1123_LABEL_MAX_LENGTH",
    "DNS1123_SUBDOMAIN_MAX_LENGTH",
    "LABEL_VALUE_MAX_LENGTH",
    "Requirement",
    "Selector",
    "SelectorError",
    "everything",
    "format_label_selector",
    "format_labels",
    "is_dns1123_label",
    "is_dns1123_subdomain",
    "is_qualified_name",
    "is_valid_label_value",
    "new_requirement",
    "nothing",
    "parse_selector",
    "selector_from_label_selector",
    "selector_from_set",
]


class SelectorError(ValueError):
    """A label or field selector could not be parsed, converted or validated.

    ``str(error)`` is the message a real kube-apiserver puts into the 400 Status.
    """


# --- validation (k8s.io/apimachinery/pkg/util/validation/validation.go) --------------

_QNAME_CHAR = "[A-Za-z0-9]"
_QNAME_EXT_CHAR = "[-A-Za-z0-9_.]"
_QUALIFIED_NAME_FMT = "(" + _QNAME_CHAR + _QNAME_EXT_CHAR + "*)?" + _QNAME_CHAR
_QUALIFIED_NAME_ERR = (
    "must consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
_QUALIFIED_NAME_MAX_LENGTH = 63

_LABEL_VALUE_FMT = "(" + _QUALIFIED_NAME_FMT + ")?"
_LABEL_VALUE_ERR = (
    "a valid label must be an empty string or consist of alphanumeric characters, "
    "'-', '_' or '.', and must start and end with an alphanumeric character"
)
LABEL_VALUE_MAX_LENGTH = 63

_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_ERR = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
DNS1123_LABEL_MAX_LENGTH = 63

_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_DNS1123_SUBDOMAIN_ERR = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    "'-' or '.', and must start and end with an alphanumeric character"
)
DNS1123_SUBDOMAIN_MAX_LENGTH = 253

_QUALIFIED_NAME_RE = re.compile(_QUALIFIED_NAME_FMT)
_LABEL_VALUE_RE = re.compile(_LABEL_VALUE_FMT)
_DNS1123_LABEL_RE = re.compile(_DNS1123_LABEL_FMT)
_DNS1123_SUBDOMAIN_RE = re.compile(_DNS1123_SUBDOMAIN_FMT)


def _full(regex: re.Pattern[str], value: str) -> bool:
    return regex.fullmatch(value) is not None


def _byte_len(value: str) -> int:
    # Go's len() counts UTF-8 bytes, and the length limits are written against it.
    return len(value.encode("utf-8"))


def _max_len_error(length: int) -> str:
    return f"must be no more than {length} characters"


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    shown = " or ".join(f"'{example}', " for example in examples)
    return f"{msg} (e.g. {shown}regex used for validation is '{fmt}')"


def _empty_error() -> str:
    return "must be non-empty"


def is_dns1123_label(value: str) -> list[str]:
    """``validation.IsDNS1123Label``: [] if valid, else upstream's error strings."""
    errs: list[str] = []
    if _byte_len(value) > DNS1123_LABEL_MAX_LENGTH:
        errs.append(_max_len_error(DNS1123_LABEL_MAX_LENGTH))
    if not _full(_DNS1123_LABEL_RE, value):
        if _full(_DNS1123_SUBDOMAIN_RE, value):
            # A valid subdomain but not a valid label: length was checked, so it is dots.
            errs.append("must not contain dots")
        else:
            errs.append(_regex_error(_DNS1123_LABEL_ERR, _DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def is_dns1123_subdomain(value: str) -> list[str]:
    """``validation.IsDNS1123Subdomain``: [] if valid, else upstream's error strings."""
    errs: list[str] = []
    if _byte_len(value) > DNS1123_SUBDOMAIN_MAX_LENGTH:
        errs.append(_max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH))
    if not _full(_DNS1123_SUBDOMAIN_RE, value):
        errs.append(_regex_error(_DNS1123_SUBDOMAIN_ERR, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


@lru_cache(maxsize=8192)
def is_qualified_name(value: str) -> tuple[str, ...]:
    """``validation.IsQualifiedName`` (label and annotation keys): () if valid, else upstream's error strings.
    Remembered: the same keys come back on every write."""
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part " + _empty_error())
        else:
            errs.extend("prefix part " + msg for msg in is_dns1123_subdomain(prefix))
    else:
        return (
            "a qualified name "
            + _regex_error(_QUALIFIED_NAME_ERR, _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
        )
    if not name:
        errs.append("name part " + _empty_error())
    elif _byte_len(name) > _QUALIFIED_NAME_MAX_LENGTH:
        errs.append("name part " + _max_len_error(_QUALIFIED_NAME_MAX_LENGTH))
    if not _full(_QUALIFIED_NAME_RE, name):
        errs.append(
            "name part "
            + _regex_error(_QUALIFIED_NAME_ERR, _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
        )
    return tuple(errs)


@lru_cache(maxsize=8192)
def is_valid_label_value(value: str) -> tuple[str, ...]:
    """``validation.IsValidLabelValue``: () if valid, else upstream's error strings (remembered)."""
    errs: list[str] = []
    if _byte_len(value) > LABEL_VALUE_MAX_LENGTH:
        errs.append(_max_len_error(LABEL_VALUE_MAX_LENGTH))
    if not _full(_LABEL_VALUE_RE, value):
        errs.append(_regex_error(_LABEL_VALUE_ERR, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return tuple(errs)


# --- field.Error rendering (k8s.io/apimachinery/pkg/util/validation/field) ------------

_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
               "\v": "\\v", "\\": "\\\\", '"': '\\"'}


def _go_quote(value: str) -> str:
    """Go's ``%q`` for a string (close enough for label keys and values)."""
    out = []
    for ch in value:
        if ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _invalid(path: str, value: str | list[str], detail: str) -> str:
    if isinstance(value, list):
        # field.Invalid with a []string value prints it with %#v.
        shown = "[]string{" + ", ".join(_go_quote(v) for v in value) + "}"
    else:
        shown = _go_quote(value)
    return f"{path}: Invalid value: {shown}: {detail}"


def _aggregate(errors: list[str]) -> str:
    """``utilerrors.NewAggregate(...).Error()`` after ``ErrorList.ToAggregate`` dedup."""
    unique = list(dict.fromkeys(errors))
    if len(unique) == 1:
        return unique[0]
    return "[" + ", ".join(unique) + "]"


# --- requirements and selectors (k8s.io/apimachinery/pkg/labels/selector.go) ----------

# selection.Operator values.
DOES_NOT_EXIST = "!"
EQUALS = "="
DOUBLE_EQUALS = "=="
IN = "in"
NOT_EQUALS = "!="
NOT_IN = "notin"
EXISTS = "exists"
GREATER_THAN = "gt"
LESS_THAN = "lt"

_BINARY_OPERATORS = (IN, NOT_IN, EQUALS, DOUBLE_EQUALS, NOT_EQUALS, GREATER_THAN, LESS_THAN)
_VALID_OPERATORS = _BINARY_OPERATORS + (EXISTS, DOES_NOT_EXIST)

_INT64_RE = re.compile(r"[+-]?[0-9]+")


def _parse_int64(text: str) -> int | None:
    """``strconv.ParseInt(text, 10, 64)``; None where Go would return an error."""
    if not _INT64_RE.fullmatch(text):
        return None
    value = int(text)
    if not -(2**63) <= value < 2**63:
        return None
    return value


@dataclass(frozen=True)
class Requirement:
    """One term of a label selector: ``key <operator> values``.

    Build it with :func:`new_requirement`, which validates like ``labels.NewRequirement``.
    """

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """``Requirement.Matches``: missing keys satisfy only !=, notin and !key."""
        has = self.key in labels
        if self.operator in (IN, EQUALS, DOUBLE_EQUALS):
            return has and labels[self.key] in self.values
        if self.operator in (NOT_IN, NOT_EQUALS):
            return not has or labels[self.key] not in self.values
        if self.operator == EXISTS:
            return has
        if self.operator == DOES_NOT_EXIST:
            return not has
        if self.operator in (GREATER_THAN, LESS_THAN):
            if not has or len(self.values) != 1:
                return False
            have = _parse_int64(labels[self.key])
            want = _parse_int64(self.values[0])
            if have is None or want is None:
                return False
            return have > want if self.operator == GREATER_THAN else have < want
        return False

    def __str__(self) -> str:
        text = ("!" if self.operator == DOES_NOT_EXIST else "") + self.key
        if self.operator in (EXISTS, DOES_NOT_EXIST):
            return text
        text += {EQUALS: "=", DOUBLE_EQUALS: "==", NOT_EQUALS: "!=", IN: " in ",
                 NOT_IN: " notin ", GREATER_THAN: ">", LESS_THAN: "<"}.get(self.operator, "")
        shown = self.values[0] if len(self.values) == 1 else ",".join(sorted(self.values))
        if self.operator in (IN, NOT_IN):
            return f"{text}({shown})"
        return text + shown


def _requirement_errors(key: str, operator: str, values: list[str]) -> list[str]:
    errs: list[str] = []
    key_errs = is_qualified_name(key)
    if key_errs:
        errs.append(_invalid("key", key, "; ".join(key_errs)))
    if operator in (IN, NOT_IN):
        if not values:
            errs.append(_invalid("values", values, "for 'in', 'notin' operators, values set can't be empty"))
    elif operator in (EQUALS, DOUBLE_EQUALS, NOT_EQUALS):
        if len(values) != 1:
            errs.append(_invalid("values", values, "exact-match compatibility requires one single value"))
    elif operator in (EXISTS, DOES_NOT_EXIST):
        if values:
            errs.append(_invalid("values", values, "values set must be empty for exists and does not exist"))
    elif operator in (GREATER_THAN, LESS_THAN):
        if len(values) != 1:
            errs.append(_invalid("values", values, "for 'Gt', 'Lt' operators, exactly one value is required"))
        for i, value in enumerate(values):
            if _parse_int64(value) is None:
                errs.append(_invalid(f"values[{i}]", value, "for 'Gt', 'Lt' operators, the value must be an integer"))
    else:
        supported = ", ".join(_go_quote(op) for op in _VALID_OPERATORS)
        errs.append(f"operator: Unsupported value: {_go_quote(operator)}: supported values: {supported}")
    for i, value in enumerate(values):
        value_errs = is_valid_label_value(value)
        if value_errs:
            errs.append(_invalid(f"values[{i}][{key}]", value, "; ".join(value_errs)))
    return errs


def new_requirement(key: str, operator: str, values: Iterable[str] = ()) -> Requirement:
    """``labels.NewRequirement``: validate and build one requirement.

    ``operator`` is a ``selection.Operator`` value (``in``, ``notin``, ``=``, ``==``,
    ``!=``, ``exists``, ``!``, ``gt``, ``lt``). Raises :class:`SelectorError` with the
    aggregated field errors upstream would return.
    """
    values = list(values)
    errs = _requirement_errors(key, operator, values)
    if errs:
        raise SelectorError(_aggregate(errs))
    return Requirement(key, operator, tuple(values))


class Selector:
    """A conjunction of requirements (``labels.internalSelector``), or Nothing.

    Requirements are kept sorted by key (stable), as ``Selector.Add`` and ``Parse``
    leave them, so ``str()`` is canonical.
    """

    __slots__ = ("_requirements", "_nothing")

    def __init__(self, requirements: Iterable[Requirement] = (), *, _nothing: bool = False):
        self._requirements = tuple(sorted(requirements, key=lambda r: r.key))
        self._nothing = _nothing

    @property
    def requirements(self) -> tuple[Requirement, ...]:
        return self._requirements

    @property
    def empty(self) -> bool:
        """True when the selector selects everything (Nothing is *not* empty)."""
        return not self._nothing and not self._requirements

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self._nothing:
            return False
        labels = labels or {}
        return all(r.matches(labels) for r in self._requirements)

    def add(self, *requirements: Requirement) -> Selector:
        """``Selector.Add``: a new selector with extra requirements (Nothing stays Nothing)."""
        if self._nothing:
            return self
        return Selector(self._requirements + tuple(requirements))

    def requires_exact_match(self, label: str) -> tuple[str, bool]:
        """``RequiresExactMatch``: the single value ``label`` must have, if the selector pins one."""
        for r in self._requirements:
            if r.key == label:
                if r.operator in (EQUALS, DOUBLE_EQUALS, IN) and len(r.values) == 1:
                    return r.values[0], True
                return "", False
        return "", False

    def __str__(self) -> str:
        return ",".join(str(r) for r in self._requirements)

    def __repr__(self) -> str:
        if self._nothing:
            return "Selector(<nothing>)"
        return f"Selector({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Selector):
            return NotImplemented
        return (self._nothing, self._requirements) == (other._nothing, other._requirements)

    def __hash__(self) -> int:
        return hash((self._nothing, self._requirements))


def everything() -> Selector:
    """``labels.Everything()``: matches every object; ``empty`` is True."""
    return Selector()


def nothing() -> Selector:
    """``labels.Nothing()``: matches no object; ``empty`` is False, ``str`` is ''."""
    return Selector(_nothing=True)


def selector_from_set(labels: Mapping[str, str] | None) -> Selector:
    """``labels.SelectorFromSet``: ``k=v`` for every pair (no validation); {} → everything."""
    return Selector(Requirement(k, EQUALS, (v,)) for k, v in (labels or {}).items())


# --- the string parser (Lexer / Parser in selector.go) --------------------------------

_ERROR, _EOS, _CLOSE, _COMMA, _NOT, _DEQ, _EQ, _GT, _IDENT, _IN, _LT, _NEQ, _NOTIN, _OPEN = range(14)
_STRING_TO_TOKEN = {")": _CLOSE, ",": _COMMA, "!": _NOT, "==": _DEQ, "=": _EQ, ">": _GT, "in": _IN,
                    "<": _LT, "!=": _NEQ, "notin": _NOTIN, "(": _OPEN}
_WHITESPACE = " \t\r\n"
_SPECIAL = "=!(),><"


def _lex(text: str) -> list[tuple[int, str]]:
    items: list[tuple[int, str]] = []
    pos = 0
    n = len(text)

    def at(i: int) -> str:
        # Go's lexer reads a zero byte at the end; an embedded NUL also ends the input.
        return text[i] if i < n else "\x00"

    while True:
        while at(pos) in _WHITESPACE and at(pos) != "\x00":
            pos += 1
        ch = at(pos)
        if ch == "\x00":
            items.append((_EOS, ""))
            return items
        if ch in _SPECIAL:
            buffer = ""
            last: tuple[int, str] | None = None
            while True:
                ch = at(pos)
                if ch == "\x00" or ch not in _SPECIAL:
                    break
                buffer += ch
                pos += 1
                if buffer in _STRING_TO_TOKEN:
                    last = (_STRING_TO_TOKEN[buffer], buffer)
                elif last is not None:
                    pos -= 1
                    break
            if last is None:
                items.append((_ERROR, f"error expected: keyword found '{buffer}'"))
            else:
                items.append(last)
            continue
        start = pos
        while at(pos) != "\x00" and at(pos) not in _SPECIAL and at(pos) not in _WHITESPACE:
            pos += 1
        word = text[start:pos]
        items.append((_STRING_TO_TOKEN.get(word, _IDENT), word))


class _Parser:
    _KEY_AND_OPERATOR, _VALUES = 0, 1

    def __init__(self, text: str):
        self.items = _lex(text)
        self.position = 0

    def _token(self, index: int, context: int) -> tuple[int, str]:
        tok, lit = self.items[index]
        if context == self._VALUES and tok in (_IN, _NOTIN):
            tok = _IDENT
        return tok, lit

    def lookahead(self, context: int) -> tuple[int, str]:
        return self._token(self.position, context)

    def consume(self, context: int) -> tuple[int, str]:
        self.position += 1
        return self._token(self.position - 1, context)

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        while True:
            tok, lit = self.lookahead(self._VALUES)
            if tok in (_IDENT, _NOT):
                try:
                    requirements.append(self.parse_requirement())
                except SelectorError as err:
                    raise SelectorError(f"unable to parse requirement: {err}") from None
                tok, lit = self.consume(self._VALUES)
                if tok == _EOS:
                    return requirements
                if tok == _COMMA:
                    tok2, lit2 = self.lookahead(self._VALUES)
                    if tok2 not in (_IDENT, _NOT):
                        raise SelectorError(f"found '{lit2}', expected: identifier after ','")
                else:
                    raise SelectorError(f"found '{lit}', expected: ',' or 'end of string'")
            elif tok == _EOS:
                return requirements
            else:
                raise SelectorError(f"found '{lit}', expected: !, identifier, or 'end of string'")

    def parse_requirement(self) -> Requirement:
        key, operator = self.parse_key_and_infer_operator()
        if operator in (EXISTS, DOES_NOT_EXIST):
            return new_requirement(key, operator, [])
        operator = self.parse_operator()
        if operator in (IN, NOT_IN):
            values = self.parse_values()
        else:
            values = self.parse_exact_value()
        return new_requirement(key, operator, sorted(values))

    def parse_key_and_infer_operator(self) -> tuple[str, str]:
        operator = ""
        tok, lit = self.consume(self._VALUES)
        if tok == _NOT:
            operator = DOES_NOT_EXIST
            tok, lit = self.consume(self._VALUES)
        if tok != _IDENT:
            raise SelectorError(f"found '{lit}', expected: identifier")
        key_errs = is_qualified_name(lit)
        if key_errs:
            # The parser validates with a nil field path, which prints as "<nil>".
            raise SelectorError(_invalid("<nil>", lit, "; ".join(key_errs)))
        if self.lookahead(self._VALUES)[0] in (_EOS, _COMMA) and operator != DOES_NOT_EXIST:
            operator = EXISTS
        return lit, operator

    def parse_operator(self) -> str:
        tok, lit = self.consume(self._KEY_AND_OPERATOR)
        operator = {_IN: IN, _EQ: EQUALS, _DEQ: DOUBLE_EQUALS, _GT: GREATER_THAN, _LT: LESS_THAN,
                    _NOTIN: NOT_IN, _NEQ: NOT_EQUALS}.get(tok)
        if operator is None:
            raise SelectorError(f"found '{lit}', expected: {', '.join(_BINARY_OPERATORS)}")
        return operator

    def parse_values(self) -> set[str]:
        tok, lit = self.consume(self._VALUES)
        if tok != _OPEN:
            raise SelectorError(f"found '{lit}' expected: '('")
        tok, lit = self.lookahead(self._VALUES)
        if tok in (_IDENT, _COMMA):
            values = self.parse_identifiers_list()
            if self.consume(self._VALUES)[0] != _CLOSE:
                raise SelectorError(f"found '{lit}', expected: ')'")
            return values
        if tok == _CLOSE:  # "()"
            self.consume(self._VALUES)
            return {""}
        raise SelectorError(f"found '{lit}', expected: ',', ')' or identifier")

    def parse_identifiers_list(self) -> set[str]:
        values: set[str] = set()
        while True:
            tok, lit = self.consume(self._VALUES)
            if tok == _IDENT:
                values.add(lit)
                tok2, lit2 = self.lookahead(self._VALUES)
                if tok2 == _COMMA:
                    continue
                if tok2 == _CLOSE:
                    return values
                raise SelectorError(f"found '{lit2}', expected: ',' or ')'")
            if tok == _COMMA:  # "(,", ",)" and ",," stand for empty values
                if not values:
                    values.add("")
                tok2 = self.lookahead(self._VALUES)[0]
                if tok2 == _CLOSE:
                    values.add("")
                    return values
                if tok2 == _COMMA:
                    self.consume(self._VALUES)
                    values.add("")
                continue
            raise SelectorError(f"found '{lit}', expected: ',', or identifier")

    def parse_exact_value(self) -> set[str]:
        if self.lookahead(self._VALUES)[0] in (_EOS, _COMMA):
            return {""}
        tok, lit = self.consume(self._VALUES)
        if tok == _IDENT:
            return {lit}
        raise SelectorError(f"found '{lit}', expected: identifier")


def parse_selector(text: str) -> Selector:
    """``labels.Parse``: the ``labelSelector=`` string syntax.

    ``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``, ``k notin (a,b)``, ``k``, ``!k``,
    ``k>1``, ``k<1``; comma means AND; whitespace is ignored between tokens; ''
    selects everything. Raises :class:`SelectorError` with upstream's message.
    """
    return Selector(_Parser(text).parse())


# --- metav1 helpers (k8s.io/apimachinery/pkg/apis/meta/v1/helpers.go) -----------------

_LABEL_SELECTOR_OPERATORS = {"In": IN, "NotIn": NOT_IN, "Exists": EXISTS, "DoesNotExist": DOES_NOT_EXIST}


def selector_from_label_selector(ls: Mapping | None) -> Selector:
    """``metav1.LabelSelectorAsSelector``: None → nothing, {} → everything.

    ``ls`` is the API object ``{"matchLabels": {...}, "matchExpressions": [{"key",
    "operator", "values"}]}``. Raises :class:`SelectorError` for an unknown operator
    or invalid keys/values, with upstream's messages.
    """
    if ls is None:
        return nothing()
    match_labels = ls.get("matchLabels") or {}
    match_expressions = ls.get("matchExpressions") or []
    if not match_labels and not match_expressions:
        return everything()
    requirements = [new_requirement(k, EQUALS, [v]) for k, v in match_labels.items()]
    for expr in match_expressions:
        operator = _LABEL_SELECTOR_OPERATORS.get(expr.get("operator"))
        if operator is None:
            raise SelectorError(f"{_go_quote(str(expr.get('operator') or ''))} is not a valid label selector operator")
        requirements.append(new_requirement(expr.get("key") or "", operator, expr.get("values") or []))
    return Selector(requirements)


def format_label_selector(ls: Mapping | None) -> str:
    """``metav1.FormatLabelSelector``: canonical string, ``<none>`` if it would be empty.

    Both a nil and an empty selector print ``<none>``; an invalid one prints ``<error>``.
    """
    try:
        text = str(selector_from_label_selector(ls))
    except SelectorError:
        return "<error>"
    return text or "<none>"


def format_labels(labels: Mapping[str, str] | None) -> str:
    """``labels.FormatLabels``: sorted ``k=v`` pairs joined by ',', ``<none>`` when empty."""
    text = ",".join(sorted(f"{k}={v}" for k, v in (labels or {}).items()))
    return text or "<none>"
