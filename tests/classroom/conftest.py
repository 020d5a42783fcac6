"""A class in classroom mode: two teachers (one teaching it), two learners who joined it and started a sandbox
each, and a Django test client for each of them and for nobody."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client

from kubeviz.classroom.models import Capability, Classroom, Learner, Sandbox
from kubeviz.classroom.services import class_create
from kubeviz.lessons.format import load_lessons, lessons_dir
from kubeviz.lessons.models import Lesson
from kubeviz.lessons.services import lessons_sync

SLUG = "why-jobs"
PASSWORD = "a-long-teacher-password-1"


@pytest.fixture
def classroom_mode(settings):
    settings.KUBEVIZ_CLASSROOM = True
    settings.KUBEVIZ_PLAYER = False
    cache.clear()  # wrong join codes counted by earlier tests
    return settings


@pytest.fixture
def lessons(db):
    lessons_sync(report=load_lessons(lessons_dir(), base=django_settings.BASE_DIR))


def make_teacher(name: str):
    user = get_user_model().objects.create_user(username=name, password=PASSWORD)
    return user


def teacher_client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def join(client: Client, code: str, name: str):
    return client.post("/join/", {"code": code, "name": name})


def start(client: Client, slug: str = SLUG):
    return client.post(f"/lessons/{slug}/start")


@dataclass
class World:
    teacher: object
    other_teacher: object
    classroom: Classroom
    a: Learner
    b: Learner
    sandbox_a: Sandbox
    sandbox_b: Sandbox
    clients: dict[str, Client]

    @property
    def cluster_a(self) -> str:
        return self.sandbox_a.cluster.name

    @property
    def cluster_b(self) -> str:
        return self.sandbox_b.cluster.name

    def token(self, sandbox: Sandbox) -> str:
        return Capability.objects.get(cluster=sandbox.cluster, learner=sandbox.learner).token


@pytest.fixture
def world(classroom_mode, lessons) -> World:
    teacher, other = make_teacher("ms-lee"), make_teacher("mr-other")
    classroom = class_create(teacher=teacher, name="Jobs 101", lessons=Lesson.objects.filter(slug=SLUG))
    class_create(teacher=other, name="Another class", lessons=Lesson.objects.filter(slug=SLUG))
    clients = {"nobody": Client(HTTP_ACCEPT_LANGUAGE="en")}
    for key, name in (("a", "Ada"), ("b", "Bob")):
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        assert join(client, classroom.join_code, name).status_code == 302
        assert start(client).status_code == 302
        clients[key] = client
    clients["teacher"] = teacher_client(teacher)
    clients["other_teacher"] = teacher_client(other)
    a, b = Learner.objects.get(display_name="Ada"), Learner.objects.get(display_name="Bob")
    sandboxes = Sandbox.objects.select_related("cluster", "learner")
    return World(teacher, other, classroom, a, b, sandboxes.get(learner=a), sandboxes.get(learner=b),
                 clients)


def post_json(client: Client, path: str, body=None, **extra):
    return client.post(path, json.dumps(body or {}), content_type="application/json", **extra)
