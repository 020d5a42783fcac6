"""The classroom's flows: teachers log in and make classes, learners join, start, leave and come back; resets,
CSRF on every new form, the idle sweep, and laptop mode left as it was."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from kubeviz.classroom.lifecycle import heartbeat, sandboxes_sweep
from kubeviz.classroom.models import Capability, Classroom, Learner, Sandbox
from kubeviz.classroom.services import class_create
from kubeviz.lessons.models import Lesson, LessonProgress
from kubeviz.store.models import Cluster
from kubeviz.store.services import RESOURCE_QUOTA, registry_for

from .conftest import PASSWORD, SLUG, join, make_teacher, post_json, start, teacher_client

ORIGIN = "http://testserver"


def test_a_teacher_logs_in_creates_a_class_and_gets_its_code_link_and_qr(classroom_mode, lessons):
    make_teacher("ms-lee")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert client.get("/teach/")["Location"] == "/accounts/login/?next=%2Fteach%2F"
    assert client.post("/accounts/login/", {"username": "ms-lee", "password": "wrong"}).status_code == 200
    logged_in = client.post("/accounts/login/", {"username": "ms-lee", "password": PASSWORD})
    assert logged_in["Location"] == "/teach/"
    made = client.post("/teach/", {"name": "Jobs 101", "lessons": [SLUG, "parallel-jobs"],
                                   "opens_at": "", "closes_at": ""})
    classroom = Classroom.objects.get()
    assert made["Location"] == f"/teach/{classroom.pk}/"
    assert [l.slug for l in classroom.ordered_lessons()] == [SLUG, "parallel-jobs"]
    page = client.get(f"/teach/{classroom.pk}/").content.decode()
    assert classroom.join_code in page and f"http://testserver/join/{classroom.join_code}/" in page
    qr = client.get(f"/teach/{classroom.pk}/qr.svg")
    assert qr["Content-Type"] == "image/svg+xml" and qr.content.startswith(b"<svg")
    assert client.post("/teach/", {"name": "", "lessons": [SLUG]}).status_code == 400
    assert client.post("/teach/", {"name": "No lessons"}).status_code == 400
    assert client.post("/accounts/logout/")["Location"] == "/accounts/login/"
    assert client.get("/teach/").status_code == 302


def test_learners_join_start_by_post_and_find_their_sandbox_again_anywhere(classroom_mode, lessons):
    teacher = make_teacher("ms-lee")
    classroom = class_create(teacher=teacher, name="Jobs 101", lessons=Lesson.objects.filter(slug=SLUG))
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert browser.get(f"/join/{classroom.join_code}/").status_code == 200
    assert join(browser, "nope", "Ada").status_code == 400
    joined = join(browser, classroom.join_code.lower(), "  Ada   Lovelace ")
    assert joined["Location"] == "/class/"
    cookie = joined.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["secure"]
    learner = Learner.objects.get()
    assert learner.display_name == "Ada Lovelace"
    # Opening a lesson makes nothing: it offers Start.
    clusters = Cluster.objects.count()
    page = browser.get(f"/lessons/{SLUG}/")
    assert page.status_code == 200 and 'data-testid="lesson-start"' in page.content.decode()
    assert Cluster.objects.count() == clusters
    assert browser.get(f"/lessons/{SLUG}/start").status_code == 405
    assert start(browser)["Location"] == f"/lessons/{SLUG}/"
    assert start(browser).status_code == 302  # a second Start goes on with the first
    sandbox = Sandbox.objects.get()
    assert Cluster.objects.count() == clusters + 1
    assert browser.get(f"/lessons/{SLUG}/api/step").json()["cluster"] == sandbox.cluster.name
    post_json(browser, f"/lessons/{SLUG}/api/step", {"step": 2})
    # A lesson not in the class cannot be started.
    assert start(browser, "parallel-jobs").status_code == 403
    # Another browser, the same code and name (any case, any spacing): the same learner, sandbox and step.
    other = Client(HTTP_ACCEPT_LANGUAGE="en")
    join(other, classroom.join_code, "ada lovelace")
    assert Learner.objects.count() == 1
    assert other.get(f"/lessons/{SLUG}/api/step").json() | {} == browser.get(f"/lessons/{SLUG}/api/step").json()
    assert other.get(f"/lessons/{SLUG}/api/step").json()["index"] == 2
    assert "Ada Lovelace" in other.get("/class/").content.decode()
    # Leaving forgets this browser only.
    assert other.post("/class/leave")["Location"] == "/join/"
    assert other.get("/class/").status_code == 302
    assert browser.get("/class/").status_code == 200


def test_a_class_outside_its_window_refuses_joins_and_starts(classroom_mode, lessons):
    teacher = make_teacher("ms-lee")
    later = class_create(teacher=teacher, name="Later", lessons=Lesson.objects.filter(slug=SLUG),
                         opens_at=timezone.now() + timedelta(hours=1))
    assert join(Client(), later.join_code, "Ada").status_code == 400
    now = class_create(teacher=teacher, name="Now", lessons=Lesson.objects.filter(slug=SLUG))
    browser = Client()
    join(browser, now.join_code, "Ada")
    Classroom.objects.filter(pk=now.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    assert start(browser).status_code == 403
    assert not Sandbox.objects.exists()


def test_a_class_gives_its_sandboxes_its_own_quota(classroom_mode, lessons):
    classroom_mode.KUBEVIZ_DEFAULT_QUOTA = {"pods": "20"}
    client = teacher_client(make_teacher("ms-lee"))
    refused = client.post("/teach/", {"name": "Jobs 101", "lessons": [SLUG], "quota": "pod=2"})
    assert refused.status_code == 400 and not Classroom.objects.exists()
    assert "The quota per sandbox is not a valid quota: spec.hard[pod]: Invalid value: pod" in refused.content.decode()
    assert client.post("/teach/", {"name": "Jobs 101", "lessons": [SLUG], "quota": "pods=2, count/jobs.batch=1"}) \
        .status_code == 302
    assert client.post("/teach/", {"name": "Defaults", "lessons": [SLUG], "quota": ""}).status_code == 302
    small, default = Classroom.objects.get(name="Jobs 101"), Classroom.objects.get(name="Defaults")
    assert small.quota == {"pods": "2", "count/jobs.batch": "1"} and default.quota == {}
    assert "pods=2,count/jobs.batch=1" in client.get(f"/teach/{small.pk}/").content.decode()
    assert 'placeholder="pods=20"' in client.get("/teach/").content.decode()
    hard = {}
    for classroom in (small, default):
        learner = Client(HTTP_ACCEPT_LANGUAGE="en")
        join(learner, classroom.join_code, "Ada")
        assert start(learner).status_code == 302
        cluster = Sandbox.objects.get(learner__classroom=classroom).cluster
        quota = registry_for(cluster).get(RESOURCE_QUOTA, "default", "sandbox")
        assert quota["status"]["hard"] == quota["spec"]["hard"]  # synced: enforced from the first request
        hard[classroom.name] = quota["spec"]["hard"]
    assert hard["Jobs 101"] == {"pods": "2", "count/jobs.batch": "1"}
    assert hard["Defaults"] == {"pods": "20"}


def test_an_address_that_tries_many_wrong_codes_is_refused_for_a_while(classroom_mode, lessons):
    classroom_mode.KUBEVIZ_JOIN_FAILURES = 3
    classroom = class_create(teacher=make_teacher("ms-lee"), name="Jobs 101", lessons=Lesson.objects.filter(slug=SLUG))
    guesser = Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR="203.0.113.7")
    assert join(guesser, "AAAAAA", "Mallory").status_code == 400
    assert guesser.get("/join/BBBBBB/").status_code == 200  # a link with a wrong code counts too
    assert join(guesser, "CCCCCC", "Mallory").status_code == 400
    # Now even the right code is refused from this address (it could be a lucky guess), with a message.
    refused = join(guesser, classroom.join_code, "Mallory")
    assert refused.status_code == 429 and "Too many wrong class codes" in refused.content.decode()
    assert guesser.get(f"/join/{classroom.join_code}/").status_code == 429
    assert not Learner.objects.exists()
    # Another address (another school) joins as usual.
    learner = Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR="198.51.100.2")
    assert join(learner, classroom.join_code, "Ada").status_code == 302
    # Right codes do not count: a class of many behind one address joins.
    for n in range(5):
        assert join(Client(REMOTE_ADDR="198.51.100.2"), classroom.join_code, f"Learner {n}").status_code == 302


def test_display_names_are_checked(classroom_mode, lessons):
    classroom = class_create(teacher=make_teacher("t"), name="C", lessons=Lesson.objects.filter(slug=SLUG))
    for bad in ("", "   ", "x" * 41, "a\x07b"):
        assert join(Client(), classroom.join_code, bad).status_code == 400, bad
    assert not Learner.objects.exists()


def test_the_teacher_resets_and_removes_learners(world):
    teacher = world.clients["teacher"]
    base = f"/teach/{world.classroom.pk}"
    token_a = world.token(world.sandbox_a)
    assert teacher.post(f"{base}/learners/{world.a.pk}/reset").status_code == 302
    assert not Sandbox.objects.filter(learner=world.a).exists()
    assert not Cluster.objects.filter(name=world.cluster_a).exists()
    assert not Capability.objects.filter(token=token_a).exists()  # the old kubeconfig is dead
    assert world.clients["nobody"].get(f"/k/{token_a}/api/v1/nodes").status_code == 401
    assert start(world.clients["a"]).status_code == 302  # A starts afresh
    assert world.clients["a"].get(f"/lessons/{SLUG}/api/step").json()["index"] == 0
    assert Sandbox.objects.filter(learner=world.b).exists()
    assert teacher.post(f"{base}/learners/{world.b.pk}/remove").status_code == 302
    assert not Learner.objects.filter(pk=world.b.pk).exists()
    assert not Cluster.objects.filter(name=world.cluster_b).exists()
    assert world.clients["b"].get("/class/").status_code == 302  # B's session names no learner now
    assert teacher.post(f"{base}/reset").status_code == 302
    assert not Sandbox.objects.filter(learner__classroom=world.classroom).exists()
    assert teacher.get(f"{base}/reset").status_code == 405
    assert teacher.post(f"{base}/delete")["Location"] == "/teach/"
    assert not Classroom.objects.filter(pk=world.classroom.pk).exists()


def test_the_teacher_merges_a_learner_who_joined_twice(world):
    """Ada joined again on another browser as "Ada L." and got on further there: merging keeps her furthest
    sandbox of the lesson, under her first name, with the kubeconfig she downloaded there still working."""
    teacher = world.clients["teacher"]
    base = f"/teach/{world.classroom.pk}"
    second = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert join(second, world.classroom.join_code, "Ada L.").status_code == 302
    assert start(second).status_code == 302
    post_json(second, f"/lessons/{SLUG}/api/step", {"step": 2})
    duplicate = Learner.objects.get(display_name="Ada L.")
    further = Sandbox.objects.get(learner=duplicate)
    token = world.token(further)
    page = teacher.get(f"{base}/").content.decode()
    assert f'action="{base}/learners/{duplicate.pk}/merge"' in page

    # Merging into oneself, into nobody, or into a learner of another class changes nothing.
    stranger = Learner.objects.create(classroom=Classroom.objects.get(name="Another class"), display_name="Eve",
                                      name_key="eve")
    for into in (duplicate.pk, "", "x", stranger.pk, 10**6):
        assert teacher.post(f"{base}/learners/{duplicate.pk}/merge", {"into": into}).status_code == 400
    assert Learner.objects.filter(pk=duplicate.pk).exists()
    # Another teacher cannot merge this class's learners.
    other = world.clients["other_teacher"].post(f"{base}/learners/{duplicate.pk}/merge", {"into": world.a.pk})
    assert other.status_code == 404 and Learner.objects.filter(pk=duplicate.pk).exists()

    merged = teacher.post(f"{base}/learners/{duplicate.pk}/merge", {"into": world.a.pk},
                          HTTP_ACCEPT="application/json")
    assert merged.status_code == 200 and merged.json()["deleted"] == [world.cluster_a]
    assert not Learner.objects.filter(pk=duplicate.pk).exists()
    assert not Cluster.objects.filter(name=world.cluster_a).exists()  # the sandbox that was behind
    assert list(Sandbox.objects.filter(learner=world.a)) == [further]
    assert Capability.objects.get(token=token).learner == world.a
    # Ada's first browser finds the sandbox she got further in, and the kubeconfig of the second still works.
    step = world.clients["a"].get(f"/lessons/{SLUG}/api/step").json()
    assert step["cluster"] == further.cluster.name and step["index"] == 2
    assert world.clients["nobody"].get(f"/k/{token}/api/v1/nodes").status_code == 200
    assert second.get("/class/").status_code == 302  # the duplicate's session names no learner now
    # Bob is untouched.
    assert Sandbox.objects.filter(learner=world.b).count() == 1


@pytest.mark.parametrize("path, data", [
    ("/join/", {"code": "{code}", "name": "Ada"}),
    ("/accounts/login/", {"username": "ms-lee", "password": PASSWORD}),
    ("/teach/", {"name": "X", "lessons": [SLUG]}),
    ("/teach/{pk}/reset", {}),
    ("/teach/{pk}/learners/{a}/reset", {}),
    ("/teach/{pk}/learners/{a}/remove", {}),
    ("/teach/{pk}/learners/{a}/merge", {"into": "{b}"}),
    ("/teach/{pk}/delete", {}),
    ("/lessons/" + SLUG + "/start", {}),
    ("/class/leave", {}),
], ids=["join", "login", "create class", "reset class", "reset learner", "remove learner", "merge learner",
        "delete class",
        "start", "leave"])
def test_every_new_form_needs_the_csrf_token(world, path, data):
    """A browser's POST (it carries a cookie and this server's Origin) without the page's token is refused."""
    path = path.format(pk=world.classroom.pk, a=world.a.pk)
    data = {key: value.format(code=world.classroom.join_code, b=world.b.pk) if isinstance(value, str) else value
            for key, value in data.items()}
    who = "a" if path.startswith(("/lessons", "/class")) else "teacher" if path.startswith("/teach") else "nobody"
    client = Client(enforce_csrf_checks=True, HTTP_ORIGIN=ORIGIN)
    client.cookies = world.clients[who].cookies
    client.cookies["csrftoken"] = "A" * 32
    before = (Classroom.objects.count(), Learner.objects.count(), Sandbox.objects.count())
    response = client.post(path, data)
    assert response.status_code == 403
    assert "CSRF verification failed" in response.content.decode()
    assert (Classroom.objects.count(), Learner.objects.count(), Sandbox.objects.count()) == before
    # With the token (as the page's form sends it) the same POST goes through.
    data = dict(data, csrfmiddlewaretoken="A" * 32)
    assert client.post(path, data).status_code in (200, 302)


def test_idle_sandboxes_are_paused_then_deleted(world):
    Cluster.objects.filter(pk=world.sandbox_a.cluster_id).update(paused=False)
    now = timezone.now()
    Sandbox.objects.filter(pk=world.sandbox_a.pk).update(last_active=now - timedelta(minutes=30))
    result = sandboxes_sweep(now=now, pause_after=20 * 60, delete_after=3600)
    assert result.paused == [world.cluster_a] and result.deleted == []
    assert Cluster.objects.get(name=world.cluster_a).paused
    assert Sandbox.objects.get(pk=world.sandbox_a.pk).idle_paused_at == now
    # A live stream keeps a sandbox in use.
    assert heartbeat([world.cluster_b]) == 1
    Sandbox.objects.filter(pk=world.sandbox_a.pk).update(last_active=now - timedelta(hours=2))
    result = sandboxes_sweep(now=now, pause_after=20 * 60, delete_after=3600)
    assert result.deleted == [world.cluster_a]
    assert not Cluster.objects.filter(name=world.cluster_a).exists()
    assert not LessonProgress.objects.filter(cluster__name=world.cluster_a).exists()
    assert Sandbox.objects.filter(pk=world.sandbox_b.pk).exists()
    # The learner starts again from their class page.
    assert start(world.clients["a"]).status_code == 302
    out = io.StringIO()
    call_command("sandboxes", "sweep", stdout=out)
    assert out.getvalue().startswith("paused 0, deleted 0")


def test_using_a_sandbox_marks_it_in_use(world):
    from kubeviz.classroom import access

    old = timezone.now() - timedelta(hours=1)
    Sandbox.objects.update(last_active=old)
    access._touched.clear()
    world.clients["a"].get(f"/sim/clusters/{world.cluster_a}/clock")
    assert Sandbox.objects.get(pk=world.sandbox_a.pk).last_active > old
    assert Sandbox.objects.get(pk=world.sandbox_b.pk).last_active == old


def test_createteacher(db):
    import sys

    from django.contrib.auth import authenticate

    stdin = sys.stdin
    try:
        sys.stdin = io.StringIO(PASSWORD + "\n")
        call_command("createteacher", "ms-lee", "--password-stdin", stdout=io.StringIO())
        sys.stdin = io.StringIO("short\n")
        with pytest.raises(Exception, match="too short"):
            call_command("createteacher", "mr-x", "--password-stdin", stdout=io.StringIO())
    finally:
        sys.stdin = stdin
    assert authenticate(username="ms-lee", password=PASSWORD) is not None


def test_laptop_mode_is_open_and_has_no_classes(lessons, settings):
    settings.KUBEVIZ_CLASSROOM = False
    client = Client()
    assert client.get("/join/").status_code == 404
    assert client.get("/teach/").status_code == 404
    assert client.get("/accounts/login/").status_code == 404
    page = client.get(f"/lessons/{SLUG}/")  # opening a lesson starts it, as before
    assert page.status_code == 200 and LessonProgress.objects.count() == 1
    assert "sessionid" not in page.cookies


def test_session_and_csrf_cookies_are_secure_over_https(classroom_mode, lessons):
    classroom = class_create(teacher=make_teacher("t"), name="C", lessons=Lesson.objects.filter(slug=SLUG))
    client = Client()
    page = client.get("/join/", secure=True)
    assert page.cookies["csrftoken"]["secure"]
    joined = client.post("/join/", {"code": classroom.join_code, "name": "Ada"}, secure=True)
    assert joined.cookies["sessionid"]["secure"] and joined.cookies["sessionid"]["httponly"]
