"""Export, import, fork and compare from the dashboard in a real Chromium against a real Daphne server."""

import json

import pytest

from tests.dashboard.test_browser import Page, browser, call, server_table, wait_until  # noqa: F401 - fixtures
from tests.live.conftest import kubeviz_server  # noqa: F401 - a live Daphne server
from tests.manifests import agent_daemonset, failing_pi

pytestmark = [pytest.mark.browser, pytest.mark.live]

SCRIPTY = '<img src=x onerror="document.title=1">'
EVENT = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "note"}, "type": "Normal", "reason": "Note",
         "message": SCRIPTY, "involvedObject": {"kind": "Job", "namespace": "default", "name": "pi"},
         "firstTimestamp": "2025-01-01T00:00:30Z", "lastTimestamp": "2025-01-01T00:00:30Z", "count": 1}


def test_export_import_fork_and_compare(browser, kubeviz_server, tmp_path):  # noqa: F811
    server = kubeviz_server
    call(server, "POST", "/sim/clusters", {"name": "rec-walk", "nodes": 3, "seed": 7,
                                           "start": "2025-01-01T00:00:00Z", "paused": True})
    for manifest in (failing_pi(2), agent_daemonset("1")):
        call(server, "POST", "/sim/clusters/rec-walk/apply", manifest.encode(),
             headers={"Content-Type": "application/yaml"})
    call(server, "POST", "/sim/clusters/rec-walk/clock/advance", {"seconds": 20})
    call(server, "POST", "/clusters/rec-walk/api/v1/namespaces/default/events", EVENT)
    call(server, "POST", "/sim/clusters/rec-walk/clock/advance", {"seconds": 5})

    page = Page(browser, server, "rec-walk").open()
    p = page.page
    dialogs = []
    p.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    with p.expect_download() as download:
        p.click('[data-testid="recording-export"]')
    saved = tmp_path / "rec-walk.kubeviz.json"
    download.value.save_as(saved)
    assert download.value.suggested_filename == "rec-walk.kubeviz.json"
    recording = json.loads(saved.read_text())
    assert recording["kind"] == "KubevizRecording"
    assert [i.get("kind") for i in recording["inputs"] if i["type"] == "write"] == ["Job", "DaemonSet", "Event"]

    # Import: the page opens the rebuilt cluster, the same objects as the original
    with p.expect_navigation(url="**/c/rec-walk-copy/"):
        p.set_input_files('[data-testid="recording-import"]', str(saved))
    p.wait_for_selector('[data-testid="connection"][data-state="live"]', timeout=15000)
    for path in ("/api/v1/namespaces/default/pods", "/apis/batch/v1/namespaces/default/jobs",
                 "/apis/apps/v1/namespaces/default/daemonsets"):
        assert server_table(server, f"/clusters/rec-walk-copy{path}") == server_table(server, f"/clusters/rec-walk{path}")
    assert p.inner_text('[data-testid="clock-now"]').endswith("00:00:25")

    # A broken file is refused, and said so
    broken = tmp_path / "broken.json"
    broken.write_text(saved.read_text()[:200])
    p.set_input_files('[data-testid="recording-import"]', str(broken))
    p.wait_for_selector('.toast-error:has-text("Import refused: the recording is not valid JSON (the file looks '
                        'truncated)")')

    # Fork from the live instant, try another future there, and compare the two
    with p.expect_navigation(url="**/c/rec-walk-copy-fork-1/"):
        p.click('[data-testid="fork-here"]')
    p.wait_for_selector('[data-testid="connection"][data-state="live"]', timeout=15000)
    call(server, "PATCH", "/clusters/rec-walk-copy-fork-1/apis/batch/v1/namespaces/default/jobs/pi",
         b'{"spec": {"backoffLimit": 6}}', headers={"Content-Type": "application/merge-patch+json"})
    for name in ("rec-walk-copy", "rec-walk-copy-fork-1"):
        call(server, "POST", f"/sim/clusters/{name}/clock/advance", {"seconds": 240})
    with p.expect_navigation(url="**/sim/compare?a=rec-walk-copy&b=rec-walk-copy-fork-1"):
        p.click('[data-testid="compare-source"]')
    p.wait_for_selector('[data-side="b"] [data-testid="workload-Job-pi"]')
    assert p.inner_text('[data-testid="diverged"]') == "Since they diverged at 2025-01-01T00:00:25.000000Z"
    job_a = p.inner_text('[data-side="a"] [data-testid="workload-Job-pi"]')
    job_b = p.inner_text('[data-side="b"] [data-testid="workload-Job-pi"]')
    assert "Failed=True (BackoffLimitExceeded)" in job_a and "failed 3" in job_a
    assert "Failed=True" not in job_b and "failed 5" in job_b  # six retries: still going
    assert p.locator('[data-side="a"] [data-phase="Failed"]').count() == 1
    # what a learner wrote is shown as text, never run
    texts = p.eval_on_selector_all('[data-side="a"] .compare-events li', "els => els.map(e => e.textContent)")
    assert any(SCRIPTY in text for text in texts)
    assert p.locator(".compare-events img").count() == 0 and p.title() != "1" and not dialogs
    page.shot("compare")
    # the refused import is the one answer that was not 2xx (Chromium logs it)
    refused = [x for x in page.problems if "status of 422" in x and "/sim/recordings?name=imported-copy" in x]
    assert len(refused) == 1
    page.problems.remove(refused[0])
    page.close()
