"""What one suite series' default fit chose: its base forecast, the network's correction
weight and the average with a statistical model (with the validation errors each choice
had), and the fit's own test metrics.

    .venv/bin/python benchmarks/suite_fit_details.py cfpb_daily [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, str(Path(__file__).resolve().parent))
import forecast_suite as suite  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("series", choices=[c.name for c in suite.CASES])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    case = next(c for c in suite.CASES if c.name == args.series)
    series = case.load()
    forecaster = suite.train(case, series, args.seed)
    details = {
        "base": forecaster.base_,
        "network": forecaster.evaluation_["details"]["network"],
        "test_mase": {m: round(v["mase"], 4) for m, v in forecaster.metrics_.items()},
        "last_values": series.iloc[-7:].tolist(),
    }
    print(json.dumps(details, indent=2))


if __name__ == "__main__":
    main()
