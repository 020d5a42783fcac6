"""The real kubectl (Google's 1.32 dispatcher build) against a live kubeviz server.

One Daphne server serves the whole session (``tests/live/conftest.py``'s ``kubeviz_server``); every test gets its
own paused cluster, so it can use upstream's names (``pi``, ``hello``), expect ``0s`` ages and move the clock
without disturbing any other test, and its own ``HOME`` and ``KUBECACHEDIR``, so no discovery, OpenAPI or
dispatcher ``/version`` answer is cached across tests.
"""

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.live.conftest import kubeviz_server  # noqa: F401 - the session's server, shared with tests/live

KUBECTL = "/usr/bin/kubectl"
START = "2025-01-01T00:00:00Z"
MANIFESTS = Path(__file__).parent / "manifests"



def pytest_collection_modifyitems(items):
    if shutil.which(KUBECTL) is None:
        skip = pytest.mark.skip(reason=f"{KUBECTL} is not installed")
        for item in items:
            if "tests/kubectl" in str(item.fspath):
                item.add_marker(skip)


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


class Kubectl:
    """``kubectl --server <cluster URL>`` with a private home, plus the simulator's own endpoints."""

    def __init__(self, server, cluster: str, home: Path):
        self.base = server.url
        self.cluster = cluster
        self.server = f"{server.url}/clusters/{cluster}"
        self.home = home
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "KUBECACHEDIR": str(home / ".kube" / "cache"),
            "KUBECONFIG": str(home / ".kube" / "config"),
            "LANG": "C.UTF-8",
        }

    def args(self, *args, server: bool = True) -> list[str]:
        return [KUBECTL, "--server", self.server, *args] if server else [KUBECTL, *args]

    def run(self, *args, input: str | None = None, check: bool = True, timeout: float = 30,
            server: bool = True) -> Result:
        """kubectl with ``--server`` pointing at this test's cluster (unless ``server=False``)."""
        done = subprocess.run(self.args(*args, server=server), input=input, capture_output=True, text=True, env=self.env,
                              cwd=self.home, timeout=timeout)
        result = Result(done.returncode, done.stdout, done.stderr)
        if check and done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
        return result

    def __call__(self, *args, **kwargs) -> str:
        return self.run(*args, **kwargs).stdout

    def popen(self, *args) -> subprocess.Popen:
        return subprocess.Popen(self.args(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=self.env, cwd=self.home)

    def write(self, name: str, text: str) -> str:
        """Write a file in the home (kubectl's working directory); answers the relative name kubectl prints."""
        (self.home / name).write_text(text)
        return name

    def manifest(self, name: str) -> str:
        """A copy of ``tests/kubectl/manifests/<name>`` in the test's home, for ``-f``."""
        return self.write(name, (MANIFESTS / name).read_text())

    def sim(self, method: str, path: str, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.base}/sim/clusters/{self.cluster}{path}", data=data,
                                         method=method, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def advance(self, seconds: float):
        return self.sim("POST", "/clock/advance", {"seconds": seconds})

    def api(self, path: str):
        with urllib.request.urlopen(f"{self.server}{path}", timeout=10) as response:
            return json.loads(response.read())


def wait_for(predicate, timeout: float = 10, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


@pytest.fixture
def kubectl(kubeviz_server, tmp_path):  # noqa: F811 - the fixture imported above
    """A fresh paused cluster with two worker nodes, started at 2025-01-01T00:00:00Z, and kubectl for it."""
    name = f"kc-{uuid.uuid4().hex[:10]}"
    body = json.dumps({"name": name, "nodes": 2, "seed": 1, "start": START, "paused": True}).encode()
    request = urllib.request.Request(f"{kubeviz_server.url}/sim/clusters", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=30).read()
    home = tmp_path / "home"
    home.mkdir()
    yield Kubectl(kubeviz_server, name, home)
    try:
        urllib.request.urlopen(
            urllib.request.Request(f"{kubeviz_server.url}/sim/clusters/{name}", method="DELETE"), timeout=30
        ).read()
    except urllib.error.HTTPError:
        pass
