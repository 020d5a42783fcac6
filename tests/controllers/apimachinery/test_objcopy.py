"""``deep_copy``: independent copies of API objects that share only immutable leaves."""

from datetime import datetime, timezone

from controllers.apimachinery.objcopy import deep_copy


def test_a_copy_is_equal_and_independent_at_every_level():
    original = {"metadata": {"name": "pi", "labels": {"app": "pi"}, "finalizers": ["a"]},
                "spec": {"containers": [{"name": "pi", "args": ["-c", "sleep 1"], "resources": {}}], "replicas": 2},
                "status": {"conditions": [{"type": "Ready", "lastProbeTime": None, "status": True}], "ratio": 0.5}}
    copied = deep_copy(original)
    assert copied == original
    copied["metadata"]["labels"]["app"] = "other"
    copied["metadata"]["finalizers"].append("b")
    copied["spec"]["containers"][0]["args"][1] = "sleep 2"
    copied["status"]["conditions"][0]["status"] = False
    assert original["metadata"] == {"name": "pi", "labels": {"app": "pi"}, "finalizers": ["a"]}
    assert original["spec"]["containers"][0]["args"] == ["-c", "sleep 1"]
    assert original["status"]["conditions"][0]["status"] is True


def test_strings_are_shared_and_other_values_are_copied_too():
    name = "".join(["a-rather-long-", "generated-name"])  # not interned
    when = datetime(2025, 1, 1, tzinfo=timezone.utc)
    original = {"name": name, "pair": (["x"], 1), "when": when}
    copied = deep_copy(original)
    assert copied["name"] is name  # one string for every copy of a name
    assert copied["pair"] == (["x"], 1) and copied["pair"][0] is not original["pair"][0]
    assert copied["when"] == when
