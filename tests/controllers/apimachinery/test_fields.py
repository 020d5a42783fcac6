"""Field selectors and per-kind field labels, as kube-apiserver 1.32 handles ``fieldSelector=``.

Parsing cases follow k8s.io/apimachinery/pkg/fields/selector_test.go; field sets follow
the registry ``ToSelectableFields``/``GetAttrs`` functions and the conversion functions in
pkg/apis/core/v1/conversion.go and pkg/apis/batch/v1/conversion.go.
"""

import pytest

from controllers.apimachinery.fields import (
    FieldSelector,
    SelectorError,
    check_supported,
    escape_value,
    field_set,
    parse_field_selector,
    supported_field_labels,
    unescape_value,
)

# --- parsing ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, requirements, canonical",
    [
        ("", (), ""),
        ("a=b", (("a", "=", "b"),), "a=b"),
        ("a==b", (("a", "=", "b"),), "a=b"),
        ("a!=b", (("a", "!=", "b"),), "a!=b"),
        ("metadata.name=pi-abcde", (("metadata.name", "=", "pi-abcde"),), "metadata.name=pi-abcde"),
        # Terms are sorted by their raw text, whatever order they came in.
        ("x=a,a=x", (("a", "=", "x"), ("x", "=", "a")), "a=x,x=a"),
        ("status.phase!=Running,spec.restartPolicy=Always",
         (("spec.restartPolicy", "=", "Always"), ("status.phase", "!=", "Running")),
         "spec.restartPolicy=Always,status.phase!=Running"),
        # Empty values are allowed (kubectl get events in the default namespace).
        ("involvedObject.namespace=", (("involvedObject.namespace", "=", ""),), "involvedObject.namespace="),
        ("a=", (("a", "=", ""),), "a="),
        ("a!=", (("a", "!=", ""),), "a!="),
        # Empty terms are skipped, and a term with empty field and value selects everything.
        ("a=b,,c=d", (("a", "=", "b"), ("c", "=", "d")), "a=b,c=d"),
        (",", (), ""),
        ("=", (), ""),
        ("=x", (("", "=", "x"),), "=x"),
        # Escaping (EscapeValue / UnescapeValue).
        (r"a=b\,c", (("a", "=", "b,c"),), r"a=b\,c"),
        (r"a=b\=c", (("a", "=", "b=c"),), r"a=b\=c"),
        (r"a=b\\c", (("a", "=", "b\\c"),), r"a=b\\c"),
        (r"a=\,\=\\,b=1", (("a", "=", ",=\\"), ("b", "=", "1")), r"a=\,\=\\,b=1"),
        # The first operator found wins, scanning left to right.
        ("a!=b=c", None, None),
        # Whitespace is not trimmed.
        ("a = b", (("a ", "=", " b"),), "a = b"),
    ],
    ids=lambda v: repr(v),
)
def test_parse_field_selector(text, requirements, canonical):
    if requirements is None:
        with pytest.raises(SelectorError):
            parse_field_selector(text)
        return
    sel = parse_field_selector(text)
    assert sel.requirements == requirements
    assert str(sel) == canonical
    assert sel.empty is (requirements == ())


@pytest.mark.parametrize(
    "text, message",
    [
        ("foo", "invalid selector: 'foo'; can't understand 'foo'"),
        ("a=b,foo", "invalid selector: 'a=b,foo'; can't understand 'foo'"),
        ("a<b", "invalid selector: 'a<b'; can't understand 'a<b'"),
        ("a=b=c", "invalid field selector: unescaped character in value: 61"),
        ("a!=b=c", "invalid field selector: unescaped character in value: 61"),
        ("a=b\\", "invalid field selector: invalid escape sequence: \\"),
        ("a=b\\x", "invalid field selector: invalid escape sequence: \\x"),
    ],
    ids=lambda v: repr(v),
)
def test_parse_field_selector_errors(text, message):
    with pytest.raises(SelectorError) as err:
        parse_field_selector(text)
    assert str(err.value) == message


@pytest.mark.parametrize(
    "raw, escaped",
    [
        ("", ""),
        ("plain", "plain"),
        ("a,b", r"a\,b"),
        ("a=b", r"a\=b"),
        ("a\\b", r"a\\b"),
        ("\\,=", r"\\\,\="),
    ],
    ids=lambda v: repr(v),
)
def test_escape_round_trip(raw, escaped):
    assert escape_value(raw) == escaped
    assert unescape_value(escaped) == raw


# --- matching ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, fields, matches",
    [
        ("", {"a": "b"}, True),
        ("a=b", {"a": "b"}, True),
        ("a=b", {"a": "c"}, False),
        ("a!=b", {"a": "c"}, True),
        ("a!=b", {"a": "b"}, False),
        ("a=b,c=d", {"a": "b", "c": "d"}, True),
        ("a=b,c=d", {"a": "b", "c": "x"}, False),
        # A field missing from the set reads as ''.
        ("missing=", {"a": "b"}, True),
        ("missing=x", {"a": "b"}, False),
        ("missing!=x", {"a": "b"}, True),
        (r"a=x\,y", {"a": "x,y"}, True),
    ],
    ids=lambda v: repr(v),
)
def test_field_selector_matches(text, fields, matches):
    assert parse_field_selector(text).matches(fields) is matches


def test_requires_exact_match():
    sel = parse_field_selector("spec.nodeName=node-1,status.phase!=Failed")
    assert sel.requires_exact_match("spec.nodeName") == ("node-1", True)
    assert sel.requires_exact_match("status.phase") == ("", False)
    assert FieldSelector().requires_exact_match("x") == ("", False)


# --- field sets -------------------------------------------------------------------

POD = {
    "metadata": {"name": "pi-abcde", "namespace": "default"},
    "spec": {"nodeName": "node-1", "restartPolicy": "Never", "schedulerName": "default-scheduler",
             "serviceAccountName": "default", "hostNetwork": True},
    "status": {"phase": "Running", "podIP": "10.244.1.5", "podIPs": [{"ip": "10.244.1.5"}, {"ip": "fd00::5"}],
               "nominatedNodeName": ""},
}


@pytest.mark.parametrize(
    "kind, obj, expected",
    [
        ("Pod", POD, {
            "metadata.name": "pi-abcde", "metadata.namespace": "default", "spec.nodeName": "node-1",
            "spec.restartPolicy": "Never", "spec.schedulerName": "default-scheduler",
            "spec.serviceAccountName": "default", "spec.hostNetwork": "true", "status.phase": "Running",
            "status.podIP": "10.244.1.5", "status.nominatedNodeName": "",
        }),
        ("Pod", {"metadata": {"name": "p", "namespace": "ns"}, "spec": {}, "status": {"podIP": "10.0.0.9"}}, {
            "metadata.name": "p", "metadata.namespace": "ns", "spec.nodeName": "", "spec.restartPolicy": "",
            "spec.schedulerName": "", "spec.serviceAccountName": "", "spec.hostNetwork": "false",
            "status.phase": "", "status.podIP": "10.0.0.9", "status.nominatedNodeName": "",
        }),
        ("Event", {
            "metadata": {"name": "pi.17f", "namespace": "default"},
            "involvedObject": {"kind": "Job", "namespace": "default", "name": "pi", "uid": "u-1",
                               "apiVersion": "batch/v1", "resourceVersion": "42"},
            "reason": "SuccessfulCreate", "source": {"component": "job-controller"}, "type": "Normal",
        }, {
            "metadata.name": "pi.17f", "metadata.namespace": "default", "involvedObject.kind": "Job",
            "involvedObject.namespace": "default", "involvedObject.name": "pi", "involvedObject.uid": "u-1",
            "involvedObject.apiVersion": "batch/v1", "involvedObject.resourceVersion": "42",
            "involvedObject.fieldPath": "", "reason": "SuccessfulCreate", "reportingComponent": "",
            "source": "job-controller", "type": "Normal",
        }),
        # source falls back to reportingComponent (events created through events.k8s.io/v1).
        ("Event", {"metadata": {"name": "e", "namespace": "ns"}, "reportingComponent": "kubelet",
                   "involvedObject": {"kind": "Pod", "fieldPath": "spec.containers{pi}"}}, {
            "metadata.name": "e", "metadata.namespace": "ns", "involvedObject.kind": "Pod",
            "involvedObject.namespace": "", "involvedObject.name": "", "involvedObject.uid": "",
            "involvedObject.apiVersion": "", "involvedObject.resourceVersion": "",
            "involvedObject.fieldPath": "spec.containers{pi}", "reason": "", "reportingComponent": "kubelet",
            "source": "kubelet", "type": "",
        }),
        ("Node", {"metadata": {"name": "node-1"}, "spec": {"unschedulable": True}},
         {"metadata.name": "node-1", "spec.unschedulable": "true"}),
        ("Node", {"metadata": {"name": "node-2"}, "spec": {}},
         {"metadata.name": "node-2", "spec.unschedulable": "false"}),
        ("Namespace", {"metadata": {"name": "default"}, "status": {"phase": "Active"}},
         {"metadata.name": "default", "status.phase": "Active", "name": "default"}),
        ("Job", {"metadata": {"name": "pi", "namespace": "default"}, "status": {"succeeded": 3}},
         {"metadata.name": "pi", "metadata.namespace": "default", "status.successful": "3"}),
        ("Job", {"metadata": {"name": "pi", "namespace": "default"}},
         {"metadata.name": "pi", "metadata.namespace": "default", "status.successful": "0"}),
        ("CronJob", {"metadata": {"name": "hello", "namespace": "default"}, "spec": {"schedule": "* * * * *"}},
         {"metadata.name": "hello", "metadata.namespace": "default"}),
        ("DaemonSet", {"metadata": {"name": "fluentd", "namespace": "kube-system"}},
         {"metadata.name": "fluentd", "metadata.namespace": "kube-system"}),
        ("ControllerRevision", {"metadata": {"name": "fluentd-5d8f", "namespace": "kube-system"}},
         {"metadata.name": "fluentd-5d8f", "metadata.namespace": "kube-system"}),
        ("Lease", {"metadata": {"name": "node-1", "namespace": "kube-node-lease"}},
         {"metadata.name": "node-1", "metadata.namespace": "kube-node-lease"}),
    ],
    ids=["pod", "pod-podIP-only", "event", "event-reportingComponent", "node-cordoned", "node",
         "namespace", "job", "job-no-status", "cronjob", "daemonset", "controllerrevision", "lease"],
)
def test_field_set(kind, obj, expected):
    assert field_set(kind, obj) == expected


# --- field label conversion ---------------------------------------------------------


@pytest.mark.parametrize(
    "kind, labels",
    [
        ("Pod", ("metadata.name", "metadata.namespace", "spec.nodeName", "spec.restartPolicy",
                 "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork", "status.phase",
                 "status.podIP", "status.podIPs", "status.nominatedNodeName")),
        ("Event", ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                   "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
                   "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type",
                   "metadata.namespace", "metadata.name")),
        ("Node", ("metadata.name", "spec.unschedulable")),
        ("Namespace", ("status.phase", "metadata.name")),
        ("Job", ("metadata.name", "metadata.namespace", "status.successful")),
        ("CronJob", ("metadata.name", "metadata.namespace")),
        ("DaemonSet", ("metadata.name", "metadata.namespace")),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_supported_labels_pass_unchanged(kind, labels):
    assert supported_field_labels(kind) == labels
    sel = parse_field_selector(",".join(f"{label}=x" for label in labels))
    assert check_supported(kind, sel) == sel


@pytest.mark.parametrize(
    "kind, text, message",
    [
        ("Pod", "status.qosClass=BestEffort", "field label not supported: status.qosClass"),
        ("Pod", "=x", "field label not supported: "),
        ("Event", "involvedObject.containerID=d7f", "field label not supported: involvedObject.containerID"),
        ("Node", "metadata.namespace=default", "field label not supported: metadata.namespace"),
        ("Namespace", "name=default", "field label not supported: name"),
        ("Job", "status.succeeded=1", 'field label "status.succeeded" not supported for batchv1.Job'),
        ("CronJob", "spec.suspend=true",
         '"spec.suspend" is not a known field selector: only "metadata.name", "metadata.namespace"'),
        ("DaemonSet", "spec.template=x",
         '"spec.template" is not a known field selector: only "metadata.name", "metadata.namespace"'),
        ("ControllerRevision", "revision=1",
         '"revision" is not a known field selector: only "metadata.name", "metadata.namespace"'),
        ("Lease", "spec.holderIdentity=x",
         '"spec.holderIdentity" is not a known field selector: only "metadata.name", "metadata.namespace"'),
        # The first offending term, in sorted term order, is reported.
        ("Pod", "zzz=1,aaa=1", "field label not supported: aaa"),
    ],
    ids=lambda v: repr(v),
)
def test_unsupported_field_labels(kind, text, message):
    with pytest.raises(SelectorError) as err:
        check_supported(kind, parse_field_selector(text))
    assert str(err.value) == message


def test_pod_spec_host_is_converted_to_node_name():
    sel = check_supported("Pod", parse_field_selector("spec.host=node-1"))
    assert sel.requirements == (("spec.nodeName", "=", "node-1"),)
    assert sel.matches(field_set("Pod", POD)) is True


def test_pod_ips_is_accepted_but_never_set():
    # Upstream accepts status.podIPs in the conversion function but leaves it out of the
    # field set, so it only ever equals ''.
    fields = field_set("Pod", POD)
    assert check_supported("Pod", parse_field_selector("status.podIPs=")).matches(fields) is True
    assert check_supported("Pod", parse_field_selector("status.podIPs=10.244.1.5")).matches(fields) is False


@pytest.mark.parametrize(
    "text, matches",
    [
        ("spec.nodeName=node-1", True),
        ("spec.nodeName=node-2", False),
        ("status.phase!=Succeeded,status.phase!=Failed", True),
        ("spec.hostNetwork=true", True),
        ("metadata.namespace=default,metadata.name=pi-abcde", True),
        ("spec.nodeName=", False),
    ],
    ids=lambda v: repr(v),
)
def test_pod_field_selector_end_to_end(text, matches):
    sel = check_supported("Pod", parse_field_selector(text))
    assert sel.matches(field_set("Pod", POD)) is matches
