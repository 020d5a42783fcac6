"""Field-level validation errors, rendered exactly like Kubernetes does.

Kubernetes reports validation problems as a list of ``field.Error`` values
(``k8s.io/apimachinery/pkg/util/validation/field/errors.go``). kubectl prints
each one as ``<field>: <ErrorBody()>``, e.g.::

    spec.template.spec.restartPolicy: Unsupported value: "Foo": supported values: "OnFailure", "Never"

Learners compare our output with real clusters and with blog posts, so the
wording here follows upstream byte for byte, including how the bad value is
printed: Go ``%q`` for strings, bare numbers, ``null`` for nil, and Go-syntax
(``%#v``) for maps, slices and structs.

Every other apiserver module (defaults, validation, schema) and the API layer
share this type. It is pure Python: no Django.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable


class _Omit:
    """Marker for "no bad value to print" (upstream ``field.OmitValueType``)."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "OMIT"


OMIT = _Omit()
_OMIT = OMIT

# ErrorType reason strings (``field.ErrorType``), also used as StatusCause.reason.
REQUIRED = "FieldValueRequired"
INVALID = "FieldValueInvalid"
NOT_SUPPORTED = "FieldValueNotSupported"
FORBIDDEN = "FieldValueForbidden"
DUPLICATE = "FieldValueDuplicate"
TOO_LONG = "FieldValueTooLong"
TOO_MANY = "FieldValueTooMany"
NOT_FOUND = "FieldValueNotFound"
TYPE_INVALID = "FieldValueTypeInvalid"
INTERNAL = "InternalError"

# ErrorType.String(): the human prefix of the message body.
_TYPE_TEXT = {
    NOT_FOUND: "Not found",
    REQUIRED: "Required value",
    DUPLICATE: "Duplicate value",
    INVALID: "Invalid value",
    NOT_SUPPORTED: "Unsupported value",
    FORBIDDEN: "Forbidden",
    TOO_LONG: "Too long",
    TOO_MANY: "Too many",
    INTERNAL: "Internal error",
    TYPE_INVALID: "Invalid value",
}

# These types never print the bad value (ErrorBody's first cases).
_VALUELESS = {REQUIRED, FORBIDDEN, TOO_LONG, INTERNAL}


class GoValue(str):
    """A value already rendered the way Go's ``fmt`` would print it.

    Use it for struct values upstream prints with ``%#v`` (for example
    ``v1.LabelSelector{...}`` or ``intstr.IntOrString{...}``): the text is
    emitted verbatim.
    """


@dataclass(frozen=True)
class FieldError:
    """One validation error: what went wrong (``type``), where (``field``) and why (``detail``)."""

    type: str
    field: str
    detail: str = ""
    value: object = OMIT

    def message(self) -> str:
        """The error body as upstream ``field.Error.ErrorBody()`` renders it."""
        text = _TYPE_TEXT[self.type]
        if self.type not in _VALUELESS and self.value is not OMIT:
            text = f"{text}: {go_value(self.value)}"
        if self.detail:
            text = f"{text}: {self.detail}"
        return text

    def __str__(self) -> str:
        return f"{self.field}: {self.message()}"


# -- constructors named like upstream (field.Required, field.Invalid, ...) --


def required(field: str, detail: str = "") -> FieldError:
    return FieldError(REQUIRED, field, detail)


def invalid(field: str, value: object, detail: str) -> FieldError:
    return FieldError(INVALID, field, detail, value)


def not_supported(field: str, value: object, valid_values: Iterable[str]) -> FieldError:
    quoted = [go_quote(str(v)) for v in valid_values]
    detail = "supported values: " + ", ".join(quoted) if quoted else ""
    return FieldError(NOT_SUPPORTED, field, detail, value)


def forbidden(field: str, detail: str) -> FieldError:
    return FieldError(FORBIDDEN, field, detail)


def duplicate(field: str, value: object) -> FieldError:
    return FieldError(DUPLICATE, field, "", value)


def not_found(field: str, value: object) -> FieldError:
    return FieldError(NOT_FOUND, field, "", value)


def too_long(field: str, max_length: int) -> FieldError:
    detail = f"may not be more than {max_length} bytes" if max_length >= 0 else "value is too long"
    return FieldError(TOO_LONG, field, detail)


def too_many(field: str, actual: int, max_quantity: int) -> FieldError:
    detail = f"must have at most {max_quantity} items" if max_quantity >= 0 else "has too many items"
    return FieldError(TOO_MANY, field, detail, actual if actual >= 0 else OMIT)


def type_invalid(field: str, value: object, detail: str) -> FieldError:
    return FieldError(TYPE_INVALID, field, detail, value)


def internal_error(field: str, detail: str) -> FieldError:
    return FieldError(INTERNAL, field, detail)


# -- rendering values like Go's fmt --


def go_quote(s: str) -> str:
    """``strconv.Quote``: double-quoted, Go escapes, printable Unicode kept."""
    out = ['"']
    for ch in s:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == " " or (ch.isprintable() and code != 0x7F):
            out.append(ch)
        elif ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def go_float(f: float) -> str:
    """``%v`` of a float64 (strconv 'g', shortest): exponent form when exp < -4 or exp >= 6."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "-0" if math.copysign(1, f) < 0 else "0"
    sign = "-" if f < 0 else ""
    # repr() yields the shortest digits that round-trip, like Go's shortest formatting.
    text = repr(abs(f))
    mantissa, _, exp_text = text.partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    digits = (int_part + frac_part).lstrip("0")
    exponent = int(exp_text or 0) + len(int_part.lstrip("0")) - 1
    if not int_part.lstrip("0"):
        # 0.00123 -> leading zeros of the fraction shift the exponent down.
        exponent = int(exp_text or 0) - (len(frac_part) - len(frac_part.lstrip("0"))) - 1
    digits = digits.rstrip("0") or "0"
    if exponent < -4 or exponent >= 6:
        head = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{head}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    if exponent >= len(digits) - 1:
        return sign + digits + "0" * (exponent - len(digits) + 1)
    if exponent >= 0:
        return sign + digits[: exponent + 1] + "." + digits[exponent + 1 :]
    return sign + "0." + "0" * (-exponent - 1) + digits


def go_value(value: object) -> str:
    """Render a bad value the way ``ErrorBody`` does (``%v`` / ``%q`` / ``%#v``)."""
    if isinstance(value, GoValue):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, str):
        return go_quote(value)
    return go_sharp_v(value)


def go_sharp_v(value: object, go_type: str | None = None) -> str:
    """``%#v`` of a JSON-ish value, assuming the common Kubernetes Go types.

    dict[str, str] -> ``map[string]string{"a":"b"}`` (keys sorted, as fmt does);
    list[str] -> ``[]string{"a", "b"}``; list[int] -> ``[]int32{1, 2}``.
    ``go_type`` overrides the type name for nil/empty values.
    """
    if isinstance(value, dict) or (value is None and go_type and go_type.startswith("map[")):
        type_name = go_type or "map[string]string"
        if value is None:
            return f"{type_name}(nil)"
        items = ", ".join(f"{go_quote(str(k))}:{_sharp_elem(v)}" for k, v in sorted(value.items()))
        return f"{type_name}{{{items}}}"
    if isinstance(value, (list, tuple)) or (value is None and go_type and go_type.startswith("[]")):
        if go_type is None:
            go_type = "[]int32" if value and all(isinstance(v, int) and not isinstance(v, bool) for v in value) else "[]string"
        if value is None:
            return f"{go_type}(nil)"
        return f"{go_type}{{{', '.join(_sharp_elem(v) for v in value)}}}"
    return go_value(value)


def _sharp_elem(v: object) -> str:
    if isinstance(v, str):
        return go_quote(v)
    return go_sharp_v(v)
