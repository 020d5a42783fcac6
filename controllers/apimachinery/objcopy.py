"""Deep copies of API objects.

API objects are JSON-shaped: dicts and lists of strings, numbers, booleans and ``None``. Copying only the dicts
and lists, and sharing the immutable leaves, builds the same copy as ``copy.deepcopy`` three times faster
(``deepcopy`` keeps a memo of every node and dispatches on type in Python) and keeps one string object for every
copy of a name or label (a pickle round trip is as fast but would duplicate every string). Anything else inside
(a tuple, a datetime) is copied by ``copy.deepcopy``.
"""

from __future__ import annotations

import copy
from typing import TypeVar

T = TypeVar("T")

_ATOMS = frozenset({str, int, float, bool, type(None)})


def deep_copy(obj: T) -> T:
    """An independent copy of ``obj``: changing either never changes the other."""
    kind = type(obj)
    if kind is dict:
        return {k: (v if type(v) in _ATOMS else deep_copy(v)) for k, v in obj.items()}  # type: ignore[attr-defined]
    if kind is list:
        return [v if type(v) in _ATOMS else deep_copy(v) for v in obj]  # type: ignore[attr-defined]
    if kind in _ATOMS:
        return obj
    return copy.deepcopy(obj)
