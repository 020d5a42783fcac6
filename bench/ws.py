"""Live-stream benchmark: many websocket clients on one cluster, receiving a stream of pod changes.

Starts Daphne on a free loopback port with a throw-away SQLite database (as `make run` serves it, the real-time
player off so that only the benchmark changes the cluster), creates a cluster, opens N websocket clients on it,
waits for their snapshots, and then, from a second process, produces changes for the given wall time, each pod
carrying the time it was sent in an annotation; every client notes when each event arrives. Two sources:

``--source api`` (the default)
    The server uses the in-memory channel layer, as `make run` does. It first measures how many pod creates a
    second the API sustains with nobody watching (writers as fast as they can), then the writers create pods
    through the HTTP API at ``--rate`` (as far as the API keeps up) while the clients watch.

``--source redis``
    The server uses the Redis channel layer (``REDIS_URL``), as each process of a multi-process deployment does,
    and the publisher process sends watch messages to the cluster's group through Redis at ``--rate``: the same
    ``object.changed`` messages a store write publishes (built with ``kubeviz.store.events``), each carrying a
    copy of a real stored pod with its own name, uid, send time and the next resourceVersion after the
    cluster's. That is the path a change written in another server process takes to this process's browsers.
    The messages are sent one after the other (their order is the stream's), each one ``group_send`` of four
    Redis round trips, which is several times what the HTTP API manages, if not always 1,000 a second on a busy
    machine. Pass ``--redis-url`` with a database of the benchmark's own; the cluster's name is new on every run,
    so nothing else's keys are touched.

Reports the rate of changes produced (and how long a request or ``group_send`` took), the events and websocket
frames delivered (the server batches the changes that are ready together into one frame), the share of one core
that the server, the clients, the producer and Redis used, and the per-event latency (sent by the producer to
received by a client) across all clients: median, p90, p99 and max. The target of the "live dashboard" issue is
100 clients at 1,000 events/s with p99 < 100 ms. The producer, the clients, Redis and the server share this
machine's cores, so the figures are for the whole loop, not the server alone.

    .venv/bin/python bench/ws.py [--source api|redis] [--clients 100] [--rate 1000] [--seconds 10] [--writers 4]
                                 [--redis-url redis://127.0.0.1:6379/13]
"""

import argparse
import asyncio
import http.client
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import ROOT, start_server  # noqa: E402 - the benchmarks' shared launcher


ANNOTATION = "bench.kubeviz.io/sent"
SENT = re.compile(r'"bench\.kubeviz\.io/sent":"([0-9.]+)"')


# -- the server ----------------------------------------------------------------------------------------------


def request(conn, method, path, body=None):
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    if response.status >= 300:
        raise SystemExit(f"{method} {path} -> {response.status}: {data[:300]!r}")
    return data


def redis_cpu_seconds(url: str | None) -> float | None:
    """The CPU time the Redis server has used so far, or None without Redis."""
    if not url:
        return None
    import redis

    info = redis.Redis.from_url(url).info("cpu")
    return info["used_cpu_user"] + info["used_cpu_sys"]


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time of a process so far (Linux), or None where /proc cannot tell."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- source api: the writers (run in a second process: `bench/ws.py --drive ...`) ----------------------------


def pod(name: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "bench"}, "annotations": {ANNOTATION: f"{time.time():.6f}"}},
        "spec": {
            "containers": [{"name": "work", "image": "busybox:1.36", "command": ["sleep", "30"],
                            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}],
            "restartPolicy": "Never",
        },
    }


def pods_path(cluster: str) -> str:
    return f"/clusters/{cluster}/api/v1/namespaces/default/pods"


def drive(port: int, cluster: str, rate: float, seconds: float, writers: int, prefix: str) -> dict:
    """Create pods from ``writers`` threads, each on its own keep-alive connection, for ``seconds``: paced at
    ``rate`` a second in all (a writer that falls behind sends at once), or as fast as possible when rate is 0."""
    path = pods_path(cluster)
    counts = [0] * writers
    durations: list[float] = []
    cpu = time.process_time()
    start = time.monotonic() + 0.2
    end = start + seconds

    def writer(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        interval = writers / rate if rate else 0.0
        n = 0
        while True:
            due = start + (index / writers + n) * interval if rate else time.monotonic()
            if due >= end or time.monotonic() >= end:
                break
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            sent = time.monotonic()
            request(conn, "POST", path, pod(f"{prefix}-{index}-{n}"))
            durations.append((time.monotonic() - sent) * 1000)
            n += 1
        counts[index] = n

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    durations.sort()
    return {"sent": sum(counts), "elapsed": elapsed, "rate": sum(counts) / elapsed,
            "p50": statistics.median(durations), "p99": percentile(durations, 0.99), "cpu": time.process_time() - cpu}


# -- source redis: the publisher (run in a second process: `bench/ws.py --publish ...`) ----------------------


def publish(port: int, cluster: str, template_name: str, first_rv: int, rate: float, seconds: float,
            redis_url: str) -> dict:
    """Send ``object.changed`` messages for new pods to the cluster's group through the Redis channel layer, one
    after the other (their order is the stream's), paced at ``rate`` a second for ``seconds`` (one that falls
    behind is sent at once). Each pod is a copy of the stored pod ``template_name`` with its own name, uid,
    resourceVersion (``first_rv``, then each next one) and send time."""
    os.environ.update(DJANGO_SETTINGS_MODULE="kubeviz.settings", REDIS_URL=redis_url)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from channels.layers import get_channel_layer

    from apiserver.kinds import resource_for_kind
    from apiserver.storage import WatchEvent
    from kubeviz.store.events import cluster_group, watch_message

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    template = json.loads(request(conn, "GET", f"{pods_path(cluster)}/{template_name}"))
    resource = resource_for_kind("", "Pod")
    group = cluster_group(cluster)

    def changed(n: int) -> dict:
        metadata = dict(template["metadata"], name=f"live-{n}", uid=str(uuid.uuid4()),
                        resourceVersion=str(first_rv + n), annotations={ANNOTATION: f"{time.time():.6f}"})
        return watch_message(WatchEvent("ADDED", resource, dict(template, metadata=metadata)))

    async def run() -> dict:
        layer = get_channel_layer()
        loop = asyncio.get_running_loop()
        cpu = time.process_time()
        start = loop.time() + 0.2
        end = start + seconds
        durations = []
        n = 0
        while True:
            due = start + n / rate
            if due >= end:
                break
            if due > loop.time():
                await asyncio.sleep(due - loop.time())
            sent = loop.time()
            await layer.group_send(group, changed(n))
            durations.append((loop.time() - sent) * 1000)
            n += 1
        elapsed = max(loop.time(), end) - start
        await layer.close_pools()
        durations.sort()
        return {"sent": n, "elapsed": elapsed, "rate": n / elapsed, "cpu": time.process_time() - cpu,
                "p50": statistics.median(durations), "p99": percentile(durations, 0.99)}

    return asyncio.run(run())


# -- the clients ---------------------------------------------------------------------------------------------


async def watch(uri: str, ready: asyncio.Event, clients: int, snapshots: list, latencies: list,
                sockets: list, counts: list) -> None:
    """One client: its snapshot, then every frame until the socket is closed (by ``run_clients``)."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    async with connect(uri, compression=None, max_size=None, ping_interval=None, open_timeout=60) as ws:
        sockets.append(ws)
        snapshot = json.loads(await ws.recv())
        assert snapshot["type"] == "snapshot", snapshot["type"]
        snapshots.append(snapshot)
        if len(snapshots) == clients:
            ready.set()
        events = frames = 0
        try:
            async for frame in ws:
                now = time.time()
                sent = SENT.findall(frame)  # one per pod in the frame: a batch carries several
                if sent:
                    latencies.extend(now - float(s) for s in sent)
                    events += len(sent)
                    frames += 1
        except ConnectionClosed:
            pass
        counts.append((events, frames))


async def run_clients(port: int, cluster: str, args, producer) -> tuple[dict, list[float], list, dict]:
    """Connect the clients, run ``producer(snapshot resourceVersion)`` (a command line) and collect what arrives;
    answers the producer's report, the latencies, (events, frames) per client, and the share of one core the
    server, the clients (this process), the producer and Redis used meanwhile."""
    ready = asyncio.Event()
    snapshots, latencies, sockets, counts = [], [], [], []
    uri = f"ws://127.0.0.1:{port}/ws/clusters/{cluster}/"
    tasks = [asyncio.create_task(watch(uri, ready, args.clients, snapshots, latencies, sockets, counts))
             for _ in range(args.clients)]
    waiting = asyncio.create_task(ready.wait())
    await asyncio.wait([waiting, *tasks], return_when=asyncio.FIRST_COMPLETED)
    for task in tasks:
        if task.done() and task.exception() is not None:
            raise task.exception()
    rvs = {s["resourceVersion"] for s in snapshots}
    print(f"{args.clients} clients connected and got their snapshots (resourceVersion {', '.join(sorted(rvs))})")

    redis_url = args.redis_url if args.source == "redis" else None
    cpu_before = cpu_seconds(args.server_pid), time.process_time(), time.monotonic(), redis_cpu_seconds(redis_url)
    driver = await asyncio.create_subprocess_exec(
        *producer(int(max(rvs, key=int))), stdout=asyncio.subprocess.PIPE)
    out, _ = await driver.communicate()
    if driver.returncode != 0:
        raise SystemExit("the producer failed")
    result = json.loads(out)
    # Let the clients drain what is still on the way (the stream goes quiet once every event is delivered).
    expected = result["sent"] * args.clients
    deadline = time.monotonic() + 30
    while len(latencies) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    cpu_after = cpu_seconds(args.server_pid), time.process_time(), time.monotonic(), redis_cpu_seconds(redis_url)
    await asyncio.gather(*(ws.close() for ws in sockets))
    await asyncio.gather(*tasks)
    wall = cpu_after[2] - cpu_before[2]
    cpu = {"server": None if None in (cpu_before[0], cpu_after[0]) else (cpu_after[0] - cpu_before[0]) / wall,
           "clients": (cpu_after[1] - cpu_before[1]) / wall, "producer": result["cpu"] / wall}
    if redis_url:
        cpu["redis"] = (cpu_after[3] - cpu_before[3]) / wall
    return result, latencies, counts, cpu


def percentile(samples: list[float], p: float) -> float:
    return samples[min(len(samples) - 1, int(len(samples) * p))]


def report(args, result: dict, latencies: list[float], counts: list, cpu: dict) -> None:
    expected = result["sent"] * args.clients
    produced = "pod creates" if args.source == "api" else "published changes"
    line = (f"{produced}: {result['sent']} in {result['elapsed']:.1f} s = {result['rate']:.0f}/s "
            f"(target {args.rate:.0f}/s)")
    line += (f"; {'request' if args.source == 'api' else 'group_send'} p50 {result['p50']:.1f} ms, "
             f"p99 {result['p99']:.1f} ms")
    print(line)
    events = [e for e, _ in counts]
    frames = sum(f for _, f in counts)
    print(f"delivered: {len(latencies)} of {expected} events to {args.clients} clients "
          f"= {len(latencies) / result['elapsed']:.0f} events/s in {frames / result['elapsed']:.0f} frames/s "
          f"({len(latencies) / max(frames, 1):.1f} events a frame); per client min {min(events)}, max {max(events)}")
    print("CPU over the run, of one core: " + ", ".join(
        f"{name} {'?' if share is None else f'{100 * share:.0f}%'}" for name, share in cpu.items()))
    if latencies:
        latencies.sort()
        ms = [x * 1000 for x in latencies]
        print(f"latency sent->client: p50 {statistics.median(ms):.1f} ms   p90 {percentile(ms, 0.90):.1f} ms"
              f"   p99 {percentile(ms, 0.99):.1f} ms   max {ms[-1]:.1f} ms   (target p99 < 100 ms)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=("api", "redis"), default="api",
                        help="what produces the changes: pod creates through the HTTP API, or watch messages "
                             "published through the Redis channel layer")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--rate", type=float, default=1000, help="changes a second, in all (api: 0 is unpaced)")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--writers", type=int, default=4, help="api: writer threads, one keep-alive connection each")
    parser.add_argument("--probe-seconds", type=float, default=3, help="api: how long to measure the API alone")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13",
                        help="redis: the server's and the publisher's channel layer (a database of the benchmark's)")
    parser.add_argument("--drive", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--publish", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--cluster", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", default="pod", help=argparse.SUPPRESS)
    parser.add_argument("--template", help=argparse.SUPPRESS)
    parser.add_argument("--first-rv", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        print(json.dumps(drive(args.port, args.cluster, args.rate, args.seconds, args.writers, args.prefix)))
        return
    if args.publish:
        print(json.dumps(publish(args.port, args.cluster, args.template, args.first_rv, args.rate, args.seconds,
                                 args.redis_url)))
        return
    if args.source == "redis" and args.rate <= 0:
        parser.error("--source redis needs a --rate above 0")

    # A cluster name of this run's own: in Redis, its group is nobody else's.
    cluster = f"bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        server, port = start_server(Path(tmp), redis_url=args.redis_url if args.source == "redis" else None)
        args.server_pid = server.pid
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            request(conn, "POST", "/sim/clusters", {"name": cluster, "nodes": 3})
            if args.source == "api":
                request(conn, "POST", "/sim/clusters", {"name": "probe", "nodes": 3})
                probe = drive(port, "probe", 0, args.probe_seconds, args.writers, "probe")
                print(f"API alone: {probe['sent']} pod creates in {probe['elapsed']:.1f} s = {probe['rate']:.0f}/s "
                      f"({args.writers} writers, nobody watching); request p50 {probe['p50']:.1f} ms, "
                      f"p99 {probe['p99']:.1f} ms")

                def producer(rv):
                    return [sys.executable, __file__, "--drive", "--port", str(port), "--cluster", cluster,
                            "--rate", str(args.rate), "--seconds", str(args.seconds), "--writers",
                            str(args.writers), "--prefix", "live"]
            else:
                # One real pod, written through the API: the published pods are copies of it, so the frames are
                # as big as real ones.
                request(conn, "POST", pods_path(cluster), pod("template"))

                def producer(rv):
                    return [sys.executable, __file__, "--publish", "--port", str(port), "--cluster", cluster,
                            "--template", "template", "--first-rv", str(rv + 1), "--rate", str(args.rate),
                            "--seconds", str(args.seconds), "--redis-url", args.redis_url]

            result, latencies, counts, cpu = asyncio.run(run_clients(port, cluster, args, producer))
            report(args, result, latencies, counts, cpu)
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
