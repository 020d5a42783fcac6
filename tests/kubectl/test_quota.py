"""ResourceQuota with the real kubectl 1.32: create quota (a protobuf body), get and describe it, the Forbidden
errors kubectl prints for creates over quota, and the FailedCreate events of a Job held back by one."""

import json

import pytest

pytestmark = pytest.mark.live

WORK = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: work
spec:
  parallelism: 4
  completions: 4
  template:
    spec:
      containers:
      - name: main
        image: busybox:1.36
        command: ["sleep", "300"]
      restartPolicy: Never
"""


def test_create_get_and_describe_quota(kubectl):
    assert kubectl("create", "quota", "q", "--hard=pods=2,count/jobs.batch=3,limits.memory=1Gi") == \
        "resourcequota/q created\n"
    # until the quota controller has synced it, a quota has no status: nothing to show, nothing enforced
    assert kubectl("get", "quota") == "NAME   AGE   REQUEST   LIMIT\nq      0s              \n"
    kubectl.advance(0)
    assert kubectl("get", "quota") == (
        "NAME   AGE   REQUEST                            LIMIT\n"
        "q      0s    count/jobs.batch: 0/3, pods: 0/2   limits.memory: 0/1Gi\n")
    assert kubectl("describe", "quota", "q") == (
        "Name:             q\n"
        "Namespace:        default\n"
        "Resource          Used  Hard\n"
        "--------          ----  ----\n"
        "count/jobs.batch  0     3\n"
        "limits.memory     0     1Gi\n"
        "pods              0     2\n")
    quota = json.loads(kubectl("get", "resourcequota", "q", "-o", "json"))
    assert quota["status"] == {"hard": {"count/jobs.batch": "3", "limits.memory": "1Gi", "pods": "2"},
                               "used": {"count/jobs.batch": "0", "limits.memory": "0", "pods": "0"}}


def test_creates_over_quota_are_forbidden_as_upstream_words_it(kubectl):
    kubectl("create", "quota", "q", "--hard=pods=1,count/jobs.batch=1")
    kubectl.advance(0)
    assert kubectl("create", "job", "first", "--image=busybox:1.36", "--", "sleep", "5") == "job.batch/first created\n"
    refused = kubectl.run("create", "job", "second", "--image=busybox:1.36", "--", "sleep", "5", check=False)
    assert (refused.returncode, refused.stderr) == (
        1, 'error: failed to create job: jobs.batch "second" is forbidden: exceeded quota: q, requested: '
           "count/jobs.batch=1, used: count/jobs.batch=1, limited: count/jobs.batch=1\n")
    kubectl.advance(1)  # the Job's pod takes the one pod the quota allows
    path = kubectl.manifest("pod.yaml")
    refused = kubectl.run("apply", "-f", path, check=False)
    assert (refused.returncode, refused.stderr) == (
        1, 'Error from server (Forbidden): error when creating "pod.yaml": pods "web" is forbidden: exceeded quota: '
           "q, requested: pods=1, used: pods=1, limited: pods=1\n")
    assert kubectl("describe", "quota", "q").endswith("count/jobs.batch  1     1\npods              1     1\n")


def test_apply_a_quota_manifest_and_a_bad_one(kubectl):
    path = kubectl.write("quota.yaml", "apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: q\nspec:\n"
                                       "  hard:\n    pods: \"2\"\n    requests.memory: 1024Mi\n")
    assert kubectl("apply", "-f", path) == "resourcequota/q created\n"
    assert kubectl("get", "quota", "q", "-o", "jsonpath={.spec.hard}") == '{"pods":"2","requests.memory":"1Gi"}'
    bad = kubectl.write("bad.yaml", "apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: bad\nspec:\n"
                                    "  hard:\n    pod: \"2\"\n")
    refused = kubectl.run("apply", "-f", bad, check=False)
    assert (refused.returncode, refused.stderr) == (
        1, 'The ResourceQuota "bad" is invalid: \n'
           "* spec.hard[pod]: Invalid value: pod: must be a standard resource type or fully qualified\n"
           "* spec.hard[pod]: Invalid value: pod: must be a standard resource for quota\n")


def test_a_pod_without_requests_under_a_compute_quota(kubectl):
    kubectl("create", "quota", "compute", "--hard=requests.cpu=1,requests.memory=1Gi")
    kubectl.advance(0)
    refused = kubectl.run("run", "bare", "--image=nginx:1.27", check=False)
    assert (refused.returncode, refused.stderr) == (
        1, 'Error from server (Forbidden): pods "bare" is forbidden: failed quota: compute: must specify '
           "requests.cpu for: bare; requests.memory for: bare\n")


def test_a_job_held_back_by_quota_shows_failed_create_events_and_finishes_when_it_is_raised(kubectl):
    kubectl("create", "quota", "q", "--hard=pods=2")
    kubectl("apply", "-f", kubectl.write("work.yaml", WORK))
    kubectl.advance(10)
    assert kubectl("get", "pods", "--no-headers", "-o", "name").count("pod/work-") == 2
    assert kubectl("get", "job", "work", "-o", "jsonpath={.status.active}") == "2"
    described = kubectl("describe", "job", "work")
    failed = [line for line in described.splitlines() if "FailedCreate" in line]
    assert failed
    for line in failed:
        fields = line.split()
        assert fields[:2] == ["Warning", "FailedCreate"] and "job-controller" in fields
        assert line.endswith('" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2')
        assert 'Error creating: pods "work-' in line
    assert kubectl("patch", "quota", "q", "--type=merge", "-p", '{"spec":{"hard":{"pods":"4"}}}') == \
        "resourcequota/q patched\n"
    kubectl.advance(70)
    assert kubectl("get", "quota", "q", "--no-headers").split()[2:] == ["pods:", "4/4"]
    kubectl.advance(400)
    assert kubectl("get", "job", "work", "-o", "jsonpath={.status.succeeded}") == "4"
