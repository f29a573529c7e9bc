"""Soak test of ``rnnkit serve``: many clients mixing valid and hostile requests.

Trains the two small models of ``bench_serve.py``, starts ``rnnkit serve`` on 127.0.0.1 in
a subprocess, and runs ``--clients`` asyncio clients for ``--seconds``. Each request is
drawn at random: a valid forecast or classification (on a keep-alive connection), or a
hostile one on a fresh connection (a body that is not JSON, not UTF-8, a history of a
million ``{}``, a list far over the limits, a body over the size cap, an unknown model).
Reports requests/s, p50 and p99 latency of the valid and of the hostile requests, the
server's resident memory before and after, and the responses by status. A 500, or a valid
request that does not get a 200, is a failure: the script exits 1.

    .venv/bin/python benchmarks/bench_serve_soak.py --clients 64 --seconds 60

Prints a table and writes benchmarks/results/serve_soak.json.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np
from bench_serve import Connection, free_port, http_request, start_server, stop_server, train_runs

RESULTS = Path(__file__).resolve().parent / "results" / "serve_soak.json"
VALID_SHARE = 0.8


def resident_mb(pid: int) -> float:
    """The process's resident memory (VmRSS), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def raw_request(port: int, path: str, payload: bytes) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    ).encode() + payload


def hostile_requests(port: int) -> dict[str, bytes]:
    forecast, classify = "/models/sales/forecast", "/models/products/classify"
    return {
        "not JSON": raw_request(port, classify, b'{"texts": ["a", '),
        "not UTF-8": raw_request(port, classify, '{"texts": ["café"]}'.encode("latin-1")),
        "a million {}": raw_request(
            port, forecast, b'{"history": [' + b",".join([b"{}"] * 1_000_000) + b"]}"
        ),
        "10,000 texts": raw_request(port, classify, json.dumps({"texts": ["a"] * 10_000}).encode()),
        "over the size cap": raw_request(port, forecast, b" " * 3_000_000),
        "unknown model": raw_request(port, "/models/nope/forecast", b"{}"),
    }


async def send_once(port: int, request: bytes) -> int:
    """A request on a fresh connection, closed after: a server may close it after an
    error, before reading the whole body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        try:
            await writer.drain()
        except (ConnectionResetError, BrokenPipeError):
            pass  # answered (413) and closed before the whole body was sent: read it
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        json.loads(await reader.readexactly(length))
        return status
    finally:
        writer.close()


async def soak(port: int, valid: dict[str, bytes], clients: int, seconds: float) -> dict:
    hostile = hostile_requests(port)
    latencies: dict[str, list[float]] = {"valid": [], "hostile": []}
    statuses: collections.Counter[str] = collections.Counter()
    failures: list[str] = []
    deadline = time.perf_counter() + seconds

    async def client(seed: int) -> None:
        rng = random.Random(seed)
        connection = Connection(port)
        while time.perf_counter() < deadline:
            is_valid = rng.random() < VALID_SHARE
            name = rng.choice(sorted(valid if is_valid else hostile))
            start = time.perf_counter()
            try:
                if is_valid:
                    status = await connection.post(valid[name])
                else:
                    status = await send_once(port, hostile[name])
            except (OSError, asyncio.IncompleteReadError, ValueError) as err:
                status = 0
                failures.append(f"{name}: {type(err).__name__}")
                connection.close()
                connection = Connection(port)
            latencies["valid" if is_valid else "hostile"].append(time.perf_counter() - start)
            statuses[f"{name}: {status}"] += 1
            if status >= 500 or (is_valid and status != 200):
                failures.append(f"{name}: {status}")
        connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(seed) for seed in range(clients)))
    elapsed = time.perf_counter() - started
    summary = {"clients": clients, "seconds": round(elapsed, 1)}
    for kind, values in latencies.items():
        ms = np.array(values) * 1000 if values else np.array([np.nan])
        summary[kind] = {
            "requests": len(values),
            "requests_per_second": round(len(values) / elapsed, 1),
            "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p99_ms": round(float(np.percentile(ms, 99)), 2),
        }
    summary["statuses"] = dict(sorted(statuses.items()))
    summary["failures"] = failures[:20]
    summary["failure_count"] = len(failures)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        runs = train_runs(root)
        port = free_port()
        server = start_server(runs, port, root / "server.log")
        try:
            valid = {
                "forecast": http_request(
                    port, "/models/sales/forecast", {"history": runs["forecast"]["history"]}
                ),
                "classify": http_request(
                    port,
                    "/models/products/classify",
                    {"texts": runs["classify"]["texts"], "top_k": 3},
                ),
            }
            for request in valid.values():  # compiled shapes before the clock starts
                assert asyncio.run(send_once(port, request)) == 200
            before = resident_mb(server.pid)
            result = asyncio.run(soak(port, valid, args.clients, args.seconds))
            after = resident_mb(server.pid)
        finally:
            stop_server(server)

    result["memory_mb"] = {"before": round(before, 1), "after": round(after, 1)}
    for kind in ("valid", "hostile"):
        r = result[kind]
        print(
            f"{kind:<8} {r['requests']:>7} requests {r['requests_per_second']:>8.1f}/s  "
            f"p50 {r['p50_ms']:>8.2f} ms  p99 {r['p99_ms']:>8.2f} ms"
        )
    print(f"memory   {before:.0f} MB before, {after:.0f} MB after")
    for status, count in result["statuses"].items():
        print(f"  {status:<28} {count:>7}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                },
                "load_average_at_end": os.getloadavg(),
                "valid_share": VALID_SHARE,
                **result,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS}", file=sys.stderr)
    if result["failure_count"]:
        print(f"{result['failure_count']} failures: {result['failures']}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
