"""API latency benchmark: create, get and list of 5,000 pods through a live server on the embedded SQLite.

Starts Daphne on a free loopback port with a throw-away database (as `make run` would serve it), then over one
keep-alive HTTP connection: creates N pods, reads a sample of them back, and lists all of them several times.
Reports medians (and p95) in milliseconds. Targets on a 2-core machine: create < 10 ms, get < 5 ms,
list of 5,000 < 300 ms, and ``kubectl get pods``'s first request (the list as a meta.k8s.io Table, as kubectl asks
for it, with its ``limit=500``: the first chunk of 500) < 300 ms.

    .venv/bin/python bench/api.py [--pods 5000] [--lists 15] [--gets 500]
"""

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import start_server  # noqa: E402 - the benchmarks' shared launcher




TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"


def timed(conn, method, path, body=None, accept=None):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if accept:
        headers["Accept"] = accept
    payload = json.dumps(body) if body is not None else None
    start = time.perf_counter()
    conn.request(method, path, body=payload, headers=headers)
    response = conn.getresponse()
    data = response.read()
    elapsed = (time.perf_counter() - start) * 1000
    if response.status >= 300:
        raise SystemExit(f"{method} {path} -> {response.status}: {data[:300]!r}")
    return elapsed, data


def pod(i: int) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"bench-{i:05d}", "labels": {"app": "bench", "shard": str(i % 10)}},
        "spec": {
            "nodeName": f"node-{1 + i % 3}",
            "containers": [{"name": "work", "image": "busybox:1.36", "command": ["sleep", "30"],
                            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}],
            "restartPolicy": "Never",
        },
    }


def summary(name: str, samples: list[float], target: float) -> str:
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    median = statistics.median(samples)
    verdict = "ok" if median < target else "OVER TARGET"
    return f"{name:<22} n={len(samples):<5} median {median:8.2f} ms   p95 {p95:8.2f} ms   target < {target} ms: {verdict}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--lists", type=int, default=15)
    parser.add_argument("--gets", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server, port = start_server(Path(tmp))
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            base = "/clusters/default/api/v1/namespaces/default/pods"
            creates = [timed(conn, "POST", base, pod(i))[0] for i in range(args.pods)]
            step = max(1, args.pods // args.gets)
            gets = [timed(conn, "GET", f"{base}/bench-{i:05d}")[0] for i in range(0, args.pods, step)]
            lists = []
            for _ in range(args.lists):
                elapsed, data = timed(conn, "GET", base)
                lists.append(elapsed)
            count = len(json.loads(data)["items"])
            assert count == args.pods, count
            tables = []
            for _ in range(args.lists):
                elapsed, data = timed(conn, "GET", base + "?limit=500", accept=TABLE_ACCEPT)
                tables.append(elapsed)
            rows = len(json.loads(data)["rows"])
            print(f"kubeviz API benchmark: {args.pods} pods, SQLite, Daphne, one keep-alive connection")
            print(summary("create pod", creates, 10))
            print(summary("get pod", gets, 5))
            print(summary(f"list {count} pods", lists, 300))
            print(summary(f"get pods Table ({rows})", tables, 300))
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
