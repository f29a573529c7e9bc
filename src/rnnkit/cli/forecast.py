"""``rnnkit forecast``: train, backtest, predict and evaluate forecasters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, get_args

import typer

from rnnkit.cli import tables
from rnnkit.cli.errors import echo, info, user_errors
from rnnkit.cli.options import (
    DATA,
    EVALUATION,
    LR,
    MODEL,
    OUTPUT,
    TRAINING,
    Bidir,
    Cell,
    Clip,
    Distribute,
    Dropout,
    Epochs,
    Layers,
    Out,
    Overwrite,
    Patience,
    PlotPath,
    Quiet,
    Resume,
    Seed,
    choice,
    json_flag,
)
from rnnkit.cli.output import Progress, keras_verbosity, step, training_target, write_output
from rnnkit.cli.processes import Coordinator, NumProcesses, ProcessId, join_processes
from rnnkit.cli.training_runs import print_range_test, print_training_warnings, train_other_process
from rnnkit.config import (
    AGGS,
    BASES,
    COMBINE_WITH,
    FILLS,
    FREQS,
    SCALERS,
    STRATEGIES,
    WINDOW_NORMS,
    ForecastConfig,
)
from rnnkit.config import Loss as LossChoice
from rnnkit.errors import ConfigError

app = typer.Typer(
    help="Forecast a series aggregated from a CSV of events or values.", no_args_is_help=True
)

# The forecaster's own defaults (its model and training differ from the classifier's).
_D = ForecastConfig()
_M, _T = _D.model, _D.training

Data = Annotated[Path, typer.Argument(help="CSV or Parquet file, one row per event or value.")]
TimeColumn = Annotated[str, typer.Option(help="Column of timestamps.", rich_help_panel=DATA)]
TargetColumn = Annotated[
    str, typer.Option(help="Column of values to aggregate and forecast.", rich_help_panel=DATA)
]
# A str, not a choice: a choice ignoring case would list (and refuse) the periods in lower
# case; the configuration upper-cases it and refuses an unknown one with the closest name.
Freq = Annotated[
    str,
    typer.Option(
        help="Period: hours, days, business days, weeks (from Monday), months, quarters, years.",
        metavar="<" + "|".join(FREQS) + ">",
        rich_help_panel=DATA,
    ),
]
Agg = Annotated[
    choice(AGGS),
    typer.Option(help="Per-period aggregate of the rows.", rich_help_panel=DATA),
]
Fill = Annotated[
    choice(FILLS),
    typer.Option(
        help="Periods without rows: zero (auto for sum and count), interpolate (auto "
        "otherwise), ffill.",
        rich_help_panel=DATA,
    ),
]
AllowSparse = Annotated[
    bool,
    typer.Option(
        "--allow-sparse",
        help="Train even when most periods had no rows (by default that stops, naming the "
        "likely cause: a --freq finer than the data, a mistyped year).",
        rich_help_panel=DATA,
    ),
]
TimeFormat = Annotated[
    str | None,
    typer.Option(
        help="Format of every time, e.g. '%d/%m/%Y' (pandas format=); by default the "
        "column's one date order, and a column mixing orders is refused.",
        rich_help_panel=DATA,
    ),
]


def _lookback(value: str) -> int | None:
    """``--lookback``: a number of periods, or ``auto``."""
    if value.strip().lower() == "auto":
        return None
    try:
        return int(value)
    except ValueError:
        raise typer.BadParameter(f"expected a whole number or 'auto', got {value!r}") from None


Lookback = Annotated[
    int | None,
    typer.Option(
        help="Periods the network sees, or auto: 2 x max(horizon, season), at least 8.",
        parser=_lookback,
        metavar="[N|auto]",
        rich_help_panel=MODEL,
    ),
]
Base = Annotated[
    choice(BASES),
    typer.Option(
        help="Forecast the network corrects: auto (the best of naive, seasonal_naive and "
        "seasonal_mean on the validation windows), or that forecast, or none.",
        rich_help_panel=MODEL,
    ),
]
EnsembleSize = Annotated[
    int,
    typer.Option(
        help=(
            "Networks trained together; the forecast is their mean without the lowest "
            "and the highest."
        ),
        rich_help_panel=MODEL,
    ),
]
CombineWith = Annotated[
    choice(COMBINE_WITH),
    typer.Option(
        help="Statistical model whose forecast the network's may be averaged with: the "
        "validation origins choose the network alone or the mean of the two; auto: "
        "AutoARIMA for one series, AutoETS for many (--id-column); none: never.",
        rich_help_panel=MODEL,
    ),
]
Linear = Annotated[
    bool,
    typer.Option(
        "--linear/--no-linear",
        help="Add a linear map of the window to each network.",
        rich_help_panel=MODEL,
    ),
]


def _quantiles(value: str) -> tuple[float, ...]:
    """``--quantiles``: levels separated by commas (``0.1,0.5,0.9``); empty for none."""
    parts = [part.strip() for part in value.split(",") if part.strip()]
    try:
        return tuple(float(part) for part in parts)
    except ValueError:
        raise typer.BadParameter(
            f"expected numbers in (0, 1) separated by commas, such as 0.1,0.5,0.9 (or '' for "
            f"no intervals), got {value!r}"
        ) from None


Quantiles = Annotated[
    str,
    typer.Option(
        help="Levels of the prediction intervals, calibrated on the validation windows "
        "(split conformal): q0.1, q0.5, q0.9 columns beside each forecast. '' for none.",
        parser=_quantiles,
        metavar="Q,Q,...",
        rich_help_panel=EVALUATION,
    ),
]
_QUANTILES = ",".join(f"{q:g}" for q in _D.quantiles)
Calendar = Annotated[
    bool | None,
    typer.Option(
        "--calendar/--no-calendar",
        help="Give the network the calendar features (day of week, day or month of year, "
        "hour) of every period of its window and of the horizon. Default: on for one "
        "series (direct strategy), off for a global model.",
        rich_help_panel=MODEL,
    ),
]


def _names(value: str) -> tuple[str, ...]:
    """``--future-columns``/``--past-columns``: column names separated by commas."""
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _aggs(value: str) -> dict[str, str]:
    """``--agg-columns``: ``column=agg`` pairs separated by commas."""
    pairs = [part.strip() for part in value.split(",") if part.strip()]
    if any("=" not in pair for pair in pairs):
        raise typer.BadParameter(
            f"expected column=agg pairs separated by commas, such as price=mean,promo=max, "
            f"got {value!r}"
        )
    return dict(tuple(part.strip() for part in pair.split("=", 1)) for pair in pairs)


FutureColumns = Annotated[
    str,
    typer.Option(
        help="Columns known ahead (price,promo): read over the window and the horizon; "
        "predict then needs them for the horizon (--future-data).",
        parser=_names,
        metavar="COL,COL,...",
        rich_help_panel=DATA,
    ),
]
PastColumns = Annotated[
    str,
    typer.Option(
        help="Columns observed up to the forecast origin only (temperature).",
        parser=_names,
        metavar="COL,COL,...",
        rich_help_panel=DATA,
    ),
]
StaticColumns = Annotated[
    str,
    typer.Option(
        help="Columns holding one value per series of a global model (region,category): "
        "categories embedded, numbers standardised. Needs --id-column.",
        parser=_names,
        metavar="COL,COL,...",
        rich_help_panel=DATA,
    ),
]
AggColumns = Annotated[
    str,
    typer.Option(
        help="How each covariate column's rows combine per period (price=mean,promo=max); "
        "mean when not named.",
        parser=_aggs,
        metavar="COL=AGG,...",
        rich_help_panel=DATA,
    ),
]
Country = Annotated[
    str | None,
    typer.Option(
        help="With --calendar: a public-holiday flag for this country (US, GB, DE...).",
        rich_help_panel=MODEL,
    ),
]
Horizon = Annotated[int, typer.Option(help="Periods it forecasts.", rich_help_panel=MODEL)]
Strategy = Annotated[
    choice(STRATEGIES),
    typer.Option(
        help="direct: one network outputs the horizon; recursive: one step at a time, fed "
        "back; seq2seq: an encoder and a decoder.",
        rich_help_panel=MODEL,
    ),
]
Scaler = Annotated[
    choice(SCALERS),
    typer.Option(
        help="Scaling, fit on the training part only; auto: minmax for one series, none "
        "with --id-column.",
        rich_help_panel=DATA,
    ),
]
WindowNorm = Annotated[
    choice(WINDOW_NORMS),
    typer.Option(
        help="Per-window normalisation: standard (minus its mean, over its spread), level "
        "(over its mean level), none; auto: standard for one series, level with --id-column.",
        rich_help_panel=DATA,
    ),
]
TestSize = Annotated[
    int | None,
    typer.Option(
        help="Test periods (default: up to 3 horizons, within a fifth of the series; one "
        "horizon a series with --id-column).",
        show_default=False,
        rich_help_panel=EVALUATION,
    ),
]
ValSize = Annotated[
    int | None,
    typer.Option(
        help="Validation periods, for early stopping (default: max(horizon, 15%)).",
        show_default=False,
        rich_help_panel=EVALUATION,
    ),
]
IdColumn = Annotated[
    str | None,
    typer.Option(
        help="Column naming each row's series: one global model across all series.",
        rich_help_panel=DATA,
    ),
]
Ids = Annotated[
    list[str] | None,
    typer.Option(
        "--id",
        help="With --id-column: only this series (repeat for several).",
        rich_help_panel=DATA,
    ),
]
Units = Annotated[int, typer.Option(help="Units per layer.", rich_help_panel=MODEL)]
Batch = Annotated[int, typer.Option(help="Windows per step.", rich_help_panel=TRAINING)]
RunDir = Annotated[Path, typer.Argument(help="A run directory from `forecast train`.")]
Loss = Annotated[
    choice(get_args(LossChoice)),
    typer.Option(
        help="auto: mae with a base; else mse, huber with --id-column.", rich_help_panel=TRAINING
    ),
]
BacktestJson = json_flag(
    "backtest.json (every fold's metrics, their mean, the stride)",
    "the default: a metrics table per fold and their mean, then the verdict",
)
EvaluateJson = json_flag(
    "the metrics as JSON, in metrics.json's shape",
    "the default: a metrics table and the interval coverage",
)


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
    time_format: TimeFormat = None,
    allow_sparse: AllowSparse = False,
    id_column: IdColumn = None,
    ids: Ids = None,
    scaler: Scaler = _D.scaler,
    window_norm: WindowNorm = _D.window_norm,
    lookback: Lookback = "auto" if _D.lookback is None else _D.lookback,
    horizon: Horizon = _D.horizon,
    strategy: Strategy = _D.strategy,
    base: Base = _D.base,
    ensemble_size: EnsembleSize = _D.ensemble_size,
    linear: Linear = _D.linear,
    combine_with: CombineWith = _D.combine_with,
    calendar: Calendar = None,
    country: Country = None,
    future_columns: FutureColumns = "",
    past_columns: PastColumns = "",
    agg_columns: AggColumns = "",
    static_columns: StaticColumns = "",
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
    resume: Resume = False,
    test_size: TestSize = None,
    validation_size: ValSize = None,
    quantiles: Quantiles = _QUANTILES,
    distribute: Distribute = _T.distribute,
    coordinator: Coordinator = None,
    num_processes: NumProcesses = None,
    process_id: ProcessId = None,
    out: Out = Path("runs/forecast"),
    overwrite: Overwrite = False,
    quiet: Quiet = False,
) -> None:
    """Train a forecaster, score it against baselines, write a run directory."""
    skip = ("data", "out", "overwrite", "resume", "skip", "ids", "quiet")
    skip += ("coordinator", "num_processes", "process_id")
    config = _config(**{k: v for k, v in locals().items() if k not in skip})
    join_processes(distribute, coordinator, num_processes, process_id)
    run_forecast_training(data, config, out, overwrite, resume=resume, ids=ids)


def _training_steps(progress: Progress, data, config: ForecastConfig):
    """The steps a forecaster's fit runs around its Keras epochs, as progress shows them."""
    from rnnkit.cli.output import training_steps

    source = data if isinstance(data, (str, Path)) else "the data"
    before = f"reading {source}, aggregating and cutting the windows"
    if config.training.learning_rate == "auto":
        before += ", then the learning-rate range test"
    series = "every series' test part" if config.id_column else "the test part"
    after = f"scoring {series} against naive, seasonal naive, AutoETS, AutoTheta and AutoARIMA"
    return training_steps(progress, before, after)


def _forecaster(config: ForecastConfig):
    """The estimator for ``config``: one series, or a global model with ``id_column``."""
    from rnnkit.forecasting import Forecaster, GlobalForecaster

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
    from rnnkit.forecasting.report import FORECAST_COLUMNS

    selection = _check_ids(config, ids)
    if config.training.distribute and _other_process(data, config, out, selection, resume):
        return
    forecaster = _forecaster(config)
    with training_target(out, overwrite, resume) as (staging, state):
        progress = Progress()
        try:
            forecaster.fit(
                data,
                checkpoint_path=staging / "model.keras",
                state_path=state,
                resume=resume,
                callbacks=(_training_steps(progress, data, config),),
                verbose=keras_verbosity(),
                **selection,
            )
            progress.finish(f"scored the test part: {progress.seconds():.1f} s")
        finally:
            progress.finish()
        with step("writing the run (forecast, plots, report)"):
            forecaster.write_run(staging)
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
    tables.print_metrics(forecaster.metrics_, FORECAST_COLUMNS)
    _describe_intervals(forecaster.metrics_, forecaster.quantiles_)
    if config.id_column is not None:
        echo(
            f"The model beats seasonal naive (MASE) on {details['model_beats_seasonal_naive']} "
            f"of {details['series_scored']} series; per series: "
            f"{out / 'metrics_by_series.csv'}"
        )
    print_training_warnings(forecaster, config.training.learning_rate)
    from rnnkit.forecasting.metrics import evaluation_verdict

    echo(evaluation_verdict(forecaster.evaluation_, config.horizon))
    echo(f"report: {out / 'report.html'}")


@app.command()
@user_errors
def backtest(
    data: Data,
    time_column: TimeColumn = _D.time_column,
    target_column: TargetColumn = _D.target_column,
    freq: Freq = _D.freq,
    agg: Agg = _D.agg,
    fill: Fill = _D.fill,
    time_format: TimeFormat = None,
    allow_sparse: AllowSparse = False,
    id_column: IdColumn = None,
    scaler: Scaler = _D.scaler,
    window_norm: WindowNorm = _D.window_norm,
    lookback: Lookback = "auto" if _D.lookback is None else _D.lookback,
    horizon: Horizon = _D.horizon,
    strategy: Strategy = _D.strategy,
    base: Base = _D.base,
    ensemble_size: EnsembleSize = _D.ensemble_size,
    linear: Linear = _D.linear,
    combine_with: CombineWith = _D.combine_with,
    calendar: Calendar = None,
    country: Country = None,
    future_columns: FutureColumns = "",
    past_columns: PastColumns = "",
    agg_columns: AggColumns = "",
    static_columns: StaticColumns = "",
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
    test_size: TestSize = None,
    validation_size: ValSize = None,
    quantiles: Quantiles = _QUANTILES,
    folds: Annotated[
        int,
        typer.Option(
            help="Folds, each tested on its last --test-size periods.", rich_help_panel=EVALUATION
        ),
    ] = 3,
    stride: Annotated[
        int | None,
        typer.Option(
            help="Periods between the ends of consecutive folds (default: the test size, "
            "so the folds' test parts follow each other).",
            min=1,
            metavar="<int>",
            show_default=False,
            rich_help_panel=EVALUATION,
        ),
    ] = None,
    refit: Annotated[
        bool,
        typer.Option(
            "--refit/--no-refit",
            help="Train the scaler and the model again for every fold, or once for the "
            "first fold and forecast every later fold with it.",
            rich_help_panel=EVALUATION,
        ),
    ] = True,
    out: Annotated[
        Path,
        typer.Option(
            help="Directory to write (per-fold metrics, forecasts, report).",
            rich_help_panel=OUTPUT,
        ),
    ] = Path("runs/backtest"),
    overwrite: Overwrite = False,
    json_output: BacktestJson = False,
    quiet: Quiet = False,
) -> None:
    """Rolling-origin evaluation: forecast several folds' test parts, baselines alongside,
    and write the folds' metrics, forecasts, a plot and a report to --out."""
    skip = ("data", "folds", "stride", "refit", "out", "overwrite", "json_output", "quiet")
    values = {k: v for k, v in locals().items() if k not in (*skip, "skip")}
    run_backtest(data, _config(**values), folds, stride, refit, out, overwrite, json_output)


def run_backtest(
    data: Path,
    config: ForecastConfig,
    folds: int,
    stride: int | None,
    refit: bool,
    out: Path,
    overwrite: bool,
    json_output: bool = False,
) -> None:
    """Runs the backtest into a staging directory that becomes ``out`` once every file is
    written, printing each fold as it ends (on stderr) and the results (on stdout)."""
    from rnnkit.core import persistence
    from rnnkit.core.report import format_number
    from rnnkit.forecasting.backtest_report import (
        backtest_summary,
        backtest_verdict,
        write_backtest,
    )
    from rnnkit.forecasting.backtesting import backtest as backtest_folds
    from rnnkit.forecasting.report import FORECAST_COLUMNS

    progress = Progress()

    def fold_started(fold: int, trains: bool) -> None:
        doing = "training and forecasting" if trains else "forecasting with fold 1's model"
        progress.start(f"fold {fold}/{folds}: {doing}")

    def fold_done(record: dict) -> None:
        metrics = record["metrics"]
        scores = ", ".join(
            f"{method} {format_number(metrics[method]['mase'], 3)}"
            for method in ("model", "seasonal_naive")
            if method in metrics
        )
        progress.finish(
            f"fold {record['fold']}/{folds}: tested {_when(record['test_start'])} .. "
            f"{_when(record['test_end'])} in {record['seconds']:.1f} s; MASE {scores}"
        )

    # The directory is checked (and locked) before any training, and appears only complete.
    with persistence.staged_directory(out, overwrite) as staging:
        try:
            result = backtest_folds(
                data,
                folds,
                config,
                stride=stride,
                refit=refit,
                fold_started=fold_started,
                fold_done=fold_done,
            )
        finally:
            progress.finish()
        write_backtest(staging, config, result)
    if json_output:
        echo(json.dumps(persistence.json_safe(backtest_summary(result)), indent=2))
        return
    for fold in result["folds"]:
        trained = "trained" if fold["trained"] else "fold 1's model"
        tables.print_metrics(
            fold["metrics"],
            FORECAST_COLUMNS,
            title=f"fold {fold['fold']}: test {_when(fold['test_start'])} .. "
            f"{_when(fold['test_end'])} ({trained})",
        )
    tables.print_metrics(result["mean"], FORECAST_COLUMNS, title=f"mean over {folds} folds")
    echo(backtest_verdict(result, config.horizon))
    echo(f"report: {out / 'report.html'}")


def _when(stamp: str) -> str:
    """A period start as printed: its date alone when it is midnight (daily and longer)."""
    return stamp.removesuffix(" 00:00:00")


@app.command()
@user_errors
def predict(
    run_dir: RunDir,
    data: Annotated[
        Path | None, typer.Option(help="Newer rows to forecast from.", rich_help_panel=DATA)
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(help="Write the CSV here instead of stdout.", rich_help_panel=OUTPUT),
    ] = None,
    ids: Ids = None,
    horizon: Annotated[
        int | None,
        typer.Option(
            help="Only the first periods, up to the trained horizon (default: all).",
            show_default=False,
        ),
    ] = None,
    future_data: Annotated[
        Path | None,
        typer.Option(
            help="Rows with the future columns' values for the periods forecast (a run "
            "trained with --future-columns needs them)."
        ),
    ] = None,
) -> None:
    """Forecast the horizon after the end of the data, as CSV (every series of a global
    model, or those named with --id)."""
    from rnnkit import forecasting

    forecaster = forecasting.load(run_dir)
    selection = _check_ids(forecaster.config, ids)
    if future_data is not None:
        if not forecaster.config.future_columns:
            raise ConfigError(
                f"--future-data gives future columns, but the run '{run_dir}' was trained "
                "without --future-columns: leave --future-data out."
            )
        selection["future"] = future_data
    forecast = forecaster.predict(data, horizon=horizon, **selection)
    for key in getattr(forecaster, "unforecast_", []):
        info(f"not forecast: series {key!r} has fewer than {forecaster.config.window} periods")
    if output is None:
        echo(forecast.to_csv(index=False).rstrip("\n"))
    else:
        write_output(output, lambda path: forecast.to_csv(path, index=False))
        info(f"wrote {len(forecast)} forecasts to {output}")


@app.command()
@user_errors
def evaluate(
    run_dir: RunDir,
    data: Annotated[
        Path, typer.Option(help="Rows to score on (its last test periods).", rich_help_panel=DATA)
    ],
    json_output: EvaluateJson = False,
    ids: Ids = None,
) -> None:
    """Metrics of a saved run and the baselines on the last test periods of DATA."""
    from rnnkit import forecasting
    from rnnkit.core.persistence import json_safe
    from rnnkit.forecasting.report import FORECAST_COLUMNS

    forecaster = forecasting.load(run_dir)
    with step(f"scoring the run and naive, seasonal naive and ARIMA on {data}"):
        metrics = forecaster.evaluate(data, **_check_ids(forecaster.config, ids))
    if json_output:
        echo(json.dumps(json_safe(metrics), indent=2))
    else:
        tables.print_metrics(metrics, FORECAST_COLUMNS)
        _describe_intervals(metrics, forecaster.quantiles_)


@app.command(name="lr-find")
@user_errors
def lr_find(
    data: Data,
    time_column: TimeColumn = _D.time_column,
    target_column: TargetColumn = _D.target_column,
    freq: Freq = _D.freq,
    agg: Agg = _D.agg,
    fill: Fill = _D.fill,
    time_format: TimeFormat = None,
    allow_sparse: AllowSparse = False,
    id_column: IdColumn = None,
    scaler: Scaler = _D.scaler,
    window_norm: WindowNorm = _D.window_norm,
    lookback: Lookback = "auto" if _D.lookback is None else _D.lookback,
    horizon: Horizon = _D.horizon,
    strategy: Strategy = _D.strategy,
    base: Base = _D.base,
    ensemble_size: EnsembleSize = _D.ensemble_size,
    linear: Linear = _D.linear,
    combine_with: CombineWith = _D.combine_with,
    calendar: Calendar = None,
    country: Country = None,
    future_columns: FutureColumns = "",
    past_columns: PastColumns = "",
    agg_columns: AggColumns = "",
    static_columns: StaticColumns = "",
    cell: Cell = _M.cell,
    num_layers: Layers = _M.num_layers,
    units: Units = _M.units,
    dropout: Dropout = _M.dropout,
    bidirectional: Bidir = _M.bidirectional,
    batch_size: Batch = _T.batch_size,
    clipnorm: Clip = _T.clipnorm,
    seed: Seed = _T.seed,
    plot: PlotPath = Path("lr_find.png"),
    quiet: Quiet = False,
) -> None:
    """Learning-rate range test: sweep the rate per batch, suggest where loss falls fastest."""
    values = {k: v for k, v in locals().items() if k not in ("data", "plot", "quiet")}
    with step("learning-rate range test: reading the data, training at rising rates"):
        result = _forecaster(_config(**values)).find_learning_rate(data)
    print_range_test(result, plot)


def _describe_intervals(metrics: dict, quantiles: tuple[float, ...]) -> None:
    """One line per central interval: its test coverage and width, and seasonal naive's."""
    from rnnkit.core.report import format_number
    from rnnkit.forecasting.intervals import central_intervals, coverage_name

    for low, _ in central_intervals(quantiles):
        name = coverage_name(low)
        if f"coverage_{name}" not in metrics.get("model", {}):
            continue
        line = f"{name}% interval on the test: coverage {metrics['model'][f'coverage_{name}']:.0%}"
        line += f", mean width {format_number(metrics['model'][f'width_{name}'])}"
        naive = metrics.get("seasonal_naive", {})
        if f"coverage_{name}" in naive:
            line += (
                f" (seasonal naive: {naive[f'coverage_{name}']:.0%}, "
                f"{format_number(naive[f'width_{name}'])})"
            )
        echo(line + ".")


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
        "sMAPE pool every point, MASE is the mean over series. Baselines: "
        + details["baselines"]
        + "."
    )


def _other_process(
    data, config, out: Path, selection: dict | None = None, resume: bool = False
) -> bool:
    """Trains as a process of a multi-process run other than 0 (then True): see
    :func:`~rnnkit.cli.training_runs.train_other_process`."""

    def fit(state: Path) -> None:
        _forecaster(config).fit(
            data, verbose=0, state_path=state, resume=resume, **(selection or {})
        )

    return train_other_process(out, fit)
