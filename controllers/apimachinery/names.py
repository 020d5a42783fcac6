"""Generated names and UIDs, as the API server makes them.

A Job's pods are created with ``generateName: <job>-`` and the API server appends
five random characters (``apiserver/pkg/storage/names`` using
``k8s.io/apimachinery/pkg/util/rand``), giving names like ``pi-bxk7j``. Every
object also gets a version-4 UUID. Both come from the cluster's single seeded
``random.Random`` here, so a simulation replayed with the same seed produces the
same names and UIDs.

Pure Python: standard library only.
"""

from __future__ import annotations

import random
import uuid

__all__ = [
    "ALPHANUMS",
    "MAX_GENERATED_NAME_LENGTH",
    "MAX_NAME_LENGTH",
    "RANDOM_LENGTH",
    "generate_name",
    "new_uid",
    "random_string",
]

# Vowels are left out "to reduce the chances of bad words being formed" (upstream).
ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"
MAX_NAME_LENGTH = 63
RANDOM_LENGTH = 5
MAX_GENERATED_NAME_LENGTH = MAX_NAME_LENGTH - RANDOM_LENGTH  # 58

_IDX_BITS = 5
_IDX_MASK = (1 << _IDX_BITS) - 1
_PER_INT63 = 63 // _IDX_BITS


def random_string(rng: random.Random, n: int = 5) -> str:
    """``rand.String(n)``: ``n`` characters from :data:`ALPHANUMS`.

    Same algorithm as upstream: draw a 63-bit integer, take 5 bits at a time, skip
    indexes past the alphabet (27 of 32 are used), draw again after 12 chunks.
    """
    if n < 0:
        raise ValueError("random_string: n must not be negative")
    out = []
    bits = rng.getrandbits(63)
    remaining = _PER_INT63
    while len(out) < n:
        if remaining == 0:
            bits, remaining = rng.getrandbits(63), _PER_INT63
        idx = bits & _IDX_MASK
        if idx < len(ALPHANUMS):
            out.append(ALPHANUMS[idx])
        bits >>= _IDX_BITS
        remaining -= 1
    return "".join(out)


def generate_name(base: str, rng: random.Random) -> str:
    """``SimpleNameGenerator.GenerateName``: ``base`` cut to 58 characters + 5 random ones."""
    return base[:MAX_GENERATED_NAME_LENGTH] + random_string(rng, RANDOM_LENGTH)


def new_uid(rng: random.Random) -> str:
    """An RFC 4122 version-4 UUID string drawn from ``rng`` (deterministic per seed)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
