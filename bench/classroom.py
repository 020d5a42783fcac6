"""A class of 30 on one server process (issue "the classroom"): every learner has a dashboard websocket open, polls
their pods, Jobs and DaemonSets once a second as kubectl users do, and applies every 10 s, while every sandbox plays
at 10x. Targets: reads p99 < 200 ms, applies p99 < 500 ms, every playing clock within 5 % of its speed.

Each run starts a fresh server in classroom mode (SQLite, the in-memory channel layer, the real-time player on:
``make run`` with ``KUBEVIZ_CLASSROOM=true``), with a teacher and a class of the ``daemonset`` lesson. The learners
join as a browser does (the join form with its CSRF token, then Start), so each one's sandbox is a lesson run: the
server's re-evaluation of the lesson's checks (``kubeviz.lessons.recheck``) and the teacher's grid publications run
as they would in class. Each learner then, with their own capability token as kubectl sends it:

- plays their sandbox at 10x and applies a DaemonSet (a never-ending daemon on every worker);
- opens the dashboard's live stream (``/ws/clusters/<name>/``, with their session) and reads every frame;
- every second: ``GET`` pods, Jobs and DaemonSets of the namespace (three requests in a row, one connection);
- every 10 s (the learners staggered): applies a new Job of 2 pods that sleep 20 s, through ``/sim/.../apply``.

After ``--warmup`` seconds it measures for ``--seconds``: the latency of every read and apply (p50, p99, max), the
rate of every sandbox's clock (simulated seconds per wall second, read at both ends of the window, against 10),
frames received, the server's CPU (share of one core), the load generator's own (this process: every learner's
requests and streams, one asyncio loop) and how busy the whole machine was (all its cores, /proc/stat). ``--runs``
runs on fresh servers, and the medians of the runs. The load generator shares the machine's cores with the server:
the figures are for the whole loop.

``--floor`` measures the floor of the reads on this machine: the same class, but each learner's three reads a
second ask ``/version`` (the request cycle, the authorization and no store read) instead of the lists.

``--profile PY_SPY`` samples the server with py-spy (its path) during the measured window of each run and prints
where its time went: the share of busy samples in each part of the server (``PARTS``), and the functions most often
on top; the samples are kept in ``classroom-profile.txt`` of the temporary directory (py-spy's raw format).

    .venv/bin/python bench/classroom.py [--learners 30] [--seconds 60] [--warmup 15] [--runs 3] [--speed 10]
                                        [--floor] [--profile /path/to/py-spy]
"""

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from server import ROOT, start_server  # noqa: E402 - the benchmarks' shared launcher

SLUG = "daemonset"
TARGETS = {"read p99": 200.0, "apply p99": 500.0, "clock error": 5.0}
DAEMONSET = """\
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers:
      - name: agent
        image: fluentd:v1.16
        command: ["fluentd"]
"""
JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
spec:
  completions: 2
  parallelism: 2
  template:
    spec:
      containers:
      - name: work
        image: busybox:1.36
        command: ["sh", "-c", "sleep 20; date"]
      restartPolicy: Never
"""
CLASS_SETUP = """
from django.contrib.auth import get_user_model
from kubeviz.classroom.services import class_create
from kubeviz.lessons.models import Lesson
teacher = get_user_model().objects.create_user("bench-teacher", password="a-long-bench-password-1")
print(class_create(teacher=teacher, name="Bench", lessons=Lesson.objects.filter(slug="%s")).join_code)
""" % SLUG


#: The parts of the server a sample is counted in: the first part (in this order) with a frame in the sample's stack
#: (py-spy names a frame "function (path:line)").
PARTS = (
    ("player: engines playing the clusters", ("tick (kubeviz/runtime/player.py",)),
    ("lesson checks re-evaluated (recheck)", ("(kubeviz/lessons/recheck.py",)),
    ("teacher's grid publications", ("(kubeviz/classroom/grid.py",)),
    ("apply (/sim/.../apply)", ("apply (kubeviz/sim/views.py",)),
    ("Kubernetes API (reads, through the capability)", ("(kubeviz/api/views.py",)),
    ("classroom authorization (middleware)", ("_refusal (kubeviz/classroom/middleware.py",)),
    ("other /sim endpoints", ("(kubeviz/sim/views.py",)),
    ("live streams (consumers, hub)", ("(kubeviz/live/",)),
    ("Django request handling (middleware, sessions, response)", ("(django/",)),
    ("Daphne, Twisted, asyncio, websockets", ("",)),
)
IDLE = ("select (", "epoll", "wait (threading", "_worker (concurrent", "poll (selectors", "sleep (")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """The machine's CPU time since boot, (busy, all) in clock ticks of all its cores (/proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return sum(fields[:8]) - idle, sum(fields[:8])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


class Learner:
    """One learner: a browser session (cookies, CSRF) for joining and the live stream, and kubectl's requests
    (no cookie, the capability as a bearer token) for the rest."""

    def __init__(self, aiohttp, base: str, index: int):
        self.aiohttp = aiohttp
        self.base = base
        self.name = f"learner {index:02d}"
        self.browser = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.kubectl = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
        self.cluster = self.token = ""
        self.frames = 0
        self.reads: list[tuple[float, float]] = []  # (when, ms)
        self.applies: list[tuple[float, float]] = []
        self.failures = 0

    def csrf(self) -> str:
        for cookie in self.browser.cookie_jar:
            if cookie.key == "csrftoken":
                return cookie.value
        return ""

    async def form(self, path: str, fields: dict) -> int:
        async with self.browser.get(self.base + path) as response:
            await response.read()
        data = {**fields, "csrfmiddlewaretoken": self.csrf()}
        async with self.browser.post(self.base + path, data=data, allow_redirects=False,
                                     headers={"Origin": self.base}) as response:
            await response.read()
            return response.status

    async def join(self, code: str) -> None:
        assert await self.form("/join/", {"code": code, "name": self.name}) == 302, "join"
        assert await self.form(f"/lessons/{SLUG}/start", {}) == 302, "start"
        async with self.browser.get(f"{self.base}/lessons/{SLUG}/") as response:
            page = await response.text()
        config = json.loads(re.search(r'id="kubeviz-config" type="application/json">(.*?)</script>', page).group(1))
        self.cluster, self.token = config["cluster"], config["api"].rsplit("/", 1)[1]

    def headers(self, content_type: str | None = None) -> dict:
        headers = {"Authorization": f"Bearer {self.token}"}
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    async def call(self, method: str, path: str, body: str | None = None, content_type: str | None = None):
        async with self.kubectl.request(method, self.base + path, data=body,
                                        headers=self.headers(content_type)) as response:
            data = await response.read()
            if response.status >= 300:
                self.failures += 1
            return response.status, data

    async def clock(self) -> tuple[float, datetime]:
        """When the sandbox's clock was read, and what it said (asked again, a few times, when the server answered
        with an error: an overloaded one may, and nginx then answers 502 for it)."""
        for _ in range(5):
            status, data = await self.call("GET", f"/sim/clusters/{self.cluster}/clock")
            if status == 200:
                return time.monotonic(), datetime.fromisoformat(json.loads(data)["now"].replace("Z", "+00:00"))
            await asyncio.sleep(1)
        raise RuntimeError(f"{self.name}: the clock could not be read ({status}: {data[:200]!r})")

    async def play(self, speed: float) -> None:
        await self.call("POST", f"/sim/clusters/{self.cluster}/apply", DAEMONSET, "application/yaml")
        await self.call("PATCH", f"/sim/clusters/{self.cluster}/clock", json.dumps({"paused": False, "speed": speed}),
                        "application/json")

    async def watch(self) -> None:
        url = self.base.replace("http", "ws", 1) + f"/ws/clusters/{self.cluster}/"
        async with self.browser.ws_connect(url, headers={"Origin": self.base}, max_msg_size=0) as socket:
            async for _message in socket:
                self.frames += 1

    async def poll(self, until: float, floor: bool = False) -> None:
        prefix = f"/k/{self.token}"
        paths = [f"{prefix}/api/v1/namespaces/default/pods", f"{prefix}/apis/batch/v1/namespaces/default/jobs",
                 f"{prefix}/apis/apps/v1/namespaces/default/daemonsets"]
        if floor:
            paths = [f"{prefix}/version"] * 3
        next_at = time.monotonic()
        while time.monotonic() < until:
            for path in paths:
                started = time.monotonic()
                await self.call("GET", path)
                self.reads.append((started, (time.monotonic() - started) * 1000))
            next_at += 1.0
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def apply_every(self, seconds: float, offset: float, until: float) -> None:
        await asyncio.sleep(offset)
        n = 0
        next_at = time.monotonic()
        while time.monotonic() < until:
            started = time.monotonic()
            await self.call("POST", f"/sim/clusters/{self.cluster}/apply", JOB.format(name=f"job-{n}"),
                            "application/yaml")
            self.applies.append((started, (time.monotonic() - started) * 1000))
            n += 1
            next_at += seconds
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def close(self) -> None:
        await self.browser.close()
        await self.kubectl.close()


def profile_parts(collapsed: Path) -> tuple[list[tuple[str, float]], list[tuple[str, float]], float]:
    """From py-spy's samples (``--format raw``: a collapsed stack and its count a line): the share of the busy
    samples in each part, the functions most often on top of a busy stack, and the share of samples idle."""
    counts = {name: 0 for name, _ in PARTS}
    tops: dict[str, int] = {}
    idle = total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        n = int(count)
        total += n
        if not frames or any(word in frames[-1] for word in IDLE):
            idle += n
            continue
        tops[frames[-1]] = tops.get(frames[-1], 0) + n
        for name, needles in PARTS:
            if any(needle in frame for needle in needles for frame in frames):
                counts[name] += n
                break
    busy = max(1, total - idle)
    parts = [(name, 100 * n / busy) for name, n in counts.items() if n]
    top = sorted(tops.items(), key=lambda item: -item[1])[:12]
    return parts, [(frame, 100 * n / busy) for frame, n in top], 100 * idle / max(1, total)


async def class_run(port: int, server_pid: int | list[int], args) -> dict:
    """One class against the server on ``port`` (or nginx in front of several: ``server_pid`` a list, whose CPU is
    summed and whose first process is profiled)."""
    import aiohttp

    pids = server_pid if isinstance(server_pid, list) else [server_pid]
    server_pid = pids[0]

    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, DATABASE_URL=os.environ["BENCH_DATABASE_URL"], DJANGO_SETTINGS_MODULE="kubeviz.settings")
    code = subprocess.run([sys.executable, "manage.py", "shell", "-c", CLASS_SETUP], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True).stdout.strip().splitlines()[-1]
    learners = [Learner(aiohttp, base, i) for i in range(args.learners)]
    for learner in learners:  # one after another, as a class trickles in
        await learner.join(code)
    await asyncio.gather(*(learner.play(args.speed) for learner in learners))
    watchers = [asyncio.create_task(learner.watch()) for learner in learners]
    start = time.monotonic()
    measure_from = start + args.warmup
    until = measure_from + args.seconds
    work = [asyncio.create_task(learner.poll(until, args.floor)) for learner in learners]
    work += [asyncio.create_task(learner.apply_every(10.0, 10.0 * i / len(learners), until))
             for i, learner in enumerate(learners)]
    await asyncio.sleep(args.warmup)
    profiler = None
    if args.profile:
        profiler = subprocess.Popen([args.profile, "record", "-p", str(server_pid), "-d", str(int(args.seconds)),
                                     "-f", "raw", "-o", str(Path(args.tmp) / "profile.txt"), "--threads", "-r", "50", "--nonblocking"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    clocks_before = await asyncio.gather(*(learner.clock() for learner in learners))
    cpu_before, frames_before = sum(map(cpu_seconds, pids)), sum(learner.frames for learner in learners)
    load_before, machine_before = time.process_time(), machine_busy()
    await asyncio.gather(*work)
    clocks_after = await asyncio.gather(*(learner.clock() for learner in learners))
    window = time.monotonic() - measure_from
    cpu = (sum(map(cpu_seconds, pids)) - cpu_before) / window
    load_cpu = (time.process_time() - load_before) / window
    machine_after = machine_busy()
    machine = (machine_after[0] - machine_before[0]) / max(1, machine_after[1] - machine_before[1])
    frames = sum(learner.frames for learner in learners) - frames_before
    for task in watchers:
        task.cancel()
    await asyncio.gather(*watchers, return_exceptions=True)
    reads = [ms for learner in learners for when, ms in learner.reads if when >= measure_from]
    applies = [ms for learner in learners for when, ms in learner.applies if when >= measure_from]
    errors = []
    for (wall0, sim0), (wall1, sim1) in zip(clocks_before, clocks_after):
        rate = (sim1 - sim0).total_seconds() / (wall1 - wall0)
        errors.append(abs(rate / args.speed - 1) * 100)
    failures = sum(learner.failures for learner in learners)
    for learner in learners:
        await learner.close()
    if profiler is not None:
        profiler.wait()
        (Path(tempfile.gettempdir()) / "classroom-profile.txt").write_text((Path(args.tmp) / "profile.txt").read_text())
        parts, top, idle = profile_parts(Path(args.tmp) / "profile.txt")
        print(f"where the server's time went (share of the samples of busy threads; {idle:.0f} % of all idle):")
        for name, share in parts:
            print(f"  {share:5.1f} %  {name}")
        print("  on top of the stack most often:")
        for frame, share in top:
            print(f"  {share:5.1f} %    {frame}")
    return {
        "reads": len(reads), "read p50": percentile(reads, 0.5), "read p99": percentile(reads, 0.99),
        "read max": max(reads, default=float("nan")), "applies": len(applies), "apply p50": percentile(applies, 0.5),
        "apply p99": percentile(applies, 0.99), "apply max": max(applies, default=float("nan")),
        "clock error": max(errors), "clock error median": statistics.median(errors),
        "frames/s": frames / args.seconds, "server cpu": cpu * 100, "load cpu": load_cpu * 100,
        "machine busy": machine * 100, "failures": failures,
        "load": os.getloadavg()[0],
    }


def show(result: dict) -> str:
    return (f"reads {result['reads']}: p50 {result['read p50']:.0f} ms, p99 {result['read p99']:.0f} ms, "
            f"max {result['read max']:.0f} ms | applies {result['applies']}: p50 {result['apply p50']:.0f} ms, "
            f"p99 {result['apply p99']:.0f} ms, max {result['apply max']:.0f} ms | clocks: worst "
            f"{result['clock error']:.1f} % off (median {result['clock error median']:.1f} %) | "
            f"{result['frames/s']:.0f} frames/s | server {result['server cpu']:.0f} % of a core, load generator "
            f"{result['load cpu']:.0f} %, machine {result['machine busy']:.0f} % busy | "
            f"{result['failures']} failed requests | machine load {result['load']:.1f} on {os.cpu_count()} cores")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=15)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--speed", type=float, default=10)
    parser.add_argument("--floor", action="store_true", help="read /version instead of the lists")
    parser.add_argument("--profile", metavar="PY_SPY", help="sample the server with this py-spy")
    args = parser.parse_args()
    results = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            args.tmp = tmp
            os.environ["BENCH_DATABASE_URL"] = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
            process, port = start_server(Path(tmp), player=True, extra_env={"KUBEVIZ_CLASSROOM": "true"},
                                         setup=(["lessons", "load"],))
            try:
                result = asyncio.run(class_run(port, process.pid, args))
            finally:
                process.kill()
                process.wait()
        results.append(result)
        print(f"run {run + 1}: {show(result)}", flush=True)
    if len(results) > 1:
        median = {key: statistics.median(r[key] for r in results) for key in results[0]}
        print(f"median of {len(results)}: {show(median)}")
    else:
        median = results[0]
    verdict = [f"{key} {median[key]:.1f} {'<' if median[key] < limit else '>='} {limit:g}"
               for key, limit in TARGETS.items()]
    print("targets:", "; ".join(verdict))


if __name__ == "__main__":
    main()
