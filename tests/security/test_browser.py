"""A hostile page, served by a second web server on this machine, open in the same Chromium as a learner's
dashboard: it tries what the security review did (cross-site POSTs of every kind a page can send without asking,
the console, the live websocket, framing the dashboard) and nothing changes on the server and nothing is read.

The learner has the dashboard open first, so the browser holds the dashboard's cookies, as it would."""

import json
import threading
import urllib.request
import uuid
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.dashboard.test_browser import CHROMIUM, CHROMIUM_ARGS, call, new_cluster
from tests.dashboard.test_browser import browser  # noqa: F401 - the module's Chromium
from tests.live.conftest import kubeviz_server  # noqa: F401 - the session's live Daphne server
from tests.manifests import PI

pytestmark = [pytest.mark.browser, pytest.mark.live]

HOSTILE_PAGE = """<!DOCTYPE html>
<html><body>
<iframe id="frame" src="{target}/c/{cluster}/" width="800" height="600"></iframe>
<img src="{target}/lessons/why-jobs/" alt="">
<script>
const target = "{target}", cluster = "{cluster}", sim = `${{target}}/sim/clusters/${{cluster}}`;
const report = {{attempts: [], websocket: {{messages: 0}}}};
async function attempt(name, url, init) {{
  try {{
    const response = await fetch(url, {{mode: "no-cors", credentials: "include", ...init}});
    report.attempts.push({{name, type: response.type}});
  }} catch (error) {{
    report.attempts.push({{name, error: String(error)}});
  }}
}}
function form(url, fields) {{
  const f = document.createElement("form");
  f.method = "post"; f.action = url; f.target = "sink" + Math.random();
  const sink = document.createElement("iframe"); sink.name = f.target; document.body.append(sink);
  for (const [k, v] of Object.entries(fields)) {{
    const i = document.createElement("input"); i.name = k; i.value = v; f.append(i);
  }}
  document.body.append(f); f.submit();
}}
async function run() {{
  const text = (body) => ({{method: "POST", body, headers: {{"Content-Type": "text/plain"}}}});
  await attempt("create cluster", `${{target}}/sim/clusters`, text('{{"name": "evil-{cluster}"}}'));
  await attempt("advance", `${{sim}}/clock/advance`, text('{{"seconds": 600}}'));
  await attempt("step", `${{sim}}/clock/step`, {{method: "POST"}});
  await attempt("play", `${{sim}}/clock`, {{method: "POST", body: '{{"paused": false}}'}});
  await attempt("apply", `${{sim}}/apply`, text({pi}));
  await attempt("console", `${{sim}}/console`,
                text('{{"command": "kubectl create namespace hacked"}}'));
  await attempt("console editor", `${{sim}}/console`,
                text('{{"command": "kubectl apply edit-last-applied job/pi", "stdin": ":!id\\\\n"}}'));
  await attempt("add node", `${{sim}}/nodes`, text('{{"name": "evil-node"}}'));
  await attempt("fail node", `${{sim}}/nodes/node-1/fail`, {{method: "POST"}});
  // The Kubernetes API reads a body without a Content-Type as JSON: a Blob has none.
  await attempt("create namespace", `${{target}}/clusters/${{cluster}}/api/v1/namespaces`,
                {{method: "POST", body: new Blob(['{{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"blob"}}}}'])}});
  form(`${{sim}}/clock/advance`, {{seconds: "600"}});
  form(`${{target}}/i18n/setlang/`, {{language: "zh-hans", next: "/"}});
  // Reading: a cross-origin read is opaque, and the websocket must not open.
  try {{
    const read = await fetch(`${{sim}}/clock`);
    report.read = await read.text();
  }} catch (error) {{
    report.read = "error: " + error;
  }}
  await new Promise((resolve) => {{
    const ws = new WebSocket(`${{target.replace("http", "ws")}}/ws/clusters/${{cluster}}/`);
    ws.onmessage = () => {{ report.websocket.messages += 1; }};
    ws.onopen = () => {{ report.websocket.opened = true; }};
    ws.onclose = (event) => {{ report.websocket.closed = event.code; resolve(); }};
    setTimeout(resolve, 5000);
  }});
  report.done = true;
}}
window.report = report;
run();
</script>
</body></html>
"""


@pytest.fixture
def hostile_server(tmp_path):
    """A second origin: another web server on this machine, serving the hostile page."""
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, server.server_address[1]
    server.shutdown()
    server.server_close()


def state(server, cluster) -> dict:
    pods = call(server, "GET", f"/clusters/{cluster}/api/v1/namespaces/default/pods")["items"]
    namespaces = call(server, "GET", f"/clusters/{cluster}/api/v1/namespaces")["items"]
    nodes = call(server, "GET", f"/clusters/{cluster}/api/v1/nodes")["items"]
    jobs = call(server, "GET", f"/clusters/{cluster}/apis/batch/v1/namespaces/default/jobs")["items"]
    return {
        "clock": call(server, "GET", f"/sim/clusters/{cluster}/clock"),
        "clusters": sorted(c["name"] for c in call(server, "GET", "/sim/clusters")["items"]),
        "namespaces": sorted(n["metadata"]["name"] for n in namespaces),
        "nodes": {n["metadata"]["name"]: n["metadata"]["resourceVersion"] for n in nodes},
        "pods": sorted(p["metadata"]["name"] for p in pods),
        "jobs": {j["metadata"]["name"]: j["metadata"]["resourceVersion"] for j in jobs},
    }


# The hostile page on another host name (another site) and on another port of the same host (the same site, yet
# another origin: Chromium sends Sec-Fetch-Site: same-site and its own Origin).
@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"], ids=["other site", "other port"])
def test_a_hostile_page_changes_nothing_and_reads_nothing(browser, kubeviz_server, hostile_server, host):  # noqa: F811
    folder, port = hostile_server
    cluster = f"sec-{uuid.uuid4().hex[:8]}"
    kubeviz_server.manage("lessons", "load")  # a lesson page opened makes a sandbox: the <img> must not
    new_cluster(kubeviz_server, cluster)
    call(kubeviz_server, "POST", f"/sim/clusters/{cluster}/apply", PI.encode(),
         headers={"Content-Type": "application/yaml"})
    before = state(kubeviz_server, cluster)
    (folder / "evil.html").write_text(HOSTILE_PAGE.format(target=kubeviz_server.url, cluster=cluster,
                                                          pi=json.dumps(PI)))

    context = browser.new_context()
    try:
        learner = context.new_page()
        learner.goto(f"{kubeviz_server.url}/c/{cluster}/")  # the learner's dashboard, with its cookies
        learner.wait_for_selector('[data-testid="connection"][data-state="live"]', timeout=15000)

        hostile = context.new_page()
        refused_frames = []
        hostile.on("console", lambda m: refused_frames.append(m.text) if "frame-ancestors" in m.text else None)
        hostile.goto(f"http://{host}:{port}/evil.html")
        hostile.wait_for_function("() => window.report && window.report.done", timeout=30000)
        report = hostile.evaluate("() => window.report")

        # Every write was sent (opaque answers: the browser did send them) ...
        assert len(report["attempts"]) == 10 and all("error" not in a for a in report["attempts"]), report
        # ... and nothing happened: not through /sim, the console, the Kubernetes API or a form.
        hostile.wait_for_timeout(1000)  # the forms' posts
        assert state(kubeviz_server, cluster) == before
        # Nothing was read: the clock's JSON is not readable cross-origin, the websocket never opened.
        assert report["read"].startswith("error: ")
        assert report["websocket"]["messages"] == 0 and not report["websocket"].get("opened")
        # The dashboard was not framed: Chromium refused it (frame-ancestors 'none').
        frame = hostile.frame_locator("#frame")
        assert frame.locator('[data-testid="connection"]').count() == 0
        assert refused_frames, "Chromium did not report the frame-ancestors refusal"
    finally:
        context.close()
    with urllib.request.urlopen(f"{kubeviz_server.url}/sim/clusters/{cluster}/clock") as response:
        assert json.loads(response.read())["now"] == before["clock"]["now"]
