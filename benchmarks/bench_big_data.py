"""Wall time and peak memory of aggregating a 10-million-row event CSV.

Generates (in a temporary directory, deleted afterwards; never committed) a CSV of events
over about three years, writing it in chunks so that generation itself stays small, then
measures, each in a fresh Python process so that peak memory (``ru_maxrss``) belongs to
that measurement alone:

- ``aggregate_file``: the streaming path :meth:`Forecaster.prepare` takes for a CSV;
- ``read_table + aggregate``: the whole file in memory, for comparison (``--skip-in-memory``
  leaves it out on a machine that cannot hold it);
- reading only, with pandas' chunked reader and with pyarrow's streaming reader, to pick
  the reader ``aggregate_file`` uses;
- ``import only``: the interpreter with rnnkit (and Keras) imported, the floor of the others.

Usage:
    .venv/bin/python benchmarks/bench_big_data.py [--rows 10000000] [--skip-in-memory]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).parent / "results" / "big_data.json"
GENERATE_ROWS = 1_000_000

# Each measurement runs as its own process; it prints one JSON line with its figures.
_MEASURE = """
import json, resource, sys, time
import rnnkit.data.streaming
path, what = sys.argv[1], sys.argv[2]
start = time.perf_counter()
if what == "aggregate_file":
    from rnnkit.data.streaming import aggregate_file
    result = aggregate_file(path, "created_at", "amount", "D", "sum", "zero")
    periods = len(result.values)
elif what == "read_table + aggregate":
    from rnnkit.data.reading import read_table
    from rnnkit.data.timeseries import aggregate
    frame = read_table(path, columns=["created_at", "amount"])
    result = aggregate(frame, "created_at", "amount", "D", "sum", "zero")
    periods = len(result.values)
elif what == "pandas chunked read only":
    import pandas as pd
    reader = pd.read_csv(path, usecols=[0, 1], dtype=str, keep_default_na=False,
                         chunksize=1_000_000)
    periods = sum(len(chunk) for chunk in reader)
elif what == "pyarrow streaming read only":
    import pyarrow as pa
    import pyarrow.csv as pacsv
    options = pacsv.ConvertOptions(
        column_types={"created_at": pa.string(), "amount": pa.string()},
        include_columns=["created_at", "amount"],
    )
    reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=1 << 25),
                            convert_options=options)
    # to_pandas: aggregate_file's parsing works on pandas objects.
    periods = sum(len(batch.to_pandas()) for batch in reader)
else:
    periods = 0
seconds = time.perf_counter() - start
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "result_rows": periods}))
"""


def generate(path: Path, rows: int, seed: int = 0) -> None:
    """Writes ``rows`` unsorted events over three years, a million rows at a time."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2022-01-01T00:00:00")
    span = 3 * 365 * 24 * 3600
    with path.open("w", encoding="utf-8") as handle:
        handle.write("id,created_at,amount\n")
        for first in range(0, rows, GENERATE_ROWS):
            n = min(GENERATE_ROWS, rows - first)
            times = start + rng.integers(0, span, size=n).astype("timedelta64[s]")
            frame = pd.DataFrame(
                {
                    "id": np.arange(first, first + n),
                    "created_at": np.datetime_as_string(times, unit="s"),
                    "amount": np.round(rng.gamma(2.0, 150.0, size=n), 2),
                }
            )
            frame.to_csv(handle, header=False, index=False, float_format="%.2f")


def measure(path: Path, what: str) -> dict[str, object]:
    """Runs one measurement in a fresh process and returns its figures."""
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path), what],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return {"what": what, "error": done.stderr.strip().splitlines()[-1:]}
    return {"what": what, **json.loads(done.stdout.strip().splitlines()[-1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument(
        "--skip-in-memory",
        action="store_true",
        help="leave out read_table + aggregate, which holds the whole file in memory",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "events.csv"
        started = time.perf_counter()
        generate(path, args.rows)
        generate_seconds = time.perf_counter() - started
        size_mb = path.stat().st_size / 2**20
        print(f"{args.rows:,} rows, {size_mb:.0f} MB, generated in {generate_seconds:.0f} s")

        names = ["import only", "aggregate_file", "pandas chunked read only"]
        names.append("pyarrow streaming read only")
        if not args.skip_in_memory:
            names.append("read_table + aggregate")
        results = []
        for what in names:
            result = measure(path, what)
            results.append(result)
            if "error" in result:
                print(f"{what:30s} failed: {result['error']}")
            else:
                print(
                    f"{what:30s} {result['seconds']:8.1f} s {result['peak_mb']:8.0f} MB peak"
                    f" ({result['result_rows']:,} result rows)"
                )

    RESULTS.parent.mkdir(exist_ok=True)
    report = {"rows": args.rows, "file_mb": round(size_mb), "results": results}
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
