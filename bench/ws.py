"""Live-stream benchmark: many websocket clients on one cluster while pods are written through the HTTP API.

Starts Daphne on a free loopback port with a throw-away SQLite database and the in-memory channel layer (as
`make run` serves it, the real-time player off so that only the benchmark writes), creates a cluster, and:

1. measures how many pod creates a second the API sustains with nobody watching (writers as fast as they can);
2. opens N websocket clients on the cluster and waits for their snapshots;
3. from a second process, creates pods through the API at the target rate for the given wall time, each pod
   carrying the time it was sent in an annotation, and every client notes when each event arrives.

Reports the achieved write rate, the frames delivered, and the per-event latency (sent by the writer to received
by a client) across all clients: median, p99 and max. The target of the "live dashboard" issue is 100 clients at
1,000 events/s with p99 < 100 ms. The writers, the clients and the server share this machine's cores, so the
figures are for the whole loop, not the server alone.

    .venv/bin/python bench/ws.py [--clients 100] [--rate 1000] [--seconds 10] [--writers 4]
"""

import argparse
import asyncio
import http.client
import json
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import start_server  # noqa: E402 - the benchmarks' shared launcher


CLUSTER = "bench"
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


# -- the writers (run in a second process: `bench/ws.py --drive ...`) ----------------------------------------


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


def drive(port: int, cluster: str, rate: float, seconds: float, writers: int, prefix: str) -> dict:
    """Create pods from ``writers`` threads, each on its own keep-alive connection, for ``seconds``: paced at
    ``rate`` a second in all (a writer that falls behind sends at once), or as fast as possible when rate is 0."""
    path = f"/clusters/{cluster}/api/v1/namespaces/default/pods"
    counts = [0] * writers
    durations: list[float] = []
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
            "p50": statistics.median(durations), "p99": percentile(durations, 0.99)}


# -- the clients ---------------------------------------------------------------------------------------------


async def watch(uri: str, ready: asyncio.Event, clients: int, connected: list, latencies: list,
                done: asyncio.Event, counts: list) -> None:
    from websockets.asyncio.client import connect

    async with connect(uri, compression=None, max_size=None, ping_interval=None, open_timeout=60) as ws:
        snapshot = json.loads(await ws.recv())
        assert snapshot["type"] == "snapshot", snapshot["type"]
        connected.append(1)
        if len(connected) == clients:
            ready.set()
        received = 0
        while not done.is_set():
            try:
                frame = await asyncio.wait_for(ws.recv(), timeout=0.5)
            except asyncio.TimeoutError:
                continue
            now = time.time()
            match = SENT.search(frame)
            if match is not None:
                latencies.append(now - float(match.group(1)))
                received += 1
        counts.append(received)


async def run_clients(port: int, args) -> tuple[dict, list[float], list[int]]:
    ready, done = asyncio.Event(), asyncio.Event()
    connected, latencies, counts = [], [], []
    uri = f"ws://127.0.0.1:{port}/ws/clusters/{CLUSTER}/"
    tasks = [asyncio.create_task(watch(uri, ready, args.clients, connected, latencies, done, counts))
             for _ in range(args.clients)]
    waiting = asyncio.create_task(ready.wait())
    await asyncio.wait([waiting, *tasks], return_when=asyncio.FIRST_COMPLETED)
    for task in tasks:
        if task.done() and task.exception() is not None:
            raise task.exception()
    print(f"{args.clients} clients connected and got their snapshots")

    driver = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--drive", "--port", str(port), "--cluster", CLUSTER, "--rate", str(args.rate),
        "--seconds", str(args.seconds), "--writers", str(args.writers), "--prefix", "live",
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await driver.communicate()
    if driver.returncode != 0:
        raise SystemExit("the writers failed")
    result = json.loads(out)
    # Let the clients drain what is still on the way (the stream goes quiet once every event is delivered).
    expected = result["sent"] * args.clients
    deadline = time.monotonic() + 30
    while len(latencies) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    done.set()
    await asyncio.gather(*tasks)
    return result, latencies, counts


def percentile(samples: list[float], p: float) -> float:
    return samples[min(len(samples) - 1, int(len(samples) * p))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--rate", type=float, default=1000, help="pod creates a second, in all (0: unpaced)")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--writers", type=int, default=4, help="writer threads, one keep-alive connection each")
    parser.add_argument("--probe-seconds", type=float, default=3)
    parser.add_argument("--drive", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--cluster", default=CLUSTER, help=argparse.SUPPRESS)
    parser.add_argument("--prefix", default="pod", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        print(json.dumps(drive(args.port, args.cluster, args.rate, args.seconds, args.writers, args.prefix)))
        return

    with tempfile.TemporaryDirectory() as tmp:
        server, port = start_server(Path(tmp))
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            for name in ("probe", CLUSTER):
                request(conn, "POST", "/sim/clusters", {"name": name, "nodes": 3})
            probe = drive(port, "probe", 0, args.probe_seconds, args.writers, "probe")
            print(f"API alone: {probe['sent']} pod creates in {probe['elapsed']:.1f} s = {probe['rate']:.0f}/s "
                  f"({args.writers} writers, nobody watching); request p50 {probe['p50']:.1f} ms, "
                  f"p99 {probe['p99']:.1f} ms")

            result, latencies, counts = asyncio.run(run_clients(port, args))
            expected = result["sent"] * args.clients
            print(f"writes: {result['sent']} pods in {result['elapsed']:.1f} s = {result['rate']:.0f}/s "
                  f"(target {args.rate:.0f}/s); request p50 {result['p50']:.1f} ms, p99 {result['p99']:.1f} ms")
            print(f"delivered: {len(latencies)} of {expected} events to {args.clients} clients "
                  f"= {len(latencies) / result['elapsed']:.0f} frames/s; per client min {min(counts)}, "
                  f"max {max(counts)}")
            if latencies:
                latencies.sort()
                ms = [x * 1000 for x in latencies]
                print(f"latency write->client: p50 {statistics.median(ms):.1f} ms   p90 {percentile(ms, 0.90):.1f} ms"
                      f"   p99 {percentile(ms, 0.99):.1f} ms   max {ms[-1]:.1f} ms   (target p99 < 100 ms)")
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
