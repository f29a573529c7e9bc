"""``rnnkit demo``: both jobs, end to end, on real data shipped inside the package."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from rnnkit import datasets
from rnnkit.cli.classify import run_classify_training
from rnnkit.cli.errors import echo, user_errors
from rnnkit.cli.forecast import run_forecast_training


@user_errors
def demo(
    out: Annotated[Path, typer.Option(help="Where the demo runs are written.")] = Path("runs/demo"),
) -> None:
    """Train and evaluate on shipped CFPB complaint data; print metrics and report paths."""
    from rnnkit.forecasting import make_config

    started = time.perf_counter()
    echo("== Forecasting: CFPB complaints received per day (one row per complaint) ==")
    # The test is the last six weeks, three origins of two weeks each (one origin is too
    # small to judge); the shipped rows are the dense part of the sample, so the test
    # periods are ordinary days, not the thinned-out tail of the sample.
    config = make_config(
        time_column="date_received",
        target_column="complaint_id",
        agg="count",
        freq="D",
        lookback=28,
        horizon=14,
        test_size=42,
        epochs=60,
        patience=8,
    )
    run_forecast_training(
        datasets.path(datasets.COMPLAINT_EVENTS), config, out / "forecast", overwrite=True
    )

    from rnnkit.classification import make_config as make_classifier_config

    echo("\n== Text classification: CFPB complaint narratives by product ==")
    # Kept under a minute and a half on two CPU cores: texts cut to 96 tokens and at most
    # 6 epochs (the defaults use up to 128 tokens and 20 epochs).
    echo("(demo settings: --sequence-length 96 --epochs 6, to run in about a minute)")
    classifier_config = make_classifier_config(
        text_column="Consumer complaint narrative",
        label_column="Product_harmonized",
        sequence_length=96,
        epochs=6,
    )
    run_classify_training(
        datasets.path(datasets.COMPLAINT_NARRATIVES),
        classifier_config,
        out / "classify",
        overwrite=True,
    )
    echo(f"\ndemo finished in {time.perf_counter() - started:.0f} s")
