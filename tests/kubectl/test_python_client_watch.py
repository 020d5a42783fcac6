"""The official Python client's ``watch.Watch().stream(...)`` against a live kubeviz server."""

import threading
import time

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

pytestmark = pytest.mark.live


@pytest.fixture
def api(kubectl):
    configuration = client.Configuration()
    configuration.host = kubectl.server
    with client.ApiClient(configuration) as api_client:
        yield api_client


def test_stream_sends_current_objects_then_changes_and_ends_at_the_timeout(kubectl, api):
    kubectl("create", "-f", kubectl.manifest("job.yaml"))
    batch = client.BatchV1Api(api)

    def relabel():
        time.sleep(0.5)
        batch.patch_namespaced_job("pi", "default", {"metadata": {"labels": {"color": "red"}}})

    thread = threading.Thread(target=relabel)
    started = time.monotonic()
    thread.start()
    seen = []
    for event in watch.Watch().stream(batch.list_namespaced_job, "default", timeout_seconds=2):
        seen.append((event["type"], event["object"].metadata.name, (event["object"].metadata.labels or {}).get("color")))
    thread.join()
    assert seen == [("ADDED", "pi", None), ("MODIFIED", "pi", "red")]
    assert 1.9 < time.monotonic() - started < 5


def test_stream_from_a_resource_version_sends_only_later_changes(kubectl, api):
    core = client.CoreV1Api(api)
    rv = core.list_node().metadata.resource_version
    core.patch_node("node-1", {"metadata": {"labels": {"disk": "ssd"}}})
    events = [(e["type"], e["object"].metadata.name)
              for e in watch.Watch().stream(core.list_node, resource_version=rv, timeout_seconds=1)]
    assert events == [("MODIFIED", "node-1")]


def test_stream_with_a_field_selector_sees_the_deletion(kubectl, api):
    kubectl("create", "-f", kubectl.manifest("job.yaml"))
    kubectl("create", "-f", kubectl.manifest("cronjob.yaml"))
    batch = client.BatchV1Api(api)
    rv = batch.list_namespaced_job("default").metadata.resource_version
    kubectl("delete", "cronjob", "hello")
    kubectl("delete", "job", "pi")
    events = [(e["type"], e["object"].metadata.name) for e in watch.Watch().stream(
        batch.list_namespaced_job, "default", field_selector="metadata.name=pi", resource_version=rv,
        timeout_seconds=1)]
    assert events == [("DELETED", "pi")]


def test_bad_selector_is_a_400_before_streaming(kubectl, api):
    with pytest.raises(ApiException) as caught:
        next(iter(watch.Watch().stream(client.CoreV1Api(api).list_namespaced_pod, "default",
                                       field_selector="spec.bogus=1", timeout_seconds=1)))
    assert caught.value.status == 400
