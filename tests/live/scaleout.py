"""Several real Daphne processes on one real PostgreSQL database and one real Redis, as a school deploys them
(README "Serving a class from several processes or machines"): a database of their own per test module, made and
dropped here, and a channel-layer prefix of their own so that runs beside them do not cross."""

import os
import secrets
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import pytest

from .conftest import LiveServer

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/kubeviz")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
# Short leases, so that a take-over happens within a test (the default is 15 s).
LEASE_SECONDS = 4


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def services_or_skip():
    """Skip clearly when the machine has no PostgreSQL or Redis to run them on."""
    import psycopg
    import redis

    try:
        psycopg.connect(_with_database(POSTGRES_URL, "postgres"), connect_timeout=3).close()
    except psycopg.Error as error:
        pytest.skip(f"no PostgreSQL at {POSTGRES_URL} (TEST_POSTGRES_URL): {error}")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        pytest.skip(f"no Redis at {REDIS_URL} (TEST_REDIS_URL): {error}")


@contextmanager
def fresh_database():
    """A PostgreSQL database of its own (``kubeviz_scaleout_<random>``), dropped afterwards; yields its URL."""
    import psycopg

    name = f"kubeviz_scaleout_{secrets.token_hex(4)}"
    admin = _with_database(POSTGRES_URL, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(POSTGRES_URL, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class ScaleoutServer(LiveServer):
    """One server process of a multi-process deployment: the shared database, Redis and secret key."""

    def __init__(self, tmp, *, database_url: str, prefix: str, secret_key: str, extra_env: dict | None = None):
        tmp.mkdir(parents=True, exist_ok=True)
        super().__init__(tmp)
        self.env.update(
            DATABASE_URL=database_url,
            REDIS_URL=REDIS_URL,
            REDIS_PREFIX=prefix,
            SECRET_KEY=secret_key,
            KUBEVIZ_LEASE_SECONDS=str(LEASE_SECONDS),
            KUBEVIZ_DB_POOL="8",  # as deploy/serve_class.py runs them: a pool of connections each
        )
        self.env.update(extra_env or {})
        if self.env.get("KUBEVIZ_CLASSROOM") == "true":
            self.ready_path = "/join/"  # the Kubernetes API answers nobody without a capability

    def kill(self):
        """kill -9: no shutdown, its leases left to expire."""
        self.process.kill()
        self.process.wait()

    def log_text(self) -> str:
        self.log.flush()
        return (self.tmp / "daphne.log").read_text()


@contextmanager
def deployment(tmp, count: int = 2, *, extra_env: dict | None = None, envs: list[dict] | None = None):
    """``count`` server processes on a fresh database and Redis prefix, migrated and bootstrapped once; ``envs``,
    one per process, adds to ``extra_env`` what differs between them."""
    services_or_skip()
    prefix = f"kubeviz-test-{secrets.token_hex(4)}"
    secret_key = secrets.token_urlsafe(50)
    envs = envs or [{}] * count
    with fresh_database() as database_url:
        servers = [ScaleoutServer(tmp / f"server-{i}", database_url=database_url, prefix=prefix,
                                  secret_key=secret_key, extra_env={**(extra_env or {}), **envs[i]})
                   for i in range(count)]
        try:
            servers[0].manage("migrate", "--noinput")
            servers[0].manage("bootstrap")
            for server in servers:
                server.start()
            yield servers
        finally:
            for server in servers:
                server.close()


class Nginx:
    """Debian's nginx in front of the servers (deploy/nginx.conf.template), on a free loopback port."""

    def __init__(self, servers, tmp):
        from deploy.serve_class import nginx_binary, nginx_config, start_nginx, wait_until_up

        from .conftest import _free_port

        try:
            nginx_binary()
        except SystemExit as error:
            pytest.skip(str(error))
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        run_dir = tmp / "nginx"
        config = nginx_config(listen=f"127.0.0.1:{self.port}", backends=[f"127.0.0.1:{s.port}" for s in servers],
                              run_dir=run_dir, access_log=str(run_dir / "access.log"))
        self.log = open(tmp / "nginx.out", "w")
        self.process = start_nginx(config, run_dir, log=self.log)
        wait_until_up("127.0.0.1", self.port, process=self.process)

    def close(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        self.log.close()
