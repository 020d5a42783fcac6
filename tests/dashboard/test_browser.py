"""The live dashboard in a real Chromium, against a real Daphne server: the seed article's demos walked from the
page the way a learner would, looking only at what the page shows.

Screenshots of every view go to ``test-artifacts/screenshots/``. Every test fails on a JavaScript error or a
console error, and on any request that leaves the server (the page must work offline).
"""

import json
import time
import urllib.request
from pathlib import Path

import pytest

from tests.live.conftest import fresh_kubeviz_server, kubeviz_server  # noqa: F401 - live Daphne servers
from tests.manifests import failing_pi, slow_cronjob

pytestmark = [pytest.mark.browser, pytest.mark.live]

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
EXAMPLES = ROOT / "kubeviz" / "dashboard" / "examples"
START = "2025-01-01T00:00:00Z"


def call(server, method, path, body=None, headers=None):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(server.url + path, data=data, method=method, headers=headers or {})
    if body is not None and not headers:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make browser installs it)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Page:
    """A dashboard page with its console watched: JS errors, console errors and off-server requests fail the test."""

    def __init__(self, browser, server, cluster, locale="en-US"):
        self.server = server
        self.context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale=locale)
        self.page = self.context.new_page()
        self.problems = []
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("console", self._console)
        self.page.on("request", lambda r: None if r.url.startswith((server.url, "ws://127.0.0.1", "data:"))
                     else self.problems.append(f"external request: {r.url}"))
        self.cluster = cluster

    def _console(self, message):
        if message.type != "error":
            return
        # Chromium logs every non-2xx answer; a manifest the API rejects (422 from /apply) is the editor working.
        if message.text.startswith("Failed to load resource") and "/apply" in (message.location or {}).get("url", ""):
            return
        self.problems.append(f"console {message.type}: {message.text} {message.location}")

    def open(self, path=None):
        self.page.goto(self.server.url + (path or f"/c/{self.cluster}/"))
        self.page.wait_for_selector('[data-testid="connection"][data-state="live"]', timeout=15000)
        return self

    def shot(self, name):
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"))

    def tab(self, name):
        self.page.click(f'[data-tab="{name}"]')

    def apply_example(self, example, says):
        """Load one of the editor's examples, wait for it to validate, apply it and wait for the answer ``says``."""
        self.page.click(f'[data-testid="example-{example}"]')
        self.page.wait_for_selector('#validation[data-state="valid"]')
        self.page.click('[data-testid="apply"]')
        self.page.wait_for_selector(f'[data-testid="apply-output"]:has-text("{says}")')

    def apply_yaml(self, text, says):
        """Put ``text`` in the editor, wait for it to validate, apply it and wait for the answer ``says``."""
        self.page.evaluate("text => window.kubeviz.editor.load(text)", text)
        self.page.wait_for_selector('#validation[data-state="valid"]')
        self.page.click('[data-testid="apply"]')
        self.page.wait_for_selector(f'[data-testid="apply-output"]:has-text("{says}")')

    def advance(self, seconds):
        """Fast-forward the clock from the page's form."""
        self.page.fill('[data-testid="clock-advance-seconds"]', str(seconds))
        self.page.click('[data-testid="clock-advance"]')

    def table_rows(self):
        """The cells of the resource table's rows, sorted."""
        return sorted(self.page.eval_on_selector_all(
            "#resource-table tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))"))

    def statuses(self):
        return self.page.eval_on_selector_all('[data-testid="pod"]', "els => els.map(e => e.dataset.status)")

    def close(self):
        self.context.close()
        assert not self.problems, self.problems


def server_table(server, path):
    """The cells of the rows the API server answers as a Table (what kubectl prints), sorted."""
    table = call(server, "GET", path, headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"})
    return sorted([[str(c) for c in row["cells"]] for row in table["rows"]])


def new_cluster(server, name, nodes=3):
    call(server, "POST", "/sim/clusters", {"name": name, "nodes": nodes, "seed": 7, "start": START, "paused": True})
    return name


def wait_until(predicate, timeout=30.0, interval=0.1, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message}")


def test_parallel_job_walk(browser, kubeviz_server, tmp_path):  # noqa: F811
    """Upload paral-1 through the file input, apply it, play the clock: eight pods Completed, four batches."""
    name = new_cluster(kubeviz_server, "walk-job")
    page = Page(browser, kubeviz_server, name).open()
    p = page.page
    assert p.locator('[data-testid="node"]').count() == 4
    page.shot("01-cluster-empty")

    manifest = tmp_path / "paral-1.yaml"
    manifest.write_text((EXAMPLES / "paral-1.yaml").read_text())
    p.set_input_files('[data-testid="yaml-upload"]', str(manifest))
    p.wait_for_selector('#validation[data-state="valid"]')
    p.click('[data-testid="apply"]')
    p.wait_for_selector('[data-testid="apply-output"]:has-text("job.batch/paral-1 created")')
    page.shot("02-editor-applied")

    p.select_option('[data-testid="clock-speed"]', "20")
    p.click('[data-testid="clock-play"]')
    p.wait_for_selector('[data-testid="clock-play"][data-paused="false"]')
    # The Job controller keeps two pods running (parallelism 2).
    wait_until(lambda: page.statuses().count("Running") == 2, message="two Running pods")
    assert len(page.statuses()) <= 8
    page.shot("03-cluster-running")
    wait_until(lambda: page.statuses().count("Completed") == 8, timeout=60, message="eight Completed pods")
    # The Job controller hears of its pods at most once a second (syncJobBatchPeriod): let it count the last one.
    job_path = f"/clusters/{name}/apis/batch/v1/namespaces/default/jobs/paral-1"
    wait_until(lambda: call(kubeviz_server, "GET", job_path)["status"].get("succeeded") == 8, timeout=60,
               message="the Job to count eight succeeded pods")
    p.click('[data-testid="clock-play"]')
    p.wait_for_selector('[data-testid="clock-play"][data-paused="true"]')
    assert page.statuses() == ["Completed"] * 8
    page.shot("04-cluster-completed")

    # The Job view: 8/8, and four batches of two on the timeline.
    page.tab("jobs")
    p.wait_for_selector('[data-testid="job-completions"]:has-text("8/8")')
    batches = p.eval_on_selector_all('[data-testid="gantt-bar"]', "els => els.map(e => e.dataset.batch)")
    assert len(batches) == 8
    assert sorted(batches) == ["1", "1", "2", "2", "3", "3", "4", "4"]
    page.shot("05-job-timeline")

    # The pods table matches the server's Table (what kubectl prints) cell for cell at this paused moment.
    page.tab("tables")
    p.check("#table-wide")
    p.uncheck("#table-all-namespaces")
    assert page.table_rows() == server_table(kubeviz_server, f"/clusters/{name}/api/v1/namespaces/default/pods")
    page.shot("06-tables-pods")

    # Traces: the Job controller's decisions are in the controller panel.
    page.tab("controllers")
    p.select_option("#trace-controller", "job")
    assert p.locator('[data-testid="trace"][data-controller="job"]').count() > 0
    p.hover('[data-testid="trace"][data-controller="job"] >> nth=0')
    # Hovering a Job trace outlines the Job's pods in the cluster view.
    assert p.locator('[data-testid="pod"].highlight').count() == 8
    p.click('[data-testid="trace"][data-controller="job"] >> nth=0')  # selecting keeps the outline
    page.tab("cluster")
    assert p.locator('[data-testid="pod"].highlight').count() == 8
    page.shot("07-controllers")

    # A pod's details and logs (`sleep 30; date` printed the date).
    page.tab("cluster")
    p.click('[data-testid="pod"] >> nth=0')
    p.wait_for_selector('[data-testid="details"][data-kind="Pod"]')
    p.click('.subtabs button:has-text("Logs")')
    p.wait_for_selector('[data-testid="pod-logs"]:has-text("2025")')
    page.shot("08-pod-logs")

    # Delete the Job with the Background cascade: the garbage collector removes its pods.
    page.tab("jobs")
    p.click('[data-testid="job"] h3 button')
    p.select_option('[data-testid="details"] .policy', "Background")
    p.once("dialog", lambda dialog: dialog.accept())
    p.click('[data-testid="details"] [data-testid="delete"]')
    page.advance(5)
    wait_until(lambda: not page.statuses(), message="the Job's pods to be gone")
    page.close()


def test_a_failed_job_timeline_ends_where_it_failed(browser, kubeviz_server):  # noqa: F811
    """Backoff waits are drawn between a failed pod and the next; after the last one the Job failed, and its
    timeline ends there (no backoff running on to now)."""
    name = new_cluster(kubeviz_server, "walk-fail", nodes=1)
    page = Page(browser, kubeviz_server, name).open()
    p = page.page
    page.apply_yaml(failing_pi(2), "job.batch/pi created")
    page.advance(1800)
    page.tab("jobs")
    p.wait_for_function("() => document.querySelectorAll('[data-testid=gantt-bar]').length === 3")
    marker = p.wait_for_selector(".gantt .g-done.g-job-failed")
    assert marker.get_attribute("title") == "Failed"
    assert p.locator(".gantt .g-now").count() == 0
    failed_at = float(marker.evaluate("e => parseFloat(e.style.left)"))
    waits = p.eval_on_selector_all(".gantt .g-backoff", "els => els.map(e => [parseFloat(e.style.left), parseFloat(e.style.width)])")
    assert len(waits) == 2  # between the three pods
    # Each retry is created after the one before failed: three generations (the second fails in the second it
    # was created, its image being on the node by then).
    assert p.eval_on_selector_all('[data-testid="gantt-bar"]', "els => els.map(e => e.dataset.batch)") == ["1", "2", "3"]
    assert all(left + width <= failed_at + 0.01 for left, width in waits), (waits, failed_at)
    page.shot("09-job-failed-timeline")
    page.close()


def test_pi_job_logs(browser, kubeviz_server):  # noqa: F811
    name = new_cluster(kubeviz_server, "walk-pi", nodes=1)
    page = Page(browser, kubeviz_server, name).open()
    p = page.page
    page.apply_example("pi", "job.batch/pi created")
    page.advance(120)
    wait_until(lambda: page.statuses() == ["Completed"], message="pi Completed")
    p.click('[data-testid="pod"]')
    p.click('.subtabs button:has-text("Logs")')
    p.wait_for_selector('[data-testid="pod-logs"]:has-text("3.14159")')
    page.tab("tables")
    p.click('#table-kinds [data-kind="Job"]')
    cells = p.eval_on_selector_all("#resource-table tbody tr td", "tds => tds.map(td => td.textContent)")
    assert cells[:3] == ["default", "pi", "Complete"] and cells[3] == "1/1"
    page.close()


def test_reconnects_and_resumes_after_a_server_restart(browser, fresh_kubeviz_server):  # noqa: F811
    server = fresh_kubeviz_server
    name = new_cluster(server, "walk-restart", nodes=1)
    page = Page(browser, server, name).open()
    p = page.page
    server.restart()
    p.wait_for_selector('[data-testid="connection"][data-state="live"]', timeout=30000)
    call(server, "POST", f"/sim/clusters/{name}/apply", (EXAMPLES / "pi.yaml").read_bytes(),
         headers={"Content-Type": "application/yaml"})
    call(server, "POST", f"/sim/clusters/{name}/clock/advance", {"seconds": 5})
    wait_until(lambda: len(page.statuses()) == 1, message="the pod created after the restart")
    # What the page shows after resuming is what a fresh page load shows.
    resumed = p.evaluate("() => Object.keys(window.kubeviz.state.objects.Pod).sort()")
    fresh = Page(browser, server, name).open()
    assert fresh.page.evaluate("() => Object.keys(window.kubeviz.state.objects.Pod).sort()") == resumed
    fresh.close()
    # The page's own reconnect attempts while the server was down are the only errors allowed.
    page.problems = [problem for problem in page.problems if "WebSocket" not in problem and "ERR_CONNECTION" not in problem]
    page.close()


SAMPLE = """() => [...document.querySelectorAll('[data-testid="node"]')].map(node => ({
  node: node.dataset.nodeName,
  pods: [...node.querySelectorAll('[data-testid="pod"]')]
    .filter(p => p.closest('.owner-group')?.dataset.owner?.startsWith('DaemonSet/kube-system/fluentd'))
    .map(p => ({status: p.dataset.status, revision: p.dataset.revision || ''})),
}))"""


def test_daemonset_rolling_update_walk(browser, kubeviz_server):  # noqa: F811
    """fluentd on four nodes; a new image in the editor rolls out node by node, never more than one node down."""
    name = new_cluster(kubeviz_server, "walk-ds")
    page = Page(browser, kubeviz_server, name).open()
    p = page.page
    page.apply_example("fluentd", "daemonset.apps/fluentd-elasticsearch created")
    page.advance(60)
    wait_until(lambda: page.statuses().count("Running") == 4, message="four Running fluentd pods")
    # One per node, the control plane included (thanks to the toleration).
    sample = p.evaluate(SAMPLE)
    assert all(len(n["pods"]) == 1 for n in sample), sample
    page.shot("10-daemonset-running")

    # "Edit" on the live DaemonSet loads its YAML into the editor; change the image there and apply.
    page.tab("daemonsets")
    p.click('[data-testid="daemonset"] h3 button')
    p.click('[data-testid="details"] [data-testid="edit"]')
    p.wait_for_function("() => window.kubeviz.editor.value().includes('uid') === false && "
                        "window.kubeviz.editor.value().includes('fluentd:v2.5.2')")
    p.evaluate("""() => {
      const cm = document.querySelector('[data-testid="yaml-editor"] .CodeMirror').CodeMirror;
      const text = cm.getValue();
      cm.setValue(text.replace('fluentd:v2.5.2', 'fluentd:v2.6.0'));
    }""")
    p.wait_for_selector('#validation[data-state="valid"]')
    p.click('[data-testid="apply"]')
    p.wait_for_selector('[data-testid="apply-output"]:has-text("daemonset.apps/fluentd-elasticsearch configured")')
    p.select_option('[data-testid="clock-speed"]', "5")
    p.click('[data-testid="clock-play"]')

    worst = 0
    mid_shot = False
    seen_old = False  # the new ControllerRevision exists once the controller has run: then the pods are "old"
    deadline = time.monotonic() + 90
    while True:
        sample = p.evaluate(SAMPLE)
        seen_old = seen_old or any(pod["revision"] == "old" for n in sample for pod in n["pods"])
        down = [n["node"] for n in sample if not any(pod["status"] == "Running" for pod in n["pods"])]
        worst = max(worst, len(down))
        assert len(down) <= 1, f"more than one node without a Running fluentd pod: {down}"
        new = [pod for n in sample for pod in n["pods"] if pod["revision"] == "new" and pod["status"] == "Running"]
        if not mid_shot and 0 < len(new) < 4:
            page.shot("11-daemonset-rolling")
            mid_shot = True
        if seen_old and len(new) == 4 and all(len(n["pods"]) == 1 for n in sample):
            break
        assert time.monotonic() < deadline, f"the rollout did not finish: {sample}"
        time.sleep(0.05)
    p.click('[data-testid="clock-play"]')
    assert worst == 1, "the rollout never took a node's pod down (was it a rollout?)"
    p.wait_for_selector('[data-testid="rollout-status"]:has-text("successfully rolled out")')
    assert p.locator('.history tbody tr').count() == 2
    page.shot("12-daemonset-rolled-out")
    page.tab("cluster")
    page.shot("13-cluster-rolled-out")
    # Every table reads like kubectl: the server's Table cells, at this paused moment.
    page.tab("tables")
    p.check("#table-wide")
    p.check("#table-all-namespaces")
    for kind, path in (("Pod", "/api/v1/pods"), ("Node", "/api/v1/nodes"), ("DaemonSet", "/apis/apps/v1/daemonsets"),
                       ("ControllerRevision", "/apis/apps/v1/controllerrevisions"), ("Event", "/api/v1/events")):
        p.click(f'#table-kinds [data-kind="{kind}"]')
        rows = page.table_rows()
        if kind != "Node":
            rows = sorted(row[1:] for row in rows)  # the NAMESPACE column of -A
        assert rows == server_table(kubeviz_server, f"/clusters/{name}{path}"), kind
    page.close()


INVALID = """apiVersion: batch/v1
kind: Job
metadata:
  name: bad
spec:
  template:
    spec:
      containers:
      - name: c
        image: busybox
        command: ["sh", "-c", "echo hi"]
      restartPolicy: Always
"""


def test_invalid_manifest_is_marked_at_its_line(browser, kubeviz_server):  # noqa: F811
    name = new_cluster(kubeviz_server, "walk-invalid", nodes=1)
    page = Page(browser, kubeviz_server, name).open()
    p = page.page
    p.evaluate("text => window.kubeviz.editor.load(text)", INVALID)
    error = p.wait_for_selector('[data-testid="editor-error"]')
    assert error.get_attribute("data-line") == "12"
    assert ('spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'
            in error.text_content())
    assert p.locator(".CodeMirror .cm-error-line").count() == 1
    page.shot("20-editor-invalid")
    p.click('[data-testid="apply"]')
    p.wait_for_selector('[data-testid="apply-output"][data-state="invalid"]')
    jobs = call(kubeviz_server, "GET", f"/clusters/{name}/apis/batch/v1/namespaces/default/jobs")
    assert jobs["items"] == []
    # Fixing the line clears the error while typing.
    p.evaluate("() => { const cm = window.kubeviz.editor.codemirror; cm.setValue(cm.getValue().replace('Always', 'Never')); }")
    p.wait_for_selector('#validation[data-state="valid"]')
    assert p.locator('[data-testid="editor-error"]').count() == 0
    page.close()


def test_the_draft_survives_a_reload_and_an_empty_apply_says_so(browser, kubeviz_server):  # noqa: F811
    name = new_cluster(kubeviz_server, "walk-draft", nodes=1)
    page = Page(browser, kubeviz_server, name).open()
    p = page.page
    p.evaluate("text => window.kubeviz.editor.load(text)", INVALID)
    p.wait_for_selector('[data-testid="editor-error"]')
    p.click('[data-testid="apply"]')
    p.wait_for_selector('[data-testid="apply-output"][data-state="invalid"]')
    # A reload (the language switch reloads too) keeps the rejected draft, to be fixed rather than retyped.
    p.reload()
    p.wait_for_selector('[data-testid="connection"][data-state="live"]')
    assert p.evaluate("() => window.kubeviz.editor.value()") == INVALID
    p.wait_for_selector('[data-testid="editor-error"][data-line="12"]')
    # Emptied, Apply says there is nothing to apply and leaves no old error behind.
    p.click("#editor-clear")
    p.click('[data-testid="apply"]')
    p.wait_for_selector('[data-testid="apply-output"]:has-text("Nothing to apply: the editor is empty.")')
    assert p.locator('[data-testid="editor-error"]').count() == 0
    p.reload()
    p.wait_for_selector('[data-testid="connection"][data-state="live"]')
    assert p.evaluate("() => window.kubeviz.editor.value()") == ""
    page.close()


def test_cronjob_view(browser, kubeviz_server):  # noqa: F811
    name = new_cluster(kubeviz_server, "walk-cron", nodes=2)
    page = Page(browser, kubeviz_server, name).open()
    p = page.page
    page.apply_example("hello", "cronjob.batch/hello created")
    page.advance(300)
    page.tab("cronjobs")
    p.wait_for_function("() => document.querySelectorAll('[data-testid=cronjob-run]').length >= 3")
    assert p.locator('[data-testid="cronjob-next"]').count() >= 1
    # The history limit (3 successful) deleted the older Jobs, and the view says so.
    p.wait_for_selector('[data-testid="cronjob-deleted"]')
    page.shot("30-cronjob-timeline")
    page.close()


YEARLY_CRONJOB = """apiVersion: batch/v1
kind: CronJob
metadata:
  name: yearly
spec:
  schedule: "0 0 5 12 *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: c
            image: busybox
            command: ["date"]
"""
WIDE_OPEN_DAEMONSET = """apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: wide-open
spec:
  selector:
    matchLabels: {app: wide-open}
  updateStrategy:
    rollingUpdate:
      maxUnavailable: 2147483647
  template:
    metadata:
      labels: {app: wide-open}
    spec:
      containers:
      - name: c
        image: fluentd
"""


def test_what_a_learner_writes_cannot_freeze_the_views(browser, kubeviz_server):  # noqa: F811
    """A CronJob whose next run is a year away draws a year's axis with a few ticks (it drew one per minute,
    524,000 of them, and the tab hung); a DaemonSet that may take 2147483647 pods down at once draws a pip per
    pod it has (the tab hung, then threw "Invalid array length")."""
    name = new_cluster(kubeviz_server, "walk-limits", nodes=2)
    page = Page(browser, kubeviz_server, name).open()
    p = page.page
    page.apply_yaml(YEARLY_CRONJOB, "cronjob.batch/yearly created")
    page.tab("cronjobs")
    p.wait_for_selector('[data-testid="cronjob-next"]')
    assert 2 <= p.locator(".cronjob-card .tick").count() <= 16
    page.apply_yaml(WIDE_OPEN_DAEMONSET, "daemonset.apps/wide-open created")
    page.advance(60)
    page.tab("daemonsets")
    p.wait_for_selector('[data-testid="daemonset"]')
    desired = call(kubeviz_server, "GET", f"/clusters/{name}/apis/apps/v1/namespaces/default/daemonsets/wide-open"
                   )["status"]["desiredNumberScheduled"]
    assert desired == 2 and p.locator('[data-testid="daemonset"] .pip').count() == desired
    page.close()


def test_a_jump_of_the_paused_clock_moves_the_views(browser, kubeviz_server):  # noqa: F811
    """A fast-forward that changes no object still moves time: the tables' AGE cells follow the clock."""
    name = new_cluster(kubeviz_server, "walk-jump", nodes=2)
    page = Page(browser, kubeviz_server, name).open()
    p = page.page
    page.tab("tables")
    p.check("#table-wide")
    p.click('#table-kinds [data-kind="Node"]')

    nodes = f"/clusters/{name}/api/v1/nodes"
    before = server_table(kubeviz_server, nodes)
    assert page.table_rows() == before
    page.advance(600)
    p.wait_for_selector('[data-testid="clock-now"][data-time="2025-01-01T00:10:00.000Z"]')
    after = server_table(kubeviz_server, nodes)
    assert after != before  # the nodes' AGE moved by ten minutes (nothing else about them changed)
    wait_until(lambda: page.table_rows() == after, timeout=5, message="the nodes table to show the ages of 00:10")
    page.close()


def test_a_background_fast_forward_shows_its_progress_and_can_be_cancelled(browser, kubeviz_server):  # noqa: F811
    """A fast-forward too long for one request goes on on the server: the page shows how far it got and where it is
    heading, and Cancel stops it where it is."""
    name = new_cluster(kubeviz_server, "walk-progress", nodes=3)
    many = ("apiVersion: batch/v1\nkind: Job\nmetadata: {name: many}\nspec:\n  completions: 5000\n"
            "  parallelism: 500\n  template:\n    spec:\n      containers: [{name: w, image: busybox:1.36, "
            "command: [sh, -c, 'sleep 5']}]\n      restartPolicy: Never\n").encode()
    call(kubeviz_server, "POST", f"/sim/clusters/{name}/apply", many, headers={"Content-Type": "application/yaml"})
    page = Page(browser, kubeviz_server, name).open()
    p = page.page
    assert p.is_hidden('[data-testid="clock-advance-progress"]')

    answer = call(kubeviz_server, "POST", f"/sim/clusters/{name}/clock/advance", {"seconds": 3600, "wait": 0})
    assert answer["advance"]["target"] == "2025-01-01T01:00:00Z"
    p.wait_for_selector('[data-testid="clock-advance-progress"]:has-text("Fast-forwarding to 2025-01-01 01:00:00")')
    assert p.is_disabled('[data-testid="clock-advance"]')
    p.click('[data-testid="clock-advance-cancel"]')
    p.wait_for_selector('[data-testid="clock-advance-progress"]', state="hidden")
    # (the button comes back with the clock the cancel answers, which may render a moment after the bar went)
    p.wait_for_selector('[data-testid="clock-advance"]:enabled', timeout=10000)
    stopped = call(kubeviz_server, "GET", f"/sim/clusters/{name}/clock")
    assert "advance" not in stopped and stopped["now"] < "2025-01-01T01:00:00Z"
    page.close()


def test_forbid_skips_are_drawn_per_slot_that_never_ran(browser, kubeviz_server):  # noqa: F811
    """The recorder folds the JobAlreadyActive Events into one; a refused slot may still start late when the running
    Job ends. The axis marks each slot that never got a Job, and counts those."""
    name = new_cluster(kubeviz_server, "walk-forbid", nodes=2)
    page = Page(browser, kubeviz_server, name).open()
    p = page.page
    page.apply_yaml(slow_cronjob("Forbid"), "cronjob.batch/hello created")
    page.advance(600)
    p.wait_for_selector('[data-testid="clock-now"][data-time="2025-01-01T00:10:00.000Z"]')
    events = call(kubeviz_server, "GET", f"/clusters/{name}/api/v1/namespaces/default/events")["items"]
    mine = [e for e in events if e["involvedObject"]["name"] == "hello"]
    (refused,) = [e for e in mine if e["reason"] == "JobAlreadyActive"]
    assert refused["count"] > 1  # one Event, folded
    ran = {int(e["message"].rsplit("-", 1)[1]) % 60 for e in mine if e["reason"] == "SuccessfulCreate"}
    first, last = (int(refused[k][14:16]) for k in ("firstTimestamp", "lastTimestamp"))
    never = [m for m in range(first, last + 1) if m not in ran]
    assert never and len(never) < refused["count"]  # some refused slots started late
    page.tab("cronjobs")
    p.wait_for_function(f"() => document.querySelectorAll('[data-testid=cronjob-skipped]').length === {len(never)}")
    titles = p.eval_on_selector_all('[data-testid="cronjob-skipped"]', "els => els.map(e => e.title.slice(-5))")
    assert titles == [f"00:{m:02d}" for m in never]
    assert f"{len(never)} skipped" in p.text_content('[data-testid="cronjob"] .stats')
    # A Job Forbid made wait is drawn from its creation, after its slot's label; one on time starts at its label.
    bars = p.eval_on_selector_all('[data-testid="cronjob-run"]', """els => els.map(e => [
        e.title.split(" ")[0].slice(4), parseFloat(e.style.left), parseFloat(e.nextElementSibling.style.left)])""")
    jobs = call(kubeviz_server, "GET", f"/clusters/{name}/apis/batch/v1/namespaces/default/jobs")["items"]
    late = {j["metadata"]["name"] for j in jobs if j["metadata"]["creationTimestamp"]
            != j["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]}
    assert late and len(late) < len(bars)
    for job_name, bar, label in bars:
        assert (bar > label) if job_name in late else (bar == label), (job_name, bar, label)
    page.shot("31-cronjob-forbid")
    page.close()


def test_node_actions(browser, kubeviz_server):  # noqa: F811
    name = new_cluster(kubeviz_server, "walk-nodes", nodes=2)
    page = Page(browser, kubeviz_server, name).open()
    p = page.page
    p.click(".add-node summary")
    p.fill('#add-node-form input[name="name"]', "gpu-1")
    p.fill('#add-node-form input[name="labels"]', "accelerator=gpu")
    p.fill('#add-node-form input[name="taints"]', "dedicated=gpu:NoSchedule")
    p.click('#add-node-form button[type="submit"]')
    node = p.wait_for_selector('[data-testid="node"][data-node-name="gpu-1"]')
    assert "dedicated=gpu:NoSchedule" in node.text_content()
    assert "accelerator=gpu" in node.text_content()
    p.click('[data-testid="node"][data-node-name="node-1"] .node-head')
    p.click('[data-testid="cordon"]')
    p.wait_for_selector('[data-testid="node"][data-node-name="node-1"][data-status="Ready,SchedulingDisabled"]')
    p.click('[data-testid="node-fail"]')
    p.wait_for_selector('[data-testid="node"][data-node-name="node-1"].not-ready')
    page.shot("40-node-actions")
    p.check('[data-testid="reduce-motion"]')
    assert "reduce-motion" in p.get_attribute("body", "class")
    node = call(kubeviz_server, "GET", f"/clusters/{name}/api/v1/nodes/node-1")
    assert node["spec"]["unschedulable"] is True
    page.close()


def test_chinese_page(browser, kubeviz_server):  # noqa: F811
    name = new_cluster(kubeviz_server, "walk-zh", nodes=2)
    page = Page(browser, kubeviz_server, name, locale="zh-CN")
    page.page.set_extra_http_headers({"Accept-Language": "zh-Hans"})
    page.open()
    p = page.page
    assert p.get_attribute("html", "lang") == "zh-hans"
    assert p.text_content('[data-testid="apply"]').strip() == "应用"
    assert p.text_content('[data-testid="connection"]') == "实时"
    assert "播放" in p.text_content('[data-testid="clock-play"]')
    page.shot("50-chinese")
    # Switch back to English from the page; the choice sticks.
    p.select_option('[data-testid="language"]', "en")
    p.wait_for_selector('[data-testid="apply"]:has-text("Apply")')
    p.reload()
    p.wait_for_selector('[data-testid="apply"]:has-text("Apply")')
    page.close()


def test_unknown_cluster_page(browser, kubeviz_server):  # noqa: F811
    page = Page(browser, kubeviz_server, "missing")
    response = page.page.goto(kubeviz_server.url + "/c/missing/")
    assert response.status == 404
    assert "missing" in page.page.text_content('[data-testid="not-found"]')
    assert page.page.locator('a[href="/c/default/"]').count() == 1
    page.shot("60-not-found")
    # The document's own 404 is logged by Chromium; nothing else may be.
    assert all("status of 404" in problem for problem in page.problems), page.problems
    page.problems.clear()
    page.close()


def standalone_pod(name: str, rv: int) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}", "resourceVersion": str(rv),
                         "creationTimestamp": START},
            "spec": {"nodeName": "node-1", "containers": [{"name": "main", "image": "busybox"}]},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": "main", "ready": True, "restartCount": 0, "state": {"running": {"startedAt": START}}}]}}


def test_a_batch_frame_shows_every_change_in_it(browser, kubeviz_server):  # noqa: F811
    """Several changes in one frame (as the server sends a burst): each one shows, as if it came on its own."""
    name = new_cluster(kubeviz_server, "walk-batch", nodes=1)
    page = Page(browser, kubeviz_server, name).open()
    p = page.page
    rv = int(p.evaluate("() => window.kubeviz.state.resourceVersion"))
    pods = [standalone_pod(f"web-{n}", rv + 1 + n) for n in range(6)]
    added = {"type": "batch", "messages": [
        {"type": "event", "event": "ADDED", "kind": "Pod", "object": pod, "resourceVersion": str(rv + 1 + n)}
        for n, pod in enumerate(pods)]}
    p.evaluate("(frame) => window.kubeviz.dispatch(frame)", added)
    wait_until(lambda: page.statuses() == ["Running"] * 6, message="six pods from one batch")

    # Three deleted, then a change the page does not show: the bookmark ends the frame.
    deleted = {"type": "batch", "messages": [
        {"type": "event", "event": "DELETED", "kind": "Pod", "object": pod, "resourceVersion": str(rv + 7 + n)}
        for n, pod in enumerate(pods[:3])] + [{"type": "bookmark", "resourceVersion": str(rv + 10)}]}
    p.evaluate("(frame) => window.kubeviz.dispatch(frame)", deleted)
    wait_until(lambda: len(page.statuses()) == 3, message="three pods left")
    assert p.evaluate("() => Object.keys(window.kubeviz.state.objects.Pod).sort()") == [
        f"default/web-{n}" for n in range(3, 6)]
    assert p.evaluate("() => window.kubeviz.state.resourceVersion") == str(rv + 10)
    page.close()
