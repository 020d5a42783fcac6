"""`manage.py simulate`: the headless run a lesson author or tester uses."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

PARALLEL = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: paral-1
spec:
  completions: 8
  parallelism: 2
  template:
    spec:
      containers:
      - name: pi
        image: ubuntu
        command: ["/bin/sh", "-c", "sleep 30; date"]
      restartPolicy: OnFailure
"""


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("simulate", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def manifest(tmp_path):
    path = tmp_path / "paral.yaml"
    path.write_text(PARALLEL)
    return str(path)


def test_json_output_is_a_list_of_every_object_at_the_end_time(manifest):
    out, _ = run("-f", manifest, "--until", "5m", "--seed", "3", "-o", "json")
    body = json.loads(out)
    assert body["kind"] == "List"
    kinds = {item["kind"] for item in body["items"]}
    assert {"Node", "Pod", "Job", "Event"} <= kinds
    job = next(i for i in body["items"] if i["kind"] == "Job")
    assert job["status"]["succeeded"] == 8
    assert len([i for i in body["items"] if i["kind"] == "Node"]) == 4  # control-plane + 3 workers


def test_same_seed_same_run(manifest):
    first, _ = run("-f", manifest, "--until", "3m", "--seed", "9")
    second, _ = run("-f", manifest, "--until", "3m", "--seed", "9")
    other, _ = run("-f", manifest, "--until", "3m", "--seed", "10")
    assert first == second
    assert first != other  # pod names come from the seed


def test_table_output_has_kubectl_columns(manifest):
    out, _ = run("-f", manifest, "--until", "5m", "-o", "table", "--start", "2025-03-01T10:00:00Z")
    lines = out.splitlines()
    assert any(line.split() == ["NAMESPACE", "NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"] for line in lines)
    job_line = next(line for line in lines if "paral-1 " in line and "Complete" in line)
    assert job_line.split()[:4] == ["default", "paral-1", "Complete", "8/8"]


def test_invalid_manifest_reports_file_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(PARALLEL.replace("OnFailure", "Always"))
    with pytest.raises(CommandError) as error:
        run("-f", str(bad))
    assert "could not be applied" in str(error.value)


@pytest.mark.parametrize("args, message", [
    (["--until", "ten minutes"], "--until"),
    (["--start", "yesterday"], "--start"),
])
def test_bad_arguments_are_clear(manifest, args, message):
    with pytest.raises(CommandError) as error:
        run("-f", manifest, *args)
    assert message in str(error.value)
