"""Serve a class from several processes: N Daphne processes on consecutive ports behind one nginx.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python deploy/serve_class.py --processes 2 --port 8000
    make serve-class N=2        # the same, through make
    make serve-class N=2 E=1    # and one engine process beside them

Every process shares the PostgreSQL database and the Redis channel layer (SQLite is one process's database: it is
refused here). The database is migrated and the ``default`` cluster and the lessons are made once, as ``make run``
does; then the Daphne processes start on 127.0.0.1, ports PORT+1..PORT+N, and nginx (Debian's package) listens on
HOST:PORT with a configuration generated from deploy/nginx.conf.template in a temporary directory. With ``--engines
E``, E more processes (ports PORT+N+1..PORT+N+E, not behind nginx) run every cluster's engine, and the N behind nginx
are web processes (``KUBEVIZ_ENGINES=false``) that send them what drives an engine: the clocks then share the machine
with the requests as processes do, not as threads of one process under its interpreter lock, and the web processes
run ``--web-nice`` (10) steps below the engine processes' priority, so that on a busy machine the sandboxes' clocks
keep their speed first and the requests take what is left. Ctrl-C (or
SIGTERM) stops them all. The functions here are what the tests and bench/scaleout.py start their deployments with.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"


def nginx_binary() -> str:
    """Debian's nginx (``apt-get install nginx``; ``make test`` installs it)."""
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None)
    if found is None:
        raise SystemExit("nginx is not installed: apt-get install -y nginx")
    return found


def nginx_config(*, listen: str, backends: list[str], run_dir: Path, access_log: str | None = None,
                 workers: int = 1) -> str:
    """The configuration of an nginx on ``listen`` (``host:port``) in front of ``backends`` (``host:port`` each),
    keeping its pid, logs and temporary files in ``run_dir``."""
    fields = {
        "listen": listen,
        # A process slow to accept is not taken for a dead one at once (nginx's default: 1 failure, 10 s out).
        "servers": "\n".join(f"        server {backend} max_fails=5 fail_timeout=5s;" for backend in backends),
        "run_dir": str(run_dir),
        "access_log": access_log or "off",
        "workers": str(workers),
    }
    text = TEMPLATE.read_text()
    for name, value in fields.items():
        text = text.replace("{{" + name + "}}", value)
    return text


def start_nginx(config: str, run_dir: Path, *, log=None) -> subprocess.Popen:
    """Check and start nginx in the foreground with ``config`` (written to ``run_dir``)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / "nginx.conf"
    path.write_text(config)
    binary = nginx_binary()
    check = subprocess.run([binary, "-t", "-q", "-p", str(run_dir), "-c", str(path)], capture_output=True, text=True)
    if check.returncode != 0:
        raise SystemExit(f"nginx refused its configuration:\n{check.stderr}")
    return subprocess.Popen([binary, "-p", str(run_dir), "-c", str(path)], stdout=log, stderr=subprocess.STDOUT)


#: How far below the engine processes' CPU priority the web processes run, beside engine processes (``nice``).
WEB_NICE = 10

#: Daphne's options for a class: the client's address is the one nginx saw (X-Forwarded-For), so per-client limits
#: count learners, not the proxy; and a live stream is given 60 s to be accepted, not 5: a class opening its
#: dashboards at once queues their first reads, and a stream dropped after 5 s is retried, adding to the queue.
DAPHNE_OPTIONS = ["--proxy-headers", "--websocket_connect_timeout", "60"]


def start_daphne(port: int, env: dict, *, log=None, bind: str = "127.0.0.1", nice: int = 0) -> subprocess.Popen:
    """One server process (``DAPHNE_OPTIONS``), ``nice`` steps below this one's priority. Bind it where only nginx
    reaches it."""
    command = [sys.executable, "-m", "daphne", *DAPHNE_OPTIONS, "-b", bind, "-p", str(port), "kubeviz.asgi:application"]
    if nice:
        command = ["nice", "-n", str(nice), *command]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_until_up(host: str, port: int, *, path: str = "/clusters/default/version", timeout: float = 60,
                  process: subprocess.Popen | None = None) -> None:
    """Wait until ``path`` answers (200, or 403 in classroom mode)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the process serving {host}:{port} exited ({process.returncode})")
        try:
            conn = http.client.HTTPConnection(host, port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status in (200, 403):
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"nothing answered on {host}:{port} in {timeout} s")


def check_environment(env: dict) -> None:
    database = env.get("DATABASE_URL", "")
    if not database.startswith(("postgres://", "postgresql://")):
        raise SystemExit("several processes share one PostgreSQL database: set DATABASE_URL=postgres://... "
                         "(SQLite, the default, is served by one process: make run)")
    if not env.get("REDIS_URL"):
        raise SystemExit("several processes share one Redis channel layer: set REDIS_URL=redis://...")


def prepare(env: dict) -> None:
    """Migrate, make the ``default`` cluster and load the lessons, once for every process."""
    for command in (["migrate", "--noinput"], ["bootstrap"], ["lessons", "load"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", "-n", type=int, default=2, help="Daphne processes (default 2)")
    parser.add_argument("--engines", "-e", type=int, default=0,
                        help="engine processes beside them, not behind nginx (default 0: every process runs engines)")
    parser.add_argument("--web-nice", type=int, default=WEB_NICE,
                        help=f"with engine processes, the web processes' nice value (default {WEB_NICE})")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"), help="nginx's address")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)), help="nginx's port")
    args = parser.parse_args(argv)
    if args.processes < 1 or args.engines < 0:
        parser.error("--processes must be at least 1, --engines at least 0")
    env = dict(os.environ)
    # Each process keeps to a pool of connections: all of them together stay under PostgreSQL's max_connections.
    env.setdefault("KUBEVIZ_DB_POOL", str(max(4, 80 // (args.processes + args.engines))))
    check_environment(env)
    prepare(env)
    run_dir = Path(tempfile.mkdtemp(prefix="kubeviz-nginx-"))
    ports = [args.port + 1 + i for i in range(args.processes)]
    engine_ports = [args.port + 1 + args.processes + i for i in range(args.engines)]
    children = [start_daphne(port, env) for port in engine_ports]
    web = dict(env, KUBEVIZ_ENGINES="false") if args.engines else env
    children += [start_daphne(port, web, nice=args.web_nice if args.engines else 0) for port in ports]
    for port, child in zip(engine_ports + ports, children):
        wait_until_up("127.0.0.1", port, process=child)  # which also starts its player, renewer and listener
    config = nginx_config(listen=f"{args.host}:{args.port}", backends=[f"127.0.0.1:{p}" for p in ports],
                          run_dir=run_dir, access_log="/dev/stdout")
    children.append(start_nginx(config, run_dir))
    engines = f", {args.engines} engine processes beside them (ports {engine_ports[0]}-{engine_ports[-1]})" \
        if args.engines else ""
    print(f"kubeviz on http://{args.host}:{args.port}/ : nginx in front of {args.processes} processes "
          f"(ports {ports[0]}-{ports[-1]}){engines}; Ctrl-C stops them", flush=True)

    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
    shutil.rmtree(run_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
