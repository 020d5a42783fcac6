"""The timeline scrubber and an object's history in a real Chromium, against a real Daphne server.

A parallel Job (completions 4, parallelism 2) is applied from the editor and run to the end; the time bar is dragged
back to its second wave, and the page shows the cluster as it was then, checked against the server's own history
(GET /sim/clusters/<name>/history) and traces: exactly the second wave's two pods Running, the controllers' traces
of that instant and none after it, every control that writes off. Stepping with the keyboard moves one change at a
time, each the next change the server kept; "Back to live" brings the finished Job back. The Details panel's History
lists the Job's revisions with their authors (the editor, the Job controller and the trace that decided it) and
each one's diff, what a learner wrote shown as text.
"""

import json
import urllib.parse
from datetime import datetime, timedelta, timezone

import pytest

from tests.dashboard.test_browser import Page, browser, call, new_cluster, wait_until  # noqa: F401 - fixtures
from tests.live.conftest import kubeviz_server  # noqa: F401 - the live Daphne server

pytestmark = [pytest.mark.browser, pytest.mark.live]

JOB = """apiVersion: batch/v1
kind: Job
metadata:
  name: waves
  labels:
    note: "{label}"
  annotations:
    note: "{annotation}"
spec:
  completions: 4
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: work
        image: busybox
        command: ["sh", "-c", "sleep 20"]
"""
SCRIPTY = "<img src=x onerror=window.pwned=1>"


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def history(server, cluster, **params):
    changes, token = [], None
    while True:
        query = dict(params, **({"continue": token} if token else {}))
        page = call(server, "GET", f"/sim/clusters/{cluster}/history?{urllib.parse.urlencode(query)}")
        changes += page["changes"]
        token = page["continue"]
        if not token:
            return changes


def running_at(changes, rv):
    """The names of the pods Running (and not being deleted) after the change with resourceVersion ``rv``."""
    pods = {}
    for change in changes:
        if change["resourceVersion"] > rv:
            break
        if change["kind"] != "Pod":
            continue
        if change["type"] == "DELETED":
            pods.pop(change["name"], None)
        else:
            pods[change["name"]] = change["object"]
    return sorted(name for name, pod in pods.items()
                  if pod.get("status", {}).get("phase") == "Running" and not pod["metadata"].get("deletionTimestamp"))


def shown_running(page):
    return sorted(page.page.eval_on_selector_all(
        '[data-testid="pod"][data-status="Running"]', "els => els.map(e => e.dataset.name || e.dataset.pod || e.title)"))


def pod_names_by_status(page):
    return sorted(page.page.eval_on_selector_all(
        '[data-testid="pod"]', "els => els.map(e => [e.querySelector('.pod-name')?.textContent || e.textContent, e.dataset.status])"))


def run_the_job(browser, server, name):  # noqa: F811
    new_cluster(server, name)
    page = Page(browser, server, name).open()
    page.apply_yaml(JOB.format(label="a-b", annotation=SCRIPTY), "job.batch/waves created")
    page.advance(120)
    wait_until(lambda: page.statuses().count("Completed") == 4, message="four pods Completed")
    return page


def test_scrub_a_parallel_job_back_to_its_second_wave_step_and_go_back_to_live(browser, kubeviz_server):  # noqa: F811
    page = run_the_job(browser, kubeviz_server, "scrub-waves")
    p = page.page
    changes = history(kubeviz_server, "scrub-waves")
    pods = [c for c in changes if c["kind"] == "Pod" and c["type"] == "ADDED"]
    assert len(pods) == 4
    second_wave = sorted(c["name"] for c in pods[2:])
    # An instant when both pods of the second wave run: a second after the later one started.
    started = [c for c in changes if c["kind"] == "Pod" and c["name"] in second_wave
               and c["object"].get("status", {}).get("phase") == "Running"]
    instant = max(parse(c["time"]) for c in started).replace(microsecond=0) + timedelta(seconds=1)
    assert running_at(changes, max(c["resourceVersion"] for c in changes if parse(c["time"]) <= instant)) == second_wave

    # Drag the time bar there (the first use loads the history).
    p.focus('[data-testid="timeline-range"]')
    p.wait_for_function("() => window.kubeviz.scrubber.timeline.loaded")
    p.fill('[data-testid="timeline-range"]', str(int(instant.timestamp())))
    p.wait_for_selector('[data-testid="past-banner"]:not([hidden])')
    assert p.text_content('[data-testid="past-time"]') == instant.strftime("%Y-%m-%d %H:%M:%S")
    wait_until(lambda: page.statuses().count("Running") == 2, message="two pods Running")
    assert sorted(page.statuses()) == ["Completed", "Completed", "Running", "Running"]
    running = sorted(p.eval_on_selector_all('[data-testid="pod"][data-status="Running"]',
                                            "els => els.map(e => e.textContent)"))
    assert [any(n in text for text in running) for n in second_wave] == [True, True]
    # The page is read-only in the past.
    for control in ("clock-play", "clock-step", "clock-advance", "apply"):
        assert p.is_disabled(f'[data-testid="{control}"]'), control
    assert p.get_attribute("body", "data-past") == "true"

    # The controllers' traces are those of that instant: the newest shown is the server's newest at or before it.
    page.tab("controllers")
    kept = call(kubeviz_server, "GET", "/sim/clusters/scrub-waves/traces?" + urllib.parse.urlencode(
        {"from": "2025-01-01T00:00:00Z", "to": instant.strftime("%Y-%m-%dT%H:%M:%SZ")}))["items"]
    busy = [tr for tr in kept if tr["actions"]]  # the panel hides idle syncs
    newest = busy[-1]

    def first_trace():
        first = p.query_selector('[data-testid="trace"]')
        return first and [first.get_attribute("data-controller"), first.get_attribute("data-object"),
                          first.query_selector(".trace-time").text_content()]
    wait_until(lambda: first_trace() == [newest["controller"], newest["object"], newest["time"][11:19]],
               message=f"the newest trace at the instant ({newest['controller']} {newest['object']})")
    times = p.eval_on_selector_all('[data-testid="trace"] .trace-time', "els => els.map(e => e.textContent)")
    assert max(times) <= instant.strftime("%H:%M:%S")
    # The Job controller's reconciles that created the second wave (the authors of its pods' creation) are there.
    sequences = {str(c["actor"]["trace"]) for c in pods[2:]}
    assert {c["actor"]["controller"] for c in pods[2:]} == {"job"}
    shown = set(p.eval_on_selector_all('[data-testid="trace"][data-controller="job"]', "els => els.map(e => e.dataset.sequence)"))
    assert sequences <= shown
    page.shot("scrub-second-wave")

    # Step forward change by change with the keyboard: each step is the next change the server kept.
    shown_kinds = {k["kind"] for k in json.loads(p.text_content("#kubeviz-config"))["kinds"]}
    log = [c for c in changes if c["kind"] in shown_kinds]
    p.click('[data-testid="past-banner"]')  # focus off the range: the keys are the page's
    rv = int(p.get_attribute('[data-testid="past-banner"]', "data-resource-version"))
    following = [c for c in log if c["resourceVersion"] > rv]
    assert len(following) >= 3  # the second wave's ends, the Job's completion
    for after in following[:8]:
        p.keyboard.press("]")
        p.wait_for_selector(f'[data-testid="past-banner"][data-resource-version="{after["resourceVersion"]}"]')
        change = p.query_selector('[data-testid="past-change"]')
        assert [change.get_attribute("data-kind"), change.get_attribute("data-type")] == [after["kind"], after["type"]]
        assert change.get_attribute("data-name").endswith(after["name"])
        rv = after["resourceVersion"]
        wait_until(lambda: page.statuses().count("Running") == len(running_at(changes, rv)),
                   message=f"the pods Running after resourceVersion {rv}")
    # And back one.
    before = max(c["resourceVersion"] for c in log if c["resourceVersion"] < rv)
    p.keyboard.press("[")
    p.wait_for_selector(f'[data-testid="past-banner"][data-resource-version="{before}"]')

    # Back to live: the finished Job, the controls on again.
    p.click('[data-testid="past-banner"] [data-testid="back-to-live"]')
    p.wait_for_selector('[data-testid="past-banner"]', state="hidden")
    wait_until(lambda: page.statuses().count("Completed") == 4, message="the finished Job again")
    assert not p.is_disabled('[data-testid="clock-play"]')
    assert not p.is_disabled('[data-testid="apply"]')
    assert p.get_attribute("body", "data-past") == "false"
    page.close()


def test_an_objects_history_lists_its_revisions_authors_and_diffs(browser, kubeviz_server):  # noqa: F811
    page = run_the_job(browser, kubeviz_server, "scrub-revisions")
    p = page.page
    revisions = history(kubeviz_server, "scrub-revisions", kind="Job", namespace="default", name="waves")
    p.evaluate("() => window.kubeviz.select({kind: 'Job', key: 'default/waves'})")
    p.click('[data-testid="details"] [data-subtab="history"]')
    p.wait_for_selector('[data-testid="revision"]')
    shown = p.eval_on_selector_all('[data-testid="revision"]', """els => els.map(e => [
        Number(e.dataset.resourceVersion), e.dataset.type, e.dataset.actorType, e.dataset.actor,
        e.querySelector('[data-testid="revision-author"]').textContent])""")
    # Newest first, every kept revision, each with its author.
    assert [r[0] for r in shown] == [r["resourceVersion"] for r in reversed(revisions)]
    first = shown[-1]
    assert first[1:4] == ["ADDED", "user", "editor"]
    assert first[4] == "by a user (editor)"
    assert {r[2:4] == ["controller", "job"] for r in shown[:-1]} == {True}
    assert all(r[4] == "by job" for r in shown[:-1])

    # The last revision's diff: the Job finished (its Complete condition and succeeded 4 appear).
    newest = p.query_selector('[data-testid="revision"]')
    added = newest.eval_on_selector_all(".diff-add", "els => els.map(e => e.textContent.trim())")
    removed = newest.eval_on_selector_all(".diff-del", "els => els.map(e => e.textContent.trim())")
    assert ["+", "succeeded:", "4"] in [line.split() for line in added]
    assert ["+", "-", "type:", "Complete"] in [line.split() for line in added]
    assert any(line.startswith("- ") for line in removed)
    # What the learner wrote is text, not markup.
    creation = p.query_selector_all('[data-testid="revision"]')[-1]
    assert any(SCRIPTY in line for line in creation.eval_on_selector_all(".diff-add", "els => els.map(e => e.textContent)"))
    assert not p.query_selector('[data-testid="revisions"] img')
    assert p.evaluate("() => window.pwned") is None

    # The reconcile that decided the newest revision: the Job controller's trace, the one the revision names.
    newest.query_selector('[data-testid="revision-trace-open"]').click()
    trace = newest.wait_for_selector('[data-testid="revision-trace"]')
    assert trace.get_attribute("data-controller") == "job"
    sequence = revisions[-1]["actor"]["trace"]
    second = parse(revisions[-1]["time"]).replace(microsecond=0)
    kept = call(kubeviz_server, "GET", "/sim/clusters/scrub-revisions/traces?" + urllib.parse.urlencode({
        "from": second.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "to": (second + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ"), "controller": "job"}))["items"]
    decided = next(tr for tr in kept if tr["sequence"] == sequence)
    assert decided["decision"] in trace.text_content()
    page.shot("object-history")

    # "See the cluster then" on the first revision: the scrubber shows the cluster right after it.
    p.query_selector_all('[data-testid="revision-show"]')[-1].click()
    p.wait_for_selector(f'[data-testid="past-banner"][data-resource-version="{revisions[0]["resourceVersion"]}"]')
    assert page.statuses() == []  # the Job was just created: no pod yet
    p.keyboard.press("Escape")
    p.wait_for_selector('[data-testid="past-banner"]', state="hidden")
    page.close()


def test_the_time_bar_says_how_far_back_the_history_goes(browser, kubeviz_server):  # noqa: F811
    name = new_cluster(kubeviz_server, "scrub-oldest")
    page = Page(browser, kubeviz_server, name).open()
    oldest = call(kubeviz_server, "GET", f"/sim/clusters/{name}/history?limit=1")["oldest"]
    label = page.page.wait_for_selector('[data-testid="timeline-oldest"][data-time]')
    assert parse(label.get_attribute("data-time")) == parse(oldest["time"]).replace(tzinfo=timezone.utc)
    assert label.text_content() == "history from " + parse(oldest["time"]).strftime("%Y-%m-%d %H:%M:%S")
    page.close()
