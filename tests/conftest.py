"""Fixtures shared by every test package."""

from datetime import datetime, timezone

import pytest

START = datetime(2025, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def cluster(db):
    """A fresh cluster as `make run` creates `default`: a control-plane node and three workers, paused."""
    from kubeviz.store.services import cluster_create

    return cluster_create(name="test", nodes=3, seed=7, start=START)


@pytest.fixture
def registry(cluster):
    from kubeviz.store.services import registry_for

    return registry_for(cluster)


@pytest.fixture(autouse=True)
def _no_default_quota(settings):
    """Clusters made by tests have no default ResourceQuota unless a test asks for one
    (``tests/store/test_default_quota.py`` covers it); the live server's environment says the same."""
    settings.KUBEVIZ_DEFAULT_QUOTA = {}


@pytest.fixture
def daemons_placed(cluster):
    """The test cluster with the DaemonSet ``agent`` applied through the API and run for a simulated minute: a daemon
    pod running on every node, nothing left to do but the clock (still paused)."""
    from django.test import Client

    from kubeviz.runtime.host import host
    from tests.manifests import agent_daemonset

    response = Client().post(f"/sim/clusters/{cluster.name}/apply", data=agent_daemonset("1"),
                             content_type="application/yaml")
    assert response.status_code == 200, response.content
    host.advance(cluster, 60)
    return cluster
