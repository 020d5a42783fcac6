"""Classroom mode: recordings, forks and compares belong to whoever may reach the cluster they come from. Every
new endpoint x {nobody, learner A, learner B, the class's teacher, another teacher}, against learner A's sandbox."""

import pytest

from .conftest import post_json

WHO = ("nobody", "a", "b", "teacher", "other_teacher")
REFUSED = {"nobody": 401, "b": 403, "other_teacher": 403}


def test_a_recording_is_for_whoever_reaches_its_cluster(world):
    for who in WHO:
        response = world.clients[who].get(f"/sim/clusters/{world.cluster_a}/recording")
        assert response.status_code == REFUSED.get(who, 200), (who, response.content)
        if response.status_code == 200:
            assert response.json()["kind"] == "KubevizRecording"


def test_a_fork_of_a_learners_sandbox_is_theirs_and_their_teachers(world):
    for who in WHO:
        response = post_json(world.clients[who], f"/sim/clusters/{world.cluster_a}/fork", {"name": f"fork-{who}"})
        assert response.status_code == REFUSED.get(who, 201), (who, response.content)
    for fork in ("fork-a", "fork-teacher"):  # both are A's, whoever made them
        for who in WHO:
            response = world.clients[who].get(f"/sim/clusters/{fork}/clock")
            assert response.status_code == REFUSED.get(who, 200), (fork, who, response.content)
            listed = world.clients[who].get("/sim/clusters")
            names = [c["name"] for c in listed.json()["items"]] if listed.status_code == 200 else []
            assert (fork in names) == (who in ("a", "teacher")), (fork, who, names)
            page = world.clients[who].get(f"/sim/compare?a={world.cluster_a}&b={fork}&format=json")
            assert page.status_code == {"nobody": 404, "b": 404, "other_teacher": 404}.get(who, 200), (who, page)


def test_an_import_is_the_importers(world):
    recording = world.clients["a"].get(f"/sim/clusters/{world.cluster_a}/recording").content
    response = world.clients["b"].post("/sim/recordings?name=bobs-copy", data=recording,
                                       content_type="application/json")
    assert response.status_code == 201, response.content
    for who in WHO:
        expected = {"nobody": 401, "a": 403, "other_teacher": 403}.get(who, 200)
        assert world.clients[who].get("/sim/clusters/bobs-copy/clock").status_code == expected, who
    nobody = world.clients["nobody"].post("/sim/recordings?name=x", data=recording, content_type="application/json")
    assert nobody.status_code in (401, 404)


def test_resetting_a_learner_deletes_their_forks(world):
    from kubeviz.classroom.services import learner_reset
    from kubeviz.store.models import Cluster

    assert post_json(world.clients["a"], f"/sim/clusters/{world.cluster_a}/fork", {"name": "mine"}).status_code == 201
    learner_reset(learner=world.a)
    assert not Cluster.objects.filter(name="mine").exists()
