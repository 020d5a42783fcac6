"""The real kubectl 1.32 against kubeviz: what a learner types, and exactly what a real 1.32 cluster prints.

Every test runs ``/usr/bin/kubectl`` on its own paused cluster (see ``conftest.py``), so ages are ``0s`` until a
test moves the clock, and names are upstream's (``pi``, ``hello``, ``web``).
"""

import json
import time

import pytest

from .conftest import wait_for

pytestmark = pytest.mark.live

JOBS_HEADER = "NAME   STATUS    COMPLETIONS   DURATION   AGE"


# --- discovery, version ------------------------------------------------------------------------------------

def test_version_reports_a_1_32_server(kubectl):
    out = kubectl("version")
    assert "Server Version: v1.32.0\n" in out
    assert out.startswith("Client Version: v1.32.")  # the dispatcher did not switch to another kubectl


def test_api_resources_lists_our_kinds_with_short_names(kubectl):
    assert kubectl("api-resources") == (
        "NAME                  SHORTNAMES   APIVERSION               NAMESPACED   KIND\n"
        "events                ev           v1                       true         Event\n"
        "namespaces            ns           v1                       false        Namespace\n"
        "nodes                 no           v1                       false        Node\n"
        "pods                  po           v1                       true         Pod\n"
        "resourcequotas        quota        v1                       true         ResourceQuota\n"
        "controllerrevisions                apps/v1                  true         ControllerRevision\n"
        "daemonsets            ds           apps/v1                  true         DaemonSet\n"
        "cronjobs              cj           batch/v1                 true         CronJob\n"
        "jobs                               batch/v1                 true         Job\n"
        "leases                             coordination.k8s.io/v1   true         Lease\n"
    )


def test_short_names_resolve(kubectl):
    assert kubectl("get", "no", "-o", "name") == "node/control-plane\nnode/node-1\nnode/node-2\n"
    assert kubectl("get", "ns", "default", "-o", "name") == "namespace/default\n"


# --- create, apply, replace, delete ------------------------------------------------------------------------

def test_create_get_delete_job(kubectl):
    assert kubectl("create", "-f", kubectl.manifest("job.yaml")) == "job.batch/pi created\n"
    assert kubectl("get", "jobs") == f"{JOBS_HEADER}\npi     Running   0/1                      0s\n"
    assert kubectl("get", "job", "pi", "-o", "name") == "job.batch/pi\n"
    again = kubectl.run("create", "-f", kubectl.manifest("job.yaml"), check=False)
    assert again.returncode == 1
    assert again.stderr == 'Error from server (AlreadyExists): error when creating "job.yaml": ' \
                           'jobs.batch "pi" already exists\n'
    assert kubectl("delete", "job", "pi") == 'job.batch "pi" deleted\n'
    missing = kubectl.run("get", "job", "pi", check=False)
    assert (missing.returncode, missing.stderr) == (1, 'Error from server (NotFound): jobs.batch "pi" not found\n')
    assert kubectl.run("get", "jobs").stderr == "No resources found in default namespace.\n"


def test_apply_created_configured_unchanged(kubectl):
    path = kubectl.manifest("job.yaml")
    assert kubectl("apply", "-f", path) == "job.batch/pi created\n"
    assert kubectl("apply", "-f", path) == "job.batch/pi unchanged\n"
    kubectl.write("job.yaml", (kubectl.home / path).read_text().replace("backoffLimit: 4", "backoffLimit: 5"))
    assert kubectl("apply", "-f", path) == "job.batch/pi configured\n"
    assert kubectl("get", "job", "pi", "-o", "jsonpath={.spec.backoffLimit}") == "5"
    applied = json.loads(kubectl("get", "job", "pi", "-o", "json"))["metadata"]["annotations"]
    assert json.loads(applied["kubectl.kubernetes.io/last-applied-configuration"])["spec"]["backoffLimit"] == 5


def test_server_side_apply_creates_then_merges(kubectl):
    path = kubectl.manifest("cronjob.yaml")
    assert kubectl("apply", "--server-side", "-f", path) == "cronjob.batch/hello serverside-applied\n"
    kubectl.write("cronjob.yaml", (kubectl.home / path).read_text().replace('"*/1 * * * *"', '"*/5 * * * *"'))
    dry = kubectl("apply", "--server-side", "--dry-run=server", "-f", path)
    assert dry == "cronjob.batch/hello serverside-applied (server dry run)\n"
    assert kubectl("get", "cj", "hello", "-o", "jsonpath={.spec.schedule}") == "*/1 * * * *"
    assert kubectl("apply", "--server-side", "--force-conflicts", "-f", path) == \
        "cronjob.batch/hello serverside-applied\n"
    assert kubectl("get", "cj", "hello", "-o", "jsonpath={.spec.schedule}") == "*/5 * * * *"
    # the defaults the first apply got are still there: the apply merged instead of replacing
    assert kubectl("get", "cj", "hello", "-o", "jsonpath={.spec.concurrencyPolicy}") == "Allow"


def test_dry_run_server_stores_nothing(kubectl):
    assert kubectl("create", "-f", kubectl.manifest("job.yaml"), "--dry-run=server") == \
        "job.batch/pi created (server dry run)\n"
    assert kubectl.run("get", "job", "pi", check=False).returncode == 1
    kubectl("create", "-f", kubectl.manifest("job.yaml"))
    assert kubectl("delete", "job", "pi", "--dry-run=server") == 'job.batch "pi" deleted (server dry run)\n'
    assert kubectl("get", "job", "pi", "-o", "name") == "job.batch/pi\n"


def test_replace(kubectl):
    path = kubectl.manifest("cronjob.yaml")
    kubectl("create", "-f", path)
    kubectl.write("cronjob.yaml", (kubectl.home / path).read_text().replace('"*/1 * * * *"', '"0 * * * *"'))
    assert kubectl("replace", "-f", path) == "cronjob.batch/hello replaced\n"
    assert kubectl("get", "cronjob", "hello", "-o", "jsonpath={.spec.schedule}") == "0 * * * *"


def test_invalid_job_is_reported_as_upstream_does(kubectl):
    result = kubectl.run("create", "-f", kubectl.manifest("bad-job.yaml"), check=False)
    assert result.returncode == 1
    assert result.stderr == (
        'The Job "bad" is invalid: \n'
        "* spec.template.spec.containers[0].image: Required value\n"
        '* spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"\n'
    )


def test_unknown_field_is_refused_by_strict_validation(kubectl):
    path = kubectl.write("typo.yaml", (kubectl.home / kubectl.manifest("job.yaml")).read_text().replace("image: perl", "imagee: perl"))
    result = kubectl.run("create", "-f", path, check=False)
    assert result.returncode == 1
    assert 'strict decoding error: unknown field "spec.template.spec.containers[0].imagee"' in result.stderr
    # --validate=warn: created without the unknown field, and kubectl prints the server's Warning header.
    extra = kubectl.write("extra.yaml", (kubectl.home / kubectl.manifest("job.yaml")).read_text().replace(
        "image: perl:5.34.0", "image: perl:5.34.0\n        imagee: typo"))
    result = kubectl.run("create", "-f", extra, "--validate=warn")
    assert result.stdout == "job.batch/pi created\n"
    assert 'Warning: unknown field "spec.template.spec.containers[0].imagee"\n' in result.stderr


@pytest.mark.parametrize("api_version, kind", [("batch/v2", "Job"), ("apps/v1", "Job"), ("batch/v1", "Jobb")])
@pytest.mark.parametrize("command", ["apply", "create"])
def test_a_wrong_api_version_or_kind_is_named_as_a_real_cluster_names_it(kubectl, command, api_version, kind):
    text = (kubectl.home / kubectl.manifest("job.yaml")).read_text()
    path = kubectl.write("wrong.yaml", text.replace("apiVersion: batch/v1", f"apiVersion: {api_version}")
                        .replace("kind: Job", f"kind: {kind}"))
    result = kubectl.run(command, "-f", path, check=False)
    assert result.returncode == 1
    assert result.stderr == (
        f'error: resource mapping not found for name: "pi" namespace: "" from "{path}": '
        f'no matches for kind "{kind}" in version "{api_version}"\nensure CRDs are installed first\n')


# --- get: output formats and selectors ---------------------------------------------------------------------

def test_get_pods_wide_labels_name_jsonpath(kubectl):
    kubectl("apply", "-f", kubectl.manifest("pod.yaml"))
    assert kubectl("get", "pods", "-o", "wide", "--show-labels") == (
        "NAME   READY   STATUS    RESTARTS   AGE   IP       NODE     NOMINATED NODE   READINESS GATES   LABELS\n"
        "web    0/1     Pending   0          0s    <none>   node-1   <none>           <none>            "
        "app=web,tier=frontend\n"
    )
    assert kubectl("get", "po", "-o", "name") == "pod/web\n"
    assert kubectl("get", "pod", "web", "-o", "jsonpath={.spec.nodeName} {.metadata.labels.app}") == "node-1 web"
    document = json.loads(kubectl("get", "pods", "-o", "json"))
    assert document["kind"] == "List" and [i["metadata"]["name"] for i in document["items"]] == ["web"]
    assert "kind: Pod\n" in kubectl("get", "pod", "web", "-o", "yaml")


def test_label_and_field_selectors_and_all_namespaces(kubectl):
    kubectl("apply", "-f", kubectl.manifest("pod.yaml"))
    kubectl("apply", "-f", kubectl.manifest("counter.yaml"))
    assert kubectl("get", "pods", "-l", "app=web", "-o", "name") == "pod/web\n"
    assert kubectl("get", "pods", "-l", "app!=web", "-o", "name") == "pod/counter\n"
    assert kubectl("get", "pods", "--field-selector", "spec.nodeName=node-1", "-o", "name") == "pod/web\n"
    assert kubectl("get", "pods", "--field-selector", "metadata.name=counter,status.phase!=Failed", "-o",
                   "name") == "pod/counter\n"
    assert kubectl("get", "pods", "-A", "-l", "tier=frontend") == (
        "NAMESPACE   NAME   READY   STATUS    RESTARTS   AGE\n"
        "default     web    0/1     Pending   0          0s\n"
    )
    bad = kubectl.run("get", "pods", "--field-selector", "spec.bogus=1", check=False)
    assert bad.returncode == 1
    assert bad.stderr == "Error from server (BadRequest): Unable to find \"/v1, Resource=pods\" that match label " \
                         "selector \"\", field selector \"spec.bogus=1\": field label not supported: spec.bogus\n"


def test_get_all(kubectl):
    kubectl("create", "-f", kubectl.manifest("job.yaml"))
    kubectl("create", "-f", kubectl.manifest("cronjob.yaml"))
    kubectl("create", "-f", kubectl.manifest("pod.yaml"))
    assert kubectl("get", "all") == (
        "NAME      READY   STATUS    RESTARTS   AGE\n"
        "pod/web   0/1     Pending   0          0s\n"
        "\n"
        "NAME           STATUS    COMPLETIONS   DURATION   AGE\n"
        "job.batch/pi   Running   0/1                      0s\n"
        "\n"
        "NAME                  SCHEDULE      TIMEZONE   SUSPEND   ACTIVE   LAST SCHEDULE   AGE\n"
        "cronjob.batch/hello   */1 * * * *   <none>     False     0        <none>          0s\n"
    )


def test_get_nodes_and_a_completed_job_after_time_passes(kubectl):
    kubectl("create", "-f", kubectl.manifest("job.yaml"))
    kubectl.advance(120)
    assert kubectl("get", "nodes") == (
        "NAME            STATUS   ROLES           AGE   VERSION\n"
        "control-plane   Ready    control-plane   2m    v1.32.0\n"
        "node-1          Ready    <none>          2m    v1.32.0\n"
        "node-2          Ready    <none>          2m    v1.32.0\n"
    )
    lines = kubectl("get", "jobs").splitlines()
    assert lines[0] == "NAME   STATUS     COMPLETIONS   DURATION   AGE"
    name, status, completions, duration, age = lines[1].split()
    assert (name, status, completions, age) == ("pi", "Complete", "1/1", "2m")
    assert duration.endswith("s")
    pods = kubectl("get", "pods", "-l", "job-name=pi").splitlines()
    assert pods[0] == "NAME       READY   STATUS      RESTARTS   AGE"
    assert pods[1].startswith("pi-") and pods[1].split()[1:] == ["0/1", "Completed", "0", "2m"]


def test_events_and_controllerrevisions(kubectl):
    kubectl("create", "-f", kubectl.manifest("job.yaml"))
    kubectl.advance(30)
    events = kubectl("get", "events", "--field-selector", "involvedObject.kind=Job").splitlines()
    assert events[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert any("SuccessfulCreate" in line and "job/pi" in line for line in events[1:])
    assert kubectl.run("get", "controllerrevisions").stderr == "No resources found in default namespace.\n"


# --- changing objects in place -----------------------------------------------------------------------------

def test_label_annotate_and_patch(kubectl):
    kubectl("create", "-f", kubectl.manifest("job.yaml"))
    assert kubectl("label", "job", "pi", "color=red") == "job.batch/pi labeled\n"
    assert kubectl("annotate", "job", "pi", "note=hello") == "job.batch/pi annotated\n"
    assert kubectl("get", "job", "pi", "-o", "jsonpath={.metadata.labels.color} {.metadata.annotations.note}") \
        == "red hello"
    assert kubectl("label", "job", "pi", "color-") == "job.batch/pi unlabeled\n"
    patch = '{"metadata":{"labels":{"tier":"batch"}}}'
    assert kubectl("patch", "job", "pi", "-p", patch) == "job.batch/pi patched\n"
    assert kubectl("patch", "job", "pi", "-p", patch) == "job.batch/pi patched (no change)\n"
    assert kubectl("patch", "job", "pi", "--type=merge", "-p", '{"spec":{"backoffLimit":2}}') == \
        "job.batch/pi patched\n"
    assert kubectl("patch", "job", "pi", "--type=json", "-p",
                   '[{"op":"replace","path":"/spec/backoffLimit","value":3}]') == "job.batch/pi patched\n"
    assert kubectl("get", "job", "pi", "-o", "jsonpath={.spec.backoffLimit} {.metadata.labels.tier}") == "3 batch"
    # kubectl 1.32's patch sets its operation after the dry-run suffix, so the suffix is lost (as on a real cluster)
    assert kubectl("patch", "job", "pi", "--dry-run=server", "--type=merge", "-p", '{"spec":{"backoffLimit":9}}') \
        == "job.batch/pi patched\n"
    assert kubectl("get", "job", "pi", "-o", "jsonpath={.spec.backoffLimit}") == "3"


def test_cordon_uncordon_and_taint_a_node(kubectl):
    assert kubectl("cordon", "node-1") == "node/node-1 cordoned\n"
    assert kubectl("get", "node", "node-1") == (
        "NAME     STATUS                     ROLES    AGE   VERSION\n"
        "node-1   Ready,SchedulingDisabled   <none>   0s    v1.32.0\n"
    )
    assert kubectl("cordon", "node-1") == "node/node-1 already cordoned\n"
    assert kubectl("uncordon", "node-1") == "node/node-1 uncordoned\n"
    assert kubectl("taint", "nodes", "node-1", "dedicated=gpu:NoSchedule") == "node/node-1 tainted\n"
    assert kubectl("get", "node", "node-1", "-o", "jsonpath={.spec.taints}") == \
        '[{"effect":"NoSchedule","key":"dedicated","value":"gpu"}]'
    assert kubectl("taint", "nodes", "node-1", "dedicated=gpu:NoSchedule-") == "node/node-1 untainted\n"
    assert kubectl("get", "node", "node-1", "-o", "jsonpath={.spec.taints}") == ""
    assert kubectl("label", "node", "node-1", "disk=ssd") == "node/node-1 labeled\n"


# --- typed-client commands: protobuf bodies ----------------------------------------------------------------

def test_create_job_from_cronjob(kubectl):
    kubectl("create", "-f", kubectl.manifest("cronjob.yaml"))
    assert kubectl("create", "job", "manual", "--from=cronjob/hello") == "job.batch/manual created\n"
    job = json.loads(kubectl("get", "job", "manual", "-o", "json"))
    cronjob = json.loads(kubectl("get", "cronjob", "hello", "-o", "json"))
    assert job["metadata"]["annotations"] == {"cronjob.kubernetes.io/instantiate": "manual"}
    assert job["metadata"]["ownerReferences"] == [{
        "apiVersion": "batch/v1", "kind": "CronJob", "name": "hello", "uid": cronjob["metadata"]["uid"],
        "controller": True,
    }]
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["/bin/sh", "-c", "date; echo Hello from the Kubernetes cluster"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "OnFailure"
    assert job["spec"]["selector"] == {"matchLabels": {
        "batch.kubernetes.io/controller-uid": job["metadata"]["uid"]}}


def test_create_cronjob_namespace_and_job_imperatively(kubectl):
    assert kubectl("create", "namespace", "team-a") == "namespace/team-a created\n"
    assert kubectl("create", "cronjob", "tick", "--image=busybox:1.36", "--schedule=*/5 * * * *", "-n", "team-a",
                   "--", "echo", "tick") == "cronjob.batch/tick created\n"
    cronjob = json.loads(kubectl("get", "cj", "tick", "-n", "team-a", "-o", "json"))
    assert cronjob["spec"]["schedule"] == "*/5 * * * *"
    assert cronjob["spec"]["jobTemplate"]["metadata"] == {"name": "tick", "creationTimestamp": None}
    container = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert (container["name"], container["image"], container["command"]) == ("tick", "busybox:1.36",
                                                                              ["echo", "tick"])
    assert kubectl("create", "job", "once", "--image=busybox:1.36", "--", "echo", "hi") == "job.batch/once created\n"
    assert kubectl("get", "job", "once", "-o", "jsonpath={.spec.template.spec.restartPolicy}") == "Never"


# --- describe ----------------------------------------------------------------------------------------------

def _sections(text: str) -> list[str]:
    return [line.split(":")[0] for line in text.splitlines() if line and not line.startswith(" ") and ":" in line]


def test_describe_job_and_cronjob(kubectl):
    kubectl("create", "-f", kubectl.manifest("job.yaml"))
    kubectl("create", "-f", kubectl.manifest("cronjob.yaml"))
    kubectl.advance(60)
    job = kubectl("describe", "job", "pi")
    assert job.startswith("Name:             pi\nNamespace:        default\n")
    assert "Pods Statuses:    0 Active (0 Ready) / 1 Succeeded / 0 Failed\n" in job
    assert "Normal  SuccessfulCreate" in job and "job-controller  Created pod: pi-" in job
    for section in ("Selector", "Labels", "Parallelism", "Completions", "Start Time", "Completed At", "Duration",
                    "Pod Template", "Events"):
        assert section in _sections(job)
    cronjob = kubectl("describe", "cronjob", "hello")
    assert "Schedule:                      */1 * * * *\n" in cronjob
    assert "Concurrency Policy:            Allow\n" in cronjob


def test_describe_pod_and_node(kubectl):
    kubectl("apply", "-f", kubectl.manifest("counter.yaml"))
    kubectl.advance(20)
    pod = kubectl("describe", "pod", "counter")
    for section in ("Name", "Namespace", "Node", "Start Time", "Status", "IP", "Containers", "Conditions",
                    "QoS Class", "Events"):
        assert section in _sections(pod)
    assert "Status:           Succeeded\n" in pod
    assert "      Reason:       Completed\n      Exit Code:    0\n" in pod
    node_name = json.loads(kubectl("get", "pod", "counter", "-o", "json"))["spec"]["nodeName"]
    node = kubectl("describe", "node", node_name)
    for section in ("Name", "Roles", "Labels", "Taints", "Unschedulable", "Lease", "Conditions", "Addresses",
                    "Capacity", "Allocatable", "System Info", "Non-terminated Pods", "Allocated resources",
                    "Events"):
        assert section in _sections(node), section
    assert f"  HolderIdentity:  {node_name}\n" in node
    assert "Failed to get lease" not in node
    assert "  cpu:                4\n" in node


# --- logs --------------------------------------------------------------------------------------------------

def test_logs_of_a_job_and_by_label(kubectl):
    kubectl("create", "-f", kubectl.manifest("job.yaml"))
    kubectl.advance(60)
    digits = kubectl("logs", "job/pi")
    assert digits.startswith("3.14159265358979323846264338327950288419716939937510")
    assert digits.count("\n") == 1
    assert kubectl("logs", "-l", "job-name=pi") == digits
    assert kubectl("logs", "job/pi", "--tail=0") == ""
    previous = kubectl.run("logs", "job/pi", "--previous", check=False)
    assert previous.returncode == 1
    pod = kubectl("get", "pods", "-l", "job-name=pi", "-o", "jsonpath={.items[0].metadata.name}")
    assert previous.stderr == f'Error from server (BadRequest): previous terminated container "pi" in pod ' \
                              f'"{pod}" not found\n'


def _advance_until_running(kubectl, pod: str):
    for _ in range(30):
        if kubectl("get", "pod", pod, "-o", "jsonpath={.status.phase}") == "Running":
            return
        kubectl.advance(0.5)
    raise AssertionError(f"pod {pod} never ran")


def test_logs_follow_streams_until_the_container_ends(kubectl):
    kubectl("apply", "-f", kubectl.manifest("counter.yaml"))
    _advance_until_running(kubectl, "counter")
    follower = kubectl.popen("logs", "-f", "counter")
    try:
        assert follower.stdout.readline() == "one\n"
        kubectl.advance(6)
        assert follower.stdout.readline() == "two\n"
        assert follower.poll() is None  # still following: the container is running
        kubectl.advance(10)
        assert follower.stdout.readline() == "three\n"
        assert follower.wait(timeout=10) == 0
        assert kubectl("logs", "counter", "--tail=1") == "three\n"
    finally:
        follower.kill()
        follower.communicate()


# --- watch: get -w, delete --wait --------------------------------------------------------------------------

def test_get_watch_prints_changes_as_rows(kubectl):
    kubectl("create", "-f", kubectl.manifest("job.yaml"))
    watcher = kubectl.popen("get", "jobs", "-w")
    try:
        assert watcher.stdout.readline() == JOBS_HEADER + "\n"
        assert watcher.stdout.readline() == "pi     Running   0/1                      0s\n"
        kubectl("label", "job", "pi", "color=red")
        assert watcher.stdout.readline() == "pi     Running   0/1                      0s\n"
        kubectl("delete", "job", "pi")
        assert watcher.stdout.readline() == "pi     Running   0/1                      0s\n"
        assert watcher.poll() is None  # a watch without timeoutSeconds never ends on its own
    finally:
        watcher.kill()
        watcher.communicate()


def test_get_watch_with_events_selector_and_single_object(kubectl):
    kubectl("apply", "-f", kubectl.manifest("pod.yaml"))
    kubectl("apply", "-f", kubectl.manifest("counter.yaml"))
    by_label = kubectl.popen("get", "pods", "-w", "-l", "app=web", "--output-watch-events")
    by_name = kubectl.popen("get", "pod", "counter", "-w")
    try:
        assert by_label.stdout.readline().split() == ["EVENT", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
        assert by_label.stdout.readline().split() == ["ADDED", "web", "0/1", "Pending", "0", "0s"]
        assert by_name.stdout.readline().split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
        assert by_name.stdout.readline().split() == ["counter", "0/1", "Pending", "0", "0s"]
        kubectl("label", "pod", "counter", "app=web")  # counter starts matching the selector
        assert by_label.stdout.readline().split() == ["ADDED", "counter", "0/1", "Pending", "0", "0s"]
        assert by_name.stdout.readline().split() == ["counter", "0/1", "Pending", "0", "0s"]
        kubectl("label", "pod", "counter", "app-")  # ... and stops matching: upstream reports a DELETED
        assert by_label.stdout.readline().split() == ["DELETED", "counter", "0/1", "Pending", "0", "0s"]
    finally:
        for process in (by_label, by_name):
            process.kill()
            process.communicate()


def test_delete_waits_for_a_graceful_pod_deletion(kubectl):
    kubectl("apply", "-f", kubectl.manifest("pod.yaml"))
    _advance_until_running(kubectl, "web")
    deleter = kubectl.popen("delete", "pod", "web")
    try:
        assert deleter.stdout.readline() == 'pod "web" deleted\n'
        time.sleep(0.5)
        assert deleter.poll() is None  # waiting for the kubelet to stop the container (30 s grace)
        kubectl.advance(31)
        assert deleter.wait(timeout=10) == 0
    finally:
        deleter.kill()
        deleter.communicate()
    assert kubectl.run("get", "pod", "web", check=False).returncode == 1


def test_delete_cascades_to_the_jobs_pods(kubectl):
    kubectl("create", "-f", kubectl.manifest("job.yaml"))
    kubectl.advance(60)
    assert kubectl("get", "pods", "-o", "name").startswith("pod/pi-")
    assert kubectl("delete", "-f", kubectl.manifest("job.yaml")) == 'job.batch "pi" deleted\n'
    wait_for(lambda: kubectl.run("get", "pods").stderr == "No resources found in default namespace.\n")


JOB_DELETE_WARNING = ("Warning: child pods are preserved by default when jobs are deleted; set "
                      "propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this "
                      "warning\n")
PODS_AND_OWNERS = ('jsonpath={range .items[*]}{.metadata.name} {.status.phase} finalizers={.metadata.finalizers} '
                   'owners={.metadata.ownerReferences[*].name}{"\\n"}{end}')


def _running_sleepy_job(kubectl) -> list[str]:
    kubectl("create", "-f", kubectl.manifest("sleepy-job.yaml"))
    kubectl.advance(30)
    pods = kubectl("get", "pods", "-l", "job-name=sleepy", "-o", "name").split()
    assert len(pods) == 2
    return sorted(p.removeprefix("pod/") for p in pods)


def test_deleting_a_running_job_takes_its_pods_once_their_grace_period_is_over(kubectl):
    pods = _running_sleepy_job(kubectl)
    deleted = kubectl.run("delete", "job", "sleepy")
    assert (deleted.stdout, deleted.stderr) == ('job.batch "sleepy" deleted\n', "")  # kubectl names Background
    kubectl.advance(1)
    listing = kubectl("get", "pods", "-l", "job-name=sleepy").splitlines()[1:]
    assert [line.split()[:3] for line in listing] == [[pod, "1/1", "Terminating"] for pod in pods]
    assert kubectl("get", "pods", "-o", PODS_AND_OWNERS) == "".join(
        f"{pod} Running finalizers= owners=sleepy\n" for pod in pods)  # the Job controller released them
    kubectl.advance(30)
    assert kubectl.run("get", "pods").stderr == "No resources found in default namespace.\n"


def test_delete_cascade_orphan_keeps_the_pods_without_the_finalizer_and_the_owner_reference(kubectl):
    pods = _running_sleepy_job(kubectl)
    assert kubectl("delete", "job", "sleepy", "--cascade=orphan") == 'job.batch "sleepy" deleted\n'
    kubectl.advance(1)
    assert kubectl("get", "pods", "-o", PODS_AND_OWNERS) == "".join(
        f"{pod} Running finalizers= owners=\n" for pod in pods)
    kubectl.advance(300)
    assert kubectl("get", "pods", "-o", PODS_AND_OWNERS) == "".join(
        f"{pod} Succeeded finalizers= owners=\n" for pod in pods)


def test_deleting_a_job_without_a_propagation_policy_warns_and_keeps_its_pods(kubectl):
    pods = _running_sleepy_job(kubectl)
    # kubectl's --raw path is the server's own (the cluster's URL prefix included); no DeleteOptions are sent
    path = f"/clusters/{kubectl.cluster}/apis/batch/v1/namespaces/default/jobs/sleepy"
    deleted = kubectl.run("delete", "--raw", path)
    assert deleted.stderr == JOB_DELETE_WARNING
    assert json.loads(deleted.stdout)["status"] == "Success"
    kubectl.advance(1)
    assert kubectl.run("get", "jobs").stderr == "No resources found in default namespace.\n"
    assert kubectl("get", "pods", "-o", PODS_AND_OWNERS) == "".join(
        f"{pod} Running finalizers= owners=\n" for pod in pods)


# --- what a simulated cluster cannot do --------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (("exec", "web", "--", "ls"),
     "Error from server (MethodNotAllowed): pods/exec is not available: this is a simulated kubeviz cluster whose "
     "containers do not really run, so it cannot exec into containers\n"),
    (("port-forward", "pod/web", "8080:80"),
     "error: error upgrading connection: pods/portforward is not available: this is a simulated kubeviz cluster "
     "whose containers do not really run, so it cannot forward ports\n"),
], ids=["exec", "port-forward"])
def test_container_streams_fail_fast_with_a_clear_message(kubectl, args, message):
    kubectl("apply", "-f", kubectl.manifest("pod.yaml"))
    kubectl.advance(10)
    started = time.monotonic()
    result = kubectl.run(*args, check=False, timeout=20)
    assert time.monotonic() - started < 10
    assert result.returncode == 1
    assert result.stderr.endswith(message)


# --- the downloadable kubeconfig ---------------------------------------------------------------------------

def test_downloaded_kubeconfig_works(kubectl):
    import urllib.request

    with urllib.request.urlopen(f"{kubectl.base}/sim/clusters/{kubectl.cluster}/kubeconfig") as response:
        assert response.headers["Content-Disposition"] == \
            f'attachment; filename="kubeconfig-{kubectl.cluster}.yaml"'
        (kubectl.home / "downloaded").write_bytes(response.read())
    config = str(kubectl.home / "downloaded")
    assert kubectl.run("--kubeconfig", config, "get", "nodes", "-o", "name", server=False).stdout == \
        "node/control-plane\nnode/node-1\nnode/node-2\n"
    assert kubectl.run("--kubeconfig", config, "config", "current-context", server=False).stdout == \
        f"{kubectl.cluster}\n"


def test_daemonset_get_and_describe(kubectl):
    assert kubectl("apply", "-f", kubectl.manifest("daemonset.yaml")) == "daemonset.apps/agent created\n"
    assert kubectl("get", "ds").splitlines()[0].split() == [
        "NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE", "SELECTOR", "AGE"]
    assert kubectl("get", "ds", "agent", "-o", "jsonpath={.spec.updateStrategy.type}") == "RollingUpdate"
    described = kubectl("describe", "ds", "agent")
    assert described.startswith("Name:           agent\nSelector:       app=agent\n")
    for section in ("Node-Selector", "Labels", "Annotations", "Desired Number of Nodes Scheduled",
                    "Current Number of Nodes Scheduled", "Pods Status", "Pod Template", "Events"):
        assert section in _sections(described), section


def test_rollout_status_history_and_undo_of_a_daemonset(kubectl):
    kubectl("apply", "-f", kubectl.manifest("daemonset.yaml"))
    kubectl.advance(60)
    assert kubectl("rollout", "status", "ds/agent", timeout=30) == 'daemon set "agent" successfully rolled out\n'
    assert kubectl("set", "image", "ds/agent", "agent=fluentd:v1.17") == "daemonset.apps/agent image updated\n"
    kubectl.advance(1)
    waiting = kubectl("rollout", "status", "ds/agent", "--watch=false", timeout=30)
    assert waiting.startswith('Waiting for daemon set "agent" rollout to finish: ')
    kubectl.advance(120)
    assert kubectl("rollout", "status", "ds/agent", timeout=30) == 'daemon set "agent" successfully rolled out\n'
    history = kubectl("rollout", "history", "ds/agent").splitlines()
    assert history[0].strip() == "daemonset.apps/agent"
    assert [line.split() for line in history[1:] if line.strip()] == [
        ["REVISION", "CHANGE-CAUSE"], ["1", "<none>"], ["2", "<none>"]]
    assert kubectl("rollout", "undo", "ds/agent") == "daemonset.apps/agent rolled back\n"
    kubectl.advance(120)
    images = {p["spec"]["containers"][0]["image"]
              for p in json.loads(kubectl("get", "pods", "-l", "app=agent", "-o", "json"))["items"]}
    assert images == {"fluentd:v1.16"}
    revisions = [line.split()[0] for line in kubectl("rollout", "history", "ds/agent").splitlines()[2:] if line.strip()]
    assert revisions == ["2", "3"]  # the old revision came back as number 3
