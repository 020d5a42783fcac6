"""PATCH semantics: RFC 7386, RFC 6902 and Kubernetes strategic merge patch.

Strategic-merge cases are either bodies real ``kubectl`` 1.32 sends (``set image``,
``rollout undo``, ``cordon``/``uncordon``, ``label``, ``apply``) or upstream
vectors from k8s.io/apimachinery/pkg/util/strategicpatch/patch_test.go, with
upstream's test struct lists mapped onto real Kubernetes lists: ``mergingList`` →
PodSpec ``containers`` (merge key ``name``), ``mergingIntList`` → ObjectMeta
``finalizers`` (merged primitives), ``retainKeysMergingList`` → PodSpec ``volumes``.
"""

import copy

import pytest

from apiserver.patch import (
    UNPROCESSABLE_MESSAGE,
    PatchError,
    json_merge_patch,
    json_patch,
    strategic_merge_patch,
)

# --- RFC 7386 ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "target, patch, expected",
    [
        # RFC 7386 Appendix A, in order.
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"a": "foo"}, "bar", "bar"),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
        # kubectl label pod/x color-  (merge patch body from kubectl label)
        ({"metadata": {"name": "x", "labels": {"app": "web", "color": "red"}}},
         {"metadata": {"labels": {"color": None}}},
         {"metadata": {"name": "x", "labels": {"app": "web"}}}),
        # Lists are replaced whole: no merge keys in a JSON merge patch.
        ({"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b"}]}},
         {"spec": {"containers": [{"name": "a", "image": "y"}]}},
         {"spec": {"containers": [{"name": "a", "image": "y"}]}}),
    ],
    ids=[f"rfc7386-a{i}" for i in range(1, 16)] + ["kubectl-label-remove", "lists-replaced"],
)
def test_json_merge_patch(target, patch, expected):
    before = copy.deepcopy((target, patch))
    assert json_merge_patch(target, patch) == expected
    assert (target, patch) == before  # inputs untouched


# --- RFC 6902 ----------------------------------------------------------------------

DOC = {"metadata": {"name": "pi", "labels": {"app": "pi"}}, "spec": {"parallelism": 1, "args": ["a", "b"]}}


@pytest.mark.parametrize(
    "ops, expected",
    [
        ([{"op": "replace", "path": "/spec/parallelism", "value": 3}],
         {"metadata": {"name": "pi", "labels": {"app": "pi"}}, "spec": {"parallelism": 3, "args": ["a", "b"]}}),
        ([{"op": "add", "path": "/metadata/labels/tier", "value": "batch"}],
         {"metadata": {"name": "pi", "labels": {"app": "pi", "tier": "batch"}},
          "spec": {"parallelism": 1, "args": ["a", "b"]}}),
        ([{"op": "remove", "path": "/metadata/labels/app"}],
         {"metadata": {"name": "pi", "labels": {}}, "spec": {"parallelism": 1, "args": ["a", "b"]}}),
        ([{"op": "add", "path": "/spec/args/-", "value": "c"}, {"op": "remove", "path": "/spec/args/0"}],
         {"metadata": {"name": "pi", "labels": {"app": "pi"}}, "spec": {"parallelism": 1, "args": ["b", "c"]}}),
        ([{"op": "test", "path": "/spec/parallelism", "value": 1},
          {"op": "move", "from": "/spec/parallelism", "path": "/spec/completions"}],
         {"metadata": {"name": "pi", "labels": {"app": "pi"}}, "spec": {"args": ["a", "b"], "completions": 1}}),
        ([{"op": "copy", "from": "/metadata/name", "path": "/metadata/labels/name"}],
         {"metadata": {"name": "pi", "labels": {"app": "pi", "name": "pi"}},
          "spec": {"parallelism": 1, "args": ["a", "b"]}}),
        ([], DOC),
        (None, DOC),
    ],
    ids=["replace", "add", "remove", "array-append-and-remove", "test-then-move", "copy", "empty", "null-body"],
)
def test_json_patch(ops, expected):
    before = copy.deepcopy(DOC)
    assert json_patch(DOC, ops) == expected
    assert DOC == before


@pytest.mark.parametrize(
    "ops",
    [
        [{"op": "test", "path": "/spec/parallelism", "value": 2}],
        [{"op": "remove", "path": "/spec/missing"}],
        [{"op": "replace", "path": "/metadata/annotations/x", "value": "y"}],
        [{"op": "add", "path": "/no/such/parent", "value": 1}],
        [{"op": "frobnicate", "path": "/spec"}],
        [{"path": "/spec"}],
        [{"op": "replace", "path": "/spec/args/9", "value": "z"}],
    ],
    ids=["failing-test", "remove-missing", "replace-missing", "add-missing-parent", "unknown-op",
         "missing-op", "index-out-of-range"],
)
def test_json_patch_failures_are_422_with_the_generic_message(ops):
    with pytest.raises(PatchError) as err:
        json_patch(DOC, ops)
    assert (err.value.code, err.value.reason, str(err.value)) == (422, "Invalid", UNPROCESSABLE_MESSAGE)
    assert err.value.detail  # the library's own explanation is kept for logs


@pytest.mark.parametrize(
    "body, message",
    [
        ({"op": "add"}, "json: cannot unmarshal object into Go value of type jsonpatch.Patch"),
        ("x", "json: cannot unmarshal string into Go value of type jsonpatch.Patch"),
        (["x"], "json: cannot unmarshal string into Go value of type jsonpatch.Operation"),
    ],
    ids=["object", "string", "list-of-strings"],
)
def test_json_patch_undecodable_body_is_400(body, message):
    with pytest.raises(PatchError) as err:
        json_patch(DOC, body)
    assert (err.value.code, err.value.reason, str(err.value)) == (400, "BadRequest", message)


def test_json_patch_operation_limit_is_413():
    ops = [{"op": "test", "path": "/metadata/name", "value": "pi"}] * 10001
    with pytest.raises(PatchError) as err:
        json_patch(DOC, ops)
    assert err.value.code == 413
    assert err.value.reason == "RequestEntityTooLarge"
    assert str(err.value) == "The allowed maximum operations in a JSON patch is 10000, got 10001"
    assert json_patch(DOC, ops[:10000]) == DOC


# --- strategic merge patch: bodies kubectl sends ------------------------------------

JOB = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {"name": "pi", "namespace": "default", "labels": {"app": "pi"}},
    "spec": {
        "backoffLimit": 4,
        "template": {
            "metadata": {"labels": {"app": "pi"}},
            "spec": {
                "restartPolicy": "Never",
                "containers": [
                    {"name": "pi", "image": "perl:5.34.0", "command": ["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"],
                     "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
                    {"name": "sidecar", "image": "busybox"},
                ],
                "tolerations": [{"key": "a", "operator": "Exists"}],
            },
        },
    },
}


def job_with(**changes):
    job = copy.deepcopy(JOB)
    spec = job["spec"]["template"]["spec"]
    for key, value in changes.items():
        spec[key] = value
    return job


def test_kubectl_set_image_merges_into_the_named_container():
    patch = {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "pi"}, {"name": "sidecar"}],
        "containers": [{"image": "perl:5.36", "name": "pi"}],
    }}}}
    result = strategic_merge_patch(JOB, patch, "Job")
    expected = copy.deepcopy(JOB)
    expected["spec"]["template"]["spec"]["containers"][0]["image"] = "perl:5.36"
    assert result == expected


def test_set_element_order_naming_one_of_two_containers():
    # The body from the brief: $setElementOrder lists only "pi"; the other container is
    # server-only and keeps its place after it.
    patch = {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "pi"}],
        "containers": [{"image": "perl:5.36", "name": "pi"}],
    }}}}
    result = strategic_merge_patch(JOB, patch, "Job")
    containers = result["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["pi", "sidecar"]
    assert containers[0] == {"name": "pi", "image": "perl:5.36", "command": JOB["spec"]["template"]["spec"]["containers"][0]["command"],
                             "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}


def test_same_rule_applies_under_cronjob_job_template():
    cronjob = {"kind": "CronJob", "metadata": {"name": "hello"},
               "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": copy.deepcopy(JOB["spec"]["template"])}}}}
    patch = {"spec": {"jobTemplate": {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "pi"}, {"name": "sidecar"}],
        "containers": [{"name": "sidecar", "image": "busybox:1.36"}],
    }}}}}}
    result = strategic_merge_patch(cronjob, patch, "CronJob")
    containers = result["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert containers[0] == JOB["spec"]["template"]["spec"]["containers"][0]
    assert containers[1] == {"name": "sidecar", "image": "busybox:1.36"}


def test_same_rule_applies_under_daemonset_template_env():
    ds = {"kind": "DaemonSet", "metadata": {"name": "fluentd"},
          "spec": {"template": copy.deepcopy(JOB["spec"]["template"])}}
    patch = {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "pi"}, {"name": "sidecar"}],
        "containers": [{"name": "pi", "$setElementOrder/env": [{"name": "A"}, {"name": "B"}, {"name": "C"}],
                        "env": [{"name": "B", "value": "20"}, {"name": "C", "value": "3"}]}],
    }}}}
    result = strategic_merge_patch(ds, patch, "DaemonSet")
    assert result["spec"]["template"]["spec"]["containers"][0]["env"] == [
        {"name": "A", "value": "1"}, {"name": "B", "value": "20"}, {"name": "C", "value": "3"}]


def test_rollout_undo_replaces_the_whole_template():
    ds = {"kind": "DaemonSet", "metadata": {"name": "fluentd", "labels": {"app": "fluentd"}},
          "spec": {"selector": {"matchLabels": {"app": "fluentd"}},
                   "template": {"metadata": {"labels": {"app": "fluentd", "pod-template-hash": "x"},
                                             "annotations": {"kubectl.kubernetes.io/restartedAt": "now"}},
                                "spec": {"containers": [{"name": "fluentd", "image": "fluentd:v2", "args": ["-v"]}],
                                         "nodeSelector": {"disk": "ssd"}}}}}
    patch = {"spec": {"template": {"$patch": "replace",
                                   "metadata": {"labels": {"app": "fluentd"}, "creationTimestamp": None},
                                   "spec": {"containers": [{"name": "fluentd", "image": "fluentd:v1"}]}}}}
    result = strategic_merge_patch(ds, patch, "DaemonSet")
    assert result["spec"]["template"] == {"metadata": {"labels": {"app": "fluentd"}},
                                          "spec": {"containers": [{"name": "fluentd", "image": "fluentd:v1"}]}}
    assert result["spec"]["selector"] == ds["spec"]["selector"]
    assert result["metadata"] == ds["metadata"]


@pytest.mark.parametrize(
    "target, patch, expected",
    [
        # kubectl uncordon
        ({"metadata": {"name": "n1"}, "spec": {"unschedulable": True, "podCIDR": "10.244.1.0/24"}},
         {"spec": {"unschedulable": None}},
         {"metadata": {"name": "n1"}, "spec": {"podCIDR": "10.244.1.0/24"}}),
        # kubectl cordon
        ({"metadata": {"name": "n1"}, "spec": {}}, {"spec": {"unschedulable": True}},
         {"metadata": {"name": "n1"}, "spec": {"unschedulable": True}}),
        # kubectl label node n1 color-
        ({"metadata": {"name": "n1", "labels": {"color": "red", "zone": "a"}}},
         {"metadata": {"labels": {"color": None}}},
         {"metadata": {"name": "n1", "labels": {"zone": "a"}}}),
        # null for a key that is not there is a no-op
        ({"metadata": {"name": "n1"}}, {"metadata": {"labels": {"color": None}}},
         {"metadata": {"name": "n1", "labels": {}}}),
        # taints have no merge strategy: replaced whole
        ({"metadata": {"name": "n1"}, "spec": {"taints": [{"key": "a", "effect": "NoSchedule"}]}},
         {"spec": {"taints": [{"key": "b", "effect": "NoExecute"}]}},
         {"metadata": {"name": "n1"}, "spec": {"taints": [{"key": "b", "effect": "NoExecute"}]}}),
        # status conditions merge by type (kubelet status patch)
        ({"metadata": {"name": "n1"}, "status": {"conditions": [
            {"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True", "reason": "KubeletReady"}]}},
         {"status": {"$setElementOrder/conditions": [{"type": "MemoryPressure"}, {"type": "Ready"}],
                     "conditions": [{"type": "Ready", "status": "False", "reason": "KubeletNotReady"}]}},
         {"metadata": {"name": "n1"}, "status": {"conditions": [
             {"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "False", "reason": "KubeletNotReady"}]}}),
    ],
    ids=["uncordon", "cordon", "label-remove", "null-missing-key", "taints-atomic", "node-conditions-by-type"],
)
def test_node_patches(target, patch, expected):
    assert strategic_merge_patch(target, patch, "Node") == expected


def test_atomic_lists_are_replaced_and_nulls_dropped():
    patch = {"spec": {"template": {"spec": {
        "tolerations": [{"key": "b", "operator": "Equal", "value": None}],
        "$setElementOrder/containers": [{"name": "pi"}, {"name": "sidecar"}],
        "containers": [{"name": "pi", "command": ["perl", "-v"]}],
    }}}}
    result = strategic_merge_patch(JOB, patch, "Job")
    spec = result["spec"]["template"]["spec"]
    assert spec["tolerations"] == [{"key": "b", "operator": "Equal"}]
    assert spec["containers"][0]["command"] == ["perl", "-v"]


def test_delete_element_by_merge_key():
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}}
    result = strategic_merge_patch(JOB, patch, "Job")
    assert [c["name"] for c in result["spec"]["template"]["spec"]["containers"]] == ["pi"]


def test_replace_list_with_patch_replace_item():
    patch = {"spec": {"template": {"spec": {"containers": [{"$patch": "replace"}, {"name": "only", "image": "x"}]}}}}
    result = strategic_merge_patch(JOB, patch, "Job")
    assert result["spec"]["template"]["spec"]["containers"] == [{"name": "only", "image": "x"}]


def test_patch_delete_on_a_map_empties_it():
    result = strategic_merge_patch(JOB, {"metadata": {"labels": {"$patch": "delete"}}}, "Job")
    assert result["metadata"]["labels"] == {}


def test_directive_maps_for_absent_keys_are_dropped():
    # removeDirectives: a map carrying $patch, for a key the object lacks, adds nothing.
    result = strategic_merge_patch({"metadata": {"name": "p"}},
                                   {"metadata": {"labels": {"$patch": "merge"}, "annotations": {"a": "1", "b": None}}},
                                   "Pod")
    assert result == {"metadata": {"name": "p", "annotations": {"a": "1"}}}


def test_owner_references_merge_by_uid():
    pod = {"metadata": {"name": "p", "ownerReferences": [
        {"apiVersion": "batch/v1", "kind": "Job", "name": "pi", "uid": "u1", "controller": True}]}}
    patch = {"metadata": {"$setElementOrder/ownerReferences": [{"uid": "u1"}, {"uid": "u2"}],
                          "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "c", "uid": "u2"}]}}
    result = strategic_merge_patch(pod, patch, "Pod")
    assert [r["uid"] for r in result["metadata"]["ownerReferences"]] == ["u1", "u2"]


@pytest.mark.parametrize(
    "finalizers, patch, expected",
    [
        # The Job controller removes its tracking finalizer.
        (["batch.kubernetes.io/job-tracking"],
         {"$deleteFromPrimitiveList/finalizers": ["batch.kubernetes.io/job-tracking"]}, []),
        (["a", "b", "c"], {"$deleteFromPrimitiveList/finalizers": ["b"]}, ["a", "c"]),
        (["a"], {"$deleteFromPrimitiveList/finalizers": ["zzz"]}, ["a"]),
        # Merged primitive lists are a union that keeps the patch's order first.
        (["a", "b"], {"finalizers": ["b", "c"]}, ["a", "b", "c"]),
        (["a", "b", "c"], {"$setElementOrder/finalizers": ["c", "b", "a"]}, ["c", "b", "a"]),
        (["a", "b"], {"$setElementOrder/finalizers": ["a", "b", "c"], "finalizers": ["c"],
                      "$deleteFromPrimitiveList/finalizers": ["a"]}, ["b", "c"]),
    ],
    ids=["job-tracking-removed", "delete-middle", "delete-absent", "union", "reorder", "add-and-delete"],
)
def test_finalizers_primitive_list(finalizers, patch, expected):
    pod = {"metadata": {"name": "p", "finalizers": finalizers}}
    result = strategic_merge_patch(pod, {"metadata": patch}, "Pod")
    assert result["metadata"]["finalizers"] == expected


def test_delete_from_primitive_list_does_not_create_the_list():
    result = strategic_merge_patch({"metadata": {"name": "p"}},
                                   {"metadata": {"$deleteFromPrimitiveList/finalizers": ["x"]}}, "Pod")
    assert result == {"metadata": {"name": "p"}}


def test_retain_keys_switches_a_volume_source():
    # kubectl apply, changing a volume from emptyDir to hostPath.
    pod = {"metadata": {"name": "p"}, "spec": {"volumes": [
        {"name": "data", "emptyDir": {"medium": "Memory"}}, {"name": "cfg", "configMap": {"name": "c"}}]}}
    patch = {"spec": {"$setElementOrder/volumes": [{"name": "data"}, {"name": "cfg"}],
                      "volumes": [{"$retainKeys": ["hostPath", "name"], "hostPath": {"path": "/data"},
                                   "name": "data", "emptyDir": None}]}}
    result = strategic_merge_patch(pod, patch, "Pod")
    assert result["spec"]["volumes"] == [{"name": "data", "hostPath": {"path": "/data"}},
                                         {"name": "cfg", "configMap": {"name": "c"}}]


def test_new_items_without_set_element_order_go_first():
    # Upstream's ordering: patch items are placed before server-only items they do not
    # share a live-list position with, so a bare new container lands first.
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "new", "image": "x"}]}}}}
    result = strategic_merge_patch(JOB, patch, "Job")
    assert [c["name"] for c in result["spec"]["template"]["spec"]["containers"]] == ["new", "pi", "sidecar"]


def test_inputs_are_not_mutated():
    target = copy.deepcopy(JOB)
    patch = {"metadata": {"labels": {"app": None}},
             "spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "pi"}, {"name": "sidecar"}],
                                            "containers": [{"name": "pi", "image": "y"}]}}}}
    patch_copy = copy.deepcopy(patch)
    strategic_merge_patch(target, patch, "Job")
    assert target == JOB
    assert patch == patch_copy


# --- strategic merge patch: upstream vectors (patch_test.go) --------------------------


def pod_containers(items):
    return {"spec": {"containers": items}}


UPSTREAM_LIST_VECTORS = [
        ("merge lists of maps",
         [{"name": "1", "other": "a"}, {"name": "2", "value": "2", "other": "b"}],
         {"$setElementOrder/containers": [{"name": "4"}, {"name": "1"}, {"name": "2"}, {"name": "3"}],
          "containers": [{"name": "4", "value": "4"}, {"name": "3", "value": "3"}]},
         [{"name": "4", "value": "4"}, {"name": "1", "other": "a"}, {"name": "2", "value": "2", "other": "b"},
          {"name": "3", "value": "3"}]),
        ("add field to map in merging list",
         [{"name": "1", "other": "a"}, {"name": "2", "value": "2", "other": "b"}],
         {"$setElementOrder/containers": [{"name": "1"}, {"name": "2"}], "containers": [{"name": "1", "value": "1"}]},
         [{"name": "1", "other": "a", "value": "1"}, {"name": "2", "value": "2", "other": "b"}]),
        ("add map to merging list by pointer",
         [{"name": "1", "other": "a"}, {"name": "3"}],
         {"$setElementOrder/containers": [{"name": "1"}, {"name": "2"}], "containers": [{"name": "2"}]},
         [{"name": "1", "other": "a"}, {"name": "2"}, {"name": "3"}]),
        ("set elements order in a list with server-only items",
         [{"name": "1", "other": "a"}, {"name": "3", "value": "3"}, {"name": "4", "value": "4"},
          {"name": "2", "value": "2"}, {"name": "9"}],
         {"$setElementOrder/containers": [{"name": "4"}, {"name": "2"}, {"name": "3"}, {"name": "1"}]},
         [{"name": "4", "value": "4"}, {"name": "2", "value": "2"}, {"name": "3", "value": "3"},
          {"name": "1", "other": "a"}, {"name": "9"}]),
        ("set elements order in a list with server-only items 2",
         [{"name": "1", "other": "a"}, {"name": "2", "value": "2"}, {"name": "9"}, {"name": "3", "value": "3"},
          {"name": "4", "value": "4"}],
         {"$setElementOrder/containers": [{"name": "2"}, {"name": "1"}, {"name": "4"}, {"name": "3"}]},
         [{"name": "2", "value": "2"}, {"name": "1", "other": "a"}, {"name": "9"}, {"name": "4", "value": "4"},
          {"name": "3", "value": "3"}]),
        ("set elements order in a list with server-only items 3",
         [{"name": "1", "other": "a"}, {"name": "2", "value": "2"}, {"name": "7"}, {"name": "9"}, {"name": "8"},
          {"name": "3", "value": "3"}, {"name": "4", "value": "4"}],
         {"$setElementOrder/containers": [{"name": "2"}, {"name": "1"}, {"name": "4"}, {"name": "3"}]},
         [{"name": "2", "value": "2"}, {"name": "1", "other": "a"}, {"name": "7"}, {"name": "9"}, {"name": "8"},
          {"name": "4", "value": "4"}, {"name": "3", "value": "3"}]),
        ("preserve the order from the patch in a merging list",
         [{"name": "1"}, {"name": "2", "value": "b"}, {"name": "3"}],
         {"containers": [{"name": "3", "value": "c"}, {"name": "1", "value": "a"}, {"name": "2", "other": "x"}]},
         [{"name": "3", "value": "c"}, {"name": "1", "value": "a"}, {"name": "2", "value": "b", "other": "x"}]),
        ("preserve the order from the patch in a merging list 2",
         [{"name": "1"}, {"name": "2", "value": "b"}, {"name": "3"}],
         {"containers": [{"name": "3", "value": "c"}, {"name": "1", "value": "a"}]},
         [{"name": "2", "value": "b"}, {"name": "3", "value": "c"}, {"name": "1", "value": "a"}]),
        ("delete all items from merging list",
         [{"name": "1"}, {"name": "2"}],
         {"containers": [{"$patch": "replace"}]},
         []),
        ("delete all duplicate entries in a merging list",
         [{"name": "1"}, {"name": "1"}, {"name": "2", "value": "a"}, {"name": "3"}, {"name": "3"}],
         {"containers": [{"name": "1", "$patch": "delete"}, {"name": "3", "$patch": "delete"}]},
         [{"name": "2", "value": "a"}]),
        ("merge empty merging lists", [], {"containers": []}, []),
]


@pytest.mark.parametrize(
    "current, patch, result", [pytest.param(*case[1:], id=case[0]) for case in UPSTREAM_LIST_VECTORS],
)
def test_upstream_merging_list_vectors(current, patch, result):
    assert strategic_merge_patch(pod_containers(current), {"spec": patch}, "Pod") == pod_containers(result)


@pytest.mark.parametrize(
    "original, patch, expected",
    [
        ({"name": "1", "value": "1"}, {"$patch": "replace"}, {}),
        ({"name": "1", "value": "1"}, {"other": "a", "$patch": "replace"}, {"other": "a"}),
        ({"simpleMap": {"key1": "1", "key2": "1"}}, {"simpleMap": {"$patch": "delete"}}, {"simpleMap": {}}),
        ({"simpleMap": {"key1": "1", "key2": "1", "other": "a"}}, {"simpleMap": {"key2": None}},
         {"simpleMap": {"key1": "1", "other": "a"}}),
        ({"name": "1", "value": "1", "other": "a"}, {"name": None, "value": None}, {"other": "a"}),
    ],
    ids=["delete all keys from map", "add key and delete all keys from map", "delete map from nested map",
         "delete field from nested map", "delete all fields from map"],
)
def test_upstream_map_vectors(original, patch, expected):
    # Maps below metadata.annotations behave like upstream's untyped test maps.
    target = {"metadata": {"annotations": original}}
    assert strategic_merge_patch(target, {"metadata": {"annotations": patch}}, "Pod") == \
        {"metadata": {"annotations": expected}}


# --- strategic merge patch: errors ---------------------------------------------------


@pytest.mark.parametrize(
    "target, patch, kind, code, reason, message",
    [
        ({"metadata": {"labels": {"a": "b"}}}, {"metadata": {"labels": {"$patch": "merge"}}}, "Pod", 500, "",
         "unknown patch type: merge in map: map[$patch:merge]"),
        (pod_containers([{"name": "a"}]), {"spec": {"containers": [{"$patch": "merge"}]}}, "Pod", 500, "",
         "merging lists cannot yet be specified in the patch"),
        (pod_containers([{"name": "a"}]), {"spec": {"containers": [{"image": "x"}]}}, "Pod", 500, "",
         "map: map[image:x] does not contain declared merge key: name"),
        (pod_containers([{"name": "a"}]), {"spec": {"containers": [{"$patch": "delete"}]}}, "Pod", 500, "",
         "map: map[$patch:delete] does not contain declared merge key: name"),
        (pod_containers([{"name": "a"}, {"name": "b"}]),
         {"spec": {"$setElementOrder/containers": [{"name": "a"}], "containers": [{"name": "b"}, {"name": "a"}]}},
         "Pod", 500, "",
         "The order in patch list:\n[map[name:b] map[name:a]]\n doesn't match $setElementOrder list:\n[map[name:a]]\n"),
        ({"metadata": {"finalizers": [["x"]]}}, {"metadata": {"finalizers": [["y"]]}}, "Pod", 422, "Invalid",
         UNPROCESSABLE_MESSAGE),
        ({"metadata": {"finalizers": ["a"]}}, {"metadata": {"finalizers": [1]}}, "Pod", 500, "",
         "list element types are not identical: [[a] [1]]"),
        ({"spec": {"volumes": [{"name": "v"}]}},
         {"spec": {"volumes": [{"name": "v", "$retainKeys": ["name"], "hostPath": {"path": "/"}}]}}, "Pod", 400,
         "BadRequest", "invalid patch format of retainKeys"),
        ({"spec": {"volumes": [{"name": "v"}]}},
         {"spec": {"volumes": [{"name": "v", "$retainKeys": "name"}]}}, "Pod", 400,
         "BadRequest", "invalid patch format of retainKeys"),
        ({"metadata": {"finalizers": ["a"]}}, {"metadata": {"$deleteFromPrimitiveList": ["a"]}}, "Pod", 400,
         "BadRequest", "invalid patch format of primitive list"),
        ({"metadata": {"finalizers": ["a"]}}, {"metadata": {"$setElementOrder": ["a"]}}, "Pod", 400,
         "BadRequest", "invalid patch format of setElementOrder list"),
        ({"spec": {}}, {"spec": {"x": 1}}, "Widget", 400, "BadRequest",
         "strategic merge patch format is not supported"),
        ([], {}, "Pod", 400, "BadRequest", "invalid JSON document"),
        ({}, [], "Pod", 400, "BadRequest", "invalid JSON document"),
    ],
    ids=["map-patch-merge", "list-patch-merge", "missing-merge-key", "delete-without-key", "order-mismatch",
         "list-of-lists", "mixed-element-types", "retainKeys-missing-key", "retainKeys-not-a-list",
         "deleteFromPrimitiveList-no-slash", "setElementOrder-no-slash", "unknown-kind", "target-not-object",
         "patch-not-object"],
)
def test_strategic_merge_patch_errors(target, patch, kind, code, reason, message):
    with pytest.raises(PatchError) as err:
        strategic_merge_patch(target, patch, kind)
    assert (err.value.code, err.value.reason, str(err.value)) == (code, reason, message)
