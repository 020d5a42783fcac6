"""A run cut into slices is the same run: ``Engine.run_until(target, stop=...)`` stopped after any sync and called
again does exactly what one uncut ``run_until(target)`` does — the objects, their resourceVersions and the traces.
(The server's engine host cuts long runs this way so that other requests are served between slices.)"""

import itertools
import json
from datetime import timedelta

import pytest

from apiserver.kinds import resource_for_kind
from kubeviz.runtime.memory import memory_cluster
from tests.conftest import START
from tests.manifests import FLUENTD, HELLO, PI

PARALLEL = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: paral
spec:
  completions: 12
  parallelism: 4
  backoffLimit: 3
  template:
    spec:
      containers:
      - name: work
        image: busybox:1.36
        command: ["sh", "-c", "sleep 20; exit 0"]
      restartPolicy: Never
"""
DAEMONSET = resource_for_kind("apps", "DaemonSet")
KINDS = ("Pod", "Job", "CronJob", "DaemonSet", "ControllerRevision", "Node", "Event")


def world(cluster) -> dict:
    return {kind: json.dumps(cluster.objects(kind), sort_keys=True) for kind in KINDS}


def traces(cluster) -> list[dict]:
    return [record.as_json() for record in cluster.engine.traces]


def scenario():
    cluster = memory_cluster(nodes=4, seed=9, start=START)
    for manifest in (PARALLEL, HELLO, FLUENTD, PI):
        assert all(result.ok for result in cluster.apply(manifest))
    return cluster


def every(n: int):
    """A stop that says yes after every n-th sync."""
    counter = itertools.count(1)
    return lambda: next(counter) % n == 0


@pytest.mark.parametrize("n", [1, 7, 100])
def test_a_run_cut_after_every_n_syncs_equals_the_uncut_run(n):
    whole, sliced = scenario(), scenario()
    for minutes in (3, 10):  # the second leg starts where a DaemonSet update lands mid-run
        target = START + timedelta(minutes=minutes)
        assert whole.engine.run_until(target) is True
        calls = 0
        while not sliced.engine.run_until(target, stop=every(n)):
            calls += 1
            assert calls < 100_000
        if minutes == 3:
            assert calls > 0, "the stop never cut the run: the test would prove nothing"
            for cluster in (whole, sliced):
                daemonset = cluster.registry.get(DAEMONSET, "kube-system", "fluentd-elasticsearch")
                daemonset["spec"]["template"]["spec"]["containers"][0]["image"] = "fluentd:v2"
                cluster.registry.update(DAEMONSET, "kube-system", "fluentd-elasticsearch", daemonset)
        assert sliced.now == whole.now == target
        assert world(sliced) == world(whole)
        assert traces(sliced) == traces(whole)
