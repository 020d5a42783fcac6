"""POST /sim/clusters/<name>/apply: YAML in, one outcome per document out, errors at their YAML line."""

import json

import pytest
from django.test import Client

from tests.manifests import FLUENTD, HELLO, PI

APPLY = "/sim/clusters/test/apply"


def apply(body, query="", client=None):
    client = client or Client(enforce_csrf_checks=True)
    response = client.post(APPLY + query, data=body, content_type="application/yaml")
    assert response["Content-Type"].startswith("application/json")
    return response.status_code, json.loads(response.content)


def get(path):
    response = Client().get("/clusters/test" + path)
    return response.status_code, json.loads(response.content)


@pytest.fixture(autouse=True)
def _cluster(cluster):
    return cluster


def test_multi_document_file_creates_each_object():
    code, body = apply("---\n".join([PI, HELLO, FLUENTD]))
    assert code == 200, body
    assert body["applied"] == 3 and body["failed"] == 0
    assert [(r["kind"], r["name"], r["action"]) for r in body["results"]] == [
        ("Job", "pi", "created"), ("CronJob", "hello", "created"), ("DaemonSet", "fluentd-elasticsearch", "created")]
    assert [r["line"] for r in body["results"]] == [1, 15, 31]
    assert get("/apis/batch/v1/namespaces/default/jobs/pi")[0] == 200
    assert get("/apis/apps/v1/namespaces/kube-system/daemonsets/fluentd-elasticsearch")[0] == 200


def test_reapply_is_unchanged_then_configured_and_removed_fields_go():
    apply(FLUENTD)
    code, body = apply(FLUENTD)
    assert body["results"][0]["action"] == "unchanged"
    changed = FLUENTD.replace("fluentd:v2.5.2", "fluentd:v2.6.0").replace(
        "    labels:\n    k8s-app: fluentd-logging\n", "")
    changed = changed.replace("  labels:\n    k8s-app: fluentd-logging\n", "", 1)
    code, body = apply(changed)
    assert code == 200 and body["results"][0]["action"] == "configured"
    _, ds = get("/apis/apps/v1/namespaces/kube-system/daemonsets/fluentd-elasticsearch")
    assert ds["spec"]["template"]["spec"]["containers"][0]["image"] == "quay.io/fluentd_elasticsearch/fluentd:v2.6.0"
    assert "k8s-app" not in (ds["metadata"].get("labels") or {})
    assert ds["metadata"]["generation"] == 2
    # server-set fields survive the apply
    assert ds["spec"]["updateStrategy"]["type"] == "RollingUpdate"


def test_job_reapply_keeps_generated_selector_and_labels():
    apply(PI)
    code, body = apply(PI.replace("backoffLimit: 4", "backoffLimit: 5"))
    assert code == 200, body
    assert body["results"][0]["action"] == "configured"
    assert body["results"][0]["object"]["spec"]["backoffLimit"] == 5


def test_semantic_error_points_at_the_field_line():
    code, body = apply(PI.replace("restartPolicy: Never", "restartPolicy: Always"))
    assert code == 422
    result = body["results"][0]
    assert result["status"]["reason"] == "Invalid"
    assert result["errors"] == [{
        "field": "spec.template.spec.restartPolicy",
        "message": 'Required value: valid values: "OnFailure", "Never"',
        "line": 13, "column": 7,
    }]
    assert get("/apis/batch/v1/namespaces/default/jobs/pi")[0] == 404


def test_missing_required_field_points_at_its_parent():
    code, body = apply(PI.replace("        image: perl:5.34.0\n", ""))
    assert code == 422
    error = body["results"][0]["errors"][0]
    assert error["field"] == "spec.template.spec.containers[0].image"
    assert (error["line"], error["column"]) == (10, 9)  # the container's mapping, `name: pi`


def test_structural_error_unknown_field_points_at_the_key():
    code, body = apply(PI.replace("    image: perl", "    imagee: perl"))
    assert code == 422
    error = body["results"][0]["errors"][0]
    assert error["line"] == 11
    assert body["results"][0]["status"]["message"].endswith(
        'strict decoding error: unknown field "spec.template.spec.containers[0].imagee"')


def test_syntax_error_has_line_and_column_and_applies_nothing():
    code, body = apply(PI + "---\n" + "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n   bad: indent\n")
    assert code == 400
    assert body["errors"][0]["line"] == 19
    assert body["status"]["reason"] == "BadRequest"
    assert get("/apis/batch/v1/namespaces/default/jobs/pi")[0] == 404


def test_one_bad_document_does_not_stop_the_good_ones():
    code, body = apply(PI + "---\n" + HELLO.replace('"*/1 * * * *"', '"TZ=UTC */1 * * * *"'))
    assert code == 422
    assert body["applied"] == 1 and body["failed"] == 1
    bad = body["results"][1]
    assert bad["errors"][0]["field"] == "spec.schedule"
    assert bad["errors"][0]["message"].endswith("cannot use TZ or CRON_TZ in schedule, use timeZone field instead")
    assert bad["errors"][0]["line"] == 15 + 5  # "schedule:" is line 6 of the second document
    assert get("/apis/batch/v1/namespaces/default/jobs/pi")[0] == 200
    assert get("/apis/batch/v1/namespaces/default/cronjobs/hello")[0] == 404


def test_dry_run_validates_without_storing():
    code, body = apply(PI, "?dryRun=All")
    assert code == 200 and body["dryRun"] is True and body["results"][0]["action"] == "created"
    assert get("/apis/batch/v1/namespaces/default/jobs/pi")[0] == 404
    code, body = apply(PI.replace("backoffLimit: 4", "backoffLimit: -1"), "?dryRun=All")
    assert code == 422
    assert body["results"][0]["errors"][0]["message"] == "Invalid value: -1: must be greater than or equal to 0"
    assert body["results"][0]["errors"][0]["line"] == 6


def test_unknown_kind_is_reported_at_its_line():
    code, body = apply("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n")
    assert code == 422
    error = body["results"][0]["errors"][0]
    assert 'no matches for kind "Deployment" in version "apps/v1"' in error["message"]
    assert error["line"] == 2


def test_empty_stream_is_a_clear_error():
    code, body = apply("# nothing here\n")
    assert code == 400 and body["status"]["message"] == "no objects passed to apply"


BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
)


@pytest.mark.parametrize(
    "source, code, fragment",
    [
        (BILLION_LAUGHS, 400, "alias"),
        ("!!python/object/apply:os.system ['true']\n", 400, "python/object"),
        ("a:\n" + "".join("  " * i + "- \n" for i in range(1, 200)), 400, "deep"),
    ],
    ids=["billion-laughs", "python-tag", "deep-nesting"],
)
def test_hostile_yaml_is_refused(source, code, fragment):
    status_code, body = apply(source)
    assert status_code == code
    assert fragment in body["errors"][0]["message"].lower() or fragment in json.dumps(body).lower()


def test_oversized_body_is_413(settings):
    settings.KUBEVIZ_MAX_MANIFEST_BYTES = 4096
    code, body = apply("a: " + "x" * 5000 + "\n")
    assert code == 413
    assert body["reason"] == "RequestEntityTooLarge"
