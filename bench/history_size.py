"""How much history the seed article's demos leave per simulated hour: rows and bytes of changes and traces.

Each demo runs on its own cluster on the database storage (a fresh SQLite file by default, or ``--database-url``,
e.g. PostgreSQL) through the engine host, as the server runs it, for one simulated hour (--hours):

* every lesson under ``lessons/`` played headlessly as "show me" plays it (each step's setup, solution, actions),
  then the clock run on to the end of the hour;
* the demos of the seed article's figures (``kubeviz/dashboard/examples``): the ``pi`` Job, the parallel Job
  ``paral-1``, the ``hello`` CronJob (``*/1``), the ``fluentd-elasticsearch`` DaemonSet with its image updated at
  minute 10, and ``hello`` beside ``paral-1`` (figures a13–a15).

For each it reports the Change and TraceRecord rows the store keeps at the end and their bytes: the JSON of each
row's object/record and actor as stored (``len`` of the compact JSON; indexes and the database's row overhead
are not counted), scaled to one simulated hour. A lesson that runs longer than the hour is reported over its own
length. Nothing is compacted unless a demo passes ``KUBEVIZ_HISTORY_CHANGES`` (20,000 changes by default).

    .venv/bin/python bench/history_size.py
    .venv/bin/python bench/history_size.py --only hello --hours 2
"""

import argparse
import json
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.engine import START, _as_served, setup_django  # noqa: E402

EXAMPLES = ROOT / "kubeviz" / "dashboard" / "examples"


def _json_bytes(value) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def measure(cluster) -> dict:
    """Rows and JSON bytes of the cluster's kept changes and traces."""
    from kubeviz.store.models import Change, TraceRecord

    changes = traces = change_bytes = trace_bytes = 0
    for data, actor in Change.objects.filter(cluster=cluster).values_list("data", "actor").iterator():
        changes += 1
        change_bytes += _json_bytes(data) + (_json_bytes(actor) if actor is not None else 0)
    for (data,) in TraceRecord.objects.filter(cluster=cluster).values_list("data").iterator():
        traces += 1
        trace_bytes += _json_bytes(data)
    return {"changes": changes, "change_bytes": change_bytes, "traces": traces, "trace_bytes": trace_bytes}


def run_to(cluster, end) -> None:
    """Advance the cluster's clock to ``end`` (simulated) through the engine host."""
    from kubeviz.runtime.host import host

    cluster.refresh_from_db()
    left = (end - cluster.sim_now).total_seconds()
    while left > 0:
        host.advance(cluster, min(left, 600))
        cluster.refresh_from_db()
        left = (end - cluster.sim_now).total_seconds()


def example_demo(files: list[str], *, nodes: int = 3, then: tuple[float, str, str] | None = None):
    """A cluster of ``nodes`` workers (and a control plane) with the examples applied at the start; ``then``:
    (simulated seconds, file, (old, new)) an apply of an edited example later on."""

    def run(name: str):
        from apiserver.apply import apply_manifests
        from kubeviz.store.services import cluster_create, registry_for

        cluster = cluster_create(name=name, nodes=nodes, seed=1, start=START)
        for file in files:
            results = apply_manifests(registry_for(cluster), (EXAMPLES / file).read_text())
            assert all(r.ok for r in results), results
        if then is not None:
            seconds, file, (old, new) = then
            run_to(cluster, START + timedelta(seconds=seconds))
            text = (EXAMPLES / file).read_text()
            assert old in text, (file, old)
            results = apply_manifests(registry_for(cluster), text.replace(old, new))
            assert all(r.ok for r in results), results
        return cluster, START

    return run


FLUENTD_UPDATE = ("fluentd:v2.5.2", "fluentd:v2.6.0")


def demos() -> dict:
    from django.conf import settings

    from kubeviz.lessons.format import load_lessons, lessons_dir

    found = {
        "pi": example_demo(["pi.yaml"]),
        "paral-1": example_demo(["paral-1.yaml"]),
        "hello": example_demo(["hello.yaml"]),
        "hello+paral-1": example_demo(["hello.yaml", "paral-1.yaml"]),
        "fluentd+update": example_demo(["fluentd.yaml"], then=(600, "fluentd.yaml", FLUENTD_UPDATE)),
    }
    report = load_lessons(lessons_dir(), base=settings.BASE_DIR)
    for lesson in report.lessons:
        found[f"lesson {lesson.slug}"] = lesson
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=1.0, help="simulated hours each demo runs (1)")
    parser.add_argument("--database-url", help="a database to run on (default: a fresh SQLite file)")
    parser.add_argument("--only", action="append", help="run only the demos whose name contains this")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='kubeviz-bench-')}/history.sqlite3"
    setup_django(url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from kubeviz.store.models import Cluster
    from kubeviz.store.services import cluster_delete

    rows = []
    for index, (name, demo) in enumerate(demos().items()):
        if args.only and not any(part in name for part in args.only):
            continue
        cluster_name = f"history-{index}"

        def work(demo=demo, cluster_name=cluster_name):
            if not callable(demo):  # a lesson
                from kubeviz.lessons.runner import create_database_cluster, database_lesson_cluster, run_lesson

                cluster = create_database_cluster(demo, name=cluster_name)
                start = cluster.sim_now
                report = run_lesson(demo, cluster=database_lesson_cluster(cluster))
                problems = [error for step in report.steps for error in step.errors]
            else:
                cluster, start = demo(cluster_name)
                problems = []
            run_to(cluster, start + timedelta(hours=args.hours))
            cluster.refresh_from_db()
            return cluster, start, problems

        began = time.perf_counter()
        cluster, start, problems = _as_served(work)
        wall = time.perf_counter() - began
        hours = (cluster.sim_now - start).total_seconds() / 3600
        figures = measure(cluster)
        rows.append((name, hours, wall, figures, problems))
        per_hour = {key: value / hours for key, value in figures.items()}
        print(f"{name:32s} {hours:5.2f} h  changes {per_hour['changes']:8.0f}/h {per_hour['change_bytes'] / 1e6:7.2f} MB/h"
              f"  traces {per_hour['traces']:7.0f}/h {per_hour['trace_bytes'] / 1e6:6.2f} MB/h  ({wall:.1f} s wall)"
              + (f"  problems: {problems[0]}" if problems else ""), flush=True)
        _as_served(lambda: cluster_delete(name=cluster_name) if Cluster.objects.filter(name=cluster_name).exists()
                   else None)

    if rows:
        total_hours = sum(hours for _, hours, _, _, _ in rows)
        total = {key: sum(f[key] for _, _, _, f, _ in rows) for key in rows[0][3]}
        print(f"{'all demos, per simulated hour':32s} {'':8s}changes {total['changes'] / total_hours:8.0f}/h "
              f"{total['change_bytes'] / total_hours / 1e6:7.2f} MB/h  traces {total['traces'] / total_hours:7.0f}/h "
              f"{total['trace_bytes'] / total_hours / 1e6:6.2f} MB/h")


if __name__ == "__main__":
    main()
