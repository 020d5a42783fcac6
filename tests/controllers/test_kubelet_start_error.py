"""The kubelet when the simulated runtime cannot run a container's command.

A bug of the program interpreter (``controllers.programs``) is forced by making one of its parts raise. The
container must then fail to start as containerd reports it (``StartError``, exit code 128, Warning ``Failed``),
the pod follow its restartPolicy, the error be logged, and the engine go on with everything else.
"""

from __future__ import annotations

import logging
import textwrap
from datetime import datetime, timezone

import pytest

from controllers import programs
from controllers.pods import pod_status_text
from kubeviz.runtime.memory import memory_cluster
from tests.controllers.test_kubelet import Driver, new_node, new_pod

START = datetime(2025, 1, 1, tzinfo=timezone.utc)

#: What containerd says when runc cannot start the process, with our cause where runc's would be.
MESSAGE = ("failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create "
           "failed: unable to start container process: kubeviz could not simulate this command "
           "(RuntimeError: interpreter bug): unknown")


@pytest.fixture
def broken_echo(monkeypatch):
    def raise_bug(run, args, discard):
        raise RuntimeError("interpreter bug")

    monkeypatch.setattr(programs, "_cmd_echo", raise_bug)


def start_error(finished_at: str, container_id: str) -> dict:
    return {"exitCode": 128, "reason": "StartError", "message": MESSAGE, "startedAt": "1970-01-01T00:00:00Z",
            "finishedAt": finished_at, "containerID": container_id}


# --- the pod, through the kubelet alone --------------------------------------------------------------------


@pytest.mark.parametrize(
    "policy, phase, status_text, history",
    [
        pytest.param("Never", "Failed", "StartError", ["ContainerCreating", "StartError"],
                     id="restartPolicy Never: the pod fails"),
        pytest.param("OnFailure", "Running", "CrashLoopBackOff",
                     ["ContainerCreating", "RunContainerError", "RunContainerError", "CrashLoopBackOff",
                      "RunContainerError", "CrashLoopBackOff", "RunContainerError", "CrashLoopBackOff",
                      "RunContainerError", "CrashLoopBackOff"],
                     id="restartPolicy OnFailure: restarted with back-off"),
        pytest.param("Always", "Running", "CrashLoopBackOff",
                     ["ContainerCreating", "RunContainerError", "RunContainerError", "CrashLoopBackOff",
                      "RunContainerError", "CrashLoopBackOff", "RunContainerError", "CrashLoopBackOff",
                      "RunContainerError", "CrashLoopBackOff"],
                     id="restartPolicy Always: restarted with back-off"),
    ],
)
def test_a_command_the_runtime_cannot_run_fails_to_start(broken_echo, caplog, policy, phase, status_text, history):
    pod = new_pod(["sh", "-c", "echo hi"], restart_policy=policy)
    with caplog.at_level(logging.ERROR, logger="controllers.kubelet"):
        driver = Driver(pod, new_node(images=["busybox:1.36"])).run_until(100)
    assert driver.pod["status"]["phase"] == phase
    assert pod_status_text(driver.pod) == status_text
    assert [text for _, text in driver.history] == history
    assert driver.logs == []
    # Created, then Failed instead of Started, at every attempt.
    assert driver.event_texts()[:3] == [
        ("Pulled", 'Container image "busybox:1.36" already present on machine'),
        ("Created", "Created container: c"),
        ("Failed", f"Error: {MESSAGE}"),
    ]
    assert all(reason != "Started" for reason, _ in driver.event_texts())
    # Every failed start is logged with its traceback.
    failures = [e for _, e in driver.events if e.reason == "Failed"]
    assert len(caplog.records) == len(failures)
    assert all(r.exc_info and r.exc_info[0] is RuntimeError and "pod p_default(u1)" in r.getMessage()
               for r in caplog.records)

    status = driver.container_status()
    assert status["ready"] is False and status["started"] is False
    if policy == "Never":
        assert driver.next_at is None
        assert status["restartCount"] == 0 and status["lastState"] == {}
        assert status["state"] == {"terminated": start_error("2025-01-01T00:00:00Z", status["containerID"])}
    else:
        assert status["restartCount"] == len(failures) - 1
        assert status["state"]["waiting"]["reason"] == "CrashLoopBackOff"
        last = status["lastState"]["terminated"]
        assert last == start_error(last["finishedAt"], last["containerID"])


def test_run_container_error_shows_the_start_error_until_the_restart(broken_echo):
    pod = new_pod(["sh", "-c", "echo hi"], restart_policy="OnFailure")
    driver = Driver(pod, new_node(images=["busybox:1.36"])).run_until(1)  # the first failed start, not yet restarted
    status = driver.container_status()
    assert status["state"] == {"waiting": {"reason": "RunContainerError", "message": MESSAGE}}
    assert status["lastState"] == {"terminated": start_error("2025-01-01T00:00:00Z", status["containerID"])}
    assert status["restartCount"] == 0
    assert driver.pod["status"]["phase"] == "Running"  # getPhase: stopped, to be restarted


# --- the engine goes on ------------------------------------------------------------------------------------


def bare_pod(name: str, command: list[str]) -> str:
    return textwrap.dedent(
        f"""\
        apiVersion: v1
        kind: Pod
        metadata:
          name: {name}
        spec:
          restartPolicy: Never
          containers:
          - name: main
            image: busybox:1.36
            command: {command!r}
        """
    ).replace("'", '"')


def original_pi(digits: int) -> str:
    """The digits written with ``str()``, as before the fix: more than 4,300 raise ValueError."""
    return str(10 ** (digits - 1) * 3)


def too_deep(script: str):
    raise RecursionError("maximum recursion depth exceeded")


@pytest.mark.parametrize(
    "part, replacement, command, error",
    [
        pytest.param("_cmd_echo", lambda run, args, discard: 1 / 0, ["sh", "-c", "echo hi"], "ZeroDivisionError",
                     id="a command handler raises"),
        pytest.param("pi_significant_digits", original_pi, ["perl", "-Mbignum=bpi", "-wle", "print bpi(5000)"],
                     "ValueError: Exceeds the limit (4300 digits) for integer string conversion",
                     id="the int-to-str limit, as in the original bug"),
        pytest.param("tokenize", too_deep, ["sh", "-c", "date"], "RecursionError", id="the shell parser raises"),
    ],
)
def test_the_engine_goes_on_when_the_interpreter_raises(monkeypatch, caplog, part, replacement, command, error):
    monkeypatch.setattr(programs, part, replacement)
    cluster = memory_cluster(nodes=2, seed=3, start=START)
    assert all(r.ok for r in cluster.apply(bare_pod("broken", command) + "---\n" + bare_pod("healthy", ["sleep", "5"])))
    with caplog.at_level(logging.ERROR, logger="controllers.kubelet"):
        cluster.advance(60)  # no exception reaches the engine, so none reaches the API either
    pods = {p["metadata"]["name"]: p for p in cluster.objects("Pod")}
    broken = pods["broken"]
    assert broken["status"]["phase"] == "Failed" and pod_status_text(broken) == "StartError"
    terminated = broken["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (128, "StartError")
    assert f"kubeviz could not simulate this command ({error}" in terminated["message"]
    assert pods["healthy"]["status"]["phase"] == "Succeeded"
    assert [(r.name, r.levelname) for r in caplog.records if r.levelno >= logging.WARNING] == [
        ("controllers.kubelet", "ERROR")]
    # The engine keeps running: a pod applied afterwards runs as usual.
    assert all(r.ok for r in cluster.apply(bare_pod("later", ["sleep", "5"])))
    cluster.advance(60)
    assert {p["metadata"]["name"]: p["status"]["phase"] for p in cluster.objects("Pod")} == {
        "broken": "Failed", "healthy": "Succeeded", "later": "Succeeded"}
