"""A throw-away kubeviz server for benchmarks: Daphne on a free loopback port over its own SQLite database,
migrated and bootstrapped as ``make run`` does, with the real-time player off (and the Redis channel layer when
asked)."""

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(tmp: Path, redis_url: str | None = None, *, player: bool = False, extra_env: dict | None = None,
                 setup: tuple = ()) -> tuple[subprocess.Popen, int]:
    """Start the server; answers the process and its port once ``/version`` answers (30 s at most). With a
    ``redis_url`` it uses the Redis channel layer (as a multi-process deployment does), else the in-memory one;
    ``player`` plays unpaused clusters in real time; ``extra_env`` adds settings (``KUBEVIZ_CLASSROOM``...), and
    ``setup`` more management commands to run first (each a list of arguments)."""
    port = free_port()
    # The benchmarks' clusters get no default ResourceQuota: a 100,000-pod Job is their load, not a quota's refusal.
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp / 'bench.sqlite3'}", DJANGO_SETTINGS_MODULE="kubeviz.settings",
               KUBEVIZ_PLAYER="true" if player else "false", KUBEVIZ_DEFAULT_QUOTA="")
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra_env or {})
    for command in (["migrate", "--noinput"], ["bootstrap"], *setup):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
    log = open(tmp / "daphne.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "kubeviz.asgi:application"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/clusters/default/version")
            # 200, or in classroom mode 403 (the API answers no one without a capability): the server is up
            if conn.getresponse().status in (200, 403):
                return server, port
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("server did not start")
