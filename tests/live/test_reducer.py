"""The browser's reducer (static/js/state.js), run by Node.js, checked the Zulip way (``verify_action``): the state
a client builds from a snapshot plus the frames of a real session (batches included) equals a fresh snapshot taken
at the end; and a batch is applied exactly as its messages one by one."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from apiserver.kinds import resource_for_kind
from kubeviz.live import payloads
from kubeviz.store import events as store_events
from tests.live.test_consumers import (
    JOB, LEASE, SLEEPER, advance, create_pod, delete_pod, open_stream, pod_manifest, receive_frames, unbatch, write,
)

STATE_JS = Path(__file__).resolve().parents[2] / "static" / "js" / "state.js"
CRONJOB = resource_for_kind("batch", "CronJob")
DAEMONSET = resource_for_kind("apps", "DaemonSet")
NAMESPACE = resource_for_kind("", "Namespace")

# Imports the reducer, deep-freezes every state and message (so a mutation throws: modules are strict mode),
# applies the messages and prints the final state.
DRIVER = r"""
import { readFileSync } from "node:fs";
const input = JSON.parse(readFileSync(0, "utf8"));
const { initialState, reduce } = await import(input.module);
const freeze = (value) => {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) freeze(child);
  }
  return value;
};
let state = freeze(initialState(input.kinds));
for (const message of input.messages) {
  const before = JSON.stringify(state);
  const next = reduce(state, freeze(message));
  if (JSON.stringify(state) !== before) throw new Error("reduce changed its input state");
  state = freeze(next);
}
process.stdout.write(JSON.stringify(state));
"""


def run_reducer(messages: list[dict]) -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is required to test static/js/state.js: install `node` (CI has it)", pytrace=False)
    result = subprocess.run(
        [node, "--input-type=module", "-e", DRIVER],
        input=json.dumps({"module": STATE_JS.as_uri(), "messages": messages, "kinds": list(payloads.KINDS)}),
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def key(obj: dict) -> str:
    meta = obj["metadata"]
    return f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else meta["name"]


def state_of(snapshot: dict) -> dict:
    """The state a snapshot describes, in the reducer's shape."""
    return {
        "resourceVersion": snapshot["resourceVersion"],
        "synced": True,
        "clock": snapshot["clock"],
        "objects": {kind: {key(o): o for o in items} for kind, items in snapshot["objects"].items()},
        "traces": snapshot["traces"],
        "error": None,
    }


CRON = {
    "apiVersion": "batch/v1",
    "kind": "CronJob",
    "metadata": {"name": "hello"},
    "spec": {
        "schedule": "*/1 * * * *",
        "jobTemplate": {"spec": {"template": {"spec": {
            "containers": [{"name": "hello", "image": "busybox", "command": ["sh", "-c", "date; echo Hello"]}],
            "restartPolicy": "OnFailure"}}}},
    },
}

DAEMON = {
    "apiVersion": "apps/v1",
    "kind": "DaemonSet",
    "metadata": {"name": "fluentd", "namespace": "kube-system"},
    "spec": {
        "selector": {"matchLabels": {"name": "fluentd"}},
        "template": {"metadata": {"labels": {"name": "fluentd"}},
                     "spec": {"containers": [{"name": "fluentd", "image": "fluentd:v1"}]}},
    },
}


async def session(cluster, monkeypatch):
    """Drive a cluster through every kind of change while ``stream`` watches."""
    await write(cluster, lambda r: r.create(JOB, "default", SLEEPER).object)
    await write(cluster, lambda r: r.create(CRONJOB, "default", CRON).object)
    await write(cluster, lambda r: r.create(DAEMONSET, "kube-system", DAEMON).object)
    await advance(cluster, 5)
    await write(cluster, create_pod("web"))
    await write(cluster, lambda r: r.create(LEASE, "default", {
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "lock"}}).object)
    with monkeypatch.context() as patch:
        patch.setattr(store_events, "publish_watch_event", lambda *args: None)  # lost on the way: a gap
        # a Namespace: nothing modifies it later, so only the gap fill can deliver it
        await write(cluster, lambda r: r.create(NAMESPACE, "", {
            "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "scratch"}}).object)
    await write(cluster, delete_pod("web"))
    await advance(cluster, 70)


@pytest.mark.django_db(transaction=True)
async def test_snapshot_plus_events_equals_a_fresh_snapshot(cluster, monkeypatch, settings):
    settings.KUBEVIZ_PLAYER = False
    stream = await open_stream("/ws/clusters/test/")
    await session(cluster, monkeypatch)
    frames = await receive_frames(stream)
    await stream.disconnect()
    messages = unbatch(frames)
    # (the lost change and the next come in one batch, from the history)
    assert any(frame["type"] == "batch" for frame in frames)
    types = {m["type"] for m in messages}
    # (the Lease's bookmark is left out when a shown change follows it in the same frame)
    assert {"snapshot", "event", "trace", "clock"} <= types <= {"snapshot", "event", "bookmark", "trace", "clock"}
    assert {m["kind"] for m in messages if m["type"] == "event"} >= {
        "Pod", "Job", "CronJob", "DaemonSet", "ControllerRevision", "Event"}
    assert any(m["type"] == "event" and m["event"] == "DELETED" for m in messages)
    assert any(m["type"] == "event" and m["object"]["metadata"]["name"] == "scratch" for m in messages)

    fresh = await open_stream("/ws/clusters/test/")
    expected = await fresh.receive_json_from()
    await fresh.disconnect()
    assert expected["type"] == "snapshot"

    assert run_reducer(frames) == state_of(expected)


@pytest.mark.django_db(transaction=True)
async def test_a_batch_is_applied_as_its_messages_one_by_one(cluster, monkeypatch, settings):
    settings.KUBEVIZ_PLAYER = False
    stream = await open_stream("/ws/clusters/test/")
    await session(cluster, monkeypatch)
    snapshot, *live = unbatch(await receive_frames(stream))
    await stream.disconnect()
    assert len(live) > 50

    one_by_one = run_reducer([snapshot, *live])
    # The same messages in batches of every size, and all in one; with messages already applied in a batch
    # (dropped by the reducer as the server would) and one a newer server might send.
    sizes = [1, 2, 3, 5, 8, 13, 21]
    batched, start = [], 0
    for size in sizes * (len(live) // sum(sizes) + 1):
        if start >= len(live):
            break
        batched.append({"type": "batch", "messages": live[start:start + size]})
        start += size
    assert run_reducer([snapshot, *batched]) == one_by_one
    assert run_reducer([snapshot, {"type": "batch", "messages": live}]) == one_by_one
    assert run_reducer([snapshot, {"type": "batch", "messages": [*live[:10], *live[:10], {"type": "new"}]},
                        {"type": "batch", "messages": live}]) == one_by_one
    assert run_reducer([snapshot, {"type": "batch", "messages": []}]) == run_reducer([snapshot])


@pytest.mark.django_db(transaction=True)
async def test_resume_plus_events_equals_a_fresh_snapshot(cluster, monkeypatch, settings):
    settings.KUBEVIZ_PLAYER = False
    stream = await open_stream("/ws/clusters/test/")
    await write(cluster, lambda r: r.create(JOB, "default", SLEEPER).object)
    await advance(cluster, 5)
    first = await receive_frames(stream)
    await stream.disconnect()
    # What the page would send back: the resourceVersion its state reached.
    rv = run_reducer(first)["resourceVersion"]
    await write(cluster, create_pod("while-away"))
    await advance(cluster, 40)

    stream = await open_stream(f"/ws/clusters/test/?resourceVersion={rv}")
    await write(cluster, create_pod("after"))
    second = await receive_frames(stream)
    await stream.disconnect()
    assert second[0]["type"] == "resume"

    fresh = await open_stream("/ws/clusters/test/")
    expected = state_of(await fresh.receive_json_from())
    await fresh.disconnect()
    state = run_reducer(first + second)
    # Traces recorded while the page was away are not replayed on resume; everything else is the same.
    assert {**state, "traces": None} == {**expected, "traces": None}
    assert all(t in expected["traces"] for t in state["traces"])


def test_the_reducer_drops_what_it_already_has_and_bounds_traces():
    pod = pod_manifest("web")
    pod["metadata"].update(namespace="default", uid="u1", resourceVersion="5")
    node = {"kind": "Node", "metadata": {"name": "node-1", "uid": "n1", "resourceVersion": "3"}}
    snapshot = {"type": "snapshot", "resourceVersion": "4", "clock": {"now": "2025-01-01T00:00:00Z",
                                                                    "paused": True, "speed": 1.0},
                "objects": {"Node": [node]}, "traces": []}
    stale = {"type": "event", "event": "DELETED", "kind": "Node", "object": node, "resourceVersion": "4"}
    added = {"type": "event", "event": "ADDED", "kind": "Pod", "object": pod, "resourceVersion": "5"}
    traces = [{"type": "trace", "trace": {"time": "2025-01-01T00:00:01.000000Z", "sequence": i}}
              for i in range(1, 602)]
    state = run_reducer([snapshot, stale, added, added, {"type": "bookmark", "resourceVersion": "3"},
                         {"type": "bookmark", "resourceVersion": "9"}, *traces, traces[0],
                         {"type": "something-new"}, {"type": "error", "message": "boom"}])
    assert state["resourceVersion"] == "9"
    assert state["objects"]["Node"] == {"node-1": node}
    assert state["objects"]["Pod"] == {"default/web": pod}
    assert [t["sequence"] for t in state["traces"]] == list(range(102, 602))
    assert state["error"] == "boom"
    assert set(state["objects"]) == {"Node", "Pod", "Job", "CronJob", "DaemonSet", "ControllerRevision",
                                     "Event", "Namespace", "ResourceQuota"}
