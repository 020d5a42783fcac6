"""A busy cluster's dashboard goes live: its opening snapshot is longer than a websocket message may be (Daphne
refuses to send one over 1 MiB and closes the stream), so it comes in parts that the page puts together."""

import json

import pytest

from tests.dashboard.test_browser import Page, browser, call, new_cluster  # noqa: F401 - the browser fixture
from tests.live.conftest import kubeviz_server  # noqa: F401 - a live Daphne server

pytestmark = [pytest.mark.browser, pytest.mark.live]

PODS = 700
JOB = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "crowd"},
       "spec": {"completions": PODS, "parallelism": PODS, "template": {
           "metadata": {"annotations": {"note": "x" * 600}},
           "spec": {"restartPolicy": "Never", "containers": [
               {"name": "c", "image": "busybox:1.36", "command": ["sh", "-c", "sleep 3600"]}]}}}}


def test_the_dashboard_of_a_cluster_whose_snapshot_needs_several_frames_goes_live(browser, kubeviz_server):  # noqa: F811
    name = new_cluster(kubeviz_server, "crowded", nodes=20)
    call(kubeviz_server, "POST", f"/clusters/{name}/apis/batch/v1/namespaces/default/jobs", JOB)
    call(kubeviz_server, "POST", f"/sim/clusters/{name}/clock/advance", {"seconds": 30, "wait": 120})
    pods = call(kubeviz_server, "GET", f"/clusters/{name}/api/v1/namespaces/default/pods")["items"]
    assert len(pods) == PODS
    assert len(json.dumps(pods)) > 1024 * 1024  # the pods alone are more than one websocket message may carry

    page = Page(browser, kubeviz_server, name).open()  # waits for the stream to be live
    p = page.page
    p.wait_for_function(f"() => document.querySelectorAll('[data-testid=\"pod\"]').length === {PODS}")
    page.close()
