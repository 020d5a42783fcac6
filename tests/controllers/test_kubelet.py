"""Tests for the simulated kubelet (``controllers.kubelet``) and the kubectl pod columns (``controllers.pods``).

A small driver plays the engine's part: it applies each plan to the controller tests' fake world (status first,
then ``AddNodeImage`` on the node, log lines, events, the kubelet's final delete), records events with the
simulated time, and syncs again when the kubelet asked to be requeued.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

import pytest

from controllers.apimachinery.timeutil import format_rfc3339
from controllers.kubelet import (
    go_duration_string,
    image_id,
    normalize_image,
    sync_pod,
)
from controllers.client import LogEntry
from controllers.plan import DeleteObject, EmitEvent
from controllers.pods import pod_ready_text, pod_restarts_text, pod_status_text
from controllers.programs import pi_significant_digits
from tests.controllers.world import World

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
SEED = "cluster-seed"


def new_node(name="node-1", images=(), ready=True, index=1):
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name},
        "spec": {"podCIDR": f"10.244.{index}.0/24", "podCIDRs": [f"10.244.{index}.0/24"]},
        "status": {
            "addresses": [{"type": "InternalIP", "address": f"172.18.0.{index + 2}"},
                          {"type": "Hostname", "address": name}],
            "conditions": [{"type": "Ready", "status": "True" if ready else "Unknown"}],
            "images": [{"names": [normalize_image(i)], "sizeBytes": 1000} for i in images],
        },
    }


def new_pod(command=None, *, name="p", uid="u1", image="busybox:1.36", restart_policy="Never", annotations=None,
            container_extra=None, spec_extra=None):
    container = {"name": "c", "image": image, "imagePullPolicy": "IfNotPresent"}
    if command is not None:
        container["command"] = command
    container.update(container_extra or {})
    spec = {"nodeName": "node-1", "restartPolicy": restart_policy, "terminationGracePeriodSeconds": 30,
            "containers": [container]}
    spec.update(spec_extra or {})
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": uid, "creationTimestamp": format_rfc3339(T0),
                     "annotations": annotations or {}},
        "spec": spec,
        "status": {
            "phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                            "lastTransitionTime": format_rfc3339(T0)}],
            "qosClass": "BestEffort",
        },
    }


class Driver:
    """Plays one pod through the kubelet, as the engine would: the pod and its node live in the controller tests'
    fake world (``tests.controllers.world``), each plan is applied there, and the driver syncs again when the
    kubelet asked to be requeued. ``pod`` is the pod as last stored (as it was deleted, once it is gone)."""

    def __init__(self, pod, node, *, seed=SEED, start=T0):
        self.world = World(pod, node, now=start)
        self.key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
        self.node_name = node["metadata"]["name"]
        self.seed = seed
        self.pod = self.world.get("Pod", *self.key)
        self.memory = None
        self.events: list[tuple[datetime, EmitEvent]] = []
        self.deletes: list[tuple[datetime, DeleteObject]] = []
        self.history: list[tuple[datetime, str]] = []  # (time, STATUS column) whenever the status changed
        self.results = []
        self.next_at: datetime | None = start

    @property
    def now(self) -> datetime:
        return self.world.now()

    @now.setter
    def now(self, now: datetime) -> None:
        self.world.set_now(now)

    @property
    def node(self) -> dict:
        return self.world.get("Node", "", self.node_name)

    @property
    def logs(self) -> list[LogEntry]:
        return self.world.logs

    def sync(self):
        result = sync_pod(self.pod, self.node, self.now, memory=self.memory, seed=self.seed)
        self.results.append((self.now, result))
        seen, emitted = self.world.resource_version(), len(self.world.events)
        self.world.apply(result, self.pod)
        gone = [e.object for e in self.world.changes_since(seen) if e.kind == "Pod" and e.type == "DELETED"]
        self.pod = self.world.get("Pod", *self.key) or (gone[-1] if gone else self.pod)
        if result.status is not None:
            self.history.append((self.now, pod_status_text(self.pod)))
        self.events += [(self.now, event) for event in self.world.events[emitted:]]
        self.deletes += [(self.now, action) for action in result.actions if isinstance(action, DeleteObject)]
        self.memory = result.memory
        self.next_at = None if result.requeue_after is None else self.now + timedelta(seconds=result.requeue_after)
        return result

    def run_until(self, until: float):
        """Sync now and at every requested requeue up to ``T0 + until`` seconds."""
        limit = T0 + timedelta(seconds=until)
        self.sync()
        while self.next_at is not None and self.next_at <= limit:
            self.now = self.next_at
            self.sync()
        return self

    def delete(self, at: float, grace: int = 30):
        """``kubectl delete pod --grace-period=<grace>`` at ``T0 + at`` seconds, then the kubelet's sync."""
        self.now = T0 + timedelta(seconds=at)
        self.world.delete("Pod", *self.key, grace_period_seconds=grace)
        self.pod = self.world.get("Pod", *self.key)
        assert self.pod is not None, "the API server removed the pod at once: its kubelet never sees the deletion"
        return self.sync()

    def event_texts(self):
        return [(e.reason, e.message) for _, e in self.events]

    def container_status(self):
        return self.pod["status"]["containerStatuses"][0]


def seconds(moment: datetime) -> float:
    return round((moment - T0).total_seconds(), 6)


def ts(text: str) -> float:
    return seconds(datetime.fromisoformat(text.replace("Z", "+00:00")))


# --- a Job pod on a fresh node -----------------------------------------------------------------------------


def test_sleep_then_date_on_a_fresh_node():
    """paral-1's pod: Pending/ContainerCreating while pulling, Running 30 s, then Succeeded/Completed."""
    pod = new_pod(["/bin/sh", "-c", "sleep 30; date"], name="paral-1-x7k2p", image="ubuntu:22.04")
    driver = Driver(pod, new_node())

    first = driver.sync()
    assert first.status["phase"] == "Pending"
    assert pod_status_text(driver.pod) == "ContainerCreating"
    assert pod_ready_text(driver.pod) == "0/1"
    assert first.status["hostIP"] == "172.18.0.3"
    assert first.status["hostIPs"] == [{"ip": "172.18.0.3"}]
    assert first.status["podIP"].startswith("10.244.1.")
    assert first.status["podIPs"] == [{"ip": first.status["podIP"]}]
    assert first.status["startTime"] == "2025-01-01T00:00:00Z"
    assert first.status["qosClass"] == "BestEffort"
    assert [(c["type"], c["status"], c.get("reason"), c.get("message")) for c in first.status["conditions"]] == [
        ("PodReadyToStartContainers", "True", None, None),
        ("Initialized", "True", None, None),
        ("Ready", "False", "ContainersNotReady", "containers with unready status: [c]"),
        ("ContainersReady", "False", "ContainersNotReady", "containers with unready status: [c]"),
        ("PodScheduled", "True", None, None),
    ]
    assert first.status["containerStatuses"] == [{
        "name": "c", "state": {"waiting": {"reason": "ContainerCreating"}}, "lastState": {}, "ready": False,
        "restartCount": 0, "image": "ubuntu:22.04", "imageID": "", "started": False,
    }]
    pull = first.requeue_after
    assert 2.0 <= pull <= 8.0
    assert first.trace.controller == "kubelet"

    started = driver.run_until(pull)
    assert seconds(driver.now) == pull
    assert driver.pod["status"]["phase"] == "Running"
    assert pod_status_text(driver.pod) == "Running"
    assert pod_ready_text(driver.pod) == "1/1"
    status = driver.container_status()
    assert status["state"] == {"running": {"startedAt": format_rfc3339(T0 + timedelta(seconds=pull))}}
    assert status["ready"] is True and status["started"] is True
    assert status["image"] == "docker.io/library/ubuntu:22.04"
    assert status["imageID"] == image_id("ubuntu:22.04")
    assert status["imageID"].startswith("docker.io/library/ubuntu@sha256:") and len(status["imageID"]) == 32 + 64
    assert status["containerID"].startswith("containerd://") and len(status["containerID"]) == 13 + 64
    ready = next(c for c in driver.pod["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True" and ready["lastTransitionTime"] == format_rfc3339(T0 + timedelta(seconds=pull))
    assert started.next_at == T0 + timedelta(seconds=pull + 30)
    # The image is now on the node.
    assert any("docker.io/library/ubuntu:22.04" in e["names"] for e in driver.node["status"]["images"])

    driver.run_until(pull + 30)
    end = T0 + timedelta(seconds=pull + 30)
    assert driver.now == end and driver.next_at is None
    assert driver.pod["status"]["phase"] == "Succeeded"
    assert pod_status_text(driver.pod) == "Completed"
    assert pod_ready_text(driver.pod) == "0/1"
    terminated = driver.container_status()["state"]["terminated"]
    assert terminated["exitCode"] == 0 and terminated["reason"] == "Completed"
    assert terminated["finishedAt"] == format_rfc3339(end)
    assert terminated["containerID"] == status["containerID"]
    assert [(c["type"], c["status"], c.get("reason")) for c in driver.pod["status"]["conditions"]] == [
        ("PodReadyToStartContainers", "False", None),
        ("Initialized", "True", "PodCompleted"),
        ("Ready", "False", "PodCompleted"),
        ("ContainersReady", "False", "PodCompleted"),
        ("PodScheduled", "True", None),
    ]
    pulled = go_duration_string(int(pull * 1000) / 1000)
    assert driver.event_texts() == [
        ("Pulling", 'Pulling image "ubuntu:22.04"'),
        ("Pulled", f'Successfully pulled image "ubuntu:22.04" in {pulled} ({pulled} including waiting). '
                   f"Image size: {driver.node['status']['images'][0]['sizeBytes']} bytes."),
        ("Created", "Created container: c"),
        ("Started", "Started container c"),
    ]
    assert [seconds(t) for t, _ in driver.events] == [0.0, pull, pull, pull]
    event = driver.events[0][1]
    assert event.component == "kubelet" and event.host == "node-1" and event.type == "Normal"
    assert event.involved == {"kind": "Pod", "namespace": "default", "name": "paral-1-x7k2p", "uid": "u1",
                              "apiVersion": "v1", "fieldPath": "spec.containers{c}"}
    assert driver.logs == [LogEntry("default", "paral-1-x7k2p", "u1", "c", 0,
                                    ((end, format_date_text(end)),))]
    assert driver.history == [(T0, "ContainerCreating"), (T0 + timedelta(seconds=pull), "Running"), (end, "Completed")]


def format_date_text(moment: datetime) -> str:
    from controllers.programs import format_date

    return format_date(moment)


def test_image_cache_second_pod_starts_faster():
    node = new_node()
    first = Driver(new_pod(["sleep", "1"], uid="u1", image="perl:5.34.0"), node).run_until(60)
    assert first.event_texts()[0] == ("Pulling", 'Pulling image "perl:5.34.0"')
    first_start = seconds(next(t for t, e in first.events if e.reason == "Started"))

    second = Driver(new_pod(["sleep", "1"], name="p2", uid="u2", image="perl:5.34.0"), first.node).run_until(60)
    assert second.event_texts() == [
        ("Pulled", 'Container image "perl:5.34.0" already present on machine'),
        ("Created", "Created container: c"),
        ("Started", "Started container c"),
    ]
    second_start = seconds(next(t for t, e in second.events if e.reason == "Started"))
    assert 0.3 <= second_start <= 1.0 < 2.0 <= first_start
    assert len(second.node["status"]["images"]) == 1


def test_image_pull_policy_always_pulls_again_quickly():
    node = new_node(images=["busybox:1.36"])
    driver = Driver(new_pod(["true"], container_extra={"imagePullPolicy": "Always"}), node).run_until(10)
    reasons = driver.event_texts()
    assert reasons[0] == ("Pulling", 'Pulling image "busybox:1.36"')
    assert reasons[1][0] == "Pulled" and reasons[1][1].startswith('Successfully pulled image "busybox:1.36" in ')
    assert seconds(driver.events[1][0]) <= 1.0


def test_image_pull_policy_never_without_the_image():
    driver = Driver(new_pod(["true"], container_extra={"imagePullPolicy": "Never"}), new_node()).run_until(60)
    assert pod_status_text(driver.pod) == "ErrImageNeverPull"
    assert driver.event_texts() == [
        ("ErrImageNeverPull", 'Container image "busybox:1.36" is not present with pull policy of Never')]
    assert driver.next_at is None


# --- the pi Job ------------------------------------------------------------------------------------------


def test_pi_job_pod_logs_pi():
    pod = new_pod(["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"], name="pi-abcde", image="perl:5.34.0")
    driver = Driver(pod, new_node()).run_until(60)
    assert pod_status_text(driver.pod) == "Completed"
    assert len(driver.logs) == 1 and driver.logs[0].lines[0][1] == pi_significant_digits(2000)
    terminated = driver.container_status()["state"]["terminated"]
    runtime = ts(terminated["finishedAt"]) - ts(terminated["startedAt"])
    assert 2 <= runtime <= 6


# --- restarts and crash loop back-off ----------------------------------------------------------------------


def test_never_fails_with_error_and_no_restart():
    driver = Driver(new_pod(["sh", "-c", "echo oops; exit 2"]), new_node(images=["busybox:1.36"])).run_until(600)
    assert driver.pod["status"]["phase"] == "Failed"
    assert pod_status_text(driver.pod) == "Error"
    status = driver.container_status()
    assert status["restartCount"] == 0 and status["lastState"] == {}
    assert status["state"]["terminated"]["exitCode"] == 2 and status["state"]["terminated"]["reason"] == "Error"
    assert driver.next_at is None
    assert [line for log in driver.logs for _, line in log.lines] == ["oops"]
    # Not ready because the pod failed (the kubelet's condition for a terminal phase), not a list of containers.
    assert [(c["type"], c["status"], c.get("reason"), c.get("message")) for c in driver.pod["status"]["conditions"]
            if c["type"] in ("Ready", "ContainersReady")] == [
        ("Ready", "False", "PodFailed", None), ("ContainersReady", "False", "PodFailed", None)]


def test_exit_code_reported_verbatim():
    driver = Driver(new_pod(["sh", "-c", "exit 3"]), new_node(images=["busybox:1.36"])).run_until(60)
    assert driver.container_status()["state"]["terminated"]["exitCode"] == 3


def test_on_failure_crash_loop_backoff():
    pod = new_pod(["sh", "-c", "echo try; exit 1"], restart_policy="OnFailure")
    driver = Driver(pod, new_node(images=["busybox:1.36"])).run_until(200)

    starts = [seconds(t) for t, e in driver.events if e.reason == "Started"]
    finishes = [seconds(log.lines[0][0]) for log in driver.logs]  # `echo try` prints as the instance exits
    # Instance n exits at once; the first restart is immediate (relist + start, under 2 s), then 10 s, 20 s,
    # 40 s, 80 s of back-off measured from the exit, plus the short start.
    gaps = [round(start - finish, 3) for finish, start in zip(finishes, starts[1:])]
    assert gaps[0] < 2.0
    for gap, backoff in zip(gaps[1:], (10, 20, 40, 80)):
        assert backoff + 0.3 <= gap <= backoff + 1.0
    assert [log.restart_count for log in driver.logs] == list(range(len(driver.logs)))
    assert driver.pod["status"]["phase"] == "Running"

    backoff_events = [e for _, e in driver.events if e.reason == "BackOff"]
    assert backoff_events[0].type == "Warning"
    assert backoff_events[0].message == "Back-off restarting failed container c in pod p_default(u1)"

    # Look at the statuses written along the way.
    crash_loops = [(t, r.status) for t, r in driver.results if r.status and "waiting" in
                   r.status["containerStatuses"][0]["state"] and
                   r.status["containerStatuses"][0]["state"]["waiting"]["reason"] == "CrashLoopBackOff"]
    messages = [s["containerStatuses"][0]["state"]["waiting"]["message"] for _, s in crash_loops]
    assert messages[:4] == [f"back-off {d} restarting failed container=c pod=p_default(u1)"
                            for d in ("10s", "20s", "40s", "1m20s")]
    first = crash_loops[0][1]["containerStatuses"][0]
    assert first["restartCount"] == 1 and first["ready"] is False and first["started"] is False
    assert first["lastState"]["terminated"]["exitCode"] == 1
    assert first["lastState"]["terminated"]["reason"] == "Error"
    assert crash_loops[0][1]["phase"] == "Running"

    # Instances that exit at once never show Running in a written status.
    assert [text for _, text in driver.history] == ["ContainerCreating", "Error", "Error"] + \
        ["CrashLoopBackOff", "Error"] * 4 + ["CrashLoopBackOff"]


def test_crash_loop_history_like_kubectl_get_pods_watch():
    """``Running 0``, ``Error 0``, ``Running 1``, ``Error 1``, ``CrashLoopBackOff 1 (1s ago)``, ``Running 2``."""
    pod = new_pod(["sh", "-c", "sleep 5; exit 1"], restart_policy="OnFailure")
    driver = Driver(pod, new_node(images=["busybox:1.36"]))
    rows = []
    driver.sync()
    while driver.next_at is not None and seconds(driver.next_at) <= 60:
        driver.now = driver.next_at
        if driver.sync().status is not None:
            rows.append((pod_status_text(driver.pod), pod_restarts_text(driver.pod, driver.now)))
    assert [row[0] for row in rows[:7]] == ["Running", "Error", "Running", "Error", "CrashLoopBackOff", "Running",
                                            "Error"]
    assert rows[4][1] == "1 (1s ago)"  # finishedAt has whole seconds
    assert rows[5][1].startswith("2 (1")  # restarted about ten seconds after the exit


def test_always_restarts_even_after_success():
    pod = new_pod(["sh", "-c", "sleep 2"], restart_policy="Always")
    driver = Driver(pod, new_node(images=["busybox:1.36"])).run_until(40)
    assert driver.pod["status"]["phase"] == "Running"
    assert driver.container_status()["restartCount"] >= 2
    on_failure = Driver(new_pod(["sh", "-c", "sleep 2"], restart_policy="OnFailure"),
                        new_node(images=["busybox:1.36"])).run_until(40)
    assert on_failure.pod["status"]["phase"] == "Succeeded"


def test_backoff_resets_after_ten_minutes_of_running():
    pod = new_pod(["sh", "-c", "sleep 700; exit 1"], restart_policy="OnFailure")
    driver = Driver(pod, new_node(images=["busybox:1.36"])).run_until(2200)
    assert not any(e.reason == "BackOff" for _, e in driver.events)
    assert driver.container_status()["restartCount"] >= 2


# --- readiness ---------------------------------------------------------------------------------------------


def test_readiness_probe_initial_delay():
    pod = new_pod(container_extra={"readinessProbe": {"initialDelaySeconds": 5, "httpGet": {"port": 80}}},
                  image="nginx:1.27")
    driver = Driver(pod, new_node(images=["nginx:1.27"]))
    driver.run_until(1.0)
    start = seconds(next(t for t, e in driver.events if e.reason == "Started"))
    assert pod_status_text(driver.pod) == "Running" and pod_ready_text(driver.pod) == "0/1"
    driver.run_until(start + 5)
    assert pod_ready_text(driver.pod) == "1/1"
    ready = next(c for c in driver.pod["status"]["conditions"] if c["type"] == "Ready")
    assert ready["lastTransitionTime"] == format_rfc3339(T0 + timedelta(seconds=start + 5))
    assert driver.next_at is None  # a daemon: nothing more to do


# --- deletion ----------------------------------------------------------------------------------------------


def test_deletion_of_a_shell_waits_for_the_grace_period():
    driver = Driver(new_pod(["sh", "-c", "sleep 3600"]), new_node(images=["busybox:1.36"])).run_until(20)
    result = driver.delete(20, grace=30)
    assert pod_status_text(driver.pod) == "Terminating"
    assert [(e.reason, e.message) for e in result.actions if isinstance(e, EmitEvent)] == [
        ("Killing", "Stopping container c")]
    assert result.requeue_after == 30
    driver.run_until(50)
    status = driver.container_status()["state"]["terminated"]
    assert status["exitCode"] == 137 and status["reason"] == "Error"
    assert status["finishedAt"] == "2025-01-01T00:00:50Z"
    assert driver.pod["status"]["phase"] == "Failed"
    assert [(seconds(t), d.grace_period_seconds, d.kind, d.name, d.uid) for t, d in driver.deletes] == [
        (50.0, 0, "Pod", "p", "u1")]
    assert pod_status_text(driver.pod) == "Error"  # terminal phase: no longer Terminating


def test_pod_status_after_deletion_completes_shows_the_container_reason():
    driver = Driver(new_pod(["sleep", "3600"]), new_node(images=["busybox:1.36"])).run_until(5)
    driver.delete(5, grace=10)
    driver.run_until(100)
    assert driver.pod["status"]["phase"] == "Failed"
    assert pod_status_text(driver.pod) == "Error"


def test_deletion_of_a_daemon_is_quick():
    driver = Driver(new_pod(image="nginx:1.27", restart_policy="Always"), new_node(images=["nginx:1.27"]))
    driver.run_until(10)
    driver.delete(10, grace=30)
    driver.run_until(12)
    terminated = driver.container_status()["state"]["terminated"]
    assert terminated["exitCode"] == 0 and terminated["reason"] == "Completed"
    assert 10.1 <= seconds(driver.deletes[0][0]) <= 11.0
    assert driver.pod["status"]["phase"] == "Succeeded"  # deleted pods: Succeeded when every exit was 0


def test_deletion_of_a_program_that_ends_within_the_grace_period():
    driver = Driver(new_pod(["sleep", "40"]), new_node(images=["busybox:1.36"])).run_until(20)
    driver.delete(20, grace=60)
    driver.run_until(200)
    terminated = driver.container_status()["state"]["terminated"]
    assert terminated["exitCode"] == 0  # sleep ended by itself before SIGKILL
    assert driver.pod["status"]["phase"] == "Succeeded"


def test_deletion_while_pulling_and_before_admission():
    driver = Driver(new_pod(["true"], image="perl:5.34.0"), new_node())
    driver.sync()
    driver.delete(1)
    terminated = driver.container_status()["state"]["terminated"]
    assert terminated["reason"] == "ContainerStatusUnknown" and terminated["exitCode"] == 137
    assert terminated["message"] == "The container could not be located when the pod was terminated"
    assert driver.pod["status"]["phase"] == "Failed"
    assert len(driver.deletes) == 1
    # Deleted before the kubelet ever saw it: deleted at once, no status.
    pod = new_pod(["true"])
    pod["metadata"]["deletionTimestamp"] = "2025-01-01T00:00:30Z"
    result = sync_pod(pod, new_node(), T0, seed=SEED)
    assert result.status is None
    assert result.actions == (DeleteObject("Pod", "default", "p", "u1", grace_period_seconds=0),)


def test_crash_looping_pod_deleted_during_backoff():
    driver = Driver(new_pod(["sh", "-c", "exit 1"], restart_policy="OnFailure"), new_node(images=["busybox:1.36"]))
    driver.run_until(5)
    assert pod_status_text(driver.pod) == "CrashLoopBackOff"
    result = driver.delete(5)
    assert not any(isinstance(a, EmitEvent) and a.reason == "Killing" for a in result.actions)
    assert driver.pod["status"]["phase"] == "Failed"
    assert driver.container_status()["state"]["terminated"]["reason"] == "Error"
    assert len(driver.deletes) == 1


# --- the node, deadlines, determinism ----------------------------------------------------------------------


def test_not_ready_node_freezes_the_pod():
    driver = Driver(new_pod(["sleep", "30"]), new_node(images=["busybox:1.36"])).run_until(5)
    memory = copy.deepcopy(driver.memory)
    down = new_node(images=["busybox:1.36"], ready=False)
    for node in (down, None):
        result = sync_pod(driver.pod, node, T0 + timedelta(seconds=60), memory=memory, seed=SEED)
        assert result.status is None and result.actions == () and result.requeue_after is None
        assert result.memory == memory
    # Back to Ready: the kubelet catches up (the container ended while it was away).
    result = sync_pod(driver.pod, new_node(images=["busybox:1.36"]), T0 + timedelta(seconds=60), memory=memory,
                      seed=SEED)
    assert result.status["phase"] == "Succeeded"


def test_unbound_pod_is_ignored():
    pod = new_pod(["true"])
    del pod["spec"]["nodeName"]
    result = sync_pod(pod, new_node(), T0)
    assert result.status is None and result.actions == () and result.requeue_after is None


def test_active_deadline_seconds():
    pod = new_pod(["sleep", "3600"], spec_extra={"activeDeadlineSeconds": 20})
    driver = Driver(pod, new_node(images=["busybox:1.36"])).run_until(20)
    assert driver.pod["status"]["phase"] == "Failed"
    assert driver.pod["status"]["reason"] == "DeadlineExceeded"
    assert driver.pod["status"]["message"] == "Pod was active on the node longer than the specified deadline"
    assert ("DeadlineExceeded", "Pod was active on the node longer than the specified deadline") in \
        driver.event_texts()
    assert ("Killing", "Stopping container c") in driver.event_texts()
    assert pod_status_text(driver.pod) == "DeadlineExceeded"
    driver.run_until(100)
    assert driver.container_status()["state"]["terminated"]["exitCode"] == 137
    assert driver.deletes == []


def test_same_seed_same_life_and_inputs_not_mutated():
    pod = new_pod(["sh", "-c", "sleep 3; exit 1"], restart_policy="OnFailure")
    node = new_node()
    pod_before, node_before = copy.deepcopy(pod), copy.deepcopy(node)
    first = Driver(copy.deepcopy(pod), copy.deepcopy(node)).run_until(120)
    second = Driver(copy.deepcopy(pod), copy.deepcopy(node)).run_until(120)
    assert [(t, r.status, r.actions, r.requeue_after) for t, r in first.results] == \
        [(t, r.status, r.actions, r.requeue_after) for t, r in second.results]
    other = Driver(copy.deepcopy(pod), copy.deepcopy(node), seed="another").run_until(120)
    assert [t for t, _ in other.results] != [t for t, _ in first.results]
    # sync_pod never mutates what it is given.
    memory = copy.deepcopy(first.memory)
    frozen_pod = copy.deepcopy(first.pod)
    sync_pod(first.pod, node, T0 + timedelta(seconds=500), memory=first.memory, seed=SEED)
    assert first.memory == memory and first.pod == frozen_pod
    assert pod == pod_before and node == node_before


class CheckingDriver(Driver):
    """A Driver that checks, at every sync, that the memory it hands over comes back unchanged."""

    def sync(self):
        given = self.memory
        before = copy.deepcopy(given)
        result = super().sync()
        assert given == before, "sync_pod changed the memory it was given"
        return result


@pytest.mark.parametrize("command,policy", [
    pytest.param(["sh", "-c", "sleep 3; exit 1"], "OnFailure", id="restarts and crash-loop back-off"),
    pytest.param(["sh", "-c", "echo a; sleep 2; echo b; sleep 600"], "Never", id="logs, then a graceful deletion"),
])
def test_memory_given_to_a_sync_is_never_changed(command, policy):
    driver = CheckingDriver(new_pod(command, restart_policy=policy), new_node()).run_until(90)
    driver.delete(at=95, grace=5)
    driver.run_until(200)
    assert driver.deletes


def test_resync_without_change_writes_nothing():
    driver = Driver(new_pod(["sleep", "30"]), new_node(images=["busybox:1.36"])).run_until(5)
    result = sync_pod(driver.pod, driver.node, driver.now, memory=driver.memory, seed=SEED)
    assert result.status is None and result.actions == ()
    assert result.requeue_after == pytest.approx(seconds(driver.next_at) - seconds(driver.now))


def test_go_duration_string():
    assert [go_duration_string(s) for s in (0.512, 3.412, 10, 80, 300, 3600, 0)] == [
        "512ms", "3.412s", "10s", "1m20s", "5m0s", "1h0m0s", "0s"]


def test_normalize_image():
    assert normalize_image("perl:5.34.0") == "docker.io/library/perl:5.34.0"
    assert normalize_image("busybox") == "docker.io/library/busybox:latest"
    assert normalize_image("fluent/fluentd:v1") == "docker.io/fluent/fluentd:v1"
    assert normalize_image("quay.io/fluentd_elasticsearch/fluentd:v2.5.2") == \
        "quay.io/fluentd_elasticsearch/fluentd:v2.5.2"
    assert image_id("quay.io/fluentd_elasticsearch/fluentd:v2.5.2").startswith(
        "quay.io/fluentd_elasticsearch/fluentd@sha256:")


# --- kubectl STATUS / READY / RESTARTS ---------------------------------------------------------------------


def _cs(name="c", *, state, ready=False, restarts=0, last=None):
    status = {"name": name, "state": state, "ready": ready, "restartCount": restarts, "lastState": last or {}}
    return status


def _pod(phase, statuses=(), *, init_statuses=None, init_containers=None, containers=None, deleting=False,
         reason=None, conditions=None):
    containers = containers or [{"name": s["name"]} for s in statuses] or [{"name": "c"}]
    pod = {"metadata": {"name": "p"}, "spec": {"containers": containers},
           "status": {"phase": phase, "containerStatuses": list(statuses), "conditions": conditions or []}}
    if init_containers is not None:
        pod["spec"]["initContainers"] = init_containers
    if init_statuses is not None:
        pod["status"]["initContainerStatuses"] = init_statuses
    if deleting:
        pod["metadata"]["deletionTimestamp"] = "2025-01-01T00:00:30Z"
    if reason:
        pod["status"]["reason"] = reason
    return pod


RUNNING = {"running": {"startedAt": "2025-01-01T00:00:00Z"}}
READY_TRUE = [{"type": "Ready", "status": "True"}]
INIT_TRUE = [{"type": "Initialized", "status": "True"}]


@pytest.mark.parametrize(
    "pod, status, ready",
    [
        pytest.param(_pod("Pending", containers=[{"name": "c"}]), "Pending", "0/1", id="unscheduled"),
        pytest.param(_pod("Pending", [_cs(state={"waiting": {"reason": "ContainerCreating"}})]),
                     "ContainerCreating", "0/1", id="container creating"),
        pytest.param(_pod("Running", [_cs(state=RUNNING, ready=True)], conditions=READY_TRUE), "Running", "1/1",
                     id="running"),
        pytest.param(_pod("Succeeded", [_cs(state={"terminated": {"exitCode": 0, "reason": "Completed"}})]),
                     "Completed", "0/1", id="completed"),
        pytest.param(_pod("Failed", [_cs(state={"terminated": {"exitCode": 1, "reason": "Error"}})]),
                     "Error", "0/1", id="error"),
        pytest.param(_pod("Failed", [_cs(state={"terminated": {"exitCode": 3}})]), "ExitCode:3", "0/1",
                     id="exit code without reason"),
        pytest.param(_pod("Failed", [_cs(state={"terminated": {"exitCode": 0, "signal": 9}})]), "Signal:9", "0/1",
                     id="signal without reason"),
        pytest.param(_pod("Running", [_cs(state={"waiting": {"reason": "CrashLoopBackOff"}}, restarts=2)]),
                     "CrashLoopBackOff", "0/1", id="crash loop"),
        pytest.param(_pod("Failed", [_cs(state={"terminated": {"exitCode": 137, "reason": "OOMKilled"}})]),
                     "OOMKilled", "0/1", id="oom killed"),
        pytest.param(_pod("Running", [_cs(state=RUNNING, ready=True)], deleting=True), "Terminating", "1/1",
                     id="terminating"),
        pytest.param(_pod("Succeeded", [_cs(state={"terminated": {"exitCode": 0, "reason": "Completed"}})],
                          deleting=True), "Completed", "0/1", id="terminal pods are not Terminating"),
        pytest.param(_pod("Running", [_cs(state=RUNNING, ready=True)], deleting=True, reason="NodeLost"),
                     "Unknown", "1/1", id="node lost"),
        pytest.param(_pod("Failed", [], reason="Evicted"), "Evicted", "0/1", id="status reason"),
        pytest.param(_pod("Pending", conditions=[{"type": "PodScheduled", "status": "False",
                                                  "reason": "SchedulingGated"}]),
                     "SchedulingGated", "0/1", id="scheduling gated"),
        pytest.param(_pod("Running", [_cs("a", state={"terminated": {"exitCode": 0, "reason": "Completed"}}),
                                      _cs("b", state=RUNNING, ready=True)], conditions=READY_TRUE),
                     "Running", "1/2", id="completed but another running and ready"),
        pytest.param(_pod("Running", [_cs("a", state={"terminated": {"exitCode": 0, "reason": "Completed"}}),
                                      _cs("b", state=RUNNING, ready=True)]),
                     "NotReady", "1/2", id="completed but another running, pod not ready"),
        pytest.param(_pod("Running", [_cs("a", state={"waiting": {"reason": "CrashLoopBackOff"}}),
                                      _cs("b", state={"terminated": {"exitCode": 1, "reason": "Error"}})]),
                     "CrashLoopBackOff", "0/2", id="first container in spec order wins"),
        pytest.param(_pod("Pending", [_cs(state={"waiting": {"reason": "PodInitializing"}})],
                          init_containers=[{"name": "i1"}, {"name": "i2"}],
                          init_statuses=[_cs("i1", state={"terminated": {"exitCode": 0, "reason": "Completed"}}),
                                         _cs("i2", state=RUNNING)]),
                     "Init:1/2", "0/1", id="init running"),
        pytest.param(_pod("Pending", [], init_containers=[{"name": "i1"}],
                          init_statuses=[_cs("i1", state={"waiting": {"reason": "CrashLoopBackOff"}})]),
                     "Init:CrashLoopBackOff", "0/1", id="init crash loop"),
        pytest.param(_pod("Pending", [], init_containers=[{"name": "i1"}],
                          init_statuses=[_cs("i1", state={"terminated": {"exitCode": 2}})]),
                     "Init:ExitCode:2", "0/1", id="init exit code"),
        pytest.param(_pod("Failed", [], init_containers=[{"name": "i1"}],
                          init_statuses=[_cs("i1", state={"terminated": {"exitCode": 1, "reason": "Error"}})]),
                     "Init:Error", "0/1", id="init error"),
        pytest.param(_pod("Pending", [], init_containers=[{"name": "i1"}],
                          init_statuses=[_cs("i1", state={"waiting": {"reason": "PodInitializing"}})]),
                     "Init:0/1", "0/1", id="PodInitializing is not shown as Init reason"),
        pytest.param(_pod("Running", [_cs(state=RUNNING, ready=True)], conditions=READY_TRUE + INIT_TRUE,
                          init_containers=[{"name": "sidecar", "restartPolicy": "Always"}],
                          init_statuses=[dict(_cs("sidecar", state=RUNNING, ready=True), started=True)]),
                     "Running", "2/2", id="sidecar counts as a container"),
    ],
)
def test_pod_status_text(pod, status, ready):
    assert pod_status_text(pod) == status
    assert pod_ready_text(pod) == ready


def test_pod_restarts_text():
    now = datetime(2025, 1, 1, 0, 10, 0, tzinfo=timezone.utc)
    last = {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2025-01-01T00:05:00Z"}}
    assert pod_restarts_text(_pod("Running", [_cs(state=RUNNING, restarts=2, last=last)]), now) == "2 (5m ago)"
    last = {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2025-01-01T00:09:50Z"}}
    assert pod_restarts_text(_pod("Running", [_cs(state=RUNNING, restarts=1, last=last)]), now) == "1 (10s ago)"
    assert pod_restarts_text(_pod("Running", [_cs(state=RUNNING)]), now) == "0"
    assert pod_restarts_text(_pod("Running", [_cs(state=RUNNING, restarts=3)]), now) == "3"
    two = _pod("Running", [_cs("a", state=RUNNING, restarts=1, last=last), _cs("b", state=RUNNING, restarts=2)])
    assert pod_restarts_text(two, now) == "3 (10s ago)"


def test_a_finished_pod_is_forgotten_and_its_deletion_carried_out_at_once():
    """Once the API server holds the terminal status and nothing is left to happen, the kubelet keeps no memory
    of the pod; deleting it later removes it for good at once, with no Killing event (its container is gone).
    The pod is a Job's: its tracking finalizer keeps it, terminating, for the kubelet to see (a finished pod
    without finalizers is removed by the API server itself)."""
    pod = new_pod(["sh", "-c", "sleep 5"], restart_policy="Never")
    pod["metadata"]["finalizers"] = ["batch.kubernetes.io/job-tracking"]
    driver = Driver(pod, new_node()).run_until(60)
    assert driver.pod["status"]["phase"] == "Succeeded"
    assert driver.memory is not None  # the sync that wrote the phase still needs it, in case the write fails
    status = driver.pod["status"]
    again = driver.sync()  # the sync after the write sees Succeeded in the API server
    assert again.memory is None and again.status is None and again.actions == ()
    assert driver.sync().memory is None  # and stays forgotten: no re-admission, no restart
    assert driver.pod["status"] == status
    killed = driver.delete(at=100)
    assert [(type(a).__name__, a.grace_period_seconds) for a in killed.actions] == [("DeleteObject", 0)]
    assert "Killing" not in [reason for reason, _ in driver.event_texts()]
