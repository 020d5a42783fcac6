"""The page's history layer (static/js/history.js) and line diff (static/js/diff.js), run by Node.js.

The scrubber's fast path — moving a cursor change by change, backwards by putting back each change's previous
object, or from the nearest checkpoint — is checked against the plain one: the cluster rebuilt from nothing by
replaying the log, here in Python from the full, uncompacted history. A compacted history (what etcd and the store
keep: the last version at or before the compaction of each key that still exists, and everything after) must give
the same states from the compaction on. The diff is checked to reproduce both sides and to be as short as the
longest common subsequence allows.
"""

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "static" / "js"
KINDS = ["Node", "Pod", "Job"]

DRIVER = r"""
import { readFileSync } from "node:fs";
const input = JSON.parse(readFileSync(0, "utf8"));
const { Timeline } = await import(input.history);
const timeline = new Timeline(input.kinds, { checkpointEvery: input.checkpointEvery });
const out = [];
const summary = (objects) => Object.fromEntries(Object.entries(objects).map(
  ([kind, byKey]) => [kind, Object.fromEntries(Object.entries(byKey).map(([k, o]) => [k, o.metadata.resourceVersion]))]));
let lastHanded = null;
for (const step of input.steps) {
  if (step.load) timeline.load(step.load);
  else if (step.live) timeline.appendLive(step.live, step.ms);
  else if ("seek" in step) {
    const result = step.time !== undefined ? timeline.seek(timeline.positionAt(step.time)) : timeline.seek(step.seek);
    // A kind's map is a new object exactly when something of the kind changed.
    const sameMaps = lastHanded ? input.kinds.filter((k) => result.objects[k] === lastHanded[k]) : [];
    lastHanded = result.objects;
    out.push({
      position: result.position, rv: timeline.rvOf(result.position), time: timeline.timeOf(result.position),
      objects: summary(result.objects), replay: summary(timeline.replay(result.position)),
      touched: result.touched ? [...result.touched.values()].map((t) => [t.kind, t.key]) : null, sameMaps,
      length: timeline.length, min: timeline.minPosition,
    });
  }
}
process.stdout.write(JSON.stringify(out));
"""

DIFF_DRIVER = r"""
import { readFileSync } from "node:fs";
const input = JSON.parse(readFileSync(0, "utf8"));
const { lineDiff, hunks } = await import(input.diff);
process.stdout.write(JSON.stringify(input.cases.map(([a, b]) => ({ diff: lineDiff(a, b), hunks: hunks(lineDiff(a, b), 1) }))));
"""


def run_node(driver: str, payload: dict):
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is required to test the page's modules: install `node` (CI has it)", pytrace=False)
    result = subprocess.run([node, "--input-type=module", "-e", driver], input=json.dumps(payload),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def iso(seconds: int) -> str:
    return f"2025-01-01T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}Z"


def obj(kind, name, rv, namespace="default"):
    meta = {"name": name, "resourceVersion": str(rv), "uid": f"{kind}-{name}"}
    if kind != "Node":
        meta["namespace"] = namespace
    return {"kind": kind, "metadata": meta}


def random_history(seed: int, count: int):
    """A log of `count` changes to a few dozen keys (creations, updates, deletions, re-creations; a Lease the page
    does not keep), several changes per simulated second, and the state after each change as Python sees it."""
    rng = random.Random(seed)
    names = {kind: [f"{kind.lower()}-{i}" for i in range(12)] for kind in KINDS}
    current = {kind: {} for kind in KINDS}
    changes, states = [], []
    second = 0
    for rv in range(1, count + 1):
        if rng.random() < 0.4:
            second += rng.choice([1, 1, 2, 5])
        if rng.random() < 0.05:
            changes.append({"resourceVersion": str(rv), "type": "MODIFIED", "kind": "Lease", "time": iso(second),
                            "actor": {"type": "system", "what": "heartbeat"},
                            "object": {"kind": "Lease", "metadata": {"name": "n", "namespace": "kube-node-lease"}}})
            continue
        kind = rng.choice(KINDS)
        name = rng.choice(names[kind])
        key = name if kind == "Node" else f"default/{name}"
        if key in current[kind] and rng.random() < 0.3:
            kind_type = "DELETED"
            current[kind].pop(key)
        else:
            kind_type = "MODIFIED" if key in current[kind] else "ADDED"
            current[kind][key] = str(rv)
        changes.append({"resourceVersion": str(rv), "type": kind_type, "kind": kind, "time": iso(second),
                        "actor": {"type": "controller", "controller": "job", "trace": rv},
                        "object": obj(kind, name, rv)})
        states.append((rv, second, {k: dict(v) for k, v in current.items()}))
    return changes, states


def compacted(changes, revision):
    """What a compaction at `revision` keeps: after it, everything; at or before it, each key's last version when
    that is not a deletion."""
    last = {}
    for change in changes:
        if int(change["resourceVersion"]) <= revision:
            last[(change["kind"], change["object"]["metadata"].get("namespace"), change["object"]["metadata"]["name"])] = change
    kept = [c for c in last.values() if c["type"] != "DELETED"]
    return sorted(kept, key=lambda c: int(c["resourceVersion"])) + \
        [c for c in changes if int(c["resourceVersion"]) > revision]


def page(changes, compacted_version=0, oldest_time=None):
    return {"resourceVersion": changes[-1]["resourceVersion"] if changes else "0", "now": iso(99999),
            "compactedVersion": compacted_version,
            "oldest": {"resourceVersion": compacted_version, "time": oldest_time or iso(0)},
            "changes": changes, "continue": None}


def state_at(states, rv):
    found = {kind: {} for kind in KINDS}
    for at, _, state in states:
        if at > rv:
            break
        found = state
    return found


@pytest.mark.parametrize("checkpoint_every", [7, 1000])
def test_scrubbing_equals_replaying_the_whole_history(checkpoint_every):
    """Random seeks, near and far, forwards and backwards, in pages: every state is the full history's at that
    resourceVersion, and a kind's map is kept (same object) only when none of its objects changed."""
    changes, states = random_history(1, 600)
    rng = random.Random(2)
    steps = [{"load": page(changes[:250])}, {"load": page(changes[250:])}]
    steps += [{"seek": rng.randrange(0, 700)} for _ in range(80)]
    steps += [{"seek": p} for p in (100, 99, 98, 101, 102, 0, 580, 579)]
    results = run_node(DRIVER, {"history": (STATIC / "history.js").as_uri(), "kinds": KINDS,
                                "checkpointEvery": checkpoint_every, "steps": steps})
    shown = [c for c in changes if c["kind"] in KINDS]
    previous = None
    for step, result in zip(steps[2:], results):
        position = max(0, min(len(shown), step["seek"]))
        assert result["position"] == position
        rv = int(shown[position - 1]["resourceVersion"]) if position else 0
        assert result["rv"] == rv
        assert result["objects"] == state_at(states, rv) == result["replay"]
        if previous is not None:
            changed_kinds = {k for k in KINDS if result["objects"][k] != previous[k]}
            assert not changed_kinds & set(result["sameMaps"])
            if result["touched"] is not None:
                touched = {(kind, key) for kind, key in result["touched"]}
                differs = {(k, key) for k in KINDS for key in set(result["objects"][k]) | set(previous[k])
                           if result["objects"][k].get(key) != previous[k].get(key)}
                assert differs <= touched
        previous = result["objects"]


def test_a_compacted_history_rebuilds_every_state_from_the_compaction_on():
    changes, states = random_history(3, 500)
    revision = 300
    kept = compacted(changes, revision)
    steps = [{"load": page(kept, revision, iso(states[-1][1] // 2))}]
    steps += [{"seek": p} for p in range(0, 501, 7)] + [{"seek": 10_000}, {"seek": -5}]
    results = run_node(DRIVER, {"history": (STATIC / "history.js").as_uri(), "kinds": KINDS,
                                "checkpointEvery": 50, "steps": steps})
    first = results[0]["min"]
    assert results[0]["position"] == first  # nothing before the compaction can be shown
    for result in results:
        assert result["position"] >= first
        assert result["rv"] >= revision or result["position"] == first
        assert result["objects"] == state_at(states, max(result["rv"], revision))


def test_live_events_are_provisional_until_the_endpoint_says_when_and_who():
    """Events of the live stream join the log at once (stamped with the page's clock); the endpoint's later page
    gives them their exact time, and seeking by time then lands on the exact change."""
    changes, states = random_history(5, 200)
    shown = [c for c in changes if c["kind"] in KINDS]
    steps = [{"load": page(changes[:120])}]
    for change in changes[120:]:
        if change["kind"] in KINDS:
            steps.append({"live": {"type": "event", "event": change["type"], "kind": change["kind"],
                                   "object": change["object"], "resourceVersion": change["resourceVersion"]},
                          "ms": 0})
    steps.append({"seek": 10_000})
    steps.append({"load": page(changes[120:])})
    target = shown[150]
    target_ms = int(__import__("datetime").datetime.fromisoformat(target["time"].replace("Z", "+00:00")).timestamp() * 1000)
    steps.append({"seek": 0, "time": target_ms})
    results = run_node(DRIVER, {"history": (STATIC / "history.js").as_uri(), "kinds": KINDS,
                                "checkpointEvery": 1000, "steps": steps})
    live_end, by_time = results
    assert live_end["length"] == len(shown)
    assert live_end["objects"] == states[-1][2]
    # The last change at or before that second.
    expected = max(i + 1 for i, c in enumerate(shown) if c["time"] <= target["time"])
    assert by_time["position"] == expected
    assert by_time["time"] == target_ms
    assert by_time["objects"] == state_at(states, int(shown[expected - 1]["resourceVersion"]))


def lcs(a, b):
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) - 1, -1, -1):
        for j in range(len(b) - 1, -1, -1):
            table[i][j] = table[i + 1][j + 1] + 1 if a[i] == b[j] else max(table[i + 1][j], table[i][j + 1])
    return table[0][0]


def test_line_diff_is_a_shortest_edit_script():
    rng = random.Random(4)
    cases = [[[rng.choice("abcd") for _ in range(rng.randrange(0, 12))],
              [rng.choice("abcd") for _ in range(rng.randrange(0, 12))]] for _ in range(300)]
    cases.append([["spec:", "  parallelism: 2", "status:", "  active: 2"],
                  ["spec:", "  parallelism: 2", "status:", "  active: 1", "  succeeded: 1"]])
    results = run_node(DIFF_DRIVER, {"diff": (STATIC / "diff.js").as_uri(), "cases": cases})
    for (a, b), result in zip(cases, results):
        diff = result["diff"]
        assert [d["text"] for d in diff if d["op"] != "+"] == a
        assert [d["text"] for d in diff if d["op"] != "-"] == b
        assert sum(d["op"] != " " for d in diff) == len(a) + len(b) - 2 * lcs(a, b)
    assert results[-1]["hunks"] == [
        {"op": " ", "text": "status:"}, {"op": "-", "text": "  active: 2"},
        {"op": "+", "text": "  active: 1"}, {"op": "+", "text": "  succeeded: 1"},
    ]
