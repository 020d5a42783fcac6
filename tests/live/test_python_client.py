"""The official `kubernetes` Python client against a live kubeviz server (Daphne, SQLite)."""

import copy
import json
import urllib.request
import uuid

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def api_client(kubeviz_server):
    configuration = client.Configuration()
    configuration.host = kubeviz_server.url + "/clusters/default"
    with client.ApiClient(configuration) as api:
        yield api


@pytest.fixture
def batch(api_client):
    return client.BatchV1Api(api_client)


@pytest.fixture
def core(api_client):
    return client.CoreV1Api(api_client)


@pytest.fixture
def apps(api_client):
    return client.AppsV1Api(api_client)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def pi_job(name: str) -> dict:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "backoffLimit": 4,
            "template": {
                "spec": {
                    "containers": [
                        {"name": "pi", "image": "perl:5.34.0",
                         "command": ["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"]}
                    ],
                    "restartPolicy": "Never",
                }
            },
        },
    }


def hello_cronjob(name: str) -> dict:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name},
        "spec": {
            "schedule": "*/1 * * * *",
            "jobTemplate": {"spec": {"template": {"spec": {
                "containers": [{"name": "hello", "image": "busybox:1.28",
                                "command": ["/bin/sh", "-c", "date; echo Hello from the Kubernetes cluster"]}],
                "restartPolicy": "OnFailure",
            }}}},
        },
    }


def fluentd(name: str) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "labels": {"k8s-app": "fluentd-logging"}},
        "spec": {
            "selector": {"matchLabels": {"name": name}},
            "template": {
                "metadata": {"labels": {"name": name}},
                "spec": {
                    "tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists",
                                     "effect": "NoSchedule"}],
                    "containers": [{"name": "fluentd", "image": "quay.io/fluentd_elasticsearch/fluentd:v2.5.2"}],
                },
            },
        },
    }


def test_version_reports_kubernetes_1_32(api_client):
    info = client.VersionApi(api_client).get_code()
    assert (info.major, info.minor) == ("1", "32")
    assert info.git_version.startswith("v1.32.")


def test_job_lifecycle_create_read_list_replace_patch_delete(batch):
    name = unique("pi")
    created = batch.create_namespaced_job("default", pi_job(name))
    assert created.metadata.name == name
    assert created.metadata.uid and created.metadata.resource_version
    assert created.metadata.generation == 1
    # upstream defaults and the generated selector
    assert created.spec.completions == 1 and created.spec.parallelism == 1
    assert created.spec.backoff_limit == 4
    assert created.spec.completion_mode == "NonIndexed"
    assert created.spec.selector.match_labels == {"batch.kubernetes.io/controller-uid": created.metadata.uid}
    labels = created.spec.template.metadata.labels
    assert labels["batch.kubernetes.io/job-name"] == name and labels["job-name"] == name
    assert labels["controller-uid"] == created.metadata.uid

    read = batch.read_namespaced_job(name, "default")
    assert read.metadata.resource_version == created.metadata.resource_version

    listed = batch.list_namespaced_job("default", label_selector=f"job-name={name}")
    assert [j.metadata.name for j in listed.items] == [name]

    read.metadata.labels = dict(read.metadata.labels or {}, color="blue")
    replaced = batch.replace_namespaced_job(name, "default", read)
    assert replaced.metadata.labels["color"] == "blue"
    assert int(replaced.metadata.resource_version) > int(read.metadata.resource_version)
    assert replaced.metadata.generation == 1  # labels are metadata, not spec

    patched = batch.patch_namespaced_job(name, "default", {"spec": {"backoffLimit": 2}})
    assert patched.spec.backoff_limit == 2
    assert patched.metadata.generation == 2

    status = batch.delete_namespaced_job(name, "default", propagation_policy="Background")
    assert status["status"] == "Success" and status["details"]["uid"] == created.metadata.uid
    with pytest.raises(ApiException) as missing:
        batch.read_namespaced_job(name, "default")
    assert missing.value.status == 404 and missing.value.reason == "Not Found"
    body = json.loads(missing.value.body)
    assert body["reason"] == "NotFound"
    assert body["message"] == f'jobs.batch "{name}" not found'


def test_duplicate_create_is_409_already_exists(batch):
    name = unique("dup")
    batch.create_namespaced_job("default", pi_job(name))
    with pytest.raises(ApiException) as dup:
        batch.create_namespaced_job("default", pi_job(name))
    assert dup.value.status == 409
    body = json.loads(dup.value.body)
    assert body["reason"] == "AlreadyExists"
    assert body["message"] == f'jobs.batch "{name}" already exists'


def test_stale_update_is_409_conflict(batch):
    name = unique("stale")
    batch.create_namespaced_job("default", pi_job(name))
    first = batch.read_namespaced_job(name, "default")
    second = copy.deepcopy(first)
    first.metadata.labels = {"round": "one"}
    batch.replace_namespaced_job(name, "default", first)
    second.metadata.labels = {"round": "two"}
    with pytest.raises(ApiException) as stale:
        batch.replace_namespaced_job(name, "default", second)
    assert stale.value.status == 409
    body = json.loads(stale.value.body)
    assert body["reason"] == "Conflict"
    assert body["message"] == (
        f'Operation cannot be fulfilled on jobs.batch "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )


def test_invalid_job_is_422_with_upstream_message(batch):
    job = pi_job(unique("bad"))
    job["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    with pytest.raises(ApiException) as bad:
        batch.create_namespaced_job("default", job)
    assert bad.value.status == 422
    body = json.loads(bad.value.body)
    assert body["reason"] == "Invalid"
    assert body["details"]["causes"] == [
        {"reason": "FieldValueRequired", "message": 'Required value: valid values: "OnFailure", "Never"',
         "field": "spec.template.spec.restartPolicy"}
    ]


def test_cronjob_create_read_list_patch_replace_delete(batch):
    name = unique("hello")
    created = batch.create_namespaced_cron_job("default", hello_cronjob(name))
    assert created.spec.concurrency_policy == "Allow"
    assert created.spec.successful_jobs_history_limit == 3
    assert created.spec.failed_jobs_history_limit == 1
    assert created.spec.suspend is False
    assert name in [c.metadata.name for c in batch.list_namespaced_cron_job("default").items]
    patched = batch.patch_namespaced_cron_job(name, "default", {"spec": {"suspend": True}})
    assert patched.spec.suspend is True
    current = batch.read_namespaced_cron_job(name, "default")
    current.spec.schedule = "*/5 * * * *"
    assert batch.replace_namespaced_cron_job(name, "default", current).spec.schedule == "*/5 * * * *"
    batch.delete_namespaced_cron_job(name, "default")
    with pytest.raises(ApiException) as gone:
        batch.read_namespaced_cron_job(name, "default")
    assert gone.value.status == 404


def test_daemonset_create_read_list_patch_replace_delete(apps):
    name = unique("fluentd")
    created = apps.create_namespaced_daemon_set("kube-system", fluentd(name))
    assert created.spec.update_strategy.type == "RollingUpdate"
    assert created.spec.update_strategy.rolling_update.max_unavailable == 1
    assert created.spec.update_strategy.rolling_update.max_surge == 0
    assert created.spec.revision_history_limit == 10
    assert created.metadata.annotations["deprecated.daemonset.template.generation"] == "1"
    listed = apps.list_namespaced_daemon_set("kube-system", label_selector="k8s-app=fluentd-logging")
    assert name in [d.metadata.name for d in listed.items]
    patched = apps.patch_namespaced_daemon_set(
        name, "kube-system",
        [{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "fluentd:v2.6.0"}],
    )
    assert patched.spec.template.spec.containers[0].image == "fluentd:v2.6.0"
    assert patched.metadata.generation == 2
    assert patched.metadata.annotations["deprecated.daemonset.template.generation"] == "2"
    current = apps.read_namespaced_daemon_set(name, "kube-system")
    current.spec.min_ready_seconds = 5
    assert apps.replace_namespaced_daemon_set(name, "kube-system", current).spec.min_ready_seconds == 5
    apps.delete_namespaced_daemon_set(name, "kube-system")
    assert name not in [d.metadata.name for d in apps.list_namespaced_daemon_set("kube-system").items]


def test_pod_create_read_list_patch_replace_delete(core):
    name = unique("web")
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "web"}},
           "spec": {"containers": [{"name": "web", "image": "nginx"}]}}
    created = core.create_namespaced_pod("default", pod)
    assert created.status.phase == "Pending"
    assert created.spec.restart_policy == "Always"
    assert created.spec.containers[0].image_pull_policy == "Always"  # untagged image means :latest
    assert created.spec.service_account_name == "default"
    assert created.status.qos_class == "BestEffort"
    assert name in [p.metadata.name for p in core.list_namespaced_pod("default", label_selector="app=web").items]
    assert name in [p.metadata.name
                    for p in core.list_pod_for_all_namespaces(field_selector=f"metadata.name={name}").items]
    patched = core.patch_namespaced_pod(name, "default", {"metadata": {"labels": {"tier": "front"}}})
    assert patched.metadata.labels == {"app": "web", "tier": "front"}
    patched.metadata.annotations = {"note": "replaced"}
    assert core.replace_namespaced_pod(name, "default", patched).metadata.annotations == {"note": "replaced"}
    gone_pod = core.delete_namespaced_pod(name, "default")  # unscheduled: deleted at once, no grace period
    assert gone_pod.metadata.name == name
    with pytest.raises(ApiException) as gone:
        core.read_namespaced_pod(name, "default")
    assert gone.value.status == 404


def test_nodes_of_the_default_cluster_and_node_crud(core):
    nodes = {n.metadata.name: n for n in core.list_node().items}
    assert {"control-plane", "node-1", "node-2", "node-3"} <= set(nodes)
    cp = nodes["control-plane"]
    assert [(t.key, t.effect) for t in cp.spec.taints] == [("node-role.kubernetes.io/control-plane", "NoSchedule")]
    assert "node-role.kubernetes.io/control-plane" in cp.metadata.labels
    worker = nodes["node-1"]
    assert worker.metadata.labels["kubernetes.io/hostname"] == "node-1"
    assert worker.status.allocatable["pods"] == "110"
    assert [c.status for c in worker.status.conditions if c.type == "Ready"] == ["True"]
    assert worker.status.node_info.kubelet_version.startswith("v1.32")

    name = unique("extra")
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {"disk": "ssd"}}}
    assert core.create_node(node).metadata.name == name
    assert [n.metadata.name for n in core.list_node(label_selector="disk=ssd").items] == [name]
    cordoned = core.patch_node(name, {"spec": {"unschedulable": True}})
    assert cordoned.spec.unschedulable is True
    cordoned.metadata.labels["zone"] = "a"
    assert core.replace_node(name, cordoned).metadata.labels["zone"] == "a"
    core.delete_node(name)
    with pytest.raises(ApiException) as gone:
        core.read_node(name)
    assert gone.value.status == 404


def test_unsupported_field_selector_is_400(core):
    with pytest.raises(ApiException) as bad:
        core.list_namespaced_pod("default", field_selector="spec.bogus=1")
    assert bad.value.status == 400
    assert json.loads(bad.value.body)["reason"] == "BadRequest"


def test_sim_clusters_create_list_delete(kubeviz_server):
    def call(method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(kubeviz_server.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    name = unique("class")
    code, body = call("POST", "/sim/clusters", {"name": name, "nodes": 2, "controlPlane": False,
                                                "start": "2025-06-01T08:00:00Z", "seed": 3})
    assert code == 201 and body["clock"]["now"] == "2025-06-01T08:00:00Z"
    code, nodes = call("GET", f"/clusters/{name}/api/v1/nodes")
    assert code == 200 and [n["metadata"]["name"] for n in nodes["items"]] == ["node-1", "node-2"]
    code, listed = call("GET", "/sim/clusters")
    assert name in [c["name"] for c in listed["items"]]
    code, _ = call("DELETE", f"/sim/clusters/{name}")
    assert code == 200
    code, body = call("GET", f"/clusters/{name}/api/v1/nodes")
    assert code == 404 and body["kind"] == "Status"
