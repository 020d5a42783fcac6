"""Server-side defaults, admission and registry strategies, compared with what Kubernetes 1.32 returns."""

import copy

import pytest

from apiserver.kinds import apply_defaults, prepare_for_create, prepare_for_update
from apiserver.defaults import (
    admit_node,
    admit_pod,
    compute_qos_class,
    image_pull_policy_default,
    reset_status_for_update,
)

UID = "9f0c7a52-1d2e-4c3b-8a9f-0123456789ab"


def pi_job(**spec):
    body = {
        "template": {
            "spec": {
                "containers": [{"name": "pi", "image": "perl:5.34.0", "command": ["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"]}],
                "restartPolicy": "Never",
            }
        },
        "backoffLimit": 4,
    }
    body.update(spec)
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "pi", "namespace": "default"}, "spec": body}


def hello_cron_job():
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "hello", "namespace": "default"},
        "spec": {
            "schedule": "*/1 * * * *",
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {
                            "containers": [{"name": "hello", "image": "busybox", "args": ["/bin/sh", "-c", "date"]}],
                            "restartPolicy": "OnFailure",
                        }
                    }
                }
            },
        },
    }


def fluentd_daemon_set(**spec):
    body = {
        "selector": {"matchLabels": {"name": "fluentd-elasticsearch"}},
        "template": {
            "metadata": {"labels": {"name": "fluentd-elasticsearch"}},
            "spec": {
                "containers": [{"name": "fluentd", "image": "quay.io/fluentd_elasticsearch/fluentd:v2.5.2"}],
                "volumes": [{"name": "varlog", "hostPath": {"path": "/var/log"}}],
            },
        },
    }
    body.update(spec)
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "fluentd", "namespace": "kube-system"}, "spec": body}


def pod(**spec):
    body = {"containers": [{"name": "app", "image": "nginx:1.27"}]}
    body.update(spec)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "app", "namespace": "default"}, "spec": body}


# -- Job -------------------------------------------------------------------

POD_SPEC_DEFAULTS = {
    "dnsPolicy": "ClusterFirst",
    "schedulerName": "default-scheduler",
    "securityContext": {},
    "terminationGracePeriodSeconds": 30,
}
CONTAINER_DEFAULTS = {
    "terminationMessagePath": "/dev/termination-log",
    "terminationMessagePolicy": "File",
    "resources": {},
}


def test_pi_job_defaults_match_a_real_cluster():
    spec = apply_defaults(pi_job())["spec"]
    assert {k: v for k, v in spec.items() if k != "template"} == {
        "backoffLimit": 4,
        "completions": 1,
        "parallelism": 1,
        "completionMode": "NonIndexed",
        "suspend": False,
        "podReplacementPolicy": "TerminatingOrFailed",
        "manualSelector": False,
    }
    template = spec["template"]
    assert template["metadata"] == {"creationTimestamp": None}
    assert template["spec"] == {
        "containers": [
            {
                "name": "pi",
                "image": "perl:5.34.0",
                "command": ["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"],
                "imagePullPolicy": "IfNotPresent",
                **CONTAINER_DEFAULTS,
            }
        ],
        "restartPolicy": "Never",
        **POD_SPEC_DEFAULTS,
    }


@pytest.mark.parametrize(
    "given, expected",
    [
        pytest.param({}, {"completions": 1, "parallelism": 1}, id="both unset: both 1"),
        pytest.param({"completions": 8, "parallelism": 2}, {"completions": 8, "parallelism": 2}, id="parallel job kept"),
        pytest.param({"completions": 8}, {"completions": 8, "parallelism": 1}, id="completions only: parallelism 1"),
        pytest.param({"parallelism": 3}, {"completions": None, "parallelism": 3}, id="work queue: completions stay unset"),
    ],
)
def test_job_parallelism_and_completions(given, expected):
    spec = apply_defaults(pi_job(**given))["spec"]
    assert {"completions": spec.get("completions"), "parallelism": spec.get("parallelism")} == expected


@pytest.mark.parametrize(
    "given, backoff_limit",
    [
        pytest.param({}, 4, id="explicit kept"),
        pytest.param({"backoffLimit": None}, 6, id="default 6"),
        pytest.param({"backoffLimit": None, "backoffLimitPerIndex": 1, "completionMode": "Indexed"}, 2147483647,
                     id="MaxInt32 with backoffLimitPerIndex"),
    ],
)
def test_job_backoff_limit(given, backoff_limit):
    assert apply_defaults(pi_job(**given))["spec"]["backoffLimit"] == backoff_limit


def test_job_pod_replacement_policy_with_pod_failure_policy():
    policy = {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]}
    spec = apply_defaults(pi_job(podFailurePolicy=policy))["spec"]
    assert spec["podReplacementPolicy"] == "Failed"
    assert spec["podFailurePolicy"]["rules"][0]["onPodConditions"][0]["status"] == "True"


def test_job_labels_are_copied_from_template_only_when_job_has_none():
    manifest = pi_job()
    manifest["spec"]["template"]["metadata"] = {"labels": {"app": "pi"}}
    assert apply_defaults(manifest)["metadata"]["labels"] == {"app": "pi"}
    manifest["metadata"]["labels"] = {"team": "math"}
    assert apply_defaults(manifest)["metadata"]["labels"] == {"team": "math"}


def test_job_selector_generation_on_create():
    job = prepare_for_create(apply_defaults(pi_job()), uid=UID)
    generated = {
        "batch.kubernetes.io/controller-uid": UID,
        "batch.kubernetes.io/job-name": "pi",
        "controller-uid": UID,
        "job-name": "pi",
    }
    assert job["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": UID}}
    assert job["spec"]["template"]["metadata"]["labels"] == generated
    # A Job without labels of its own ends up with its template's labels, generated ones included.
    assert job["metadata"]["labels"] == generated
    assert job["metadata"]["uid"] == UID
    assert job["metadata"]["generation"] == 1
    assert job["status"] == {}


def test_job_with_own_labels_keeps_them():
    manifest = pi_job()
    manifest["metadata"]["labels"] = {"team": "math"}
    job = prepare_for_create(apply_defaults(manifest), uid=UID)
    assert job["metadata"]["labels"] == {"team": "math"}


def test_manual_selector_skips_generation():
    manifest = pi_job(manualSelector=True, selector={"matchLabels": {"app": "pi"}})
    manifest["spec"]["template"]["metadata"] = {"labels": {"app": "pi"}}
    job = prepare_for_create(apply_defaults(manifest), uid=UID)
    assert job["spec"]["selector"] == {"matchLabels": {"app": "pi"}}
    assert job["spec"]["template"]["metadata"]["labels"] == {"app": "pi"}


# -- CronJob ---------------------------------------------------------------


def test_cron_job_defaults():
    cron_job = apply_defaults(hello_cron_job())
    spec = cron_job["spec"]
    assert {k: spec[k] for k in ("concurrencyPolicy", "suspend", "successfulJobsHistoryLimit", "failedJobsHistoryLimit")} == {
        "concurrencyPolicy": "Allow",
        "suspend": False,
        "successfulJobsHistoryLimit": 3,
        "failedJobsHistoryLimit": 1,
    }
    job_spec = spec["jobTemplate"]["spec"]
    # Upstream applies only pod defaults inside the job template, not SetDefaults_Job.
    assert set(job_spec) == {"template"}
    pod_spec = job_spec["template"]["spec"]
    assert pod_spec["dnsPolicy"] == "ClusterFirst"
    assert pod_spec["containers"][0]["imagePullPolicy"] == "Always"
    assert spec["jobTemplate"]["metadata"] == {"creationTimestamp": None}


def test_cron_job_generation():
    cron_job = prepare_for_create(apply_defaults(hello_cron_job()), uid=UID)
    assert cron_job["metadata"]["generation"] == 1
    assert cron_job["status"] == {}


# -- DaemonSet -------------------------------------------------------------


def test_daemon_set_defaults():
    spec = apply_defaults(fluentd_daemon_set())["spec"]
    assert spec["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}
    assert spec["revisionHistoryLimit"] == 10
    assert spec["template"]["spec"]["restartPolicy"] == "Always"
    assert spec["template"]["spec"]["volumes"] == [{"name": "varlog", "hostPath": {"path": "/var/log", "type": ""}}]


def test_daemon_set_on_delete_gets_no_rolling_update():
    spec = apply_defaults(fluentd_daemon_set(updateStrategy={"type": "OnDelete"}))["spec"]
    assert spec["updateStrategy"] == {"type": "OnDelete"}


def test_daemon_set_partial_rolling_update_is_completed():
    spec = apply_defaults(fluentd_daemon_set(updateStrategy={"rollingUpdate": {"maxSurge": "25%"}}))["spec"]
    assert spec["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}}


def test_daemon_set_template_generation_annotation():
    created = prepare_for_create(apply_defaults(fluentd_daemon_set()), uid=UID)
    assert created["metadata"]["annotations"] == {"deprecated.daemonset.template.generation": "1"}
    assert created["metadata"]["generation"] == 1

    new_image = copy.deepcopy(created)
    new_image["spec"]["template"]["spec"]["containers"][0]["image"] = "fluentd:v2.6"
    updated = prepare_for_update(apply_defaults(new_image), created)
    assert updated["metadata"]["annotations"]["deprecated.daemonset.template.generation"] == "2"
    assert updated["metadata"]["generation"] == 2

    history = copy.deepcopy(updated)
    history["spec"]["revisionHistoryLimit"] = 5
    again = prepare_for_update(apply_defaults(history), updated)
    assert again["metadata"]["annotations"]["deprecated.daemonset.template.generation"] == "2"
    assert again["metadata"]["generation"] == 3


# -- Pod spec and containers -------------------------------------------------


@pytest.mark.parametrize(
    "image, policy",
    [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("nginx:1.27", "IfNotPresent"),
        ("localhost:5000/team/app", "Always"),
        ("localhost:5000/team/app:v1", "IfNotPresent"),
        ("nginx@sha256:" + "a" * 64, "IfNotPresent"),
        ("quay.io/fluentd_elasticsearch/fluentd:v2.5.2", "IfNotPresent"),
    ],
)
def test_image_pull_policy_default(image, policy):
    assert image_pull_policy_default(image) == policy


def test_explicit_image_pull_policy_is_kept():
    manifest = pod(containers=[{"name": "app", "image": "nginx", "imagePullPolicy": "Never"}])
    assert apply_defaults(manifest)["spec"]["containers"][0]["imagePullPolicy"] == "Never"


def test_container_ports_probes_and_env_defaults():
    container = {
        "name": "web",
        "image": "nginx:1.27",
        "ports": [{"containerPort": 80}],
        "livenessProbe": {"httpGet": {"port": 80}},
        "readinessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 5},
        "env": [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
    }
    out = apply_defaults(pod(containers=[container]))["spec"]["containers"][0]
    assert out["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert out["livenessProbe"] == {
        "httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
        "timeoutSeconds": 1,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
    }
    assert out["readinessProbe"]["periodSeconds"] == 5
    assert out["env"][0]["valueFrom"]["fieldRef"] == {"fieldPath": "spec.nodeName", "apiVersion": "v1"}


def test_volume_defaults():
    volumes = [{"name": "scratch"}, {"name": "cfg", "configMap": {"name": "app"}}, {"name": "s", "secret": {"secretName": "x"}}]
    out = apply_defaults(pod(volumes=volumes))["spec"]["volumes"]
    assert out == [
        {"name": "scratch", "emptyDir": {}},
        {"name": "cfg", "configMap": {"name": "app", "defaultMode": 420}},
        {"name": "s", "secret": {"secretName": "x", "defaultMode": 420}},
    ]


def test_resource_quantities_are_canonicalised():
    container = {"name": "app", "image": "nginx:1.27",
                 "resources": {"requests": {"cpu": 0.5, "memory": "1024Mi"}, "limits": {"cpu": "0.0001", "memory": "1.5Gi"}}}
    manifest = pi_job()
    manifest["spec"]["template"]["spec"]["containers"] = [container]
    resources = apply_defaults(manifest)["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert resources == {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "1m", "memory": "1536Mi"}}


def test_pod_only_defaults():
    out = apply_defaults(pod(containers=[{"name": "app", "image": "nginx:1.27", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]))
    spec = out["spec"]
    assert spec["enableServiceLinks"] is True
    assert spec["restartPolicy"] == "Always"
    assert spec["containers"][0]["resources"]["requests"] == {"cpu": "1", "memory": "1Gi"}
    # Templates do not get the Pod-only defaults.
    template_spec = apply_defaults(pi_job())["spec"]["template"]["spec"]
    assert "enableServiceLinks" not in template_spec


def test_pod_negative_grace_period_becomes_one():
    assert apply_defaults(pod(terminationGracePeriodSeconds=-5))["spec"]["terminationGracePeriodSeconds"] == 1


def test_pod_host_network_defaults_host_ports():
    out = apply_defaults(pod(hostNetwork=True, containers=[{"name": "a", "image": "x:1", "ports": [{"containerPort": 8080}]}]))
    assert out["spec"]["containers"][0]["ports"] == [{"containerPort": 8080, "hostPort": 8080, "protocol": "TCP"}]


@pytest.mark.parametrize(
    "resources, qos",
    [
        pytest.param([{}], "BestEffort", id="no resources"),
        pytest.param([{"requests": {"cpu": "100m"}}], "Burstable", id="requests only"),
        pytest.param([{"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1", "memory": "1Gi"}}], "Guaranteed", id="equal"),
        pytest.param([{"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m", "memory": "1Gi"}}], "Burstable",
                     id="requests below limits"),
        pytest.param([{"limits": {"cpu": "1"}, "requests": {"cpu": "1"}}], "Burstable", id="memory limit missing"),
        pytest.param([{"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1", "memory": "1Gi"}}, {}], "Burstable",
                     id="second container best effort"),
        pytest.param([{"requests": {"ephemeral-storage": "1Gi"}}], "BestEffort", id="only non-compute resources"),
    ],
)
def test_compute_qos_class(resources, qos):
    spec = {"containers": [{"name": f"c{i}", "image": "x", "resources": r} for i, r in enumerate(resources)]}
    assert compute_qos_class(spec) == qos


def test_pod_prepare_for_create_sets_pending_and_qos():
    manifest = pod(containers=[{"name": "app", "image": "nginx:1.27", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}])
    created = prepare_for_create(apply_defaults(manifest), uid=UID)
    assert created["status"] == {"phase": "Pending", "qosClass": "Guaranteed"}
    assert "generation" not in created["metadata"]


def test_admit_pod():
    admitted = admit_pod(apply_defaults(pod()))
    spec = admitted["spec"]
    assert spec["serviceAccountName"] == "default"
    assert spec["serviceAccount"] == "default"
    assert spec["priority"] == 0
    assert spec["preemptionPolicy"] == "PreemptLowerPriority"
    assert spec["tolerations"] == [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
    ]


def test_admit_pod_keeps_existing_not_ready_toleration():
    existing = [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"}]
    admitted = admit_pod(pod(tolerations=existing, serviceAccountName="builder"))
    assert admitted["spec"]["serviceAccountName"] == "builder"
    assert [t["key"] for t in admitted["spec"]["tolerations"]] == ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]
    assert "tolerationSeconds" not in admitted["spec"]["tolerations"][0]


# -- Node and Namespace ------------------------------------------------------

NOT_READY_TAINT = {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}


def my_node(taints=None, conditions=None):
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "mynode"}}
    if taints is not None:
        node["spec"] = {"taints": taints}
    if conditions is not None:
        node["status"] = {"conditions": conditions}
    return node


# plugin/pkg/admission/nodetaint/admission_test.go Test_nodeTaints, case names kept.
@pytest.mark.parametrize("node, taints", [
    pytest.param(my_node(), [NOT_READY_TAINT], id="notReady taint is added on creation"),
    pytest.param(my_node(taints=[NOT_READY_TAINT]), [NOT_READY_TAINT], id="already tainted node is not tainted again"),
    pytest.param(my_node(conditions=[{"type": "Ready", "status": "False"}]), [NOT_READY_TAINT],
                 id="NotReady taint is added to an unready node as well"),
    # MatchTaint compares key and effect: a value does not make it another taint, another effect does.
    pytest.param(my_node(taints=[dict(NOT_READY_TAINT, value="x")]), [dict(NOT_READY_TAINT, value="x")],
                 id="a not-ready NoSchedule taint with a value counts as there"),
    pytest.param(my_node(taints=[{"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}]),
                 [{"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}, NOT_READY_TAINT],
                 id="a not-ready NoExecute taint is another taint"),
])
def test_admit_node_taints_nodes_by_condition(node, taints):
    before = copy.deepcopy(node)
    assert admit_node(node)["spec"]["taints"] == taints
    assert node == before




def test_node_allocatable_defaults_to_capacity():
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "worker-1"},
            "status": {"capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"}}}
    assert apply_defaults(node)["status"]["allocatable"] == {"cpu": "4", "memory": "8Gi", "pods": "110"}
    node["status"]["allocatable"] = {"cpu": "3800m"}
    assert apply_defaults(node)["status"]["allocatable"] == {"cpu": "3800m"}


def test_namespace_defaults_and_create():
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a", "namespace": "oops"}}
    created = prepare_for_create(apply_defaults(namespace), uid=UID)
    assert created["metadata"]["labels"] == {"kubernetes.io/metadata.name": "team-a"}
    assert created["spec"] == {"finalizers": ["kubernetes"]}
    assert created["status"] == {"phase": "Active"}
    assert "namespace" not in created["metadata"]


# -- updates -------------------------------------------------------------------


def stored_job():
    job = prepare_for_create(apply_defaults(pi_job()), uid=UID)
    job["metadata"].update(resourceVersion="7", creationTimestamp="2025-01-01T00:00:00Z")
    job["status"] = {"active": 1, "startTime": "2025-01-01T00:00:01Z"}
    return job


def test_update_bumps_generation_only_when_spec_changes():
    old = stored_job()
    labels_only = copy.deepcopy(old)
    labels_only["metadata"]["labels"]["team"] = "math"
    assert prepare_for_update(labels_only, old)["metadata"]["generation"] == 1
    spec_change = copy.deepcopy(old)
    spec_change["spec"]["parallelism"] = 2
    assert prepare_for_update(spec_change, old)["metadata"]["generation"] == 2


def test_update_keeps_status_and_system_fields_from_old():
    old = stored_job()
    new = copy.deepcopy(old)
    new["status"] = {"succeeded": 99}
    del new["metadata"]["uid"]
    new["metadata"]["creationTimestamp"] = "1999-01-01T00:00:00Z"
    new["metadata"]["generation"] = 42
    out = prepare_for_update(new, old)
    assert out["status"] == old["status"]
    assert out["metadata"]["uid"] == UID
    assert out["metadata"]["creationTimestamp"] == "2025-01-01T00:00:00Z"
    assert out["metadata"]["generation"] == 1


def test_status_update_keeps_spec_from_old():
    old = stored_job()
    new = copy.deepcopy(old)
    new["status"] = {"succeeded": 1}
    new["spec"]["parallelism"] = 5
    out = prepare_for_update(new, old, status_update=True)
    assert out["status"] == {"succeeded": 1}
    assert out["spec"] == old["spec"]
    assert out["metadata"]["generation"] == 1


def test_reset_status_for_update():
    assert reset_status_for_update({"kind": "Job", "status": {"a": 1}}, {"kind": "Job", "status": {"b": 2}}) == {
        "kind": "Job",
        "status": {"b": 2},
    }
    assert reset_status_for_update({"kind": "Job", "status": {"a": 1}}, {"kind": "Job"}) == {"kind": "Job"}


# -- contracts -------------------------------------------------------------------


@pytest.mark.parametrize(
    "manifest",
    [pi_job(), hello_cron_job(), fluentd_daemon_set(), pod(),
     {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}],
    ids=["job", "cronjob", "daemonset", "pod", "namespace"],
)
def test_defaults_are_idempotent_and_do_not_mutate_input(manifest):
    snapshot = copy.deepcopy(manifest)
    once = apply_defaults(manifest)
    assert manifest == snapshot
    assert apply_defaults(once) == once
    prepared = prepare_for_create(once, uid=UID)
    assert apply_defaults(prepared) == prepared
    admit_pod(once)
    assert once == apply_defaults(manifest)


def test_unknown_kind_is_copied_unchanged():
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "b"}}
    out = apply_defaults(obj)
    assert out == obj and out is not obj
