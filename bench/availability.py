"""One request never stalls the others (issue "time-sliced simulation"): how long other learners' requests, and the
busy cluster's own clock controls, wait while one cluster does a great deal of work.

Cases, each on a fresh server (SQLite, one process, as `make run`):
- ``huge-job``: a Job with ``parallelism`` pods (100,000 by default) on 3 nodes, then "advance 60 s"; two seconds
  later, another cluster's apply, list and pause and the busy cluster's clock read and pause, timed.
- ``cron-month``: one every-minute CronJob and the longest advance allowed (31 days): when it is answered, and how
  long a cancel takes.
- ``pause-class``: ``clusters`` clusters playing at 100x, each with a Job of 200 pods; all pause at once: how long
  until every pause is answered.
Requests that are not answered within ``--timeout`` seconds are reported as such. Prints medians; run by hand.

    .venv/bin/python bench/availability.py [--case huge-job|cron-month|pause-class] [--parallelism N]
"""

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from server import start_server  # noqa: E402 - the benchmarks' shared launcher

START = "2025-01-01T00:00:00Z"


class Server:
    def __init__(self, port: int, timeout: float):
        self.port, self.timeout = port, timeout

    def call(self, method: str, path: str, body=None, content_type="application/json") -> tuple[int | None, float]:
        """(status or None when not answered in time, seconds)."""
        data = body.encode() if isinstance(body, str) else (json.dumps(body).encode() if body is not None else None)
        started = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            conn.request(method, path, body=data, headers={"Content-Type": content_type} if data else {})
            response = conn.getresponse()
            response.read()
            conn.close()
            return response.status, time.perf_counter() - started
        except (TimeoutError, OSError):
            return None, time.perf_counter() - started

    def create(self, name: str, nodes: int = 3) -> None:
        status, _ = self.call("POST", "/sim/clusters", {"name": name, "nodes": nodes, "seed": 1, "start": START})
        assert status == 201, status

    def apply(self, name: str, text: str):
        return self.call("POST", f"/sim/clusters/{name}/apply", text, "application/yaml")


def job(name: str, parallelism: int, completions: int | None = None, sleep: int = 30) -> str:
    return f"""apiVersion: batch/v1
kind: Job
metadata: {{name: {name}}}
spec:
  completions: {completions or parallelism}
  parallelism: {parallelism}
  template:
    spec:
      containers: [{{name: w, image: busybox:1.36, command: [sh, -c, "sleep {sleep}"]}}]
      restartPolicy: Never
"""


CRON = """apiVersion: batch/v1
kind: CronJob
metadata: {name: every-minute}
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: w, image: busybox:1.36, command: [sh, -c, "date"]}]
          restartPolicy: OnFailure
"""


def shown(result: tuple[int | None, float]) -> str:
    status, seconds = result
    return f"{seconds * 1000:8.0f} ms ({status})" if status is not None else f"not answered in {seconds:.0f} s"


def in_background(server: Server, *args) -> dict:
    """Send a request from a thread; the dict gets "result" when it is answered."""
    box: dict = {}
    threading.Thread(target=lambda: box.update(result=server.call(*args)), daemon=True).start()
    return box


def huge_job(server: Server, args) -> None:
    server.create("heavy")
    server.create("light")
    print("apply heavy:", shown(server.apply("heavy", job("huge", args.parallelism))))
    advance = in_background(server, "POST", "/sim/clusters/heavy/clock/advance", {"seconds": 60})
    time.sleep(2)
    rows = {"light apply": [], "light list": [], "light pause": [], "heavy clock": []}
    for round_ in range(args.rounds):
        rows["light apply"].append(server.apply("light", job(f"small-{round_}", 2, sleep=1)))
        rows["light list"].append(server.call("GET", "/clusters/light/api/v1/namespaces/default/pods"))
        rows["light pause"].append(server.call("PATCH", "/sim/clusters/light/clock", {"paused": True}))
        rows["heavy clock"].append(server.call("GET", "/sim/clusters/heavy/clock"))
    for name, results in rows.items():
        print(f"{name:12}", "median", shown(sorted(results, key=lambda r: r[1])[len(results) // 2]),
              "| max", shown(max(results, key=lambda r: r[1])))
    print("heavy pause:", shown(server.call("PATCH", "/sim/clusters/heavy/clock", {"paused": True})))
    deadline = time.monotonic() + args.timeout
    while "result" not in advance and time.monotonic() < deadline:
        time.sleep(0.1)
    print("heavy advance 60 s:", shown(advance["result"]) if "result" in advance else "still not answered")


def cron_month(server: Server, args) -> None:
    server.create("cron")
    server.apply("cron", CRON)
    result = server.call("POST", "/sim/clusters/cron/clock/advance", {"seconds": 31 * 24 * 3600})
    print("advance 31 days:", shown(result))
    if result[0] == 202:
        print("cancel:", shown(server.call("DELETE", "/sim/clusters/cron/clock/advance")))
    print("another cluster's create:", shown(server.call("POST", "/sim/clusters", {"name": "other", "nodes": 3})))


def pause_class(server: Server, args) -> None:
    names = [f"learner-{i}" for i in range(args.clusters)]
    for name in names:
        server.create(name)
        server.apply(name, job("work", 20, completions=200, sleep=5))
    for name in names:
        server.call("PATCH", f"/sim/clusters/{name}/clock", {"paused": False, "speed": 100})
    time.sleep(3)
    started = time.perf_counter()
    with ThreadPoolExecutor(len(names)) as pool:
        results = list(pool.map(lambda n: server.call("PATCH", f"/sim/clusters/{n}/clock", {"paused": True}), names))
    answered = [seconds for status, seconds in results if status == 200]
    print(f"{len(answered)}/{len(names)} pauses answered; all within {time.perf_counter() - started:.2f} s; "
          f"median {statistics.median(answered) * 1000:.0f} ms" if answered else "no pause answered")


CASES = {"huge-job": huge_job, "cron-month": cron_month, "pause-class": pause_class}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", choices=sorted(CASES), action="append")
    parser.add_argument("--parallelism", type=int, default=100_000)
    parser.add_argument("--clusters", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    for case in args.case or sorted(CASES):
        with tempfile.TemporaryDirectory() as tmp:
            process, port = start_server(Path(tmp), player=case == "pause-class")
            try:
                print(f"== {case}")
                CASES[case](Server(port, args.timeout), args)
            finally:
                process.kill()
                process.wait()


if __name__ == "__main__":
    main()
