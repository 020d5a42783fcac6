"""The default ResourceQuota of a new cluster (``KUBEVIZ_DEFAULT_QUOTA``): created in ``default`` by cluster_create,
with its status already written, so it holds from the first request; and the setting's parser."""

import json
from datetime import datetime, timezone

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from apiserver.kinds import resource_for_kind
from kubeviz import settings as settings_module
from kubeviz.store.services import DEFAULT_QUOTA_NAME, cluster_create, registry_for

START = datetime(2025, 1, 1, tzinfo=timezone.utc)


def test_the_default_setting_is_generous_for_a_laptop():
    assert settings_module.env_resource_list("KUBEVIZ_TEST_UNSET_QUOTA", "pods=1000,count/jobs.batch=200") == {
        "pods": "1000", "count/jobs.batch": "200"}


@pytest.mark.django_db
def test_a_new_cluster_gets_the_default_quota_in_default(settings):
    settings.KUBEVIZ_DEFAULT_QUOTA = {"pods": "1000", "count/jobs.batch": "200", "count/cronjobs.batch": "50",
                                      "count/daemonsets.apps": "50"}
    cluster = cluster_create(name="sandbox-test", nodes=1, seed=1, start=START)
    quotas, _ = registry_for(cluster).list(resource_for_kind("", "ResourceQuota"))
    assert [(q["metadata"]["namespace"], q["metadata"]["name"]) for q in quotas] == [("default", DEFAULT_QUOTA_NAME)]
    assert quotas[0]["status"] == {
        # 1000 is stored as Go's Quantity writes it: kubectl get quota -o yaml shows "pods: 1k" too
        "hard": {"count/cronjobs.batch": "50", "count/daemonsets.apps": "50", "count/jobs.batch": "200",
                 "pods": "1k"},
        "used": {"count/cronjobs.batch": "0", "count/daemonsets.apps": "0", "count/jobs.batch": "0", "pods": "0"},
    }


@pytest.mark.django_db
def test_the_default_quota_holds_before_the_clock_moves(settings):
    settings.KUBEVIZ_DEFAULT_QUOTA = {"pods": "1"}
    cluster_create(name="tight", nodes=1, seed=1, start=START)
    pods = "/clusters/tight/api/v1/namespaces/default/pods"

    def post(name):
        body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}}
        response = Client().post(pods, data=json.dumps(body), content_type="application/json")
        return response.status_code, json.loads(response.content)

    assert post("one")[0] == 201
    code, status = post("two")
    assert (code, status["message"]) == (
        403, 'pods "two" is forbidden: exceeded quota: sandbox, requested: pods=1, used: pods=1, limited: pods=1')


@pytest.mark.django_db
def test_no_default_quota_when_the_setting_is_empty():
    cluster = cluster_create(name="open", nodes=0, seed=1, start=START)  # tests/conftest.py empties the setting
    response = Client().get("/clusters/open/api/v1/resourcequotas")
    assert json.loads(response.content)["items"] == []
    assert cluster.name == "open"


@pytest.mark.parametrize("raw, expected", [
    ("", {}),
    ("  pods=10 , count/jobs.batch=2", {"pods": "10", "count/jobs.batch": "2"}),
    ('{"pods": 10, "requests.memory": "4Gi"}', {"pods": "10", "requests.memory": "4Gi"}),
])
def test_the_setting_reads_kubectl_create_quota_pairs_or_json(monkeypatch, raw, expected):
    monkeypatch.setenv("KUBEVIZ_DEFAULT_QUOTA", raw)
    assert settings_module.env_resource_list("KUBEVIZ_DEFAULT_QUOTA", "pods=1") == expected


@pytest.mark.parametrize("raw, message", [
    ("pods", "KUBEVIZ_DEFAULT_QUOTA must be resource=quantity pairs separated by commas, got 'pods'"),
    ("pod=1", "KUBEVIZ_DEFAULT_QUOTA is not a valid quota: spec.hard[pod]: Invalid value: pod: must be a standard "
              "resource type or fully qualified, spec.hard[pod]: Invalid value: pod: must be a standard resource "
              "for quota"),
    ("pods=lots", "KUBEVIZ_DEFAULT_QUOTA is not a valid quota: spec.hard[pods]: quantities must match the regular "
                  "expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
    ("[1]", "KUBEVIZ_DEFAULT_QUOTA must be resource=quantity pairs separated by commas, got '[1]'"),
])
def test_a_bad_setting_stops_the_server_with_a_message_naming_it(monkeypatch, raw, message):
    monkeypatch.setenv("KUBEVIZ_DEFAULT_QUOTA", raw)
    with pytest.raises(ImproperlyConfigured) as caught:
        settings_module.env_resource_list("KUBEVIZ_DEFAULT_QUOTA", "")
    assert str(caught.value) == message
