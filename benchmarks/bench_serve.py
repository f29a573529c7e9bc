"""Load test of ``rnnkit serve``: requests/s, p50 and p99 latency, errors.

Trains a small forecaster (daily CFPB complaint counts) and a small text classifier (CFPB
narratives), both shipped with rnnkit, starts ``rnnkit serve`` on 127.0.0.1 in a
subprocess and sends, from asyncio clients on 127.0.0.1 in this process:

* a one-window forecast: a history of exactly ``lookback`` periods;
* a batch of 32 texts to classify (top 3);

at 1, 8 and 64 concurrent clients (one keep-alive connection each), each scenario bounded
by a request count and a time limit. Latency is measured client side: the server's time
plus the local round trip and the client's own JSON parsing. Server and clients share the
machine's cores. The server is always stopped at the end.

    .venv/bin/python benchmarks/bench_serve.py

Prints a table and writes benchmarks/results/serve.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import httpx
import numpy as np
import pandas as pd

from rnnkit import Forecaster, TextClassifier, datasets

RESULTS = Path(__file__).resolve().parent / "results" / "serve.json"
CONCURRENCY = (1, 8, 64)


def train_runs(root: Path) -> dict[str, dict]:
    """Small models on shipped data; returns what the table notes about each."""
    events = pd.read_csv(datasets.path(datasets.COMPLAINT_EVENTS))
    forecaster = Forecaster(
        time_column="date_received",
        target_column="complaint_id",
        agg="count",
        freq="D",
        lookback=30,
        horizon=14,
        num_layers=1,
        units=32,
        epochs=5,
        patience=2,
    ).fit(events, verbose=0)
    forecaster.save(root / "complaints-daily")
    narratives = pd.read_csv(datasets.path(datasets.COMPLAINT_NARRATIVES))
    sample = narratives.sample(n=1500, random_state=0)
    classifier = TextClassifier(
        text_column="Consumer complaint narrative",
        label_column="Product_harmonized",
        sequence_length=128,
        max_tokens=5000,
        embedding_dim=32,
        units=32,
        epochs=2,
        drop_rare_classes=True,
    ).fit(sample, verbose=0)
    classifier.save(root / "products")
    texts = narratives["Consumer complaint narrative"].astype(str).str.slice(0, 2000)
    return {
        "forecast": {
            "path": root / "complaints-daily",
            "lookback": forecaster.config.lookback,
            "horizon": forecaster.config.horizon,
            "history": [
                {"time": t.isoformat(), "value": float(v)}
                for t, v in forecaster.series_.iloc[-forecaster.config.lookback :].items()
            ],
            "model": f"LSTM(32), lookback 30, horizon 14, {forecaster.model_.count_params()} "
            "weights",
        },
        "classify": {
            "path": root / "products",
            "texts": texts.iloc[:32].tolist(),
            "model": f"Embedding({classifier.vocabulary_size_}x32) + "
            f"{'Bi' if classifier.config.model.bidirectional else ''}"
            f"{classifier.config.model.cell.upper()}(32), 128 tokens, "
            f"{len(classifier.classes_)} classes",
        },
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(runs: dict[str, dict], port: int, log: Path) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "rnnkit",
        "serve",
        f"sales={runs['forecast']['path']}",
        f"products={runs['classify']['path']}",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
    ]
    env = {k: v for k, v in os.environ.items() if k != "RNNKIT_API_KEY"}
    with log.open("wb") as sink:
        server = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited with {server.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.25)
    stop_server(server)
    raise RuntimeError(f"server did not start in 120 s:\n{log.read_text()}")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGINT)  # uvicorn shuts down cleanly on SIGINT
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


class Connection:
    """One keep-alive HTTP/1.1 connection speaking just what this benchmark needs.

    httpx spends far more CPU per request than the server; on a 2-core machine shared with
    the server that would be measured as server latency. This sends a prepared request
    and reads a Content-Length response (uvicorn always sends one for JSON).
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, request: bytes) -> int:
        # A connection the server closed while it sat idle (uvicorn closes keep-alive
        # connections after 5 s) is replaced before sending, as HTTP client pools do.
        if self.reader is not None and self.reader.at_eof():
            self.close()
            self.reader = self.writer = None
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        body = await self.reader.readexactly(length)
        json.loads(body)  # a client would parse the answer: count that, as httpx does
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def http_request(port: int, path: str, body: dict) -> bytes:
    payload = json.dumps(body).encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    ).encode() + payload


async def scenario(
    port: int, path: str, body: dict, clients: int, requests: int, seconds: float
) -> dict:
    """``clients`` concurrent connections sharing ``requests`` requests and a time limit."""
    request = http_request(port, path, body)
    latencies: list[float] = []
    errors = 0
    remaining = requests
    connections = [Connection(port) for _ in range(clients)]
    for connection in connections:  # warm-up: connections open, compiled shapes
        assert await connection.post(request) == 200
    deadline = time.perf_counter() + seconds

    async def loop(connection: Connection) -> None:
        nonlocal remaining, errors
        while remaining > 0 and time.perf_counter() < deadline:
            remaining -= 1
            start = time.perf_counter()
            try:
                ok = await connection.post(request) == 200
            except (OSError, asyncio.IncompleteReadError, ValueError):
                ok = False
                connection.close()
                connection.writer = None
            latencies.append(time.perf_counter() - start)
            errors += not ok

    started = time.perf_counter()
    await asyncio.gather(*(loop(c) for c in connections))
    elapsed = time.perf_counter() - started
    for connection in connections:
        connection.close()
    ms = np.array(latencies) * 1000
    return {
        "clients": clients,
        "requests": len(latencies),
        "seconds": round(elapsed, 2),
        "requests_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="most per scenario")
    parser.add_argument("--seconds", type=float, default=15.0, help="time limit per scenario")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        runs = train_runs(root)
        print(f"trained both models in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        port = free_port()
        server = start_server(runs, port, root / "server.log")
        try:
            cases = {
                "forecast, one window": (
                    "/models/sales/forecast",
                    {"history": runs["forecast"]["history"]},
                ),
                "classify, 32 texts": (
                    "/models/products/classify",
                    {"texts": runs["classify"]["texts"], "top_k": 3},
                ),
            }
            rows = []
            for case, (path, body) in cases.items():
                for clients in CONCURRENCY:
                    result = asyncio.run(
                        scenario(port, path, body, clients, args.requests, args.seconds)
                    )
                    rows.append({"case": case, **result})
                    print(f"  {case} x{clients}: {result}", file=sys.stderr)
        finally:
            stop_server(server)
        assert server.poll() is not None

    header = (
        f"{'case':<22} {'clients':>7} {'requests':>8} {'req/s':>8} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'errors':>6}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['case']:<22} {r['clients']:>7} {r['requests']:>8} "
            f"{r['requests_per_second']:>8.1f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
            f"{r['errors']:>6}"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                },
                "server": "rnnkit serve, one uvicorn process (h11), access log off, 127.0.0.1",
                "clients": "one asyncio loop, one keep-alive HTTP/1.1 connection per client, same "
                "machine",
                "load_average_at_end": os.getloadavg(),
                "models": {job: runs[job]["model"] for job in runs},
                "limits": {
                    "requests_per_scenario": args.requests,
                    "seconds_per_scenario": args.seconds,
                },
                "results": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS}", file=sys.stderr)


if __name__ == "__main__":
    main()
