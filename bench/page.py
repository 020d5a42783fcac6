"""Dashboard benchmarks: frame rate with 2,000 pods on 200 nodes during a rolling update, and first-load size
(`--case rolling`, the default); frame rate while scrubbing an hour of a 200-pod cluster's history (`--case scrub`).

Starts Daphne on a free port with a throw-away database (as `make run` serves it) and opens the real page of an
empty, paused cluster in headless Chromium. It then feeds the page's own message loop (`window.kubeviz.dispatch`,
the path every websocket message takes) with a snapshot of 200 nodes running 10 DaemonSets (2,000 pods), followed
by a rolling update of all ten at the given rate: per pod, Terminating, deleted, created Pending, scheduled
ContainerCreating, Running (five watch events) plus a reconcile trace per DaemonSet sync. The stream is synthetic
so that the page, not the simulator, is what is measured; its objects have the shape the API server gives them.

While the update plays, requestAnimationFrame timestamps are sampled in the page; the median frame rate is
1000 / the median frame interval (target >= 50 fps). The first-load size is the HTML of the cluster page plus its
CSS and every ES module it imports (the vendored editor excluded), each gzip-compressed (target < 300 KB).

    .venv/bin/python bench/page.py [--nodes 200] [--daemonsets 10] [--rate 400] [--chromium /usr/bin/chromium]

The scrub case runs a real cluster on the server for a simulated hour: 50 worker nodes, four DaemonSets (200 pods)
rolled to a new image every 20 minutes, and a CronJob starting a two-pod Job every minute (its pods come and go).
It opens the page, loads the history through the scrubber (the history endpoint, paged, as a learner's first drag
does), then drags the time bar in the page: every frame moves the thumb and sends its `input` event, across the
whole hour and back (`--sweeps` times, each `--sweep-seconds` of wall time), then in small steps near one instant.
The median frame rate while scrubbing is 1000 / the median requestAnimationFrame interval (target >= 30 fps).

    .venv/bin/python bench/page.py --case scrub [--scrub-nodes 50] [--sweeps 4] [--sweep-seconds 4]
"""

import argparse
import gzip
import json
import re
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.live.conftest import LiveServer  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
START = "2025-01-01T00:00:00Z"
START_TIME = datetime(2025, 1, 1, tzinfo=timezone.utc)


def ts(seconds: float) -> str:
    return (START_TIME + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def node(name: str, index: int) -> dict:
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "uid": str(uuid.uuid4()), "resourceVersion": "1", "creationTimestamp": START,
                     "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                "kubernetes.io/arch": "amd64"}},
        "spec": {"podCIDR": f"10.244.{index}.0/24"},
        "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                   "lastTransitionTime": START}],
                   "nodeInfo": {"kubeletVersion": "v1.32.0"}, "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"}},
    }


def daemonset(index: int, nodes: int) -> dict:
    name = f"agent-{index}"
    return {
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": "default", "uid": str(uuid.uuid4()), "resourceVersion": "1",
                     "generation": 2, "creationTimestamp": START},
        "spec": {"selector": {"matchLabels": {"app": name}},
                 "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "10%"}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": "agent", "image": "registry.example/agent:2"}]}}},
        "status": {"desiredNumberScheduled": nodes, "currentNumberScheduled": nodes, "numberReady": nodes,
                   "updatedNumberScheduled": 0, "numberAvailable": nodes, "observedGeneration": 2},
    }


def revision(ds: dict, number: int, hash_: str) -> dict:
    return {
        "apiVersion": "apps/v1", "kind": "ControllerRevision",
        "metadata": {"name": f"{ds['metadata']['name']}-{hash_}", "namespace": "default", "uid": str(uuid.uuid4()),
                     "resourceVersion": "1", "creationTimestamp": START,
                     "labels": {"app": ds["metadata"]["name"], "controller-revision-hash": hash_},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": ds["metadata"]["name"],
                                          "uid": ds["metadata"]["uid"], "controller": True}]},
        "revision": number,
        "data": {"spec": {"template": {"spec": {"containers": [{"name": "agent",
                                                                 "image": f"registry.example/agent:{number}"}]}}}},
    }


def pod(ds: dict, node_name: str, hash_: str, phase: str, at: float) -> dict:
    name = f"{ds['metadata']['name']}-{uuid.uuid4().hex[:10]}"
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": str(uuid.uuid4()), "resourceVersion": "1",
                     "creationTimestamp": ts(at), "labels": {"app": ds["metadata"]["name"],
                                                             "controller-revision-hash": hash_},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": ds["metadata"]["name"],
                                          "uid": ds["metadata"]["uid"], "controller": True,
                                          "blockOwnerDeletion": True}]},
        "spec": {"nodeName": node_name, "containers": [{"name": "agent", "image": "registry.example/agent"}],
                 "restartPolicy": "Always"},
        "status": {"phase": phase, "conditions": [{"type": "PodScheduled", "status": "True",
                                                    "lastTransitionTime": ts(at)}],
                   "containerStatuses": [{"name": "agent", "ready": phase == "Running", "restartCount": 0,
                                          "state": {"running": {"startedAt": ts(at)}} if phase == "Running"
                                          else {"waiting": {"reason": "ContainerCreating"}}}]},
    }


def scenario(nodes: int, daemonsets: int):
    """The snapshot and the rolling update's messages, in waves of maxUnavailable (10%) nodes per DaemonSet."""
    node_objs = [node(f"node-{i + 1}", i) for i in range(nodes)]
    dss = [daemonset(i, nodes) for i in range(daemonsets)]
    revisions = [revision(ds, 1, "old0000001") for ds in dss] + [revision(ds, 2, "new0000002") for ds in dss]
    pods = [pod(ds, n["metadata"]["name"], "old0000001", "Running", 0) for ds in dss for n in node_objs]
    rv = 10_000
    snapshot = {"type": "snapshot", "resourceVersion": str(rv), "clock": {"now": START, "paused": True, "speed": 1},
                "objects": {"Node": node_objs, "Pod": pods, "Job": [], "CronJob": [], "DaemonSet": dss,
                            "ControllerRevision": revisions, "Event": [], "Namespace": []}, "traces": []}
    wave = max(1, nodes // 10)
    waves = []
    for start in range(0, nodes, wave):
        messages = []
        for d, ds in enumerate(dss):
            olds = [p for p in pods[d * nodes + start: d * nodes + start + wave]]
            for stage in range(4):
                for old in olds:
                    rv += 1
                    if stage == 0:
                        terminating = json.loads(json.dumps(old))
                        terminating["metadata"]["deletionTimestamp"] = ts(start)
                        messages.append({"type": "event", "event": "MODIFIED", "kind": "Pod", "object": terminating,
                                         "resourceVersion": str(rv)})
                    elif stage == 1:
                        messages.append({"type": "event", "event": "DELETED", "kind": "Pod", "object": old,
                                         "resourceVersion": str(rv)})
                    elif stage == 2:
                        new = pod(ds, old["spec"]["nodeName"], "new0000002", "Pending", start)
                        old["_new"] = new
                        messages.append({"type": "event", "event": "ADDED", "kind": "Pod", "object": new,
                                         "resourceVersion": str(rv)})
                    else:
                        running = json.loads(json.dumps(old["_new"]))
                        running["status"]["phase"] = "Running"
                        running["status"]["containerStatuses"][0].update(ready=True, state={"running": {"startedAt": ts(start + 5)}})
                        messages.append({"type": "event", "event": "MODIFIED", "kind": "Pod", "object": running,
                                         "resourceVersion": str(rv)})
                messages.append({"type": "trace", "trace": {
                    "time": ts(start) .replace("Z", f".{rv:06d}Z"), "sequence": rv, "controller": "daemonset",
                    "object": f"default/{ds['metadata']['name']}", "trigger": "pod changed",
                    "observed": f"{nodes} nodes, {start + wave} updated", "decision": "roll the next nodes",
                    "actions": [f"delete pod {p['metadata']['name']}" for p in olds[:3]]}})
            rv += 1
            updated = json.loads(json.dumps(ds))
            updated["metadata"]["resourceVersion"] = str(rv)
            updated["status"]["updatedNumberScheduled"] = min(nodes, start + wave)
            messages.append({"type": "event", "event": "MODIFIED", "kind": "DaemonSet", "object": updated,
                             "resourceVersion": str(rv)})
        waves.append(messages)
    for p in pods:
        p.pop("_new", None)
    return snapshot, waves


FEED = """async ([waves, rate]) => {
  const frames = [];
  let running = true;
  const sample = (t) => { frames.push(t); if (running) requestAnimationFrame(sample); };
  requestAnimationFrame(sample);
  const start = performance.now();
  let sent = 0;
  for (const wave of waves) {
    for (const message of wave) {
      window.kubeviz.dispatch(message);
      sent += 1;
      // Pace the stream at `rate` messages per second, yielding to the page between slices.
      const due = start + (sent / rate) * 1000;
      const wait = due - performance.now();
      if (wait > 4) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  running = false;
  const elapsed = performance.now() - start;
  const intervals = frames.slice(1).map((t, i) => t - frames[i]);
  return {intervals, elapsed, sent, costs: window.kubeviz.frameCosts.slice(),
          pods: document.querySelectorAll('[data-testid="pod"]').length,
          newPods: document.querySelectorAll('[data-testid="pod"][data-revision="new"][data-status="Running"]').length};
}"""


def first_load_size(server_url: str, page_path: str) -> dict:
    """gzip-compressed bytes of the HTML, its stylesheet and every module it imports (the editor excluded)."""
    html = urllib.request.urlopen(server_url + page_path).read()
    sizes = {"html": (len(html), len(gzip.compress(html, 6)))}
    css = urllib.request.urlopen(server_url + "/static/css/dashboard.css").read()
    sizes["css"] = (len(css), len(gzip.compress(css, 6)))
    js_raw = js_gz = 0
    seen = set()
    queue = ["js/main.js"]
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        body = urllib.request.urlopen(f"{server_url}/static/{path}").read()
        js_raw += len(body)
        js_gz += len(gzip.compress(body, 6))
        base = path.rsplit("/", 1)[0]
        for spec in re.findall(rb'from\s+"(\.{1,2}/[^"]+)"', body):
            parts = (base + "/" + spec.decode()).split("/")
            resolved = []
            for part in parts:
                if part == "..":
                    resolved.pop()
                elif part != ".":
                    resolved.append(part)
            queue.append("/".join(resolved))
    sizes["js"] = (js_raw, js_gz)
    sizes["modules"] = len(seen)
    editor = sum(len(gzip.compress(p.read_bytes(), 6)) for p in (ROOT / "static" / "vendor").glob("codemirror-*.*")
                 if p.suffix in (".js", ".css"))
    sizes["editor_gz"] = editor
    return sizes


SCRUB_DAEMONSET = """apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent-{index}
spec:
  selector:
    matchLabels: {{app: agent-{index}}}
  updateStrategy:
    rollingUpdate: {{maxUnavailable: 5}}
  template:
    metadata:
      labels: {{app: agent-{index}}}
    spec:
      containers:
      - name: agent
        image: registry.example/agent:{version}
        command: ["fluentd"]
"""

SCRUB_CRONJOB = """apiVersion: batch/v1
kind: CronJob
metadata:
  name: report
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      completions: 2
      parallelism: 2
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: report
            image: busybox
            command: ["sh", "-c", "sleep 20"]
"""

SCRUB = """async ([sweeps, sweepMs]) => {
  const range = document.querySelector('[data-testid="timeline-range"]');
  const min = Number(range.min), max = Number(range.max);
  const frames = [];
  let running = true;
  const sample = (t) => { frames.push(t); if (running) requestAnimationFrame(sample); };
  requestAnimationFrame(sample);
  const nextFrame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  const drag = (value) => {
    range.value = String(Math.round(value));
    range.dispatchEvent(new Event("input", { bubbles: true }));
  };
  const start = performance.now();
  let moves = 0;
  let sweepFrames = 0;
  // Across the whole hour and back, as a hand drags: one move per frame.
  for (let sweep = 0; sweep < sweeps; sweep++) {
    const t0 = performance.now();
    for (;;) {
      const f = (performance.now() - t0) / sweepMs;
      if (f >= 1) break;
      const there = f < 0.5 ? 1 - 2 * f : 2 * f - 1;  // now → oldest → now
      drag(min + (max - 1 - min) * there);
      moves += 1;
      await nextFrame();
    }
  }
  sweepFrames = frames.length;
  // Fine scrubbing around one instant: a second at a time.
  const middle = Math.round((min + max) / 2);
  for (let i = 0; i < 240; i++) {
    drag(middle + (i % 60) - 30);
    moves += 1;
    await nextFrame();
  }
  running = false;
  const elapsed = performance.now() - start;
  const intervals = frames.slice(1).map((t, i) => t - frames[i]);
  const banner = document.querySelector('[data-testid="past-banner"]');
  return {intervals, elapsed, moves, sweepFrames, costs: window.kubeviz.scrubber.costs.slice(),
          changes: window.kubeviz.scrubber.timeline.length,
          past: !banner.hidden, pods: document.querySelectorAll('[data-testid="pod"]').length};
}"""


def scrub_case(args):
    """A real cluster's hour on the server, then the time bar dragged across it in the page."""
    from playwright.sync_api import sync_playwright

    def call(server, method, path, body, content_type="application/json"):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        request = urllib.request.Request(server.url + path, method=method, data=data,
                                         headers={"Content-Type": content_type})
        with urllib.request.urlopen(request, timeout=1600) as response:
            return json.loads(response.read())

    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(Path(tmp))
        server.env["KUBEVIZ_DEFAULT_NODES"] = "0"
        server.env["KUBEVIZ_ADVANCE_MAX_WAIT"] = "1500"  # each 20 minutes' advance answers when it is done
        # The live stream's snapshot of this cluster (200 pods and their Events) is larger than daphne's default
        # largest websocket message (1 MiB), which closes the stream: the page would never go live.
        server.daphne_args = ("--websocket-max-message-size", str(64 * 1024 * 1024),
                              "--websocket-max-frame-size", str(64 * 1024 * 1024))
        server.manage("migrate", "--noinput")
        server.manage("bootstrap")
        server.start()
        try:
            call(server, "POST", "/sim/clusters", {"name": "bench", "nodes": args.scrub_nodes, "controlPlane": False,
                                                   "start": START, "seed": 1})
            sim = "/sim/clusters/bench"
            built = time.monotonic()
            call(server, "POST", f"{sim}/apply", SCRUB_CRONJOB, "application/yaml")
            for minute in range(0, 60, 20):
                manifests = "---\n".join(SCRUB_DAEMONSET.format(index=i, version=minute // 20 + 1) for i in range(4))
                call(server, "POST", f"{sim}/apply", manifests, "application/yaml")
                call(server, "POST", f"{sim}/clock/advance", {"seconds": 1200, "wait": 1500})
            built = time.monotonic() - built
            print(f"a simulated hour built in {built:.0f} s", flush=True)
            first = json.loads(urllib.request.urlopen(server.url + f"{sim}/history?limit=1").read())
            pods = len(json.loads(urllib.request.urlopen(server.url + "/clusters/bench/api/v1/pods").read())["items"])
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1600, "height": 1000})
                errors = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(server.url + "/c/bench/")
                page.wait_for_selector('[data-testid="connection"][data-state="live"]', timeout=180000)
                page.wait_for_function(f"() => document.querySelectorAll('[data-testid=pod]').length === {pods}",
                                       timeout=180000)
                loaded = time.monotonic()
                page.focus('[data-testid="timeline-range"]')  # the first use loads the history
                page.wait_for_function("() => window.kubeviz.scrubber.timeline.loaded", timeout=300000)
                loaded = time.monotonic() - loaded
                result = page.evaluate(SCRUB, [args.sweeps, args.sweep_seconds * 1000])
                browser.close()
        finally:
            server.close()
    sweeping = sorted(result["intervals"][:result["sweepFrames"] - 1])
    stepping = sorted(result["intervals"][result["sweepFrames"]:])
    intervals = sorted(result["intervals"])
    median = statistics.median(intervals)
    p95 = intervals[int(len(intervals) * 0.95) - 1]
    print(f"scenario: {args.scrub_nodes} nodes, {pods} pods at the end, a simulated hour built in {built:.0f} s; "
          f"history: {result['changes']} changes the page keeps (resourceVersion {first['resourceVersion']}, "
          f"compacted at {first['compactedVersion']}), loaded by the scrubber in {loaded:.1f} s")
    print(f"scrubbing: {result['moves']} moves over {result['elapsed'] / 1000:.1f} s ({args.sweeps} sweeps of the hour "
          f"and back, then 240 one-second steps); {len(intervals)} frames")
    print(f"median frame rate {1000 / median:.1f} fps (target >= 30); p95 frame time {p95:.1f} ms; "
          f"longest {intervals[-1]:.1f} ms; still in the past at the end: {result['past']}")
    print(f"  dragging across the hour: median {1000 / statistics.median(sweeping):.1f} fps "
          f"({len(sweeping)} frames, p95 {sweeping[int(len(sweeping) * 0.95) - 1]:.1f} ms); one second at a time: "
          f"median {1000 / statistics.median(stepping):.1f} fps ({len(stepping)} frames)")
    costs = result["costs"]
    if costs:
        crossed = sorted(c[0] for c in costs)
        seek_ms = sorted(c[1] for c in costs)
        draw_ms = sorted(c[2] for c in costs)
        print(f"  per move: {statistics.median(crossed):.0f} changes crossed (median; p95 "
              f"{crossed[int(len(costs) * .95) - 1]}), state rebuilt in {statistics.median(seek_ms):.2f} ms (p95 "
              f"{seek_ms[int(len(costs) * .95) - 1]:.1f}), views drawn in {statistics.median(draw_ms):.2f} ms (p95 "
              f"{draw_ms[int(len(costs) * .95) - 1]:.1f})")
    if errors:
        print("JavaScript errors:", errors)
        sys.exit(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=("rolling", "scrub"), default="rolling")
    parser.add_argument("--scrub-nodes", type=int, default=50)
    parser.add_argument("--sweeps", type=int, default=4)
    parser.add_argument("--sweep-seconds", type=float, default=4)
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--daemonsets", type=int, default=10)
    parser.add_argument("--rate", type=float, default=400, help="watch messages per second during the update")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--reduce-motion", action="store_true", help="measure with animations turned off")
    args = parser.parse_args()
    if args.case == "scrub":
        scrub_case(args)
        return

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(Path(tmp))
        server.env["KUBEVIZ_DEFAULT_NODES"] = "0"
        server.manage("migrate", "--noinput")
        server.manage("bootstrap")
        server.start()
        try:
            request = urllib.request.Request(server.url + "/sim/clusters", method="POST", data=json.dumps(
                {"name": "bench", "nodes": 0, "controlPlane": False, "start": START}).encode(),
                headers={"Content-Type": "application/json"})
            urllib.request.urlopen(request).read()
            sizes = first_load_size(server.url, "/c/bench/")
            snapshot, waves = scenario(args.nodes, args.daemonsets)
            total_pods = len(snapshot["objects"]["Pod"])
            messages = sum(len(w) for w in waves)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1600, "height": 1000})
                errors = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(server.url + "/c/bench/")
                page.wait_for_selector('[data-testid="connection"][data-state="live"]')
                if args.reduce_motion:
                    page.check("#reduce-motion")
                page.evaluate("s => { window.benchSnapshot = s; }", snapshot)
                # From the snapshot's dispatch to the second frame after it (the first one renders it).
                snapshot_ms = page.evaluate("""() => new Promise((resolve) => {
                  const start = performance.now();
                  window.kubeviz.dispatch(window.benchSnapshot);
                  requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - start)));
                })""")
                page.wait_for_function(f"() => document.querySelectorAll('[data-testid=pod]').length === {total_pods}",
                                       timeout=60000)
                result = page.evaluate(FEED, [waves, args.rate])
                browser.close()
        finally:
            server.close()

    intervals = sorted(result["intervals"])
    median_interval = statistics.median(intervals)
    p95 = intervals[int(len(intervals) * 0.95) - 1]
    fps = 1000 / median_interval
    print(f"scenario: {args.nodes} nodes, {args.daemonsets} DaemonSets, {total_pods} pods; rolling update of all "
          f"{total_pods} pods: {messages} messages at {args.rate:.0f}/s over {result['elapsed'] / 1000:.1f} s"
          f"{' (reduce motion)' if args.reduce_motion else ''}")
    print(f"snapshot rendered in {snapshot_ms:.0f} ms")
    print(f"frames: {len(intervals)}; median frame rate {fps:.1f} fps (target >= 50); "
          f"p95 frame time {p95:.1f} ms; longest {intervals[-1]:.1f} ms")
    costs = result["costs"]
    if costs:
        reduce_ms = sorted(c[1] for c in costs)
        render_ms = sorted(c[2] for c in costs)
        print(f"script per frame: reducer median {statistics.median(reduce_ms):.2f} ms (p95 "
              f"{reduce_ms[int(len(costs) * .95) - 1]:.1f}), views median {statistics.median(render_ms):.2f} ms "
              f"(p95 {render_ms[int(len(costs) * .95) - 1]:.1f}); {statistics.mean(c[0] for c in costs):.1f} messages "
              f"per frame")
    print(f"after the update: {result['pods']} pods shown, {result['newPods']} Running on the new revision")
    kb = lambda n: n / 1024  # noqa: E731
    total_gz = sizes["html"][1] + sizes["css"][1] + sizes["js"][1]
    print(f"first load (without the editor), gzip: HTML {kb(sizes['html'][1]):.1f} KB + CSS {kb(sizes['css'][1]):.1f} KB "
          f"+ JS {kb(sizes['js'][1]):.1f} KB ({sizes['modules']} modules) = {kb(total_gz):.1f} KB (target < 300 KB); "
          f"raw {kb(sizes['html'][0] + sizes['css'][0] + sizes['js'][0]):.1f} KB")
    print(f"editor (CodeMirror, vendored), gzip: {kb(sizes['editor_gz']):.1f} KB")
    if errors:
        print("JavaScript errors:", errors)
        sys.exit(1)


if __name__ == "__main__":
    main()
