"""SIGTERM stops the server promptly, even in the middle of a month-long clock advance, and leaves a store the
next server starts from: the cluster's clock is an instant the advance had reached."""

import signal
import subprocess
import threading
import time
from datetime import datetime, timedelta

import pytest

from kubeviz.runtime.host import MAX_ADVANCE_SECONDS
from tests.live.test_restart import call
from tests.manifests import slow_cronjob

pytestmark = pytest.mark.live

START = datetime.fromisoformat("2025-01-01T00:00:00+00:00")
# Generous: the server stops within a simulated instant; what it must not do is finish the month first.
EXIT_TIMEOUT = 15


def clock_now(server, name) -> datetime:
    return datetime.fromisoformat(call(server, "GET", f"/sim/clusters/{name}/clock")["now"].replace("Z", "+00:00"))


def test_sigterm_during_a_long_advance_stops_the_server(fresh_kubeviz_server):
    server = fresh_kubeviz_server
    call(server, "POST", "/sim/clusters", {"name": "long", "nodes": 2, "seed": 1, "start": START.isoformat()})
    # A Job every minute, its pod sleeping 5 s: a month of it takes the server many minutes.
    call(server, "POST", "/sim/clusters/long/apply", slow_cronjob("Allow", sleep=5), content_type="application/yaml")

    def advance():
        try:
            call(server, "POST", "/sim/clusters/long/clock/advance", {"seconds": MAX_ADVANCE_SECONDS})
        except OSError:
            pass  # the server went away mid-request, as it should

    threading.Thread(target=advance, daemon=True).start()
    deadline = time.monotonic() + 30
    while clock_now(server, "long") == START:  # the advance commits instant by instant: it is under way
        assert time.monotonic() < deadline, "the advance did not start"
        time.sleep(0.1)

    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(timeout=EXIT_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the server was still running {EXIT_TIMEOUT} s after SIGTERM")

    server.start()
    stopped_at = clock_now(server, "long")
    assert START < stopped_at < START + timedelta(seconds=MAX_ADVANCE_SECONDS)
    # The engine rebuilt from what was stored runs on from there.
    call(server, "POST", "/sim/clusters/long/clock/advance", {"seconds": 90})
    assert clock_now(server, "long") == stopped_at + timedelta(seconds=90)
