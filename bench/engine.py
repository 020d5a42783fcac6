"""Engine benchmarks: how fast and how big the simulation runs.

Cases (run one with --case, or all by default):

* ``memory-job``: a Job of --completions (100,000) at --parallelism (1,000) on --nodes (1,000), on the in-memory
  storage, fast-forward. Targets: under 60 s wall and 1.5 GB peak memory.
* ``sqlite-job``: 10,000 completions, parallelism 500, 100 nodes through the live runtime (database storage on
  SQLite, one transaction per simulated instant). Target: under 60 s.
* ``cronjobs``: --cronjobs (1,000) CronJobs on ``*/1`` over --hours (24) simulated hours on the in-memory storage,
  every Job created and cleaned by the history limits. Target: under 120 s wall.
* ``daemonset-rollout``: a DaemonSet on --nodes (5,000) nodes, then an image change rolled out at
  ``maxUnavailable: 10%``, in memory, fast-forward. Target: under 30 s wall.
* ``played``: one classroom sandbox played as the player plays it, at --speed (10)x in its ticks of 0.1 wall seconds,
  left alone while idle (bench/classroom.py's learner: a DaemonSet on 3 nodes, a Job of 2 applied every 100 simulated
  seconds) on --database (a fresh database made from a PostgreSQL URL, or SQLite by default), for --minutes (10)
  simulated minutes: database round trips and wall time per simulated minute, by statement, and CPU time per
  simulated minute (the bench's process, and its PostgreSQL backend when the database runs on this machine). The
  clocks of a class stay on time while the sum over its sandboxes fits in a wall minute, and its CPU in the machine's
  cores (``--learners``: the cores a class needs for its engines alone). ``--idle`` applies no Job: what a sandbox
  with nothing to do costs, its clock moving.
* ``realtime-lag``: a DaemonSet-like load of 1,000 running pods (a Job of never-ending daemons) played at 1x for
  --seconds wall seconds; reports how far the player's ticks fall behind (target: never more than 100 ms).

    .venv/bin/python bench/engine.py --case memory-job --completions 20000 --parallelism 200 --nodes 200

Peak memory is the process's max RSS (``resource.getrusage``), so run one case per process for a clean figure.
Report medians of several runs in notes; the machine is shared.
"""

import argparse
import os
import resource
import secrets
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

START = datetime(2025, 1, 1, tzinfo=timezone.utc)


def job_manifest(name: str, completions: int, parallelism: int, command: str) -> str:
    return f"""\
apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
spec:
  completions: {completions}
  parallelism: {parallelism}
  template:
    spec:
      containers:
      - name: work
        image: busybox:1.36
        command: ["sh", "-c", "{command}"]
      restartPolicy: Never
"""


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup_django(database_url: str | None = None):
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kubeviz.settings")
    os.environ["KUBEVIZ_PLAYER"] = "false"
    os.environ.setdefault("KUBEVIZ_DEFAULT_QUOTA", "")  # the load is the benchmark's, not a quota's refusal
    import django

    django.setup()


def case_memory_job(args):
    setup_django()
    from kubeviz.runtime.memory import memory_cluster

    began = time.perf_counter()
    cluster = memory_cluster(nodes=args.nodes, seed=1, start=START)
    built = time.perf_counter()
    results = cluster.apply(job_manifest("bench", args.completions, args.parallelism, "sleep 20"))
    assert all(r.ok for r in results), results
    job = None
    while True:
        cluster.advance(600)
        job = cluster.registry.get(_job_type(), "default", "bench")
        status = job.get("status") or {}
        if any(c["type"] in ("Complete", "Failed") and c["status"] == "True" for c in status.get("conditions", [])):
            break
    elapsed = time.perf_counter() - built
    print(f"memory-job: {args.completions} completions, parallelism {args.parallelism}, {args.nodes} nodes")
    print(f"  cluster set-up {built - began:.1f} s; run {elapsed:.1f} s wall "
          f"(simulated {(cluster.now - START).total_seconds() / 60:.0f} min); succeeded {status.get('succeeded')}")
    print(f"  engine syncs {cluster.engine.syncs}; peak RSS {peak_rss_mb():.0f} MB")


def _job_type():
    from apiserver.kinds import resource_for_kind

    return resource_for_kind("batch", "Job")


def cronjob_manifest(name: str) -> str:
    """The seed article's hello CronJob (``*/1``), named ``name``."""
    from tests.manifests import HELLO

    return HELLO.replace("name: hello\n", f"name: {name}\n", 1)


def case_cronjobs(args):
    setup_django()
    from kubeviz.runtime.memory import memory_cluster

    cluster = memory_cluster(nodes=args.nodes, seed=1, start=START)
    source = "---\n".join(cronjob_manifest(f"hello-{i:04d}") for i in range(args.cronjobs))
    assert all(r.ok for r in cluster.apply(source))
    began = time.perf_counter()
    cluster.advance(args.hours * 3600)
    elapsed = time.perf_counter() - began
    jobs = len(cluster.objects("Job"))
    print(f"cronjobs: {args.cronjobs} CronJobs on */1 for {args.hours} h on {args.nodes} nodes")
    print(f"  run {elapsed:.1f} s wall; {args.cronjobs * args.hours * 60} Jobs due, {jobs} kept at the end; "
          f"engine syncs {cluster.engine.syncs}; peak RSS {peak_rss_mb():.0f} MB")


def case_daemonset_rollout(args):
    setup_django()
    from apiserver.kinds import resource_for_kind
    from kubeviz.runtime.memory import memory_cluster
    from tests.manifests import agent_daemonset

    began = time.perf_counter()
    cluster = memory_cluster(nodes=args.nodes, seed=1, start=START)
    manifest = agent_daemonset("10%")
    assert all(r.ok for r in cluster.apply(manifest))
    built = time.perf_counter()
    cluster.advance(120)
    placed = time.perf_counter()
    ds_type = resource_for_kind("apps", "DaemonSet")
    cluster.apply(manifest.replace("fluentd:v1", "fluentd:v2"))
    rounds = 0
    while True:
        cluster.advance(60)
        rounds += 1
        status = cluster.registry.get(ds_type, "default", "agent")["status"]
        if status.get("updatedNumberScheduled") == status["desiredNumberScheduled"] == status.get("numberAvailable"):
            break
    done = time.perf_counter()
    print(f"daemonset-rollout: {args.nodes} nodes, maxUnavailable 10%")
    print(f"  cluster set-up {built - began:.1f} s; first rollout {placed - built:.1f} s; image update rolled out in "
          f"{done - placed:.1f} s wall ({rounds} simulated minutes); peak RSS {peak_rss_mb():.0f} MB")


def _as_served(work):
    """Run ``work`` as the server runs the engine host: in the sync thread of an event loop (Daphne's views and
    the player go through ``sync_to_async``), so that publishing to the channel layer hops to that loop instead
    of starting a loop of its own for every instant."""
    import asyncio

    from asgiref.sync import sync_to_async

    async def main():
        return await sync_to_async(work, thread_sensitive=True)()

    return asyncio.run(main())


def case_sqlite_job(args):
    tmp = tempfile.mkdtemp(prefix="kubeviz-bench-")
    setup_django(f"sqlite:///{tmp}/bench.sqlite3")
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from apiserver.apply import apply_manifests
    from kubeviz.runtime.host import host
    from kubeviz.store.services import cluster_create, registry_for

    cluster = cluster_create(name="bench", nodes=args.nodes, seed=1, start=START)
    apply_manifests(registry_for(cluster), job_manifest("bench", args.completions, args.parallelism, "sleep 20"))

    def run():
        while True:
            host.advance(cluster, 600)
            cluster.refresh_from_db()
            job = registry_for(cluster).get(_job_type(), "default", "bench")
            conditions = (job.get("status") or {}).get("conditions", [])
            if any(c["type"] in ("Complete", "Failed") and c["status"] == "True" for c in conditions):
                return job

    began, cpu = time.perf_counter(), time.process_time()
    job = _as_served(run)
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    print(f"sqlite-job: {args.completions} completions, parallelism {args.parallelism}, {args.nodes} nodes")
    print(f"  run {elapsed:.1f} s wall, {cpu:.1f} s CPU; succeeded {job['status'].get('succeeded')}; "
          f"peak RSS {peak_rss_mb():.0f} MB")


def case_realtime_lag(args):
    tmp = tempfile.mkdtemp(prefix="kubeviz-bench-")
    setup_django(f"sqlite:///{tmp}/bench.sqlite3")
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from apiserver.apply import apply_manifests
    from kubeviz.runtime.host import host
    from kubeviz.runtime.player import TICK, Player
    from kubeviz.store.services import cluster_create, registry_for

    cluster = cluster_create(name="bench", nodes=args.nodes, seed=1, start=START)
    apply_manifests(registry_for(cluster), job_manifest("daemons", args.pods, args.pods, "sleep infinity"))
    host.advance(cluster, 120)  # everything scheduled, pulled and running
    cluster.paused = False
    cluster.save(update_fields=["paused"])
    player = Player()
    lags, durations = [], []
    end = time.monotonic() + args.seconds
    next_tick = time.monotonic()
    while time.monotonic() < end:
        next_tick += TICK
        began = time.monotonic()
        player.tick()
        durations.append(time.monotonic() - began)
        lags.append(player.lag.get("bench", 0.0))
        time.sleep(max(0.0, next_tick - time.monotonic()))
    lags.sort()
    durations.sort()
    print(f"realtime-lag: {args.pods} running pods on {args.nodes} nodes at 1x for {args.seconds} s")
    print(f"  tick work median {durations[len(durations) // 2] * 1000:.1f} ms, max {durations[-1] * 1000:.1f} ms; "
          f"lag median {lags[len(lags) // 2] * 1000:.1f} ms, max {lags[-1] * 1000:.1f} ms")


@contextmanager
def fresh_database(url: str | None):
    """A database of the bench's own: a new one made from a PostgreSQL ``url`` (dropped afterwards), or a new
    SQLite file when ``url`` is None."""
    if not url:
        yield f"sqlite:///{tempfile.mkdtemp(prefix='kubeviz-bench-')}/bench.sqlite3"
        return
    import psycopg

    name = f"kubeviz_bench_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(url)._replace(path="/" + name))
    finally:  # FORCE ends the connections still open to it (the bench's own among them)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _statement_kind(sql: str) -> str:
    """A statement's name in the counts: its verb and table (a savepoint, a commit by their verb)."""
    words = sql.replace('"', " ").split()
    verb = words[0].upper() if words else "?"
    table = next((words[i + 1] for i, w in enumerate(words[:-1]) if w.upper() in ("FROM", "INTO", "UPDATE")), "")
    if verb == "SELECT" and sql.rstrip().upper().endswith("FOR UPDATE"):
        verb = "SELECT FOR UPDATE"
    return f"{verb} {table}".strip()


def _database_cpu(connection):
    """A function answering the CPU seconds that ``connection``'s PostgreSQL backend spent since this call (None:
    not PostgreSQL, or its server runs on another machine, whose /proc this one cannot read)."""
    if connection.vendor != "postgresql":
        return lambda: None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        stat = Path(f"/proc/{cursor.fetchone()[0]}/stat")

    def spent():
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    first = spent()
    return lambda: None if first is None else spent() - first


def case_played(args):
    from tests.manifests import agent_daemonset

    with fresh_database(args.database) as url:
        setup_django(url)
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        from apiserver.apply import apply_manifests
        from kubeviz.runtime.host import host
        from kubeviz.runtime.player import TICK
        from kubeviz.store.services import cluster_create, registry_for

        cluster = cluster_create(name="bench", nodes=3, seed=1, start=START, quota={})
        apply_manifests(registry_for(cluster), agent_daemonset("1"))
        counts: dict[str, int] = {}
        spent: dict[str, float] = {}

        def counted(execute, sql, params, many, context):
            began = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                kind = _statement_kind(sql)
                counts[kind] = counts.get(kind, 0) + 1
                spent[kind] = spent.get(kind, 0.0) + time.perf_counter() - began

        def run():
            with connection.execute_wrapper(counted):
                backend = _database_cpu(connection)
                clock = host.engine_for(cluster).client.storage.cluster  # the engine's own copy of the cluster
                began, cpu = time.perf_counter(), time.process_time()
                elapsed = 0.0  # wall seconds since the cluster's last run, as the player counts them
                jobs_every = round(100 / (TICK * args.speed))  # ticks: a Job every 100 simulated seconds
                for tick in range(round(args.minutes * 60 / (TICK * args.speed))):
                    if tick % jobs_every == 0 and not args.idle:
                        apply_manifests(registry_for(cluster), job_manifest(f"job-{tick}", 2, 2, "sleep 20; date"))
                        cluster.refresh_from_db()
                    elapsed += TICK
                    if host.idle(cluster, elapsed):
                        continue
                    host.play(cluster, elapsed, budget=10.0)
                    elapsed = 0.0
                    # What the player's read of the playing clusters at its next tick finds (one statement for a
                    # whole class, left out of the counts): the engine is the cluster's only writer meanwhile.
                    cluster.resource_version = clock.resource_version
                return time.perf_counter() - began, time.process_time() - cpu, backend()

        cluster.paused, cluster.speed = False, args.speed
        cluster.save(update_fields=["paused", "speed"])
        wall, cpu, database_cpu = _as_served(run)
        vendor = connection.vendor
    minutes = args.minutes
    print(f"played: one {'idle ' if args.idle else ''}sandbox on {vendor}, {minutes:g} simulated minutes at "
          f"{args.speed:g}x in the player's ticks")
    print(f"  wall {wall / minutes * 1000:.0f} ms and {sum(counts.values()) / minutes:.0f} statements "
          f"(round trips) per simulated minute; {sum(spent.values()) / wall * 100:.0f} % of the wall in them")
    per_minute = (cpu + (database_cpu or 0.0)) / minutes
    database = "" if database_cpu is None else f" + database {database_cpu / minutes * 1000:.0f} ms"
    print(f"  CPU per simulated minute: server {cpu / minutes * 1000:.0f} ms{database}; a class of {args.learners} "
          f"at {args.speed:g}x plays {args.learners * args.speed:g} simulated minutes a wall minute: "
          f"{per_minute * args.learners * args.speed / 60:.2f} cores for its engines alone "
          f"(this machine has {os.cpu_count()})")
    for kind, n in sorted(counts.items(), key=lambda item: -item[1])[:args.top]:
        print(f"  {n / minutes:8.1f}/min {spent[kind] / minutes * 1000:7.1f} ms/min  {kind}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", required=True,
                        choices=("memory-job", "sqlite-job", "realtime-lag", "cronjobs", "daemonset-rollout",
                                 "played"))
    parser.add_argument("--cronjobs", type=int, default=1000)
    parser.add_argument("--hours", type=float, default=24)
    parser.add_argument("--completions", type=int)
    parser.add_argument("--parallelism", type=int)
    parser.add_argument("--nodes", type=int)
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--database", help="played: a PostgreSQL URL to make the bench's database from (else SQLite)")
    parser.add_argument("--top", type=int, default=25, help="played: how many kinds of statement to list")
    parser.add_argument("--learners", type=int, default=100, help="played: the class the CPU figure is for")
    parser.add_argument("--speed", type=float, default=10, help="played: the speed the sandbox plays at")
    parser.add_argument("--idle", action="store_true", help="played: apply no Job")
    args = parser.parse_args()
    defaults = {
        "memory-job": (100_000, 1_000, 1_000),
        "sqlite-job": (10_000, 500, 100),
        "realtime-lag": (0, 0, 100),
        "cronjobs": (0, 0, 100),
        "daemonset-rollout": (0, 0, 5000),
        "played": (0, 0, 3),
    }[args.case]
    args.completions = args.completions or defaults[0]
    args.parallelism = args.parallelism or defaults[1]
    args.nodes = args.nodes or defaults[2]
    cases = {"memory-job": case_memory_job, "sqlite-job": case_sqlite_job, "realtime-lag": case_realtime_lag,
             "cronjobs": case_cronjobs, "daemonset-rollout": case_daemonset_rollout,
             "played": case_played}
    cases[args.case](args)


if __name__ == "__main__":
    main()
