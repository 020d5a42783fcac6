"""CronJobs end to end: YAML through the apply endpoint, the clock through its API."""

import json

import pytest
from django.test import Client

from tests.manifests import HELLO, slow_cronjob
from tests.runtime.test_job_e2e import Sim

# 2025-01-01T00:00:00Z is 28928160 minutes after the epoch.
EPOCH_MINUTE = 28928160


@pytest.fixture
def sim(cluster):
    return Sim()


def jobs(sim):
    return sim.get("/apis/batch/v1/namespaces/default/jobs")[1]["items"]


def cronjob(sim):
    return sim.get("/apis/batch/v1/namespaces/default/cronjobs/hello")[1]


def events(sim, reason):
    _, body = sim.get(f"/api/v1/namespaces/default/events?fieldSelector=reason%3D{reason}")
    return [e["message"] for e in body["items"]]


def active_over_time(sim, policy, minutes):
    """How many of the CronJob's Jobs were active half a minute after each scheduled time."""
    counts = []
    sim.advance(30)
    for _ in range(minutes):
        sim.advance(60)
        counts.append(len(cronjob(sim)["status"].get("active") or []))
    return counts


def test_hello_every_minute_keeps_three_finished_jobs(sim):
    sim.apply(HELLO)
    sim.advance(10 * 60 + 30)
    names = sorted(j["metadata"]["name"] for j in jobs(sim))
    assert names == [f"hello-{EPOCH_MINUTE + m}" for m in (8, 9, 10)]
    created = events(sim, "SuccessfulCreate")
    # Nine Events name their Job; the tenth different message within ten minutes is combined (client-go's
    # EventAggregator), as `kubectl describe cronjob` shows on a real cluster.
    assert sorted(m for m in created if "Created job" in m) == sorted(
        [f"Created job hello-{EPOCH_MINUTE + m}" for m in range(1, 10)]
        + [f"(combined from similar events): Created job hello-{EPOCH_MINUTE + 10}"])
    deleted = [m for m in events(sim, "SuccessfulDelete") if m.startswith("Deleted job")]
    assert sorted(deleted) == sorted(f"Deleted job hello-{EPOCH_MINUTE + m}" for m in range(1, 8))
    status = cronjob(sim)["status"]
    assert status["lastScheduleTime"] == "2025-01-01T00:10:00Z"
    assert status["lastSuccessfulTime"].startswith("2025-01-01T00:10:")
    job = next(j for j in jobs(sim) if j["metadata"]["name"] == f"hello-{EPOCH_MINUTE + 10}")
    assert job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] == \
        "2025-01-01T00:10:00Z"
    assert job["metadata"]["ownerReferences"][0]["kind"] == "CronJob"


def test_forbid_never_overlaps(sim):
    sim.apply(slow_cronjob("Forbid"))
    assert max(active_over_time(sim, "Forbid", 8)) == 1
    assert events(sim, "JobAlreadyActive")


def test_allow_overlaps(sim):
    sim.apply(slow_cronjob("Allow"))
    assert max(active_over_time(sim, "Allow", 6)) >= 3


def test_replace_keeps_only_the_newest(sim):
    sim.apply(slow_cronjob("Replace"))
    counts = active_over_time(sim, "Replace", 5)
    assert max(counts) == 1
    (current,) = cronjob(sim)["status"]["active"]
    assert current["name"] == f"hello-{EPOCH_MINUTE + 5}"
    assert any(m.startswith("Deleted job hello-") for m in events(sim, "SuccessfulDelete"))


def test_suspended_cronjob_creates_nothing(sim):
    sim.apply(HELLO.replace("spec:\n  schedule", "spec:\n  suspend: true\n  schedule", 1))
    sim.advance(5 * 60)
    assert jobs(sim) == []


def test_time_zone_fires_at_the_right_utc_instant(sim):
    daily = HELLO.replace('"*/1 * * * *"', '"30 9 * * *"\n  timeZone: "Asia/Tokyo"')
    sim.apply(daily)
    sim.advance(30 * 60 - 1)  # 09:29:59 in Tokyo is 00:29:59 UTC
    assert jobs(sim) == []
    sim.advance(2)
    (job,) = jobs(sim)
    assert job["metadata"]["name"] == f"hello-{EPOCH_MINUTE + 30}"
    assert job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] == \
        "2025-01-01T09:30:00+09:00"


def test_catching_up_after_three_hours_suspended_starts_only_the_latest_and_warns(sim):
    sim.apply(HELLO)
    sim.advance(90)
    assert len(jobs(sim)) == 1
    Client().patch("/clusters/test/apis/batch/v1/namespaces/default/cronjobs/hello",
                   data=json.dumps({"spec": {"suspend": True}}), content_type="application/merge-patch+json")
    sim.advance(3 * 3600)
    assert len(jobs(sim)) == 1
    Client().patch("/clusters/test/apis/batch/v1/namespaces/default/cronjobs/hello",
                   data=json.dumps({"spec": {"suspend": False}}), content_type="application/merge-patch+json")
    sim.advance(1)
    names = sorted(j["metadata"]["name"] for j in jobs(sim))
    # 180 slots were missed: upstream warns and starts the most recent one only
    assert names == [f"hello-{EPOCH_MINUTE + 1}", f"hello-{EPOCH_MINUTE + 181}"]
    assert events(sim, "TooManyMissedTimes") == [
        "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew"]
