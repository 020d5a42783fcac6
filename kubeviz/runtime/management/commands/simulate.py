"""``manage.py simulate``: run a cluster in memory, headless, and print what it ends up with.

    python manage.py simulate -f job.yaml [-f more.yaml ...] --nodes 3 --until 10m --seed 1 \\
        --start 2025-01-01T00:00:00Z -o json|table

A lesson author's and a tester's tool: the same API rules and controllers as the server, no database, and the
clock jumping from event to event. ``-o json`` prints a Kubernetes ``List`` of every object at the end time;
``-o table`` prints kubectl-style tables per kind.
"""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from controllers.apimachinery.timeutil import parse_rfc3339
from controllers.programs import parse_go_duration

from apiserver.kinds import SHOWN_TYPES
from apiserver.manifests import ManifestError
from kubeviz.runtime.memory import memory_cluster

# What is printed: every kind the dashboard shows but Namespaces, in the table's order, with the Events (which
# tell what happened to the rest) last.
OUTPUT_TYPES = tuple(sorted((r for r in SHOWN_TYPES if r.kind != "Namespace"), key=lambda r: r.kind == "Event"))
DEFAULT_START = "2025-01-01T00:00:00Z"


class Command(BaseCommand):
    help = "Run a simulated cluster in memory from YAML files and print every object at the end time."

    def add_arguments(self, parser):
        parser.add_argument("-f", "--filename", action="append", default=[], dest="files",
                            help="YAML file to apply (repeatable; - reads standard input)")
        parser.add_argument("--recording", help="a recording (GET /sim/clusters/<name>/recording) to replay first: "
                                                "its cluster, seed and start, every write and clock move")
        parser.add_argument("--nodes", type=int, default=3, help="worker nodes node-1..node-N (default 3)")
        parser.add_argument("--no-control-plane", action="store_true", help="leave out the control-plane node")
        parser.add_argument("--until", default="10m", help="simulated time to run, a Go duration (default 10m)")
        parser.add_argument("--seed", type=int, default=0, help="random seed: same seed, same run (default 0)")
        parser.add_argument("--start", default=DEFAULT_START, help=f"simulated start time (default {DEFAULT_START})")
        parser.add_argument("-n", "--namespace", default="default", help="namespace for objects that name none")
        parser.add_argument("-o", "--output", choices=("json", "table"), default="json")

    def handle(self, *args, **options):
        try:
            start = parse_rfc3339(options["start"])
        except ValueError:
            raise CommandError(f"--start: {options['start']!r} is not an RFC 3339 time") from None
        try:
            until = parse_go_duration(options["until"])
        except ValueError:
            raise CommandError(f"--until: {options['until']!r} is not a duration such as 90s, 10m or 1h30m") from None
        if options["nodes"] < 0:
            raise CommandError("--nodes must not be negative")
        if not options["files"] and not options["recording"]:
            raise CommandError("give YAML to apply (-f FILE) or a recording to replay (--recording FILE)")
        if options["recording"]:
            cluster = self._replay(options["recording"])
        else:
            cluster = memory_cluster(nodes=options["nodes"], seed=options["seed"], start=start,
                                     control_plane=not options["no_control_plane"])
        for path in options["files"]:
            source = self._read(path)
            try:
                results = cluster.apply(source, namespace=options["namespace"])
            except ManifestError as error:
                raise CommandError(f"{path}: {error}") from None
            failures = [r for r in results if not r.ok]
            for failure in failures:
                for problem in failure.errors:
                    self.stderr.write(f"{path}:{problem['line']}:{problem['column']}: {problem['message']}")
            if failures:
                raise CommandError(f"{path}: {len(failures)} document(s) could not be applied")
        cluster.advance(until)
        if options["output"] == "json":
            self._print_json(cluster)
        else:
            self._print_tables(cluster)

    def _replay(self, path: str):
        """An in-memory cluster rebuilt from a recording (``kubeviz.recordings``): its seed, nodes, start and quota,
        then its inputs; ``--until`` then runs on from where it ends."""
        from django.conf import settings

        from kubeviz.recordings.format import RecordingError, loads
        from kubeviz.recordings.services import memory_replay

        try:
            return memory_replay(loads(self._read(path), max_bytes=settings.KUBEVIZ_MAX_RECORDING_BYTES))
        except RecordingError as error:
            raise CommandError(f"{path}: {error.message}") from None

    def _read(self, path: str) -> bytes:
        if path == "-":
            return sys.stdin.buffer.read()
        try:
            with open(path, "rb") as handle:
                return handle.read()
        except OSError as error:
            raise CommandError(f"{path}: {error.strerror}") from None

    def _print_json(self, cluster) -> None:
        items = [obj for resource in OUTPUT_TYPES for obj in cluster.objects(resource.kind)]
        body = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items}
        self.stdout.write(json.dumps(body, indent=2, ensure_ascii=False))

    def _print_tables(self, cluster) -> None:
        from apiserver.kinds import table
        from apiserver.printers import render_text

        first = True
        for resource in OUTPUT_TYPES:
            kind = resource.kind
            objects = cluster.objects(kind)
            if not objects:
                continue
            if not first:
                self.stdout.write("")
            first = False
            rendered = render_text(table(kind, objects, cluster.now), with_namespace=resource.namespaced)
            self.stdout.write(rendered.rstrip("\n"))
