"""``rnnkit forecast``: train, backtest, predict and evaluate forecasters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from rnnkit.cli.errors import echo, info, user_errors
from rnnkit.cli.errors import learning_rate as learning_rate_option
from rnnkit.cli.processes import Coordinator, NumProcesses, ProcessId, join_processes
from rnnkit.config import ForecastConfig, ModelConfig, TrainingConfig
from rnnkit.errors import ConfigError

app = typer.Typer(
    help="Forecast a series aggregated from a CSV of events or values.", no_args_is_help=True
)

_D, _M, _T = ForecastConfig(), ModelConfig(), TrainingConfig()

Data = Annotated[Path, typer.Argument(help="CSV or Parquet file, one row per event or value.")]
TimeColumn = Annotated[str, typer.Option(help="Column of timestamps.")]
TargetColumn = Annotated[str, typer.Option(help="Column of values to aggregate and forecast.")]
Freq = Annotated[str, typer.Option(help="Period: H, D, B, W, M, Q or Y.")]
Agg = Annotated[str, typer.Option(help="Per-period aggregate: sum, mean, count, last, min, max.")]
Fill = Annotated[str, typer.Option(help="Periods without rows: auto, zero, interpolate, ffill.")]
Lookback = Annotated[int, typer.Option(help="Periods the network sees.")]
Horizon = Annotated[int, typer.Option(help="Periods it forecasts.")]
Strategy = Annotated[
    str, typer.Option(help="direct (one network, whole horizon), recursive, or seq2seq.")
]
Scaler = Annotated[str, typer.Option(help="minmax, standard or none; fit on training part only.")]
WindowNorm = Annotated[str, typer.Option(help="Per-window normalisation: level, standard, none.")]
TestSize = Annotated[int | None, typer.Option(help="Test periods (default: the horizon).")]
ValSize = Annotated[
    int | None, typer.Option(help="Validation periods (default: max(horizon, 15%)).")
]
IdColumn = Annotated[
    str | None,
    typer.Option(help="Column naming each row's series: one global model across all series."),
]
Ids = Annotated[
    list[str] | None,
    typer.Option("--id", help="With --id-column: only this series (repeat for several)."),
]
Cell = Annotated[str, typer.Option(help="lstm, gru or simple_rnn.")]
Layers = Annotated[int, typer.Option(help="Stacked recurrent layers.")]
Units = Annotated[int, typer.Option(help="Units per layer.")]
Dropout = Annotated[float, typer.Option(help="Dropout after each recurrent layer.")]
Bidir = Annotated[
    bool, typer.Option("--bidirectional/--unidirectional", help="Bidirectional layers.")
]
Epochs = Annotated[int, typer.Option(help="Most epochs; early stopping usually ends sooner.")]
Batch = Annotated[int, typer.Option(help="Windows per step.")]
LR = Annotated[
    str,
    typer.Option(
        help="Adam learning rate, or 'auto' (the range test's suggestion).",
        parser=learning_rate_option,
    ),
]
Patience = Annotated[int, typer.Option(help="Epochs without a better validation loss.")]
Loss = Annotated[str, typer.Option(help="auto (mse; huber with --id-column), mse or huber.")]
Clip = Annotated[float, typer.Option(help="Gradient norm clipping (0: off).")]
Seed = Annotated[int, typer.Option(help="Random seed: the same seed gives the same run.")]
Distribute = Annotated[
    bool,
    typer.Option(
        help="Data-parallel training on every local device (and every process named by "
        "RNNKIT_COORDINATOR, RNNKIT_NUM_PROCESSES, RNNKIT_PROCESS_ID); --batch-size is global."
    ),
]
Out = Annotated[Path, typer.Option(help="Run directory to write.")]
Overwrite = Annotated[bool, typer.Option(help="Replace --out if it exists.")]
Resume = Annotated[
    bool,
    typer.Option(
        help="Continue an interrupted run of this same command from its last completed epoch."
    ),
]


def _config(**values) -> ForecastConfig:
    from rnnkit.forecasting import make_config

    return make_config(None, **values)


@app.command()
@user_errors
def train(
    data: Data,
    time_column: TimeColumn = _D.time_column,
    target_column: TargetColumn = _D.target_column,
    freq: Freq = _D.freq,
    agg: Agg = _D.agg,
    fill: Fill = _D.fill,
    lookback: Lookback = _D.lookback,
    horizon: Horizon = _D.horizon,
    strategy: Strategy = _D.strategy,
    scaler: Scaler = _D.scaler,
    window_norm: WindowNorm = _D.window_norm,
    test_size: TestSize = None,
    validation_size: ValSize = None,
    id_column: IdColumn = None,
    ids: Ids = None,
    cell: Cell = _M.cell,
    num_layers: Layers = _M.num_layers,
    units: Units = _M.units,
    dropout: Dropout = _M.dropout,
    bidirectional: Bidir = _M.bidirectional,
    epochs: Epochs = _T.epochs,
    batch_size: Batch = _T.batch_size,
    learning_rate: LR = str(_T.learning_rate),
    patience: Patience = _T.patience,
    loss: Loss = _T.loss,
    clipnorm: Clip = _T.clipnorm,
    seed: Seed = _T.seed,
    distribute: Distribute = _T.distribute,
    coordinator: Coordinator = None,
    num_processes: NumProcesses = None,
    process_id: ProcessId = None,
    out: Out = Path("runs/forecast"),
    overwrite: Overwrite = False,
    resume: Resume = False,
) -> None:
    """Train a forecaster, score it against baselines, write a run directory."""
    skip = ("data", "out", "overwrite", "resume", "skip", "ids")
    skip += ("coordinator", "num_processes", "process_id")
    config = _config(**{k: v for k, v in locals().items() if k not in skip})
    join_processes(distribute, coordinator, num_processes, process_id)
    run_forecast_training(data, config, out, overwrite, resume=resume, ids=ids)


def _forecaster(config: ForecastConfig):
    """The estimator for ``config``: one series, or a global model with ``id_column``."""
    from rnnkit.forecasting import Forecaster
    from rnnkit.global_forecasting import GlobalForecaster

    return GlobalForecaster(config) if config.id_column else Forecaster(config)


def _check_ids(config: ForecastConfig, ids: list[str] | None) -> dict:
    """``fit``/``predict`` keywords for ``--id``, which needs ``--id-column``."""
    if not ids:
        return {}
    if config.id_column is None:
        raise ConfigError("--id names series of a global model: give --id-column too.")
    return {"ids": ids}


def run_forecast_training(
    data: Path,
    config: ForecastConfig,
    out: Path,
    overwrite: bool,
    resume: bool = False,
    ids: list[str] | None = None,
) -> None:
    from rnnkit import persistence, reporting
    from rnnkit.resume import announce, state_path

    selection = _check_ids(config, ids)
    if config.training.distribute and _other_process(data, config, out, selection, resume):
        return
    persistence.check_output_directory(out, overwrite)
    forecaster = _forecaster(config)
    state = state_path(out)
    announce(state, resume, info)
    with persistence.staged_directory(out, overwrite) as staging:
        forecaster.fit(
            data,
            checkpoint_path=staging / "model.keras",
            state_path=state,
            resume=resume,
            **selection,
        )
        forecaster.write_run(staging)
    state.unlink(missing_ok=True)  # the run is in place: nothing left to resume
    prep = forecaster.preparation_
    details = forecaster.evaluation_["details"]
    if config.id_column is None:
        info(
            f"{prep['periods']} periods from {prep['start']} to {prep['end']}; "
            f"{prep['periods_filled']} empty periods filled ({config.fill_method}); "
            f"{prep['rows_missing_target']} rows without a target skipped."
        )
        echo(
            f"Test: last {forecaster.split_['test']} periods, horizon {config.horizon}, "
            f"{details['zero_actuals_excluded_from_mape']} zero actuals excluded from MAPE."
        )
    else:
        _describe_panel(forecaster, config)
    echo(reporting.metrics_table(forecaster.metrics_, reporting.FORECAST_COLUMNS))
    if config.id_column is not None:
        echo(
            f"The model beats seasonal naive (MASE) on {details['model_beats_seasonal_naive']} "
            f"of {details['series_scored']} series; per series: "
            f"{out / 'metrics_by_series.csv'}"
        )
    health = forecaster.gradient_health_
    for finding in health.findings if health is not None else ():
        info(f"warning: {finding.message}")
    if forecaster.stopped_on_nan_:
        info("warning: training stopped on a NaN loss; the best weights before it are kept.")
    if config.training.learning_rate == "auto":
        if not forecaster.learning_rate_range_test_.conclusive:
            info(
                "warning: the range test was inconclusive (the loss did not fall during the "
                "sweep); trained at the default learning rate instead."
            )
        echo(f"learning rate (range test): {forecaster.learning_rate_:.3g}")
    echo(f"report: {out / 'report.html'}")


@app.command()
@user_errors
def backtest(
    data: Data,
    folds: Annotated[int, typer.Option(help="Rolling origins, each a refit.")] = 3,
    time_column: TimeColumn = _D.time_column,
    target_column: TargetColumn = _D.target_column,
    freq: Freq = _D.freq,
    agg: Agg = _D.agg,
    fill: Fill = _D.fill,
    lookback: Lookback = _D.lookback,
    horizon: Horizon = _D.horizon,
    strategy: Strategy = _D.strategy,
    scaler: Scaler = _D.scaler,
    window_norm: WindowNorm = _D.window_norm,
    id_column: IdColumn = None,
    cell: Cell = _M.cell,
    num_layers: Layers = _M.num_layers,
    units: Units = _M.units,
    dropout: Dropout = _M.dropout,
    bidirectional: Bidir = _M.bidirectional,
    epochs: Epochs = _T.epochs,
    batch_size: Batch = _T.batch_size,
    learning_rate: LR = str(_T.learning_rate),
    seed: Seed = _T.seed,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Rolling-origin evaluation: refit scaler and model per fold, baselines alongside."""
    values = {k: v for k, v in locals().items() if k not in ("data", "folds", "json_output")}
    from rnnkit import reporting
    from rnnkit.backtesting import backtest as run_backtest

    result = run_backtest(data, folds, _config(**values))
    if json_output:
        from rnnkit.persistence import _clean

        echo(json.dumps(_clean(result), indent=2))
        return
    for fold in result["folds"]:
        echo(f"fold {fold['fold']}: test {fold['test_start']} .. {fold['test_end']}")
        echo(reporting.metrics_table(fold["metrics"], reporting.FORECAST_COLUMNS))
        echo()
    echo(f"mean over {folds} folds")
    echo(reporting.metrics_table(result["mean"], reporting.FORECAST_COLUMNS))


@app.command()
@user_errors
def predict(
    run_dir: Annotated[Path, typer.Argument(help="A run directory from `forecast train`.")],
    data: Annotated[Path | None, typer.Option(help="Newer rows to forecast from.")] = None,
    output: Annotated[Path | None, typer.Option(help="Write CSV here instead of stdout.")] = None,
    ids: Ids = None,
) -> None:
    """Forecast the horizon after the end of the data, as CSV (every series of a global
    model, or those named with --id)."""
    from rnnkit.forecasting import Forecaster

    forecaster = Forecaster.load(run_dir)
    forecast = forecaster.predict(data, **_check_ids(forecaster.config, ids))
    for key in getattr(forecaster, "unforecast_", []):
        info(f"not forecast: series {key!r} has fewer than {forecaster.config.window} periods")
    if output is None:
        echo(forecast.to_csv(index=False).rstrip("\n"))
    else:
        tmp = output.with_name(f".{output.name}.partial")
        forecast.to_csv(tmp, index=False)
        tmp.replace(output)
        info(f"wrote {len(forecast)} forecasts to {output}")


@app.command()
@user_errors
def evaluate(
    run_dir: Annotated[Path, typer.Argument(help="A run directory from `forecast train`.")],
    data: Annotated[Path, typer.Option(help="Rows to score on (its last test periods).")],
    json_output: Annotated[
        bool, typer.Option("--json", help="Print metrics.json's shape.")
    ] = False,
    ids: Ids = None,
) -> None:
    """Metrics of a saved run and the baselines on the last test periods of DATA."""
    from rnnkit import reporting
    from rnnkit.forecasting import Forecaster
    from rnnkit.persistence import _clean

    forecaster = Forecaster.load(run_dir)
    metrics = forecaster.evaluate(data, **_check_ids(forecaster.config, ids))
    if json_output:
        echo(json.dumps(_clean(metrics), indent=2))
    else:
        echo(reporting.metrics_table(metrics, reporting.FORECAST_COLUMNS))


@app.command(name="lr-find")
@user_errors
def lr_find(
    data: Data,
    time_column: TimeColumn = _D.time_column,
    target_column: TargetColumn = _D.target_column,
    freq: Freq = _D.freq,
    agg: Agg = _D.agg,
    fill: Fill = _D.fill,
    lookback: Lookback = _D.lookback,
    horizon: Horizon = _D.horizon,
    strategy: Strategy = _D.strategy,
    scaler: Scaler = _D.scaler,
    window_norm: WindowNorm = _D.window_norm,
    id_column: IdColumn = None,
    cell: Cell = _M.cell,
    num_layers: Layers = _M.num_layers,
    units: Units = _M.units,
    dropout: Dropout = _M.dropout,
    bidirectional: Bidir = _M.bidirectional,
    batch_size: Batch = _T.batch_size,
    clipnorm: Clip = _T.clipnorm,
    seed: Seed = _T.seed,
    plot: Annotated[Path, typer.Option(help="Where to write the loss-vs-rate plot.")] = Path(
        "lr_find.png"
    ),
) -> None:
    """Learning-rate range test: sweep the rate per batch, suggest where loss falls fastest."""
    values = {k: v for k, v in locals().items() if k not in ("data", "plot")}
    result = _forecaster(_config(**values)).find_learning_rate(data)
    result.plot(plot)
    echo(
        f"swept {result.learning_rates[0]:.1e} .. {result.learning_rates[-1]:.1e} in "
        f"{len(result.learning_rates)} batches"
        + (" (stopped: the loss diverged)" if result.diverged else "")
    )
    echo(f"suggested learning rate: {result.suggestion:.3g}")
    if not result.conclusive:
        from rnnkit.lr_finder import loss_fall

        echo(
            "inconclusive: the loss did not fall during the sweep (its best median is "
            f"{loss_fall(result.losses):.0%} of its start), so the suggestion is noise; keep "
            "the default --learning-rate or look at the plot."
        )
    echo(f"plot: {plot}")


def _describe_panel(forecaster, config: ForecastConfig) -> None:
    prep = forecaster.preparation_
    details = forecaster.evaluation_["details"]
    info(
        f"{prep['series']} series ({config.id_column}), {prep['periods']} periods in all, "
        f"{prep['start']} to {prep['end']}; {prep['periods_filled']} empty periods filled "
        f"({config.fill_method}); {prep['rows_missing_target']} rows without a target skipped."
    )
    for key, reason in list(prep["skipped"].items())[:5]:
        info(f"skipped series {key!r}: {reason}")
    if len(prep["skipped"]) > 5:
        info(f"... and {len(prep['skipped']) - 5} more series skipped (report.html lists them).")
    echo(
        f"Test: last {config.test_size or config.horizon} periods of each of "
        f"{details['series_scored']} series, horizon {config.horizon}; overall MAE/RMSE/MAPE/"
        "sMAPE pool every point, MASE is the mean over series. ARIMA " + details["arima"] + "."
    )


def _other_process(
    data, config, out: Path, selection: dict | None = None, resume: bool = False
) -> bool:
    """In a multi-process run, trains as a process other than 0 and returns True.

    Process 0 alone writes the run directory, the checkpoint and the training state; the
    others take their share of every training step (the steps are collective), write
    nothing, and then exit. With ``resume`` they read process 0's state (same path).
    """
    from rnnkit import training
    from rnnkit.resume import state_path

    if not training.initialize_processes() or training.process_index()[0] == 0:
        return False
    _forecaster(config).fit(
        data, verbose=0, state_path=state_path(out), resume=resume, **(selection or {})
    )
    process, processes = training.process_index()
    info(f"process {process} of {processes}: trained; process 0 wrote the run to {out}")
    return True
