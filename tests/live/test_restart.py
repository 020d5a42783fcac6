"""A server restart in the middle of a Job loses nothing and duplicates nothing: the run is the same run."""

import json
import urllib.request

import pytest

pytestmark = pytest.mark.live

PARALLEL = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: paral-1
spec:
  completions: 8
  parallelism: 2
  template:
    spec:
      containers:
      - name: work
        image: ubuntu
        command: ["/bin/sh", "-c", "sleep 30; date"]
      restartPolicy: OnFailure
"""


def call(server, method, path, body=None, content_type="application/json"):
    data = body.encode() if isinstance(body, str) else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(server.url + path, data=data, method=method,
                                     headers={"Content-Type": content_type})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def start(server, name):
    call(server, "POST", "/sim/clusters", {"name": name, "nodes": 3, "seed": 11, "start": "2025-01-01T00:00:00Z"})
    call(server, "POST", f"/sim/clusters/{name}/apply", PARALLEL, content_type="application/yaml")


def advance(server, name, seconds):
    return call(server, "POST", f"/sim/clusters/{name}/clock/advance", {"seconds": seconds})


def outcome(server, name):
    job = call(server, "GET", f"/clusters/{name}/apis/batch/v1/namespaces/default/jobs/paral-1")
    pods = call(server, "GET", f"/clusters/{name}/api/v1/namespaces/default/pods?labelSelector=job-name%3Dparal-1")
    events = call(server, "GET", f"/clusters/{name}/api/v1/namespaces/default/events?fieldSelector="
                                 "involvedObject.name%3Dparal-1,reason%3DSuccessfulCreate")
    return {
        "succeeded": job["status"].get("succeeded"),
        "completionTime": job["status"].get("completionTime"),
        "pods": sorted((p["metadata"]["name"], p["metadata"]["creationTimestamp"],
                        p["status"]["containerStatuses"][0]["state"]["terminated"]["finishedAt"])
                       for p in pods["items"]),
        "creates": sum(e.get("count", 1) for e in events["items"]),
    }


def test_restart_in_the_middle_of_a_job_changes_nothing(fresh_kubeviz_server):
    server = fresh_kubeviz_server
    start(server, "straight")
    advance(server, "straight", 400)
    expected = outcome(server, "straight")
    assert expected["succeeded"] == 8 and expected["creates"] == 8

    start(server, "restarted")
    advance(server, "restarted", 45)  # the second wave is mid-sleep
    server.restart()
    clock = call(server, "GET", "/sim/clusters/restarted/clock")
    assert clock["now"] == "2025-01-01T00:00:45Z"
    advance(server, "restarted", 355)
    assert outcome(server, "restarted") == expected
