"""Tests for ControllerRevision helpers (``controllers.history``): hash, snapshot shape, Match, ordering."""

from __future__ import annotations

import copy
import json

import pytest

from controllers.history import (
    CONTROLLER_REVISION_HASH_LABEL,
    compute_hash,
    fnv32a,
    get_patch,
    match,
    max_revision,
    new_controller_revision,
    revision_hash,
    revision_number,
    safe_encode_string,
    sort_by_revision,
)

TEMPLATE = {
    "metadata": {"labels": {"name": "simple-daemon", "type": "production"}},
    "spec": {"containers": [{"name": "foo", "image": "foo/bar"}]},
}


def daemonset(template=TEMPLATE, annotations=None) -> dict:
    meta = {"name": "foo", "namespace": "default", "uid": "ds-uid-1"}
    if annotations:
        meta["annotations"] = annotations
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": meta,
        "spec": {"selector": {"matchLabels": dict(template["metadata"]["labels"])},
                 "template": copy.deepcopy(template)},
    }


def revision(name: str, number: int, labels: dict | None = None) -> dict:
    meta = {"name": name, "namespace": "default"}
    if labels is not None:
        meta["labels"] = labels
    return {"apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": meta, "revision": number}


# --- FNV and encoding ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, expected",
    [(b"", 0x811C9DC5), (b"a", 0xE40C292C), (b"foobar", 0xBF9CF968)],
    ids=["empty", "a", "foobar"],
)
def test_fnv32a_known_vectors(data, expected):
    assert fnv32a(data) == expected


def test_safe_encode_string_maps_digits_like_upstream():
    # '0'..'9' are bytes 48..57; 48 % 27 = 21 → '4', ..., 57 % 27 = 3 → 'f'.
    assert safe_encode_string("0123456789") == "456789bcdf"


def test_compute_hash_is_deterministic_and_key_order_independent():
    reordered = {"spec": TEMPLATE["spec"], "metadata": TEMPLATE["metadata"]}
    assert compute_hash(TEMPLATE, None) == compute_hash(reordered, None)
    assert compute_hash(TEMPLATE, None) == compute_hash(copy.deepcopy(TEMPLATE), None)


def test_compute_hash_shape():
    value = compute_hash(TEMPLATE, None)
    assert 1 <= len(value) <= 10
    assert set(value) <= set("456789bcdf")


def test_compute_hash_changes_with_template_and_collision_count():
    changed = copy.deepcopy(TEMPLATE)
    changed["spec"]["containers"][0]["image"] = "foo2/bar2"
    base = compute_hash(TEMPLATE, None)
    assert compute_hash(changed, None) != base
    assert compute_hash(TEMPLATE, 0) != base  # a set collisionCount (even 0) is hashed, as upstream
    assert compute_hash(TEMPLATE, 1) != compute_hash(TEMPLATE, 0)


def test_compute_hash_collision_count_bytes():
    # 8 bytes: little-endian uint32 then 4 zero bytes, continuing the template's sum.
    template_sum = fnv32a(json.dumps(TEMPLATE, sort_keys=True, separators=(",", ":")).encode())
    expected = fnv32a(bytes([2, 0, 0, 0, 0, 0, 0, 0]), template_sum)
    assert compute_hash(TEMPLATE, 2) == safe_encode_string(str(expected))


# --- snapshot ---------------------------------------------------------------------------------------------


def test_get_patch_replaces_the_template():
    ds = daemonset()
    patch = get_patch(ds)
    assert patch == {"spec": {"template": dict(TEMPLATE, **{"$patch": "replace"})}}
    assert "$patch" not in ds["spec"]["template"]  # input untouched


def test_new_controller_revision_shape():
    annotations = {"kubernetes.io/change-cause": "kubectl apply", "deprecated.daemonset.template.generation": "1"}
    ds = daemonset(annotations=annotations)
    before = copy.deepcopy(ds)
    rev = new_controller_revision(ds, 3, "8c664fdfc", get_patch(ds))
    assert rev == {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {
            "name": "foo-8c664fdfc",
            "namespace": "default",
            "labels": {"name": "simple-daemon", "type": "production", CONTROLLER_REVISION_HASH_LABEL: "8c664fdfc"},
            "annotations": annotations,
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "foo", "uid": "ds-uid-1", "controller": True,
                 "blockOwnerDeletion": True}
            ],
        },
        "data": {"spec": {"template": dict(TEMPLATE, **{"$patch": "replace"})}},
        "revision": 3,
    }
    assert ds == before


def test_new_controller_revision_defaults_data_and_omits_empty_annotations():
    rev = new_controller_revision(daemonset(), 1, "abc")
    assert "annotations" not in rev["metadata"]
    assert rev["data"] == get_patch(daemonset())


# --- Match ------------------------------------------------------------------------------------------------


def test_match_same_template():
    ds = daemonset()
    assert match(new_controller_revision(ds, 1, "h"), ds)


def test_match_other_template():
    ds = daemonset()
    changed = copy.deepcopy(TEMPLATE)
    changed["spec"]["containers"][0]["image"] = "foo2/bar2"
    assert not match(new_controller_revision(ds, 1, "h"), daemonset(changed))


def test_match_data_stored_as_json_text():
    ds = daemonset()
    rev = new_controller_revision(ds, 1, "h")
    rev["data"] = json.dumps(rev["data"])
    assert match(rev, ds)


def test_match_ignores_revision_metadata():
    ds = daemonset()
    rev = new_controller_revision(ds, 1, "h")
    rev["metadata"]["labels"] = {}
    assert match(rev, ds)


# --- ordering helpers -------------------------------------------------------------------------------------


def test_max_revision():
    assert max_revision([]) == 0
    assert max_revision([revision("a", 3), revision("b", 7), revision("c", 1)]) == 7


def test_sort_by_revision_oldest_first():
    revs = [revision("b", 3), revision("a", 1), revision("c", 2)]
    assert [r["metadata"]["name"] for r in sort_by_revision(revs)] == ["a", "c", "b"]


def test_revision_number_missing_is_zero():
    assert revision_number({"metadata": {"name": "x"}}) == 0


def test_revision_hash_prefers_label_then_name():
    assert revision_hash(revision("foo-abc", 1, {CONTROLLER_REVISION_HASH_LABEL: "abc"})) == "abc"
    assert revision_hash(revision("foo-abc", 1, {})) == "foo-abc"
