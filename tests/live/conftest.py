"""A real kubeviz server for tests that talk HTTP to it: Daphne serving the ASGI app on a free loopback port,
with its own SQLite database, migrated and bootstrapped the way `make run` does it."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    # What start() asks until the server answers.
    ready_path = "/clusters/default/version"
    # Further command-line options for daphne (a benchmark's larger websocket messages).
    daphne_args: tuple[str, ...] = ()

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ)
        self.env.update(
            DATABASE_URL=f"sqlite:///{tmp / 'live.sqlite3'}",
            DJANGO_SETTINGS_MODULE="kubeviz.settings",
            PYTHONUNBUFFERED="1",
            KUBEVIZ_DEFAULT_QUOTA="",  # the tests' clusters have no default ResourceQuota
        )
        self.env.pop("REDIS_URL", None)
        self.process = None
        self.log = open(tmp / "daphne.log", "w+")

    def manage(self, *args):
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, check=True,
                       stdout=subprocess.DEVNULL)

    def start(self):
        self.log.flush()
        listening = (self.tmp / "daphne.log").read_text().count("Listening on TCP address")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), *self.daphne_args,
             "kubeviz.asgi:application"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                raise RuntimeError("daphne exited:\n" + self.log.read())
            try:
                urllib.request.urlopen(self.url + self.ready_path, timeout=1).read()
                self.log.flush()
                if (self.tmp / "daphne.log").read_text().count("Listening on TCP address") <= listening:
                    time.sleep(0.1)  # something else answered on this port: ours has not started listening
                    continue
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("daphne did not start in 30 s")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def restart(self):
        """Stop the server process and start a new one on the same database (a server restart)."""
        self.stop()
        self.start()

    def close(self):
        self.stop()
        self.log.close()


@pytest.fixture(scope="session")
def kubeviz_server(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("live"))
    server.manage("migrate", "--noinput")
    server.manage("bootstrap")
    server.start()
    yield server
    server.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def fresh_kubeviz_server(tmp_path, request):
    """A server of the test's own, for tests that stop and start it; its log is printed when the test fails."""
    server = LiveServer(tmp_path)
    server.manage("migrate", "--noinput")
    server.manage("bootstrap")
    server.start()
    yield server
    server.close()
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        print("the server's log:\n" + (tmp_path / "daphne.log").read_text()[-20000:])
