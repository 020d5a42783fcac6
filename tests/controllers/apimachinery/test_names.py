"""Generated names and UIDs (apiserver/pkg/storage/names, apimachinery/pkg/util/rand)."""

import random
import re
import uuid

import pytest

from controllers.apimachinery.names import (
    ALPHANUMS,
    MAX_GENERATED_NAME_LENGTH,
    generate_name,
    new_uid,
    random_string,
)


class ScriptedBits:
    """A stand-in RNG whose 63-bit draws are given in advance."""

    def __init__(self, *draws):
        self.draws = list(draws)
        self.calls = []

    def getrandbits(self, k):
        self.calls.append(k)
        return self.draws.pop(0)


def chunks(*indexes):
    """Pack 5-bit indexes into one int63, first index in the lowest bits."""
    value = 0
    for i, idx in enumerate(indexes):
        value |= idx << (5 * i)
    return value


def test_alphabet_has_no_vowels():
    assert ALPHANUMS == "bcdfghjklmnpqrstvwxz2456789"
    assert len(ALPHANUMS) == 27
    assert MAX_GENERATED_NAME_LENGTH == 58


@pytest.mark.parametrize(
    "draws, n, expected, draws_used",
    [
        ((chunks(0, 1, 2, 3, 4),), 5, "bcdfg", 1),
        ((chunks(26, 25, 24, 23, 22),), 5, "98765", 1),
        # Indexes 27..31 fall outside the alphabet and are skipped.
        ((chunks(27, 0, 31, 1, 28, 2, 3, 4),), 5, "bcdfg", 1),
        # Twelve 5-bit chunks per draw, then a fresh draw.
        ((chunks(*([31] * 11 + [0])), chunks(1, 2, 3, 4)), 5, "bcdfg", 2),
        ((0,), 0, "", 1),
    ],
    ids=["first-five", "last-five", "skips-out-of-range", "refills-after-12-chunks", "zero-length"],
)
def test_random_string_follows_upstream_bit_extraction(draws, n, expected, draws_used):
    rng = ScriptedBits(*draws)
    assert random_string(rng, n) == expected
    assert rng.calls == [63] * draws_used


def test_random_string_is_deterministic_per_seed():
    first = random_string(random.Random(42), 20)
    assert first == random_string(random.Random(42), 20)
    assert len(first) == 20 and set(first) <= set(ALPHANUMS)
    assert first != random_string(random.Random(43), 20)


def test_random_string_rejects_negative_length():
    with pytest.raises(ValueError):
        random_string(random.Random(0), -1)


@pytest.mark.parametrize(
    "base, kept",
    [
        ("pi-", "pi-"),
        ("", ""),
        ("a" * 58, "a" * 58),
        ("a" * 59 + "-", "a" * 58),
        ("x" * 100, "x" * 58),
    ],
    ids=["job-pod-prefix", "empty", "exactly-58", "59-cut", "long"],
)
def test_generate_name_truncates_base_to_58(base, kept):
    name = generate_name(base, random.Random(7))
    assert name[:-5] == kept
    assert len(name) == len(kept) + 5
    assert set(name[-5:]) <= set(ALPHANUMS)
    assert len(name) <= 63


def test_generate_name_golden_values_for_seed_1():
    rng = random.Random(1)
    assert [generate_name("pi-", rng) for _ in range(3)] == ["pi-4tqpj", "pi-59dtq", "pi-gsr7c"]


def test_new_uid_is_rfc4122_version_4_and_seeded():
    uid = new_uid(random.Random(1))
    assert uid == "cd613e30-d8f1-4adf-91b7-584a2265b1f5"
    parsed = uuid.UUID(uid)
    assert parsed.version == 4
    assert parsed.variant == uuid.RFC_4122
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", uid)
    assert new_uid(random.Random(1)) == uid
    assert new_uid(random.Random(2)) != uid


def test_new_uid_draws_advance_the_rng():
    rng = random.Random(5)
    uids = {new_uid(rng) for _ in range(100)}
    assert len(uids) == 100
