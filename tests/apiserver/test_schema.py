"""Decode-time checks: unknown fields and wrong JSON types, worded as a Kubernetes 1.32 server words them."""

import copy
import time

import pytest

from apiserver.kinds import drop_unknown_fields, structural_errors
from apiserver.schema import (
    QuantityError,
    go_parse_time_error,
    parse_quantity,
    render_path,
)

QUANTITY_REGEX_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"


def job(**spec):
    body = {
        "backoffLimit": 4,
        "template": {
            "metadata": {"creationTimestamp": None},
            "spec": {"containers": [{"name": "pi", "image": "perl:5.34.0", "command": ["perl", "-v"]}], "restartPolicy": "Never"},
        },
    }
    body.update(spec)
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "pi", "creationTimestamp": None}, "spec": body}


def container(**fields):
    obj = job()
    obj["spec"]["template"]["spec"]["containers"][0].update(fields)
    return obj


SERVER_JOB = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {
        "name": "pi",
        "namespace": "default",
        "uid": "9f0c7a52-1d2e-4c3b-8a9f-0123456789ab",
        "resourceVersion": "1234",
        "generation": 1,
        "creationTimestamp": "2025-06-01T10:00:00Z",
        "labels": {"batch.kubernetes.io/job-name": "pi", "job-name": "pi"},
        "managedFields": [
            {
                "apiVersion": "batch/v1",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:spec": {"f:backoffLimit": {}, "f:template": {"f:spec": {".": {}}}}},
                "manager": "kubectl-create",
                "operation": "Update",
                "time": "2025-06-01T10:00:00Z",
            }
        ],
    },
    "spec": {
        "backoffLimit": 4,
        "completionMode": "NonIndexed",
        "completions": 1,
        "manualSelector": False,
        "parallelism": 1,
        "podReplacementPolicy": "TerminatingOrFailed",
        "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "9f0c7a52-1d2e-4c3b-8a9f-0123456789ab"}},
        "suspend": False,
        "template": {
            "metadata": {"creationTimestamp": None, "labels": {"job-name": "pi"}},
            "spec": {
                "containers": [
                    {
                        "command": ["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"],
                        "image": "perl:5.34.0",
                        "imagePullPolicy": "IfNotPresent",
                        "name": "pi",
                        "resources": {},
                        "terminationMessagePath": "/dev/termination-log",
                        "terminationMessagePolicy": "File",
                    }
                ],
                "dnsPolicy": "ClusterFirst",
                "restartPolicy": "Never",
                "schedulerName": "default-scheduler",
                "securityContext": {},
                "terminationGracePeriodSeconds": 30,
            },
        },
    },
    "status": {
        "active": 1,
        "ready": 0,
        "startTime": "2025-06-01T10:00:00Z",
        "terminating": 0,
        "uncountedTerminatedPods": {},
        "conditions": [
            {"type": "Complete", "status": "True", "lastProbeTime": "2025-06-01T10:01:00Z",
             "lastTransitionTime": "2025-06-01T10:01:00Z", "reason": "CompletionsReached",
             "message": "Reached expected number of succeeded pods"}
        ],
    },
}

FLUENTD = {
    "apiVersion": "apps/v1",
    "kind": "DaemonSet",
    "metadata": {"name": "fluentd-elasticsearch", "namespace": "kube-system", "labels": {"k8s-app": "fluentd-logging"},
                 "annotations": {"deprecated.daemonset.template.generation": "1"}},
    "spec": {
        "selector": {"matchLabels": {"name": "fluentd-elasticsearch"}},
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "10%"}},
        "template": {
            "metadata": {"labels": {"name": "fluentd-elasticsearch"}},
            "spec": {
                "tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}],
                "containers": [
                    {
                        "name": "fluentd-elasticsearch",
                        "image": "quay.io/fluentd_elasticsearch/fluentd:v2.5.2",
                        "resources": {"limits": {"memory": "200Mi"}, "requests": {"cpu": 0.1, "memory": "200Mi"}},
                        "volumeMounts": [{"name": "varlog", "mountPath": "/var/log"}],
                        "livenessProbe": {"httpGet": {"path": "/", "port": "http"}},
                    }
                ],
                "volumes": [{"name": "varlog", "hostPath": {"path": "/var/log", "type": ""}}],
            },
        },
    },
    "status": {"currentNumberScheduled": 4, "desiredNumberScheduled": 4, "numberMisscheduled": 0, "numberReady": 4,
               "observedGeneration": 1},
}

OTHER_KINDS = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}, "spec": {"finalizers": ["kubernetes"]},
     "status": {"phase": "Active"}},
    {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}, "spec": {"taints": [{"key": "k", "effect": "NoSchedule"}]},
     "status": {"capacity": {"cpu": "4", "pods": 110}, "conditions": [{"type": "Ready", "status": "True"}]}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
     "spec": {"containers": [{"name": "c", "image": "nginx"}], "nodeName": "n1"},
     "status": {"phase": "Running", "qosClass": "BestEffort", "podIP": "10.0.0.5"}},
    {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e", "namespace": "default"},
     "involvedObject": {"kind": "Job", "name": "pi"}, "reason": "SuccessfulCreate", "message": "Created pod: pi-abcde",
     "count": 1, "firstTimestamp": "2025-06-01T10:00:00Z", "source": {"component": "job-controller"}, "type": "Normal"},
    {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "hello", "namespace": "default"},
     "spec": {"schedule": "*/1 * * * *", "jobTemplate": {"metadata": {"creationTimestamp": None},
                                                       "spec": {"template": {"spec": {"containers": [{"name": "h", "image": "busybox"}]}}}}},
     "status": {"lastScheduleTime": "2025-06-01T10:00:00Z"}},
    {"apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": {"name": "ds-7b4c9", "namespace": "default"},
     "data": {"spec": {"template": {"$patch": "replace", "spec": {"containers": []}}}}, "revision": 1},
    {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "n1", "namespace": "kube-node-lease"},
     "spec": {"holderIdentity": "n1", "leaseDurationSeconds": 40, "renewTime": "2025-06-01T10:00:00.000000Z"}},
]


@pytest.mark.parametrize(
    "obj",
    [pytest.param(job(), id="pi job"), pytest.param(SERVER_JOB, id="job as the server returns it"),
     pytest.param(FLUENTD, id="fluentd daemonset")]
    + [pytest.param(o, id=o["kind"]) for o in OTHER_KINDS],
)
def test_valid_objects_pass(obj):
    result = structural_errors(obj)
    assert (result.unknown_fields, result.type_errors) == ([], [])
    assert result.ok and result.decode_error is None


@pytest.mark.parametrize(
    "obj, paths, keys",
    [
        pytest.param(container(imagee="perl"), ["spec.template.spec.containers[0].imagee"],
                     [("spec", "template", "spec", "containers", 0, "imagee")], id="typo in container"),
        pytest.param(job(foo=1, bar=2), ["spec.foo", "spec.bar"], [("spec", "foo"), ("spec", "bar")], id="two in spec, in order"),
        pytest.param({**job(), "status": {"foo": 1}}, ["status.foo"], [("status", "foo")], id="status is checked too"),
        pytest.param({**job(), "metadata": {"name": "pi", "label": {"a": "b"}}}, ["metadata.label"], [("metadata", "label")],
                     id="label instead of labels"),
        pytest.param(job(template={"spec": {"containers": [{"name": "a", "image": "b", "resources": {"limit": {"cpu": "1"}}}]}}),
                     ["spec.template.spec.containers[0].resources.limit"],
                     [("spec", "template", "spec", "containers", 0, "resources", "limit")], id="resources limit"),
        pytest.param(job(Parallelism=2), ["spec.Parallelism"], [("spec", "Parallelism")], id="case sensitive"),
        pytest.param({**job(), "specs": {}}, ["specs"], [("specs",)], id="top level"),
    ],
)
def test_unknown_fields(obj, paths, keys):
    result = structural_errors(obj)
    assert result.unknown_fields == paths
    assert result.unknown_field_keys == keys
    assert result.strict_messages() == [f'unknown field "{p}"' for p in paths]
    assert result.decode_error is None


def test_repeated_unknown_field_is_reported_once_per_path():
    obj = container(imagee="a")
    obj["spec"]["template"]["spec"]["containers"].append({"name": "b", "image": "c", "imagee": "d"})
    assert structural_errors(obj).unknown_fields == [
        "spec.template.spec.containers[0].imagee",
        "spec.template.spec.containers[1].imagee",
    ]


@pytest.mark.parametrize(
    "obj, message",
    [
        pytest.param(job(parallelism="two"),
                     "json: cannot unmarshal string into Go struct field JobSpec.spec.parallelism of type int32", id="string for int32"),
        pytest.param(job(parallelism=1.5),
                     "json: cannot unmarshal number 1.5 into Go struct field JobSpec.spec.parallelism of type int32", id="fraction"),
        pytest.param(job(parallelism=3000000000),
                     "json: cannot unmarshal number 3000000000 into Go struct field JobSpec.spec.parallelism of type int32",
                     id="overflow"),
        pytest.param(job(activeDeadlineSeconds="60"),
                     "json: cannot unmarshal string into Go struct field JobSpec.spec.activeDeadlineSeconds of type int64",
                     id="int64"),
        pytest.param(job(suspend="yes"), "json: cannot unmarshal string into Go struct field JobSpec.spec.suspend of type bool",
                     id="bool"),
        pytest.param(container(image=5),
                     "json: cannot unmarshal number into Go struct field Container.spec.template.spec.containers.image of type string",
                     id="number for string, no list index"),
        pytest.param(container(command="perl -v"),
                     "json: cannot unmarshal string into Go struct field Container.spec.template.spec.containers.command of type []string",
                     id="string for list"),
        pytest.param(job(template={"spec": {"containers": {"name": "a"}}}),
                     "json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container",
                     id="object for list"),
        pytest.param(job(template="pod"),
                     "json: cannot unmarshal string into Go struct field JobSpec.spec.template of type v1.PodTemplateSpec",
                     id="string for struct"),
        pytest.param({**job(), "metadata": {"name": "pi", "labels": {"tier": 1}}},
                     "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string",
                     id="map value: path stops at the map"),
        pytest.param(job(template={"spec": {"restartPolicy": 1, "containers": []}}),
                     "json: cannot unmarshal number into Go struct field PodSpec.spec.template.spec.restartPolicy of type v1.RestartPolicy",
                     id="named string type"),
        pytest.param(container(ports=[{"containerPort": "80"}]),
                     "json: cannot unmarshal string into Go struct field ContainerPort.spec.template.spec.containers.ports.containerPort "
                     "of type int32", id="nested list"),
    ],
)
def test_type_errors(obj, message):
    result = structural_errors(obj)
    assert result.type_errors == [message]
    assert result.decode_error == message


def test_type_error_keys_locate_the_value():
    result = structural_errors(container(ports=[{"containerPort": "80"}]))
    assert result.type_error_keys == [("spec", "template", "spec", "containers", 0, "ports", 0, "containerPort")]


@pytest.mark.parametrize(
    "value, message",
    [
        ("1K", "unable to parse quantity's suffix"),
        ("200MB", QUANTITY_REGEX_ERROR),
        ("one", QUANTITY_REGEX_ERROR),
        (True, QUANTITY_REGEX_ERROR),
        ({"value": 1}, QUANTITY_REGEX_ERROR),
    ],
)
def test_quantity_decode_errors(value, message):
    result = structural_errors(container(resources={"limits": {"memory": value}}))
    assert result.type_errors == [message]
    assert result.type_error_keys == [("spec", "template", "spec", "containers", 0, "resources", "limits", "memory")]


@pytest.mark.parametrize("value", ["500m", "1Gi", 2, 0.5, "1e3", None])
def test_quantity_accepts_strings_numbers_and_null(value):
    assert structural_errors(container(resources={"requests": {"cpu": value}})).ok


@pytest.mark.parametrize("value", [1, "25%", None])
def test_int_or_string_accepts_ints_strings_and_null(value):
    obj = copy.deepcopy(FLUENTD)
    obj["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] = value
    assert structural_errors(obj).ok


@pytest.mark.parametrize(
    "value, message",
    [
        (True, "json: cannot unmarshal bool into Go struct field RollingUpdateDaemonSet.spec.updateStrategy.rollingUpdate."
               "maxUnavailable of type int32"),
        (1.5, "json: cannot unmarshal number 1.5 into Go struct field RollingUpdateDaemonSet.spec.updateStrategy.rollingUpdate."
              "maxUnavailable of type int32"),
    ],
)
def test_int_or_string_errors(value, message):
    obj = copy.deepcopy(FLUENTD)
    obj["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] = value
    assert structural_errors(obj).type_errors == [message]


def test_custom_decoder_error_wins_over_earlier_type_error():
    obj = job(parallelism="two")
    obj["spec"]["template"]["spec"]["containers"][0]["resources"] = {"limits": {"memory": "1K"}}
    result = structural_errors(obj)
    assert len(result.type_errors) == 2
    assert result.decode_error == "unable to parse quantity's suffix"


@pytest.mark.parametrize(
    "value, message",
    [
        ("2025-06-01T10:00:00Z", None),
        ("2025-06-01T10:00:00.5+02:00", None),
        ("yesterday", 'parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"'),
        ("2025/06/01", 'parsing time "2025/06/01" as "2006-01-02T15:04:05Z07:00": cannot parse "/06/01" as "-"'),
        ("2025-06-01", 'parsing time "2025-06-01" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "T"'),
        ("2025-13-01T00:00:00Z", 'parsing time "2025-13-01T00:00:00Z": month out of range'),
    ],
)
def test_time_parse_errors(value, message):
    assert go_parse_time_error(value) == message


def test_time_of_wrong_type():
    obj = {**job(), "metadata": {"name": "pi", "creationTimestamp": 5}}
    assert structural_errors(obj).decode_error == (
        "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.creationTimestamp of type string"
    )


def test_unsupported_kind_yields_empty_result():
    assert structural_errors({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": 1}}).ok


def test_drop_unknown_fields():
    obj = container(imagee="x")
    obj["spec"]["foo"] = {"bar": 1}
    obj["status"] = {"active": 1, "weird": True}
    snapshot = copy.deepcopy(obj)
    pruned = drop_unknown_fields(obj)
    assert obj == snapshot
    assert "imagee" not in pruned["spec"]["template"]["spec"]["containers"][0]
    assert "foo" not in pruned["spec"]
    assert pruned["status"] == {"active": 1}
    assert structural_errors(pruned).ok
    expected = copy.deepcopy(snapshot)
    del expected["spec"]["template"]["spec"]["containers"][0]["imagee"]
    del expected["spec"]["foo"]
    del expected["status"]["weird"]
    assert pruned == expected


def test_drop_unknown_fields_returns_a_deep_copy():
    obj = job()
    pruned = drop_unknown_fields(obj)
    pruned["spec"]["template"]["spec"]["containers"][0]["image"] = "changed"
    assert obj["spec"]["template"]["spec"]["containers"][0]["image"] == "perl:5.34.0"


def test_render_path():
    assert render_path(("spec", "template", "spec", "containers", 0, "imagee")) == "spec.template.spec.containers[0].imagee"
    assert render_path(("foo",)) == "foo"


def test_typical_job_is_checked_in_under_two_milliseconds():
    structural_errors(SERVER_JOB)  # load and compile the schema once
    runs = 200
    start = time.perf_counter()
    for _ in range(runs):
        structural_errors(SERVER_JOB)
    assert (time.perf_counter() - start) / runs < 0.002


@pytest.mark.parametrize(
    "text, canonical",
    [
        ("100m", "100m"), ("0.5", "500m"), ("1", "1"), ("1000m", "1"), ("1500", "1500"), ("2000", "2k"),
        ("1Gi", "1Gi"), ("1024Mi", "1Gi"), ("1536Mi", "1536Mi"), ("1.5Gi", "1536Mi"), ("512", "512"),
        ("1e3", "1e3"), ("0", "0"), ("-1Gi", "-1Gi"), ("200Mi", "200Mi"), ("1M", "1M"),
    ],
)
def test_quantity_canonical_form(text, canonical):
    assert parse_quantity(text).canonical() == canonical


def test_quantity_comparison_is_exact():
    assert parse_quantity("1Gi").value == parse_quantity("1024Mi").value
    assert parse_quantity("200m").value > parse_quantity("0.1").value


@pytest.mark.parametrize("text", ["", "1K", "1.2.3", "12 Mi", "1Z"])
def test_quantity_parse_errors(text):
    with pytest.raises(QuantityError):
        parse_quantity(text)
