"""The real kubectl's writes go into the cluster's recording through the kubectl door, and a recording imported
through the API rebuilds what kubectl made, object for object."""

import json
import urllib.request

from .conftest import kubectl  # noqa: F401 - a cluster and the real kubectl for it


def test_kubectl_writes_are_recorded_with_their_door_and_replay(kubectl):  # noqa: F811
    kubectl("apply", "-f", kubectl.manifest("job.yaml"))
    kubectl.advance(30)
    kubectl("label", "job", "pi", "team=blue")
    kubectl("create", "job", "once", "--image=busybox:1.36", "--", "sh", "-c", "exit 0")
    kubectl.advance(60)
    recording = kubectl.sim("GET", "/recording")
    writes = [(i["door"], i["verb"], i["kind"]) for i in recording["inputs"] if i["type"] == "write"]
    # apply creates, label patches, create job creates (its body came as protobuf: recorded as the object)
    assert writes == [("kubectl", "create", "Job"), ("kubectl", "patch", "Job"), ("kubectl", "create", "Job")]
    copy = f"{kubectl.cluster}-copy"
    request = urllib.request.Request(f"{kubectl.base}/sim/recordings?name={copy}", data=json.dumps(recording).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 201
    original = kubectl("get", "jobs,pods", "-o", "custom-columns=NAME:.metadata.name,UID:.metadata.uid,"
                                                 "RV:.metadata.resourceVersion,STATUS:.status")
    rebuilt = kubectl.run("--server", f"{kubectl.base}/clusters/{copy}", "get", "jobs,pods", "-o",
                          "custom-columns=NAME:.metadata.name,UID:.metadata.uid,RV:.metadata.resourceVersion,"
                          "STATUS:.status", server=False).stdout
    assert "once" in original and original == rebuilt
