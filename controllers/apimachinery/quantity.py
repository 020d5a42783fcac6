"""``resource.Quantity`` (``k8s.io/apimachinery/pkg/api/resource``): parsing, the canonical text the API server
serialises, and the arithmetic quota needs (``Add`` keeps the format of the first non-zero term, as Go's does).

A quantity is exact here (a ``Fraction``) and remembers the format it was written in (``DecimalSI``, ``BinarySI``,
``DecimalExponent``), because the canonical text depends on it: ``128Mi + 128Mi`` is ``256Mi``, ``0.5 + 0.5`` is
``1``, ``100m`` stays ``100m``. The API server (``apiserver.schema``, defaults, validation) and the quota
evaluators (``controllers.quota``) share this one implementation.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

QUANTITY_REGEX_TEXT = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
ERR_FORMAT_WRONG = f"quantities must match the regular expression '{QUANTITY_REGEX_TEXT}'"
ERR_NUMERIC = "unable to parse numeric part of quantity"
ERR_SUFFIX = "unable to parse quantity's suffix"

DECIMAL_SI = "DecimalSI"
BINARY_SI = "BinarySI"
DECIMAL_EXPONENT = "DecimalExponent"

_DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_BY_EXP = {v: k for k, v in _DECIMAL_SUFFIXES.items()}
_BINARY_BY_EXP = {v: k for k, v in _BINARY_SUFFIXES.items()}


class QuantityError(ValueError):
    """ParseQuantity failed; ``str(err)`` is upstream's message."""


@dataclass(frozen=True)
class Quantity:
    """An exact ``resource.Quantity``: its value and the format it was written in."""

    value: Fraction
    format: str = DECIMAL_SI

    def __str__(self) -> str:
        return self.canonical()

    def canonical(self) -> str:
        """``Quantity.String()``: the canonical form the API server serialises."""
        if self.value == 0:
            return "0"
        fmt = self.format
        if fmt == BINARY_SI:
            if -1024 < self.value < 1024 or self.value.denominator != 1:
                fmt = DECIMAL_SI
            else:
                amount, exponent = int(self.value), 0
                while amount % 1024 == 0 and exponent < 60:
                    amount //= 1024
                    exponent += 10
                # a byte count that is no whole number of Ki is written bare (Go has no BinarySI suffix for 2^0)
                return f"{amount}{_BINARY_BY_EXP.get(exponent, '')}"
        mantissa, exponent = _decimal_parts(self.value)
        shift = exponent % 3  # Python's % floors, so this rounds the exponent down to a multiple of 3
        mantissa *= 10**shift
        exponent -= shift
        if fmt == DECIMAL_SI and exponent in _DECIMAL_BY_EXP:
            return f"{mantissa}{_DECIMAL_BY_EXP[exponent]}"
        return f"{mantissa}e{exponent}" if exponent else str(mantissa)

    def round_up_milli(self) -> "Quantity":
        """``RoundUp(-3)``, applied by SetDefaults_ResourceList (0.0001 -> 1m)."""
        scaled = self.value * 1000
        if scaled.denominator == 1:
            return self
        ceiling = -((-scaled.numerator) // scaled.denominator)
        return Quantity(Fraction(ceiling, 1000), self.format)

    def add(self, other: "Quantity") -> "Quantity":
        """``q.Add(y)``: the sum, in this quantity's format unless this one is zero (then ``other``'s)."""
        return Quantity(self.value + other.value, other.format if self.value == 0 else self.format)

    def sub(self, other: "Quantity") -> "Quantity":
        """``q.Sub(y)``: the difference, in this quantity's format unless this one is zero (then ``other``'s)."""
        return Quantity(self.value - other.value, other.format if self.value == 0 else self.format)

    def milli_value(self) -> int:
        """``MilliValue``: thousandths, rounded up."""
        return math.ceil(self.value * 1000)

    def int_value(self) -> int:
        """``Value``: whole units, rounded up."""
        return math.ceil(self.value)


#: ``resource.Quantity{}``, and ``resource.Quantity{Format: resource.DecimalSI}`` (the same thing here).
ZERO = Quantity(Fraction(0), DECIMAL_SI)


def new_quantity(value: int, fmt: str = DECIMAL_SI) -> Quantity:
    """``resource.NewQuantity``."""
    return Quantity(Fraction(value), fmt)


def _decimal_parts(value: Fraction) -> tuple[int, int]:
    """value == mantissa * 10**exponent, mantissa without trailing zeros."""
    exponent = 0
    while value.denominator != 1:
        value *= 10
        exponent -= 1
        if exponent < -60:  # non-terminating: cannot come from a decimal literal
            break
    mantissa = int(value)
    while mantissa and mantissa % 10 == 0:
        mantissa //= 10
        exponent += 1
    return mantissa, exponent


@lru_cache(maxsize=4096)
def parse_quantity(text: str) -> Quantity:
    """``resource.ParseQuantity``; raises QuantityError with upstream's message. Remembered (a ``Quantity`` is
    immutable): the same few quantities are read on every write of every node and pod."""
    if not text:
        raise QuantityError(ERR_FORMAT_WRONG)
    if text == "0":
        return Quantity(Fraction(0), DECIMAL_SI)
    positive, num, denom, suffix = _split_quantity(text)
    if suffix in _DECIMAL_SUFFIXES:
        base, exp, fmt = 10, _DECIMAL_SUFFIXES[suffix], DECIMAL_SI
    elif suffix in _BINARY_SUFFIXES:
        base, exp, fmt = 2, _BINARY_SUFFIXES[suffix], BINARY_SI
    elif len(suffix) > 1 and suffix[0] in "eE" and re.fullmatch(r"[-+]?[0-9]+", suffix[1:]):
        base, exp, fmt = 10, int(suffix[1:]), DECIMAL_EXPONENT
    else:
        raise QuantityError(ERR_SUFFIX)
    try:
        value = Fraction(int(num or "0")) + (Fraction(int(denom), 10 ** len(denom)) if denom else 0)
    except ValueError as err:
        raise QuantityError(ERR_NUMERIC) from err
    value *= Fraction(base) ** exp
    if not positive:
        value = -value
    # Precision beyond nano is rounded up (ParseQuantity keeps at most 9 fractional digits).
    nano = value * 10**9
    if nano.denominator != 1:
        value = Fraction(-((-nano.numerator) // nano.denominator), 10**9)
    return Quantity(value, fmt)


def _split_quantity(text: str) -> tuple[bool, str, str, str]:
    """parseQuantityString: sign, integer digits, fraction digits, suffix."""
    pos, end, positive = 0, len(text), True
    if text[0] in "+-":
        positive = text[0] == "+"
        pos = 1
    start = pos
    while pos < end and text[pos].isdigit():
        pos += 1
    num = text[start:pos]
    denom = ""
    if pos < end and text[pos] == ".":
        pos += 1
        start = pos
        while pos < end and text[pos].isdigit():
            pos += 1
        denom = text[start:pos]
    suffix_start = pos
    while pos < end and text[pos] in "eEinumkKMGTP":
        pos += 1
    if pos < end and text[pos] in "+-":
        pos += 1
    while pos < end and text[pos].isdigit():
        pos += 1
    if pos < end:
        raise QuantityError(ERR_FORMAT_WRONG)
    return positive, num, denom, text[suffix_start:]
