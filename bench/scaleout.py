"""A class of 100 served by several processes behind nginx, against the same class served by one (issue "many
server processes, one class"). Targets: reads p99 < 200 ms, every playing clock within 5 % of its speed.

Each run starts a fresh deployment as deploy/serve_class.py does: a PostgreSQL database of its own (made from
``--postgres``, dropped afterwards), Redis (``--redis``, a channel-layer prefix of the run's own), the Daphne
processes in classroom mode with the real-time player on, and Debian's nginx in front of them. The class is
bench/classroom.py's, unchanged: every learner joins through the form, starts the ``daemonset`` lesson, plays their
sandbox at 10x with a DaemonSet, keeps the dashboard's live stream open, reads pods, Jobs and DaemonSets once a
second and applies a Job every 10 s, all through nginx. Each run measures one process, then ``--processes``; the
medians of ``--runs`` runs of each, and their ratio, are printed at the end. With ``--engines E`` the ``--processes``
behind nginx are web processes and E engine processes beside them run every engine (deploy/serve_class.py
--engines, the web processes ``--web-nice`` steps below their priority); ``--processes 1 --engines 1`` measures that
setup alone. Every process, nginx, PostgreSQL, Redis and the load itself share the machine's cores: the figures are
for the whole loop on this machine.

    .venv/bin/python bench/scaleout.py [--learners 100] [--processes 2] [--engines 0] [--web-nice 10]
                                       [--seconds 60] [--warmup 15] [--runs 3]
                                       [--postgres postgres://postgres@127.0.0.1:5432/postgres]
                                       [--redis redis://127.0.0.1:6379]
"""

import argparse
import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

from classroom import TARGETS, class_run, show  # noqa: E402 - the class and its figures
from engine import fresh_database  # noqa: E402
from server import ROOT, free_port  # noqa: E402

from deploy.serve_class import WEB_NICE, nginx_config, start_daphne, start_nginx, wait_until_up  # noqa: E402

SCALEOUT_TARGETS = {key: TARGETS[key] for key in ("read p99", "clock error")}


@contextmanager
def deployment(tmp: Path, processes: int, args, engines: int = 0):
    """``processes`` Daphne processes behind nginx on a fresh database, and ``engines`` engine processes beside them
    (then those behind nginx are web processes); yields nginx's port and the pids of them all."""
    with fresh_database(args.postgres) as url:
        env = dict(os.environ, DATABASE_URL=url, REDIS_URL=args.redis, REDIS_PREFIX=f"bench-{secrets.token_hex(4)}",
                   DJANGO_SETTINGS_MODULE="kubeviz.settings", KUBEVIZ_CLASSROOM="true", KUBEVIZ_PLAYER="true",
                   KUBEVIZ_DEFAULT_QUOTA="", SECRET_KEY=secrets.token_urlsafe(50),
                   # every learner connects from this machine, through nginx
                   KUBEVIZ_MAX_WEBSOCKETS_PER_CLIENT=str(4 * args.learners),
                   # the processes together under PostgreSQL's 100 connections, beside the machine's other users
                   KUBEVIZ_DB_POOL=str(max(4, 40 // (processes + engines))))
        for command in (["migrate", "--noinput"], ["bootstrap"], ["lessons", "load"]):
            subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True,
                           stdout=subprocess.DEVNULL)
        ports = [free_port() for _ in range(processes + engines)]
        logs = [open(tmp / f"daphne-{i}.log", "w") for i in range(processes + engines)]
        web = dict(env, KUBEVIZ_ENGINES="false") if engines else env
        children = [start_daphne(port, web if i < processes else env, log=log,
                                 nice=args.web_nice if engines and i < processes else 0)
                    for i, (port, log) in enumerate(zip(ports, logs))]
        try:
            for port, child in zip(ports, children):
                wait_until_up("127.0.0.1", port, process=child)
            servers = len(children)
            ports = ports[:processes]  # behind nginx
            port = free_port()
            config = nginx_config(listen=f"127.0.0.1:{port}", backends=[f"127.0.0.1:{p}" for p in ports],
                                  run_dir=tmp / "nginx", workers=1)
            nginx = start_nginx(config, tmp / "nginx", log=subprocess.DEVNULL)
            children.append(nginx)
            wait_until_up("127.0.0.1", port, process=nginx)
            os.environ["BENCH_DATABASE_URL"] = url  # where class_run makes the teacher and the class
            yield port, [child.pid for child in children[:servers]]
        finally:
            for child in children:
                child.kill()
                child.wait()
            for log in logs:
                log.close()


def setup(n: int, args) -> str:
    """What a run measured: n processes behind nginx, and the engine processes beside them."""
    processes = f"{n} process{'es' if n > 1 else ''}"
    if n == args.processes and args.engines:
        return f"{n} web process{'es' if n > 1 else ''} + {args.engines} engine process{'es' if args.engines > 1 else ''}"
    return processes


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=100)
    parser.add_argument("--processes", type=int, default=2, help="measured beside one process (1: one alone)")
    parser.add_argument("--engines", type=int, default=0, help="engine processes beside the --processes ones, which "
                        "are then web processes (deploy/serve_class.py --engines)")
    parser.add_argument("--web-nice", type=int, default=WEB_NICE, help="with --engines, the web processes' nice "
                        f"value (default {WEB_NICE}, as deploy/serve_class.py)")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=15)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--speed", type=float, default=10)
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL",
                                                            "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379"))
    parser.add_argument("--floor", action="store_true", help="read /version instead of the lists (bench/classroom.py)")
    parser.add_argument("--profile", metavar="PY_SPY", help="sample the first server process with this py-spy "
                        "(bench/classroom.py)")
    args = parser.parse_args()
    counts = sorted({1, args.processes})
    if args.engines and args.processes == 1:
        counts = [1]  # one web process and its engine processes, alone
    results: dict[int, list[dict]] = {n: [] for n in counts}
    for run in range(args.runs):
        for n in counts:
            with tempfile.TemporaryDirectory() as tmp:
                args.tmp = tmp
                with deployment(Path(tmp), n, args, args.engines if n == args.processes else 0) as (port, pids):
                    try:
                        result = asyncio.run(class_run(port, pids, args))
                    except Exception:
                        for log in sorted(Path(tmp).glob("daphne-*.log")):
                            print(f"--- the end of {log.name}:\n" + log.read_text()[-3000:], file=sys.stderr)
                        raise
            results[n].append(result)
            print(f"run {run + 1}, {setup(n, args)}: {show(result)}", flush=True)
    medians = {n: {key: statistics.median(r[key] for r in rs) for key in rs[0]} for n, rs in results.items()}
    for n in counts:
        print(f"median of {args.runs}, {setup(n, args)}: {show(medians[n])}")
        verdict = [f"{key} {medians[n][key]:.1f} {'<' if medians[n][key] < limit else '>='} {limit:g}"
                   for key, limit in SCALEOUT_TARGETS.items()]
        print(f"  targets: {'; '.join(verdict)}")
    if args.processes == 1:
        return
    one, many = medians[1], medians[args.processes]
    print(f"ratio {setup(args.processes, args)} / 1 process: read p50 {many['read p50'] / one['read p50']:.2f}, "
          f"read p99 {many['read p99'] / one['read p99']:.2f}, apply p99 {many['apply p99'] / one['apply p99']:.2f}, "
          f"worst clock error {many['clock error'] / max(one['clock error'], 1e-9):.2f}, "
          f"server CPU {many['server cpu'] / one['server cpu']:.2f}")


if __name__ == "__main__":
    main()
