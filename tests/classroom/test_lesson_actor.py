"""A lesson's writes in classroom mode carry whom they were made for: the history of a learner's sandbox says the
lesson applied its solution for that learner, and a teacher's preview says the teacher."""

from kubeviz.store.models import Change, Cluster

from .conftest import SLUG, post_json, start


def _lesson_writes(cluster_name: str, client) -> list[tuple[str, str, dict]]:
    """The kind, name and actor of each lesson write in the cluster's history, as its history endpoint answers."""
    response = client.get(f"/sim/clusters/{cluster_name}/history")
    assert response.status_code == 200, response.content
    return [(c["kind"], c["name"], c["actor"]) for c in response.json()["changes"]
            if c["actor"].get("door") == "lesson"]


def test_show_me_in_a_learners_sandbox_is_recorded_as_the_lesson_acting_for_the_learner(world):
    assert post_json(world.clients["a"], f"/lessons/{SLUG}/api/show-me").status_code == 200
    writes = _lesson_writes(world.cluster_a, world.clients["a"])
    assert ("Pod", "worker", {"type": "user", "door": "lesson", "who": "Ada"}) in writes
    assert {actor["who"] for _, _, actor in writes} == {"Ada"}
    # Bob's sandbox has no write of Ada's
    assert not Change.objects.filter(cluster=world.sandbox_b.cluster, actor__who="Ada").exists()


def test_a_teachers_preview_is_recorded_as_the_teachers(world):
    teacher = world.clients["teacher"]
    before = set(Cluster.objects.values_list("name", flat=True))
    assert start(teacher).status_code == 302
    (preview,) = set(Cluster.objects.values_list("name", flat=True)) - before
    assert post_json(teacher, f"/lessons/{SLUG}/api/show-me").status_code == 200
    writes = _lesson_writes(preview, teacher)
    assert ("Pod", "worker", {"type": "user", "door": "lesson", "who": "ms-lee"}) in writes
