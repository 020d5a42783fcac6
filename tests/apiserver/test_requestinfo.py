"""``new_request_info`` against upstream's table (requestinfo_test.go ``TestGetAPIRequestInfo``), and the Forbidden
messages kubectl prints, quoted from a real API server."""

import pytest

from apiserver.requestinfo import forbidden, new_request_info, unauthorized

CASES = [
    # (method, url, verb, api prefix, group, version, namespace, resource, name, subresource)
    ("GET", "/api/v1/namespaces", "list", "api", "", "v1", "", "namespaces", "", ""),
    ("GET", "/api/v1/namespaces/other", "get", "api", "", "v1", "other", "namespaces", "other", ""),
    ("GET", "/api/v1/namespaces/other/pods", "list", "api", "", "v1", "other", "pods", "", ""),
    ("GET", "/api/v1/namespaces/other/pods/foo", "get", "api", "", "v1", "other", "pods", "foo", ""),
    ("HEAD", "/api/v1/namespaces/other/pods/foo", "get", "api", "", "v1", "other", "pods", "foo", ""),
    ("GET", "/api/v1/pods", "list", "api", "", "v1", "", "pods", "", ""),
    ("GET", "/api/v1/namespaces/other/pods/foo/log", "get", "api", "", "v1", "other", "pods", "foo", "log"),
    ("GET", "/api/v1/namespaces/other/pods?watch=true", "watch", "api", "", "v1", "other", "pods", "", ""),
    ("GET", "/api/v1/watch/namespaces/other/pods", "watch", "api", "", "v1", "other", "pods", "", ""),
    ("POST", "/api/v1/namespaces/other/pods", "create", "api", "", "v1", "other", "pods", "", ""),
    ("PUT", "/api/v1/namespaces/other/pods/foo", "update", "api", "", "v1", "other", "pods", "foo", ""),
    ("PATCH", "/api/v1/namespaces/other/pods/foo", "patch", "api", "", "v1", "other", "pods", "foo", ""),
    ("DELETE", "/api/v1/namespaces/other/pods/foo", "delete", "api", "", "v1", "other", "pods", "foo", ""),
    ("DELETE", "/api/v1/namespaces/other/pods", "deletecollection", "api", "", "v1", "other", "pods", "", ""),
    ("PUT", "/api/v1/namespaces/other/finalize", "update", "api", "", "v1", "other", "namespaces", "other",
     "finalize"),
    ("PUT", "/apis/batch/v1/namespaces/default/jobs/pi/status", "update", "apis", "batch", "v1", "default", "jobs",
     "pi", "status"),
    ("GET", "/apis/batch/v1/namespaces/default/jobs?fieldSelector=metadata.name%3Dpi", "list", "apis", "batch", "v1",
     "default", "jobs", "pi", ""),
    ("GET", "/apis/apps/v1/daemonsets", "list", "apis", "apps", "v1", "", "daemonsets", "", ""),
]


@pytest.mark.parametrize("method, url, verb, prefix, group, version, namespace, resource, name, subresource", CASES,
                         ids=[f"{c[0]} {c[1]}" for c in CASES])
def test_resource_requests(method, url, verb, prefix, group, version, namespace, resource, name, subresource):
    from urllib.parse import parse_qs

    path, _, query = url.partition("?")
    info = new_request_info(method, path, parse_qs(query))
    assert info.is_resource_request
    assert (info.verb, info.api_prefix, info.api_group, info.api_version, info.namespace, info.resource, info.name,
            info.subresource) == (verb, prefix, group, version, namespace, resource, name, subresource)


@pytest.mark.parametrize("path", ["/", "/version", "/api", "/api/v1", "/apis", "/apis/batch", "/apis/batch/v1",
                                  "/openapi/v3", "/healthz"])
def test_non_resource_requests(path):
    info = new_request_info("GET", path)
    assert not info.is_resource_request and info.verb == "get" and info.path == path


def test_forbidden_messages_as_kubectl_prints_them():
    def message(method, url, user="system:anonymous"):
        path, _, query = url.partition("?")
        from urllib.parse import parse_qs

        return forbidden(user, new_request_info(method, path, parse_qs(query))).status()

    assert message("GET", "/apis/batch/v1/namespaces/default/jobs") == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'jobs.batch is forbidden: User "system:anonymous" cannot list resource "jobs" in API group "batch" '
                   'in the namespace "default"',
        "reason": "Forbidden", "details": {"group": "batch", "kind": "jobs"}, "code": 403}
    assert message("GET", "/api/v1/nodes")["message"] == (
        'nodes is forbidden: User "system:anonymous" cannot list resource "nodes" in API group "" at the cluster scope')
    assert message("GET", "/api/v1/namespaces/default/pods/pi-x/log")["message"] == (
        'pods "pi-x" is forbidden: User "system:anonymous" cannot get resource "pods/log" in API group "" in the '
        'namespace "default"')
    assert message("GET", "/version") == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'forbidden: User "system:anonymous" cannot get path "/version"', "reason": "Forbidden",
        "details": {}, "code": 403}
    assert message("DELETE", "/api/v1/nodes/n", user='a "quoted" user')["message"].startswith(
        'nodes "n" is forbidden: User "a \\"quoted\\" user" cannot delete')


def test_unauthorized():
    assert unauthorized().status() == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                       "message": "Unauthorized", "reason": "Unauthorized", "code": 401}
