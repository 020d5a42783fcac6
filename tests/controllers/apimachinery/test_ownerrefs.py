"""Controller references (metav1.NewControllerRef, GetControllerOf, IsControlledBy)."""

import pytest

from controllers.apimachinery.ownerrefs import get_controller_of, is_controlled_by, new_controller_ref

JOB = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "pi", "namespace": "default", "uid": "uid-job"}}
OTHER_JOB = {"metadata": {"name": "pi", "namespace": "default", "uid": "uid-recreated"}}


def test_new_controller_ref_exact_shape():
    ref = new_controller_ref(JOB, "batch/v1", "Job")
    assert ref == {"apiVersion": "batch/v1", "kind": "Job", "name": "pi", "uid": "uid-job",
                   "controller": True, "blockOwnerDeletion": True}
    assert list(ref) == ["apiVersion", "kind", "name", "uid", "controller", "blockOwnerDeletion"]


def _with_refs(*refs):
    return {"metadata": {"name": "pi-abcde", "ownerReferences": list(refs)}}


NON_CONTROLLER = {"apiVersion": "v1", "kind": "ConfigMap", "name": "cm", "uid": "uid-cm"}
CONTROLLER = {"apiVersion": "batch/v1", "kind": "Job", "name": "pi", "uid": "uid-job", "controller": True}
FALSE_CONTROLLER = dict(NON_CONTROLLER, controller=False)
SECOND_CONTROLLER = {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "ds", "uid": "uid-ds", "controller": True}


@pytest.mark.parametrize(
    "obj, expected",
    [
        ({"metadata": {}}, None),
        ({}, None),
        (_with_refs(), None),
        (_with_refs(NON_CONTROLLER), None),
        (_with_refs(FALSE_CONTROLLER), None),
        (_with_refs(NON_CONTROLLER, CONTROLLER), CONTROLLER),
        (_with_refs(CONTROLLER, SECOND_CONTROLLER), CONTROLLER),
    ],
    ids=["no-refs", "no-metadata", "empty-list", "not-controller", "controller-false",
         "finds-controller", "first-controller-wins"],
)
def test_get_controller_of(obj, expected):
    assert get_controller_of(obj) == expected


def test_get_controller_of_returns_a_copy():
    obj = _with_refs(dict(CONTROLLER))
    ref = get_controller_of(obj)
    ref["name"] = "changed"
    assert obj["metadata"]["ownerReferences"][0]["name"] == "pi"


@pytest.mark.parametrize(
    "obj, owner, expected",
    [
        (_with_refs(new_controller_ref(JOB, "batch/v1", "Job")), JOB, True),
        # Same name, new UID: a recreated Job must not claim the old pods.
        (_with_refs(new_controller_ref(JOB, "batch/v1", "Job")), OTHER_JOB, False),
        (_with_refs(dict(CONTROLLER, controller=False)), JOB, False),
        (_with_refs(), JOB, False),
    ],
    ids=["same-uid", "same-name-other-uid", "not-controller", "orphan"],
)
def test_is_controlled_by(obj, owner, expected):
    assert is_controlled_by(obj, owner) is expected
