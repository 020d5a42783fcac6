"""Deleting a running Job, end to end on an in-memory cluster: the API server's garbage collection and the Job
controller's orphan-pod queue together, after upstream's integration tests TestOrphanPodsFinalizersClearedWithGC and
TestOrphanPodsFinalizersClearedOnRestart (``test/integration/job/job_test.go``)."""

from datetime import datetime, timezone

import pytest

from controllers.engine import Engine
from controllers.job import JOB_TRACKING_FINALIZER
from controllers.manager import default_controllers
from apiserver.registry import delete_warnings
from apiserver.kinds import resource_for_kind
from kubeviz.runtime.memory import memory_cluster

START = datetime(2025, 1, 1, tzinfo=timezone.utc)
JOB = resource_for_kind("batch", "Job")

SLEEPY = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: sleepy
spec:
  parallelism: 2
  completions: 2
  template:
    spec:
      containers:
      - name: main
        image: busybox:1.36
        command: ["sleep", "300"]
      restartPolicy: Never
"""


def running_job():
    cluster = memory_cluster(nodes=2, seed=1, start=START)
    assert all(r.ok for r in cluster.apply(SLEEPY))
    cluster.advance(30)
    pods = cluster.objects("Pod")
    assert [(p["status"]["phase"], p["metadata"]["finalizers"]) for p in pods] == [
        ("Running", [JOB_TRACKING_FINALIZER])] * 2
    return cluster, [p["metadata"]["name"] for p in pods]


def pods(cluster):
    return {p["metadata"]["name"]: p for p in cluster.objects("Pod")}


@pytest.mark.parametrize("policy", ["Orphan", "Background", "Foreground"])
def test_orphan_pods_finalizers_cleared_with_gc(policy):
    cluster, names = running_job()
    cluster.registry.delete(JOB, "default", "sleepy", propagation_policy=policy)
    cluster.advance(1)
    assert not any(JOB_TRACKING_FINALIZER in (p["metadata"].get("finalizers") or []) for p in pods(cluster).values())
    # Foreground: the Job waits, with the foregroundDeletion finalizer, for its pods to be gone.
    assert [j["metadata"].get("finalizers") for j in cluster.objects("Job")] == (
        [["foregroundDeletion"]] if policy == "Foreground" else [])


@pytest.mark.parametrize("policy", ["Background", "Foreground"])
def test_a_deleted_jobs_pods_go_once_their_grace_period_is_over(policy):
    cluster, names = running_job()
    cluster.registry.delete(JOB, "default", "sleepy", propagation_policy=policy)
    cluster.advance(29)
    assert {name: bool(p["metadata"].get("deletionTimestamp")) for name, p in pods(cluster).items()} == \
        dict.fromkeys(names, True)  # Terminating: the kubelet stops the containers within 30 s
    cluster.advance(2)
    assert pods(cluster) == {} and cluster.objects("Job") == []


@pytest.mark.parametrize("policy", ["Orphan", None], ids=["Orphan", "no policy (batch/v1 orphans by default)"])
def test_orphaned_pods_stay_without_the_finalizer_and_the_owner_reference(policy):
    cluster, names = running_job()
    cluster.registry.delete(JOB, "default", "sleepy", propagation_policy=policy)
    assert delete_warnings(JOB, policy) == (() if policy else (
        "child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to remove "
        "them or set propagationPolicy=Orphan to suppress this warning",))
    cluster.advance(300)
    left = pods(cluster)
    assert sorted(left) == sorted(names)
    for pod in left.values():
        assert "finalizers" not in pod["metadata"] and "ownerReferences" not in pod["metadata"]
        assert "deletionTimestamp" not in pod["metadata"]
        assert pod["status"]["phase"] == "Succeeded"  # they ran to the end of their sleep


def test_orphan_pods_finalizers_cleared_on_restart():
    """The Job is deleted while the controller-manager is down; once it is back, the pods are released."""
    cluster, names = running_job()
    # Deleted straight through the API rules, with no engine running.
    cluster.registry.delete(JOB, "default", "sleepy", propagation_policy="Background")
    cluster.engine = Engine(cluster.engine.client, default_controllers(), seed="1")
    cluster.advance(31)
    assert pods(cluster) == {}


def test_a_replaced_cronjob_run_takes_its_pods_with_it():
    """concurrencyPolicy Replace deletes the running Job (Background): its pod stops and goes within the grace
    period, so at most the new run's pod and the one stopping exist at any time."""
    cluster = memory_cluster(nodes=2, seed=1, start=START)
    assert all(r.ok for r in cluster.apply("""\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: slow
spec:
  schedule: "*/1 * * * *"
  concurrencyPolicy: Replace
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: slow
            image: busybox:1.36
            command: ["sh", "-c", "sleep 150"]
          restartPolicy: OnFailure
"""))
    most = 0
    for _ in range(5 * 6):
        cluster.advance(10)
        most = max(most, len(cluster.objects("Pod")))
    assert most == 2
    cluster.advance(35)  # 00:05:35: the 00:05 run replaced the 00:04 one more than 30 s ago
    (pod,) = cluster.objects("Pod")
    assert pod["metadata"]["name"].startswith("slow-28928165-")
