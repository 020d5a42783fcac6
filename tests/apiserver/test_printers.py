"""Server-side printing (apiserver/printers.py) against 1.32 printers.go and kubectl's table printer.

Every expectation is an exact cell or an exact block of text. Case ids follow the branch of upstream's
``printPod`` / ``printJob`` / ... they exercise.
"""

from datetime import datetime, timedelta, timezone

import pytest

from controllers.apimachinery.timeutil import format_rfc3339, format_rfc3339_micro
from apiserver.kinds import table
from apiserver.printers import (
    accepts_table,
    include_object_param,
    negotiate_table_version,
    render_text,
)

NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=timezone.utc)


def ago(seconds: float) -> str:
    return format_rfc3339(NOW - timedelta(seconds=seconds))


def meta(name: str = "x", age: float = 60, **extra) -> dict:
    return {"name": name, "namespace": "default", "creationTimestamp": ago(age), **extra}


def cells(kind: str, obj: dict) -> list:
    return table(kind, [obj], NOW)["rows"][0]["cells"]


# --- columns ------------------------------------------------------------------------------------------------

COLUMNS = {
    "Pod": [("Name", 0), ("Ready", 0), ("Status", 0), ("Restarts", 0), ("Age", 0), ("IP", 1), ("Node", 1),
            ("Nominated Node", 1), ("Readiness Gates", 1)],
    "Node": [("Name", 0), ("Status", 0), ("Roles", 0), ("Age", 0), ("Version", 0), ("Internal-IP", 1),
             ("External-IP", 1), ("OS-Image", 1), ("Kernel-Version", 1), ("Container-Runtime", 1)],
    "Job": [("Name", 0), ("Status", 0), ("Completions", 0), ("Duration", 0), ("Age", 0), ("Containers", 1),
            ("Images", 1), ("Selector", 1)],
    "CronJob": [("Name", 0), ("Schedule", 0), ("Timezone", 0), ("Suspend", 0), ("Active", 0), ("Last Schedule", 0),
                ("Age", 0), ("Containers", 1), ("Images", 1), ("Selector", 1)],
    "DaemonSet": [("Name", 0), ("Desired", 0), ("Current", 0), ("Ready", 0), ("Up-to-date", 0), ("Available", 0),
                  ("Node Selector", 0), ("Age", 0), ("Containers", 1), ("Images", 1), ("Selector", 1)],
    "Event": [("Last Seen", 0), ("Type", 0), ("Reason", 0), ("Object", 0), ("Subobject", 1), ("Source", 1),
              ("Message", 0), ("First Seen", 1), ("Count", 1), ("Name", 1)],
    "ControllerRevision": [("Name", 0), ("Controller", 0), ("Revision", 0), ("Age", 0)],
    "Namespace": [("Name", 0), ("Status", 0), ("Age", 0)],
    "Lease": [("Name", 0), ("Holder", 0), ("Age", 0)],
    "ResourceQuota": [("Name", 0), ("Age", 0), ("Request", 0), ("Limit", 0)],
    "ConfigMap": [("Name", 0), ("Created At", 0)],  # no printer: rest.DefaultTableConvertor
}


@pytest.mark.parametrize("kind", list(COLUMNS))
def test_column_definitions(kind):
    columns = table(kind, [], NOW)["columnDefinitions"]
    assert [(c["name"], c["priority"]) for c in columns] == COLUMNS[kind]
    for column in columns:
        assert list(column) == ["name", "type", "format", "description", "priority"]
        assert column["description"]


def test_column_types_and_formats():
    by_name = {c["name"]: c for c in table("Pod", [], NOW)["columnDefinitions"]}
    assert by_name["Name"]["format"] == "name"
    assert by_name["Restarts"]["type"] == "string"  # a string since "2 (5m ago)" (1.22)
    assert {c["name"]: c["type"] for c in table("CronJob", [], NOW)["columnDefinitions"]}["Suspend"] == "boolean"
    assert {c["name"]: c["type"] for c in table("DaemonSet", [], NOW)["columnDefinitions"]}["Desired"] == "integer"
    events = {c["name"]: c for c in table("Event", [], NOW)["columnDefinitions"]}
    assert events["Name"]["format"] == "name" and events["Last Seen"]["format"] == ""
    created = table("ConfigMap", [], NOW)["columnDefinitions"][1]
    assert created["type"] == "date"


# --- AGE ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seconds,expected", [
    (0, "0s"),
    (-0.5, "0s"),
    (-2, "<invalid>"),
    (119, "119s"),
    (120, "2m"),
    (121, "2m1s"),
    (599, "9m59s"),
    (600, "10m"),
    (3 * 3600 - 1, "179m"),
    (3 * 3600, "3h"),
    (7 * 3600 + 59 * 60, "7h59m"),
    (8 * 3600, "8h"),
    (48 * 3600 - 1, "47h"),
    (48 * 3600, "2d"),
    (8 * 86400 - 3600, "7d23h"),
    (8 * 86400, "8d"),
    (730 * 86400, "2y"),
    (731 * 86400, "2y1d"),
], ids=lambda v: str(v))
def test_age_boundaries(seconds, expected):
    ns = {"metadata": {"name": "n", "creationTimestamp": format_rfc3339(NOW - timedelta(seconds=seconds))},
          "status": {"phase": "Active"}}
    if seconds == -0.5:  # timestamps have whole seconds; pass a datetime to test the sub-second skew branch
        ns["metadata"]["creationTimestamp"] = NOW + timedelta(seconds=0.5)
    assert cells("Namespace", ns)[2] == expected


@pytest.mark.parametrize("timestamp", [None, "", "0001-01-01T00:00:00Z"], ids=["missing", "empty", "go zero time"])
def test_age_unknown(timestamp):
    ns = {"metadata": {"name": "n", "creationTimestamp": timestamp}, "status": {"phase": "Active"}}
    assert cells("Namespace", ns) == ["n", "Active", "<unknown>"]


# --- pods -----------------------------------------------------------------------------------------------------

def pod(*, phase="Running", statuses=None, init_statuses=None, init_containers=None, conditions=None,
        deletion=False, reason=None, containers=("c",), **status_extra) -> dict:
    spec = {"containers": [{"name": n, "image": "busybox"} for n in containers], "nodeName": "worker-1"}
    if init_containers:
        spec["initContainers"] = init_containers
    status = {"phase": phase, **status_extra}
    if statuses is not None:
        status["containerStatuses"] = statuses
    if init_statuses is not None:
        status["initContainerStatuses"] = init_statuses
    if conditions is not None:
        status["conditions"] = conditions
    if reason:
        status["reason"] = reason
    metadata = meta("p", 300)
    if deletion:
        metadata["deletionTimestamp"] = ago(5)
    return {"metadata": metadata, "spec": spec, "status": status}


def cs(name="c", *, ready=False, restarts=0, state=None, last=None) -> dict:
    status = {"name": name, "ready": ready, "restartCount": restarts, "state": state or {}}
    if last is not None:
        status["lastState"] = {"terminated": last}
    return status


RUNNING = {"running": {"startedAt": ago(60)}}
READY_TRUE = [{"type": "Ready", "status": "True"}]

POD_STATUS_CASES = [
    ("Pending (unscheduled, no statuses)", pod(phase="Pending"), "0/1", "Pending"),
    ("ContainerCreating", pod(phase="Pending", statuses=[cs(state={"waiting": {"reason": "ContainerCreating"}})]),
     "0/1", "ContainerCreating"),
    ("Running", pod(statuses=[cs(ready=True, state=RUNNING)], conditions=READY_TRUE), "1/1", "Running"),
    ("running but not ready", pod(statuses=[cs(ready=False, state=RUNNING)]), "0/1", "Running"),
    ("Completed", pod(phase="Succeeded", statuses=[cs(state={"terminated": {"exitCode": 0, "reason": "Completed"}})]),
     "0/1", "Completed"),
    ("Error", pod(phase="Failed", statuses=[cs(state={"terminated": {"exitCode": 1, "reason": "Error"}})]),
     "0/1", "Error"),
    ("CrashLoopBackOff", pod(statuses=[cs(restarts=2, state={"waiting": {"reason": "CrashLoopBackOff"}})]),
     "0/1", "CrashLoopBackOff"),
    ("ExitCode:N (terminated without reason)", pod(statuses=[cs(state={"terminated": {"exitCode": 3}})]),
     "0/1", "ExitCode:3"),
    ("Signal:N", pod(statuses=[cs(state={"terminated": {"exitCode": 137, "signal": 9}})]), "0/1", "Signal:9"),
    ("Terminating", pod(statuses=[cs(ready=True, state=RUNNING)], conditions=READY_TRUE, deletion=True),
     "1/1", "Terminating"),
    ("deleted Succeeded pod is not Terminating",
     pod(phase="Succeeded", deletion=True, statuses=[cs(state={"terminated": {"exitCode": 0, "reason": "Completed"}})]),
     "0/1", "Completed"),
    ("Unknown (node lost while deleted)", pod(reason="NodeLost", deletion=True), "0/1", "Unknown"),
    ("Evicted (status.reason)", pod(phase="Failed", reason="Evicted"), "0/1", "Evicted"),
    ("Init:0/1", pod(phase="Pending", init_containers=[{"name": "init", "image": "busybox"}],
                     init_statuses=[cs("init", state={"running": {}})],
                     statuses=[cs(state={"waiting": {"reason": "PodInitializing"}})]), "0/1", "Init:0/1"),
    ("Init:CrashLoopBackOff", pod(phase="Pending", init_containers=[{"name": "init", "image": "busybox"}],
                                  init_statuses=[cs("init", state={"waiting": {"reason": "CrashLoopBackOff"}})]),
     "0/1", "Init:CrashLoopBackOff"),
    ("Init:ExitCode:N", pod(phase="Pending", init_containers=[{"name": "init", "image": "busybox"}],
                            init_statuses=[cs("init", state={"terminated": {"exitCode": 2}})]), "0/1",
     "Init:ExitCode:2"),
    ("PodInitializing is not shown as Init:",
     pod(phase="Pending", init_containers=[{"name": "init", "image": "busybox"}],
         init_statuses=[cs("init", state={"waiting": {"reason": "PodInitializing"}})]), "0/1", "Init:0/1"),
    ("NotReady (Completed while another container runs, pod not Ready)",
     pod(containers=("a", "b"), statuses=[cs("a", state={"terminated": {"exitCode": 0, "reason": "Completed"}}),
                                          cs("b", ready=True, state=RUNNING)]), "1/2", "NotReady"),
    ("Running (Completed while another container runs, pod Ready)",
     pod(containers=("a", "b"), conditions=READY_TRUE,
         statuses=[cs("a", state={"terminated": {"exitCode": 0, "reason": "Completed"}}),
                   cs("b", ready=True, state=RUNNING)]), "1/2", "Running"),
    ("first container in spec order wins",
     pod(containers=("a", "b"), statuses=[cs("a", state={"waiting": {"reason": "ErrImagePull"}}),
                                          cs("b", state={"terminated": {"exitCode": 1, "reason": "Error"}})]),
     "0/2", "ErrImagePull"),
    ("SchedulingGated", pod(phase="Pending", conditions=[{"type": "PodScheduled", "status": "False",
                                                          "reason": "SchedulingGated"}]), "0/1", "SchedulingGated"),
]


@pytest.mark.parametrize("case,obj,ready,status", POD_STATUS_CASES, ids=[c[0] for c in POD_STATUS_CASES])
def test_pod_ready_and_status(case, obj, ready, status):
    row = cells("Pod", obj)
    assert (row[1], row[2]) == (ready, status)


@pytest.mark.parametrize("statuses,expected", [
    ([cs(restarts=0, state=RUNNING)], "0"),
    ([cs(restarts=2, state={"waiting": {"reason": "CrashLoopBackOff"}})], "2"),
    ([cs(restarts=2, state={"waiting": {"reason": "CrashLoopBackOff"}},
         last={"exitCode": 1, "reason": "Error", "finishedAt": ago(300)})], "2 (5m ago)"),
    ([cs(restarts=1, state=RUNNING, last={"exitCode": 1, "reason": "Error", "finishedAt": ago(10)})], "1 (10s ago)"),
    ([cs(restarts=0, state=RUNNING, last={"exitCode": 1, "finishedAt": ago(10)})], "0"),
], ids=["no restarts", "restarts without last termination", "2 (5m ago)", "1 (10s ago)",
        "last termination but zero restarts"])
def test_pod_restarts(statuses, expected):
    assert cells("Pod", pod(statuses=statuses))[3] == expected


def test_pod_restarts_sum_and_latest_termination():
    obj = pod(containers=("a", "b"), statuses=[
        cs("a", restarts=1, state=RUNNING, last={"exitCode": 1, "finishedAt": ago(600)}),
        cs("b", restarts=3, state=RUNNING, last={"exitCode": 1, "finishedAt": ago(45)}),
    ])
    assert cells("Pod", obj)[3] == "4 (45s ago)"


def test_pod_wide_cells():
    obj = pod(statuses=[cs(ready=True, state=RUNNING)], conditions=READY_TRUE + [{"type": "gate/a", "status": "True"}],
              podIP="10.244.1.5", podIPs=[{"ip": "10.244.1.5"}], nominatedNodeName="worker-2")
    obj["spec"]["readinessGates"] = [{"conditionType": "gate/a"}, {"conditionType": "gate/b"}]
    assert cells("Pod", obj) == ["p", "1/1", "Running", "0", "5m", "10.244.1.5", "worker-1", "worker-2", "1/2"]


def test_pod_wide_cells_none():
    obj = pod(phase="Pending")
    del obj["spec"]["nodeName"]
    assert cells("Pod", obj)[5:] == ["<none>", "<none>", "<none>", "<none>"]


@pytest.mark.parametrize("status,expected", [
    ({"podIPs": [{"ip": "10.0.0.9"}]}, "10.0.0.9"),
    ({"podIP": "10.0.0.8"}, "10.0.0.8"),
    ({"podIP": "10.0.0.8", "podIPs": [{"ip": "10.0.0.9"}]}, "10.0.0.8"),  # podIP is authoritative on conversion
])
def test_pod_ip(status, expected):
    assert cells("Pod", pod(**status))[5] == expected


def test_pod_row_conditions():
    rows = table("Pod", [pod(phase="Succeeded"), pod(phase="Failed"), pod()], NOW)["rows"]
    assert rows[0]["conditions"] == [{"type": "Completed", "status": "True", "reason": "Succeeded",
                                      "message": "The pod has completed successfully."}]
    assert rows[1]["conditions"] == [{"type": "Completed", "status": "True", "reason": "Failed",
                                      "message": "The pod failed."}]
    assert "conditions" not in rows[2]
    assert list(rows[0]) == ["cells", "conditions", "object"]


# --- nodes ----------------------------------------------------------------------------------------------------

def node(*, ready="True", unschedulable=False, labels=None, addresses=None, info=None) -> dict:
    status = {"nodeInfo": info if info is not None else {
        "kubeletVersion": "v1.32.0", "osImage": "Debian GNU/Linux 12 (bookworm)",
        "kernelVersion": "6.1.0-18-amd64", "containerRuntimeVersion": "containerd://1.7.13"}}
    if ready is not None:
        status["conditions"] = [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": ready}]
    if addresses is not None:
        status["addresses"] = addresses
    return {"metadata": meta("worker-1", 3600, labels=labels or {}),
            "spec": {"unschedulable": True} if unschedulable else {}, "status": status}


@pytest.mark.parametrize("kwargs,expected", [
    ({"ready": "True"}, "Ready"),
    ({"ready": "False"}, "NotReady"),
    ({"ready": "Unknown"}, "NotReady"),
    ({"ready": None}, "Unknown"),
    ({"ready": "True", "unschedulable": True}, "Ready,SchedulingDisabled"),
    ({"ready": None, "unschedulable": True}, "Unknown,SchedulingDisabled"),
], ids=["Ready", "NotReady", "Ready=Unknown is NotReady", "no Ready condition", "cordoned", "unknown and cordoned"])
def test_node_status(kwargs, expected):
    assert cells("Node", node(**kwargs))[1] == expected


@pytest.mark.parametrize("labels,expected", [
    ({}, "<none>"),
    ({"node-role.kubernetes.io/control-plane": ""}, "control-plane"),
    ({"node-role.kubernetes.io/worker": "", "node-role.kubernetes.io/infra": "true"}, "infra,worker"),
    ({"kubernetes.io/role": "master"}, "master"),
    ({"kubernetes.io/role": ""}, "<none>"),
    ({"node-role.kubernetes.io/": ""}, "<none>"),
    ({"kubernetes.io/role": "worker", "node-role.kubernetes.io/worker": ""}, "worker"),
], ids=["no roles", "control-plane", "sorted", "kubernetes.io/role", "empty role value", "empty role suffix",
        "deduplicated"])
def test_node_roles(labels, expected):
    assert cells("Node", node(labels=labels))[2] == expected


def test_node_cells_wide():
    obj = node(addresses=[{"type": "Hostname", "address": "worker-1"}, {"type": "InternalIP", "address": "172.18.0.3"}])
    assert cells("Node", obj) == ["worker-1", "Ready", "<none>", "60m", "v1.32.0", "172.18.0.3", "<none>",
                                  "Debian GNU/Linux 12 (bookworm)", "6.1.0-18-amd64", "containerd://1.7.13"]


def test_node_cells_unknown_info():
    assert cells("Node", node(info={}))[4:] == ["", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"]


# --- jobs -----------------------------------------------------------------------------------------------------

def job(*, conditions=None, deletion=False, completions=1, parallelism=1, succeeded=0, start=None,
        completion=None, selector=None) -> dict:
    metadata = meta("pi", 600)
    if deletion:
        metadata["deletionTimestamp"] = ago(1)
    spec = {"parallelism": parallelism,
            "template": {"spec": {"containers": [{"name": "pi", "image": "perl:5.34.0"},
                                                 {"name": "side", "image": "busybox"}]}}}
    if completions is not None:
        spec["completions"] = completions
    if selector is not None:
        spec["selector"] = selector
    status = {"succeeded": succeeded} if succeeded else {}
    if conditions is not None:
        status["conditions"] = [{"type": t, "status": s} for t, s in conditions]
    if start is not None:
        status["startTime"] = ago(start)
    if completion is not None:
        status["completionTime"] = ago(completion)
    return {"metadata": metadata, "spec": spec, "status": status}


@pytest.mark.parametrize("kwargs,expected", [
    ({"conditions": [("SuccessCriteriaMet", "True"), ("Complete", "True")]}, "Complete"),
    ({"conditions": [("Failed", "True"), ("Complete", "True")]}, "Complete"),
    ({"conditions": [("FailureTarget", "True"), ("Failed", "True")]}, "Failed"),
    ({"conditions": [("Failed", "True")], "deletion": True}, "Failed"),
    ({"conditions": [("Suspended", "True")], "deletion": True}, "Terminating"),
    ({"conditions": [("Suspended", "True")]}, "Suspended"),
    ({"conditions": [("Suspended", "False")]}, "Running"),
    ({"conditions": [("FailureTarget", "True")]}, "FailureTarget"),
    ({"conditions": [("Suspended", "True"), ("FailureTarget", "True")]}, "Suspended"),
    ({"conditions": [("Complete", "False"), ("Complete", "True")]}, "Running"),
    ({}, "Running"),
], ids=["Complete", "Complete before Failed", "Failed before FailureTarget", "Failed before Terminating",
        "Terminating before Suspended", "Suspended", "Suspended=False", "FailureTarget",
        "Suspended before FailureTarget", "first condition of a type decides", "Running"])
def test_job_status(kwargs, expected):
    assert cells("Job", job(**kwargs))[1] == expected


@pytest.mark.parametrize("kwargs,expected", [
    ({"completions": 5, "parallelism": 2, "succeeded": 3}, "3/5"),
    ({"completions": 1, "succeeded": 0}, "0/1"),
    ({"completions": None, "parallelism": 3}, "0/1 of 3"),
    ({"completions": None, "parallelism": 3, "succeeded": 1}, "1/1 of 3"),
    ({"completions": None, "parallelism": 1}, "0/1"),
    ({"completions": None, "parallelism": None}, "0/1"),
], ids=["completions set", "0/1", "work queue with parallelism", "work queue done", "parallelism 1",
        "parallelism unset"])
def test_job_completions(kwargs, expected):
    assert cells("Job", job(**kwargs))[2] == expected


@pytest.mark.parametrize("kwargs,expected", [
    ({}, ""),
    ({"start": 5}, "5s"),
    ({"start": 300, "completion": 269, "conditions": [("Complete", "True")]}, "31s"),
    ({"start": 263, "conditions": [("Failed", "True")]}, "4m23s"),
], ids=["not started (suspended)", "running counts up", "completed: completionTime - startTime",
        "failed: no completionTime, keeps counting"])
def test_job_duration(kwargs, expected):
    assert cells("Job", job(**kwargs))[3] == expected


def test_job_wide_cells():
    obj = job(selector={"matchLabels": {"batch.kubernetes.io/controller-uid": "abc"}})
    assert cells("Job", obj)[4:] == ["10m", "pi,side", "perl:5.34.0,busybox",
                                     "batch.kubernetes.io/controller-uid=abc"]
    assert cells("Job", job())[7] == "<none>"


# --- cronjobs -------------------------------------------------------------------------------------------------

def cronjob(**spec_extra) -> dict:
    spec = {"schedule": "*/1 * * * *", "jobTemplate": {"spec": {"template": {"spec": {"containers": [
        {"name": "hello", "image": "busybox:1.28"}]}}}}, **spec_extra}
    return {"metadata": meta("cron-hello", 164), "spec": spec, "status": {}}


def test_cronjob_cells():
    obj = cronjob(suspend=False)
    obj["status"] = {"active": [{"name": "cron-hello-1"}], "lastScheduleTime": ago(14)}
    assert cells("CronJob", obj) == ["cron-hello", "*/1 * * * *", "<none>", "False", 1, "14s", "2m44s",
                                     "hello", "busybox:1.28", "<none>"]


@pytest.mark.parametrize("spec,expected", [
    ({}, ("<none>", "<unset>")),
    ({"timeZone": "Etc/UTC", "suspend": True}, ("Etc/UTC", "True")),
    ({"timeZone": None, "suspend": False}, ("<none>", "False")),
], ids=["unset", "set", "explicit null / false"])
def test_cronjob_timezone_and_suspend(spec, expected):
    row = cells("CronJob", cronjob(**spec))
    assert (row[2], row[3]) == expected


def test_cronjob_never_scheduled():
    row = cells("CronJob", cronjob())
    assert (row[4], row[5]) == (0, "<none>")


# --- daemonsets -----------------------------------------------------------------------------------------------

def daemonset(node_selector=None, status=None) -> dict:
    template_spec = {"containers": [{"name": "agent", "image": "fluentd:v1"}]}
    if node_selector is not None:
        template_spec["nodeSelector"] = node_selector
    return {"metadata": meta("agent", 90),
            "spec": {"selector": {"matchLabels": {"app": "agent"},
                                  "matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]}]},
                     "template": {"metadata": {"labels": {"app": "agent"}}, "spec": template_spec}},
            "status": status or {}}


def test_daemonset_cells():
    obj = daemonset({"kubernetes.io/os": "linux", "disk": "ssd"},
                    {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 2,
                     "updatedNumberScheduled": 1, "numberAvailable": 2})
    assert cells("DaemonSet", obj) == ["agent", 3, 3, 2, 1, 2, "disk=ssd,kubernetes.io/os=linux", "90s",
                                       "agent", "fluentd:v1", "app=agent,tier in (a,b)"]


@pytest.mark.parametrize("node_selector", [None, {}], ids=["unset", "empty"])
def test_daemonset_no_node_selector(node_selector):
    assert cells("DaemonSet", daemonset(node_selector))[1:7] == [0, 0, 0, 0, 0, "<none>"]


# --- events ---------------------------------------------------------------------------------------------------

def event(**fields) -> dict:
    base = {"metadata": meta("pi.181a", 30), "involvedObject": {"kind": "Job", "name": "pi", "namespace": "default"},
            "reason": "SuccessfulCreate", "type": "Normal", "message": "Created pod: pi-xk2lq\n",
            "source": {"component": "job-controller"}}
    base.update(fields)
    return base


EVENT_CASES = [
    ("first and last timestamps", event(firstTimestamp=ago(120), lastTimestamp=ago(30), count=3),
     ["30s", "Normal", "SuccessfulCreate", "job/pi", "", "job-controller", "Created pod: pi-xk2lq", "2m", 3,
      "pi.181a"]),
    ("no lastTimestamp: last seen is first seen", event(firstTimestamp=ago(120), count=1),
     ["2m", "Normal", "SuccessfulCreate", "job/pi", "", "job-controller", "Created pod: pi-xk2lq", "2m", 1,
      "pi.181a"]),
    ("no timestamps: eventTime", event(eventTime=format_rfc3339_micro(NOW - timedelta(seconds=45)),
                                       reportingController="job-controller", source={}),
     ["45s", "Normal", "SuccessfulCreate", "job/pi", "", "job-controller", "Created pod: pi-xk2lq", "45s", 1,
      "pi.181a"]),
    ("series overrides last seen and count",
     event(eventTime=format_rfc3339_micro(NOW - timedelta(seconds=600)), count=0,
           series={"count": 7, "lastObservedTime": format_rfc3339_micro(NOW - timedelta(seconds=20))}),
     ["20s", "Normal", "SuccessfulCreate", "job/pi", "", "job-controller", "Created pod: pi-xk2lq", "10m", 7,
      "pi.181a"]),
    ("nothing set", event(),
     ["<unknown>", "Normal", "SuccessfulCreate", "job/pi", "", "job-controller", "Created pod: pi-xk2lq",
      "<unknown>", 1, "pi.181a"]),
]


@pytest.mark.parametrize("case,obj,expected", EVENT_CASES, ids=[c[0] for c in EVENT_CASES])
def test_event_cells(case, obj, expected):
    assert cells("Event", obj) == expected


def test_event_object_subobject_and_source():
    obj = event(firstTimestamp=ago(10), type="Warning", reason="BackOff",
                involvedObject={"kind": "Pod", "name": "pi-xk2lq", "fieldPath": "spec.containers{pi}"},
                source={"component": "kubelet", "host": "worker-1"}, message="  Back-off restarting  ")
    assert cells("Event", obj)[:7] == ["10s", "Warning", "BackOff", "pod/pi-xk2lq", "spec.containers{pi}",
                                       "kubelet, worker-1", "Back-off restarting"]


@pytest.mark.parametrize("fields,expected", [
    ({"source": {}, "reportingController": "kubelet", "reportingInstance": "worker-2"}, "kubelet, worker-2"),
    ({"source": {"component": "kubelet"}, "reportingInstance": "worker-2"}, "kubelet, worker-2"),
    ({"source": {}}, ""),
], ids=["reporting fallbacks", "host from reportingInstance", "empty"])
def test_event_source(fields, expected):
    assert cells("Event", event(**fields))[5] == expected


def test_event_object_without_name():
    assert cells("Event", event(involvedObject={"kind": "Node"}))[3] == "node"


# --- controllerrevisions, namespaces, leases, default -----------------------------------------------------------

@pytest.mark.parametrize("owners,expected", [
    ([{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent", "uid": "u", "controller": True}],
     "daemonset.apps/agent"),
    ([{"apiVersion": "v1", "kind": "Pod", "name": "p", "uid": "u", "controller": True}], "pod/p"),
    ([{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent", "uid": "u"}], "<none>"),
    ([], "<none>"),
], ids=["daemonset.apps", "core group", "not a controller", "no owner"])
def test_controller_revision(owners, expected):
    obj = {"metadata": meta("agent-6d5f8c7b9", 45, ownerReferences=owners), "revision": 2, "data": {}}
    assert cells("ControllerRevision", obj) == ["agent-6d5f8c7b9", expected, 2, "45s"]


def test_namespace_and_lease():
    assert cells("Namespace", {"metadata": meta("kube-system", 7200), "status": {"phase": "Terminating"}}) == \
        ["kube-system", "Terminating", "120m"]
    lease = {"metadata": meta("worker-1", 30), "spec": {"holderIdentity": "worker-1", "leaseDurationSeconds": 40}}
    assert cells("Lease", lease) == ["worker-1", "worker-1", "30s"]
    assert cells("Lease", {"metadata": meta("free", 30), "spec": {}}) == ["free", "", "30s"]


def test_default_table_convertor():
    obj = {"metadata": {"name": "cfg", "creationTimestamp": "2024-12-31T23:00:00Z"}, "data": {}}
    assert cells("ConfigMap", obj) == ["cfg", "2024-12-31T23:00:00Z"]


# --- the Table object -----------------------------------------------------------------------------------------

def test_table_shape_metadata_rows():
    obj = {"metadata": meta("pi", 60, uid="u1", resourceVersion="41", labels={"app": "pi"}), "spec": {}, "status": {}}
    result = table("Job", [obj], NOW, resource_version="42")
    assert list(result) == ["kind", "apiVersion", "metadata", "columnDefinitions", "rows"]
    assert (result["kind"], result["apiVersion"], result["metadata"]) == ("Table", "meta.k8s.io/v1",
                                                                           {"resourceVersion": "42"})
    assert result["rows"][0]["object"] == {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                           "metadata": obj["metadata"]}
    assert result["rows"][0]["object"]["metadata"] is not obj["metadata"]  # a copy: callers may mutate the table
    assert len(result["rows"][0]["cells"]) == len(result["columnDefinitions"])


def test_table_include_object_and_version():
    obj = {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta("pi"), "spec": {}, "status": {}}
    assert table("Job", [obj], NOW, include_object="Object")["rows"][0]["object"] == obj
    assert "object" not in table("Job", [obj], NOW, include_object="None")["rows"][0]
    assert table("Job", [obj], NOW, include_object="")["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    beta = table("Job", [obj], NOW, api_version="meta.k8s.io/v1beta1")
    assert beta["apiVersion"] == beta["rows"][0]["object"]["apiVersion"] == "meta.k8s.io/v1beta1"
    assert table("Job", [], NOW)["metadata"] == {}
    with pytest.raises(ValueError):
        table("Job", [obj], NOW, include_object="Everything")


def test_table_does_not_mutate_inputs():
    obj = pod(statuses=[cs(ready=True, state=RUNNING)], phase="Succeeded")
    before = repr(obj)
    table("Pod", [obj], NOW, include_object="Object")
    assert repr(obj) == before


# --- request side ---------------------------------------------------------------------------------------------

KUBECTL_ACCEPT = ("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,"
                  "application/json")


@pytest.mark.parametrize("accept,expected", [
    (KUBECTL_ACCEPT, "meta.k8s.io/v1"),
    ("application/json;as=Table;v=v1beta1;g=meta.k8s.io, application/json", "meta.k8s.io/v1beta1"),
    ("application/json;g=meta.k8s.io;v=v1;as=Table", "meta.k8s.io/v1"),
    ("application/json", None),
    ("application/json, */*", None),
    ("*/*", None),
    ("", None),
    ("application/json;as=Table;v=v1alpha1;g=meta.k8s.io,application/json", None),
    ("application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,application/json", None),
    ("application/json;q=0.9,application/json;as=Table;v=v1;g=meta.k8s.io", "meta.k8s.io/v1"),
    ("application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io", None),
], ids=["kubectl get", "v1beta1 only", "parameter order", "plain json", "json then any", "any", "empty",
        "unsupported version skipped", "protobuf Table skipped", "q ordering", "partial metadata is not a Table"])
def test_negotiate_table_version(accept, expected):
    assert negotiate_table_version(accept) == expected
    assert accepts_table(accept) is (expected is not None)


@pytest.mark.parametrize("value,expected", [(None, "Metadata"), ("", "Metadata"), ("Metadata", "Metadata"),
                                            ("Object", "Object"), ("None", "None")])
def test_include_object_param(value, expected):
    assert include_object_param(value) == expected


@pytest.mark.parametrize("value", ["Everything", "object", "none"])
def test_include_object_param_invalid(value):
    with pytest.raises(ValueError) as raised:
        include_object_param(value)
    assert str(raised.value) == (f'Unable to convert to Table as requested: includeObject: Invalid value: "{value}": '
                                 "must be 'Metadata', 'Object', 'None', or empty")


# --- kubectl's text -------------------------------------------------------------------------------------------
# kubectl prints a Table through text/tabwriter with minwidth=6, tabwidth=4, padding=3, padchar=' '
# (cli-runtime printers/tabwriter.go). Every cell but the last of a line ends with a tab; a column is as wide as
# its widest cell (header included) plus 3 blanks, and never narrower than 6; the last column is not padded, so
# lines carry no trailing blanks. The expected blocks below were laid out by hand from those rules.

def jobs_table() -> dict:
    return table("Job", [
        job(completions=1, succeeded=1, start=300, completion=269, conditions=[("Complete", "True")]),
        {**job(start=263, conditions=[("Failed", "True")]), "metadata": meta("hello-fail", 263)},
        {**job(completions=None, parallelism=3, start=5), "metadata": meta("batch-par", 5)},
    ], NOW)


def test_render_jobs():
    # NAME: widest "hello-fail" (10) + 3 = 13; STATUS: "Complete"/"Running"... widest "Complete" (8) + 3 = 11;
    # COMPLETIONS: the header (11) + 3 = 14; DURATION: the header (8) + 3 = 11; AGE is last: unpadded.
    assert render_text(jobs_table()) == (
        "NAME         STATUS     COMPLETIONS   DURATION   AGE\n"
        "pi           Complete   1/1           31s        10m\n"
        "hello-fail   Failed     0/1           4m23s      4m23s\n"
        "batch-par    Running    0/1 of 3      5s         5s\n"
    )


def test_render_jobs_wide_with_kind():
    # kubectl get all: the name column becomes job.batch/<name> (widest 20 + 3 = 23); CONTAINERS "pi,side"
    # (header 10 + 3 = 13); IMAGES "perl:5.34.0,busybox" (19 + 3 = 22); SELECTOR last.
    text = render_text(jobs_table(), wide=True, show_kind="job.batch")
    assert text.splitlines()[:2] == [
        "NAME                   STATUS     COMPLETIONS   DURATION   AGE     CONTAINERS   IMAGES                "
        "SELECTOR",
        "job.batch/pi           Complete   1/1           31s        10m     pi,side      perl:5.34.0,busybox   "
        "<none>",
    ]


def test_render_pods_wide():
    pods = [
        {**pod(statuses=[cs(ready=True, state=RUNNING)], conditions=READY_TRUE, podIP="10.244.1.5"),
         "metadata": meta("hello-bxk7j", 12)},
        {**pod(statuses=[cs(restarts=2, state={"waiting": {"reason": "CrashLoopBackOff"}},
                            last={"exitCode": 1, "reason": "Error", "finishedAt": ago(28)})], podIP="10.244.2.7"),
         "metadata": meta("crashy-7x2kq", 120)},
        {**pod(phase="Pending"), "metadata": meta("pending-abc", 3), "spec": {"containers": [{"name": "c"}]}},
    ]
    pods[1]["spec"] = {**pods[1]["spec"], "nodeName": "worker-2"}
    # NAME 12+3=15, READY 5+3=8, STATUS "CrashLoopBackOff" 16+3=19, RESTARTS "2 (28s ago)" 11+3=14,
    # AGE 3+3=6 (exactly the minimum width), IP "10.244.1.5" 10+3=13, NODE "worker-1" 8+3=11,
    # NOMINATED NODE 14+3=17, READINESS GATES last.
    assert render_text(table("Pod", pods, NOW), wide=True) == (
        "NAME           READY   STATUS             RESTARTS      AGE   IP           NODE       NOMINATED NODE   "
        "READINESS GATES\n"
        "hello-bxk7j    1/1     Running            0             12s   10.244.1.5   worker-1   <none>           "
        "<none>\n"
        "crashy-7x2kq   0/1     CrashLoopBackOff   2 (28s ago)   2m    10.244.2.7   worker-2   <none>           "
        "<none>\n"
        "pending-abc    0/1     Pending            0             3s    <none>       <none>     <none>           "
        "<none>\n"
    )
    # Without -o wide the priority-1 columns vanish and AGE becomes the unpadded last column.
    assert render_text(table("Pod", pods, NOW)).splitlines()[1] == \
        "hello-bxk7j    1/1     Running            0             12s"


def test_render_all_namespaces():
    objs = [{"metadata": {**meta("pi", 60), "namespace": "default"}, "spec": {}, "status": {}},
            {"metadata": {**meta("backup", 60), "namespace": "ops-team"}, "spec": {}, "status": {}}]
    text = render_text(table("Lease", objs, NOW), with_namespace=True)
    assert text == (
        "NAMESPACE   NAME     HOLDER   AGE\n"
        "default     pi                60s\n"
        "ops-team    backup            60s\n"
    )


def test_render_no_headers_and_empty():
    objs = [{"metadata": meta("pi", 60), "status": {"phase": "Active"}}]
    # Without the header row "pi" alone sets the width: 2 + 3 = 5, raised to the minimum 6.
    assert render_text(table("Namespace", objs, NOW), no_headers=True) == "pi    Active   60s\n"
    assert render_text(table("Namespace", [], NOW)) == ""
    assert render_text(table("Namespace", [], NOW), no_headers=True) == ""


def test_render_minimum_width_and_cell_rules():
    synthetic = {
        "columnDefinitions": [{"name": "a", "type": "string", "format": "", "description": "", "priority": 0},
                              {"name": "b", "type": "integer", "format": "", "description": "", "priority": 0},
                              {"name": "c", "type": "string", "format": "", "description": "", "priority": 0}],
        "rows": [{"cells": ["x", 7, "two\nlines"]}, {"cells": [None, True, "\x1b[31mred"]},
                 {"cells": ["y", 1, "z", "extra cell without a column"]}],
    }
    # Column "a" is 1 wide: 1 + 3 = 4 < 6, so it gets the minimum width 6; column "b" holds "true" (a JSON
    # boolean printed by fmt.Sprint): 4 + 3 = 7. Strings stop at the first line break ("..."), ESC prints as
    # "^[", a nil cell prints nothing, and cells beyond the column definitions are dropped.
    assert render_text(synthetic) == (
        "A     B      C\n"
        "x     7      two...\n"
        "      true   ^[[31mred\n"
        "y     1      z\n"
    )
