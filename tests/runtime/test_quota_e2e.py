"""Quotas end to end on an in-memory cluster: the quota controller keeps ``status.used`` true as pods come and go,
and the Job, CronJob and DaemonSet controllers' creates refused by quota become FailedCreate Warnings and are retried
with backoff until the quota allows them (upstream's ``RealPodControl`` and ``jobControl`` events)."""

from datetime import datetime, timezone

from apiserver.kinds import resource_for_kind
from kubeviz.runtime.memory import memory_cluster

START = datetime(2025, 1, 1, tzinfo=timezone.utc)

QUOTA = """\
apiVersion: v1
kind: ResourceQuota
metadata:
  name: q
spec:
  hard:
    pods: "2"
"""

JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: work
spec:
  parallelism: 4
  completions: 4
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox:1.36
        command: ["sleep", "{seconds}"]
"""


def cluster_with(*manifests, nodes=3):
    cluster = memory_cluster(nodes=nodes, seed=1, start=START)
    for manifest in manifests:
        assert all(result.ok for result in cluster.apply(manifest))
    return cluster


def quota_status(cluster, name="q"):
    return next(q for q in cluster.objects("ResourceQuota") if q["metadata"]["name"] == name)["status"]


def warnings(cluster, kind):
    return [(e["reason"], e["message"]) for e in cluster.objects("Event")
            if e["type"] == "Warning" and e["involvedObject"]["kind"] == kind]


def live_pods(cluster):
    return [p for p in cluster.objects("Pod") if p["status"].get("phase") not in ("Succeeded", "Failed")]


def test_status_used_follows_pods_as_they_come_and_finish():
    cluster = cluster_with(QUOTA.replace('pods: "2"', 'pods: "10"\n    count/pods: "10"\n    requests.memory: 1Gi'),
                           JOB.format(seconds=20).replace(
                               "command:", "resources: {requests: {memory: 128Mi}}\n        command:"))
    assert quota_status(cluster) == {}  # nothing is synced before the controllers run
    cluster.advance(1)
    assert quota_status(cluster) == {"hard": {"count/pods": "10", "pods": "10", "requests.memory": "1Gi"},
                                     "used": {"count/pods": "4", "pods": "4", "requests.memory": "512Mi"}}
    cluster.advance(60)
    assert not live_pods(cluster) and len(cluster.objects("Pod")) == 4
    # finished pods stop counting as pods and memory, but stay in count/pods while they exist
    assert quota_status(cluster)["used"] == {"count/pods": "4", "pods": "0", "requests.memory": "0"}
    for pod in cluster.objects("Pod"):
        cluster.registry.delete(resource_for_kind("", "Pod"), "default", pod["metadata"]["name"])
    cluster.advance(2)
    assert quota_status(cluster)["used"] == {"count/pods": "0", "pods": "0", "requests.memory": "0"}


def test_job_creates_refused_by_quota_are_retried_until_the_quota_is_raised_then_the_job_completes():
    cluster = cluster_with(QUOTA, JOB.format(seconds=300))
    cluster.advance(10)
    assert len(cluster.objects("Pod")) == 2
    job = cluster.objects("Job")[0]
    assert job["status"]["active"] == 2  # the refused creates are not counted as active
    refused = warnings(cluster, "Job")
    assert refused and all(reason == "FailedCreate" for reason, _ in refused)
    for _, message in refused:
        assert message.startswith('Error creating: pods "work-')
        assert message.endswith('" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2')
    # retried with the Job controller's backoff: 1 s, 2 s, 4 s, ... (not 5 ms) - a few in the first 10 s
    assert 3 <= len(refused) <= 6
    assert quota_status(cluster) == {"hard": {"pods": "2"}, "used": {"pods": "2"}}

    cluster.patch("ResourceQuota", "q", {"spec": {"hard": {"pods": "4"}}}, namespace="default")
    cluster.advance(70)  # the next retry is at most MaxJobApiBackOff (60 s) away
    assert len(live_pods(cluster)) == 4
    assert quota_status(cluster) == {"hard": {"pods": "4"}, "used": {"pods": "4"}}
    assert cluster.objects("Job")[0]["status"]["active"] == 4
    cluster.advance(400)
    job = cluster.objects("Job")[0]
    assert job["status"]["succeeded"] == 4
    assert [c["type"] for c in job["status"]["conditions"] if c["status"] == "True"] == [
        "SuccessCriteriaMet", "Complete"]
    assert quota_status(cluster)["used"] == {"pods": "0"}


def test_finished_pods_free_the_quota_for_the_rest_of_the_job():
    cluster = cluster_with(QUOTA, JOB.format(seconds=20))
    cluster.advance(200)
    job = cluster.objects("Job")[0]
    assert job["status"]["succeeded"] == 4 and len(cluster.objects("Pod")) == 4


def test_daemon_set_pods_refused_by_quota():
    daemon_set = """\
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers:
      - name: agent
        image: fluentd:v2
        resources:
          requests: {cpu: 100m}
"""
    cluster = cluster_with(QUOTA.replace('pods: "2"', "requests.cpu: 250m"), daemon_set, nodes=3)
    cluster.advance(10)
    assert len(cluster.objects("Pod")) == 2
    # each retry names another pod: from the tenth message on they are combined into one Event
    messages = {m.removeprefix("(combined from similar events): ") for _, m in warnings(cluster, "DaemonSet")}
    assert messages and all(m.startswith('Error creating: pods "agent-') and m.endswith(
        '" is forbidden: exceeded quota: q, requested: requests.cpu=100m, used: requests.cpu=200m, '
        "limited: requests.cpu=250m") for m in messages)


def test_cron_job_whose_job_is_refused_by_quota_tries_again():
    cron_job = """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: tick
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: main
            image: busybox:1.36
            command: ["sleep", "5"]
"""
    cluster = cluster_with(QUOTA.replace('pods: "2"', 'count/jobs.batch: "0"'), cron_job)
    cluster.advance(70)
    assert cluster.objects("Job") == []
    assert set(warnings(cluster, "CronJob")) == {(
        "FailedCreate", 'Error creating job: jobs.batch "tick-28928161" is forbidden: exceeded quota: q, '
                        "requested: count/jobs.batch=1, used: count/jobs.batch=0, limited: count/jobs.batch=0")}
    assert "lastScheduleTime" not in cluster.objects("CronJob")[0]["status"]  # not scheduled: it is retried
    cluster.patch("ResourceQuota", "q", {"spec": {"hard": {"count/jobs.batch": "5"}}}, namespace="default")
    cluster.advance(30)
    assert [j["metadata"]["name"] for j in cluster.objects("Job")] == ["tick-28928161"]
