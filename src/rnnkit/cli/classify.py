"""``rnnkit classify``: train, predict and evaluate text classifiers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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
    CLASS_WEIGHTS,
    NGRAM_FEATURES,
    PADDINGS,
    POOLINGS,
    TRUNCATIONS,
    ClassifierConfig,
)
from rnnkit.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from rnnkit.classification import TextClassifier

app = typer.Typer(help="Classify texts (CSV or Parquet of texts and labels).", no_args_is_help=True)

_D = ClassifierConfig()
_M, _T = _D.model, _D.training

Data = Annotated[Path, typer.Argument(help="CSV or Parquet file, one row per text.")]
TextColumn = Annotated[str, typer.Option(help="Column of texts.", rich_help_panel=DATA)]
LabelColumn = Annotated[str, typer.Option(help="Column of labels.", rich_help_panel=DATA)]
Stopwords = Annotated[
    bool,
    typer.Option(
        "--remove-stopwords/--keep-stopwords",
        help="Remove English stop words (NLTK list).",
        rich_help_panel=DATA,
    ),
]
MaxTokens = Annotated[
    int,
    typer.Option(help="Largest vocabulary (2 special tokens included).", rich_help_panel=DATA),
]
SeqLength = Annotated[
    int | None,
    typer.Option(
        help="Tokens per text (default: 95th percentile of training texts, at most 128).",
        show_default=False,
        rich_help_panel=DATA,
    ),
]
Padding = Annotated[
    choice(PADDINGS),
    typer.Option(help="Pad short texts at the start or the end.", rich_help_panel=DATA),
]
Truncation = Annotated[
    choice(TRUNCATIONS),
    typer.Option(help="Cut long texts at the end or the start.", rich_help_panel=DATA),
]
EmbeddingDim = Annotated[int, typer.Option(help="Size of each word vector.", rich_help_panel=MODEL)]
SpatialDropout = Annotated[
    float, typer.Option(help="SpatialDropout1D after the embedding.", rich_help_panel=MODEL)
]
Pooling = Annotated[
    choice(POOLINGS),
    typer.Option(help="max (over all steps) or last (final state).", rich_help_panel=MODEL),
]
NgramFeatures = Annotated[
    choice(NGRAM_FEATURES),
    typer.Option(
        help="The linear (wide) part beside the recurrent network: TF-IDF n-grams of "
        "words, characters or both, or none (the recurrent network alone).",
        rich_help_panel=MODEL,
    ),
]
ClassWeight = Annotated[
    choice(CLASS_WEIGHTS),
    typer.Option(help="none, or balanced (inverse class frequency).", rich_help_panel=TRAINING),
]
TestSize = Annotated[
    float, typer.Option(help="Fraction of rows held out for the test.", rich_help_panel=EVALUATION)
]
ValSize = Annotated[
    float,
    typer.Option(help="Fraction of the rest used for early stopping.", rich_help_panel=EVALUATION),
]
Refit = Annotated[
    bool,
    typer.Option(
        "--refit/--no-refit",
        help="Once early stopping has chosen the epochs, train again on the train and "
        "validation parts together for that many epochs.",
        rich_help_panel=TRAINING,
    ),
]
EnsembleSize = Annotated[
    int,
    typer.Option(
        help="Networks in the refit model; it predicts the mean of their probabilities.",
        rich_help_panel=MODEL,
    ),
]
DropRare = Annotated[
    bool,
    typer.Option(
        help="Leave out classes with fewer than 3 rows instead of stopping with an error.",
        rich_help_panel=DATA,
    ),
]
TestData = Annotated[
    Path | None,
    typer.Option(
        help="A fixed test file (same columns); then DATA is split into train and validation only.",
        rich_help_panel=EVALUATION,
    ),
]
Stream = Annotated[
    bool | None,
    typer.Option(
        "--stream/--no-stream",
        help="Read, clean and encode the file in chunks at every epoch (a corpus larger than "
        "memory). Default: only for a file over 100 MB (gzip or Parquet: 20 MB).",
        show_default=False,
        rich_help_panel=DATA,
    ),
]
ChunkRows = Annotated[
    int, typer.Option(help="Rows read at a time when streaming.", rich_help_panel=DATA)
]
Units = Annotated[int, typer.Option(help="Units per layer (per direction).", rich_help_panel=MODEL)]
RecDropout = Annotated[
    float,
    typer.Option(
        help="Dropout on the recurrent state (slow: rules out fused kernels).",
        rich_help_panel=MODEL,
    ),
]
Batch = Annotated[int, typer.Option(help="Texts per step.", rich_help_panel=TRAINING)]
RunDir = Annotated[Path, typer.Argument(help="A run directory from `classify train`.")]
PredictJson = json_flag(
    "a JSON list of {text, label, probability} records",
    "the default: CSV with a label and a probability column",
)
EvaluateJson = json_flag(
    "the metrics as JSON, in metrics.json's shape", "the default: a metrics table"
)


@app.command()
@user_errors
def train(
    data: Data,
    text_column: TextColumn = _D.text_column,
    label_column: LabelColumn = _D.label_column,
    remove_stopwords: Stopwords = _D.remove_stopwords,
    max_tokens: MaxTokens = _D.max_tokens,
    sequence_length: SeqLength = _D.sequence_length,
    padding: Padding = _D.padding,
    truncation: Truncation = _D.truncation,
    drop_rare_classes: DropRare = _D.drop_rare_classes,
    stream: Stream = None,
    chunk_rows: ChunkRows = _D.chunk_rows,
    embedding_dim: EmbeddingDim = _D.embedding_dim,
    spatial_dropout: SpatialDropout = _D.spatial_dropout,
    pooling: Pooling = _D.pooling,
    ngram_features: NgramFeatures = _D.ngram_features,
    cell: Cell = _M.cell,
    num_layers: Layers = _M.num_layers,
    units: Units = _M.units,
    dropout: Dropout = _M.dropout,
    recurrent_dropout: RecDropout = _M.recurrent_dropout,
    bidirectional: Bidir = _M.bidirectional,
    epochs: Epochs = _T.epochs,
    batch_size: Batch = _T.batch_size,
    learning_rate: LR = str(_T.learning_rate),
    patience: Patience = _T.patience,
    class_weight: ClassWeight = _D.class_weight,
    clipnorm: Clip = _T.clipnorm,
    seed: Seed = _T.seed,
    resume: Resume = False,
    test_size: TestSize = _D.test_size,
    validation_size: ValSize = _D.validation_size,
    refit: Refit = _D.refit,
    ensemble_size: EnsembleSize = _D.ensemble_size,
    test_data: TestData = None,
    distribute: Distribute = _T.distribute,
    coordinator: Coordinator = None,
    num_processes: NumProcesses = None,
    process_id: ProcessId = None,
    out: Out = Path("runs/classify"),
    overwrite: Overwrite = False,
    quiet: Quiet = False,
) -> None:
    """Train a text classifier, score it against baselines, write a run directory."""
    from rnnkit.classification import make_config

    skip = ("data", "test_data", "out", "overwrite", "resume", "make_config", "skip", "quiet")
    skip += ("coordinator", "num_processes", "process_id")
    skip += ("stream",)
    config = make_config(None, **{k: v for k, v in locals().items() if k not in skip})
    config = config.replace(stream="auto" if stream is None else stream)  # no flag: auto
    join_processes(distribute, coordinator, num_processes, process_id)
    run_classify_training(data, config, out, overwrite, test_data=test_data, resume=resume)


def run_classify_training(
    data: Path | pd.DataFrame,
    config: ClassifierConfig,
    out: Path,
    overwrite: bool,
    test_data: Path | None = None,
    resume: bool = False,
) -> TextClassifier | None:
    """Trains, writes the run directory (complete or not at all) and prints the metrics.

    Returns ``None`` in a multi-process run's processes other than 0, which write nothing.
    """
    from rnnkit.classification import TextClassifier
    from rnnkit.classification.report import CLASSIFICATION_COLUMNS

    if config.training.distribute and _other_process(data, config, out, test_data, resume):
        return None
    classifier = TextClassifier(config)
    with training_target(out, overwrite, resume) as (staging, state):
        progress = Progress()
        try:
            classifier.fit(
                data,
                test_data=test_data,
                checkpoint_path=staging / "model.keras",
                state_path=state,
                resume=resume,
                callbacks=(_training_steps(progress, data, config),),
                verbose=keras_verbosity(),
            )
            progress.finish(f"scored the test part: {progress.seconds():.1f} s")
        finally:
            progress.finish()
        with step("writing the run (plots, report)"):
            classifier.write_run(staging)
    prep = classifier.preparation_
    info(
        f"{prep['rows_used']} of {prep['rows_read']} rows used: {prep['rows_without_text']} "
        f"without a text, {prep['rows_without_label']} without a label, "
        f"{prep['rows_empty_after_cleaning']} empty after cleaning."
    )
    for kind, lines in prep.get("first_lines", {}).items():  # streamed files only
        if lines:
            info(f"first lines {kind.replace('_', ' ')}: {', '.join(map(str, lines))}")
    if prep["dropped_classes"]:
        info(f"classes left out (too few rows): {prep['dropped_classes']}")
    tables.print_table(tables.distribution_table(prep["label_distribution"]))
    length_note = " (chosen from the data)" if prep["sequence_length_chosen"] else ""
    echo(
        f"sequence length {prep['sequence_length']}{length_note}, vocabulary "
        f"{prep['vocabulary_size']} tokens; test: {classifier.split_['test']} texts."
    )
    tables.print_metrics(classifier.metrics_, CLASSIFICATION_COLUMNS)
    print_training_warnings(classifier, config.training.learning_rate)
    from rnnkit.classification.metrics import failing_classes_warning, verdict

    evaluation = classifier.evaluation_
    failing = failing_classes_warning(evaluation["per_class"], evaluation["confusion"])
    if failing:
        info(f"warning: {failing}")
    kept_start = bool((classifier.preparation_.get("ngram_features") or {}).get("kept_start"))
    echo(verdict(classifier.metrics_, classifier.split_["test"], kept_start=kept_start))
    echo(f"report: {out / 'report.html'}")
    return classifier


@app.command()
@user_errors
def predict(
    run_dir: RunDir,
    text: Annotated[
        list[str] | None,
        typer.Option(help="A text to classify (repeatable).", rich_help_panel=DATA),
    ] = None,
    input_file: Annotated[
        Path | None,
        typer.Option(
            "--input", help="CSV or Parquet file of texts to classify.", rich_help_panel=DATA
        ),
    ] = None,
    text_column: Annotated[
        str | None,
        typer.Option(
            help="Column of texts in --input (default: the run's text column).",
            show_default=False,
            rich_help_panel=DATA,
        ),
    ] = None,
    top_k: Annotated[
        int, typer.Option(help="Most probable labels per text.", rich_help_panel=OUTPUT)
    ] = 1,
    json_output: PredictJson = False,
    output: Annotated[
        Path | None, typer.Option(help="Write here instead of stdout.", rich_help_panel=OUTPUT)
    ] = None,
) -> None:
    """Label texts with a saved run: label and probability, as CSV (or JSON)."""
    from rnnkit.classification import TextClassifier

    if (text is None) == (input_file is None):
        raise ConfigError('Give texts to classify: one or more --text "...", or --input FILE.')
    classifier = TextClassifier.load(run_dir)
    column = text_column or classifier.config.text_column
    if input_file is not None:
        import pandas as pd

        from rnnkit.classification.preparation import read_columns

        frame = read_columns(
            input_file, [column], "Pass --text-column with the name of the column of texts"
        )
        texts = ["" if pd.isna(v) else str(v) for v in frame[column].tolist()]
    else:
        texts = list(text or [])
    best = classifier.predict_top_k(texts, top_k)
    if json_output:
        records = [
            {
                "text": t,
                "label": b[0][0],
                "probability": b[0][1],
                **(
                    {"top_k": [{"label": lab, "probability": p} for lab, p in b]}
                    if top_k > 1
                    else {}
                ),
            }
            for t, b in zip(texts, best, strict=True)
        ]
        rendered = json.dumps(records, indent=2, ensure_ascii=False)
    else:
        rendered = _predictions_csv(column, texts, best)
    if output is None:
        echo(rendered.rstrip("\n"))
    else:
        text = rendered if rendered.endswith("\n") else rendered + "\n"
        write_output(output, lambda path: path.write_text(text, encoding="utf-8"))
        info(f"wrote {len(texts)} predictions to {output}")


def _predictions_csv(column: str, texts: list[str], best: list[list[tuple[str, float]]]) -> str:
    import pandas as pd

    table = {
        column: texts,
        "label": [b[0][0] for b in best],
        "probability": [round(b[0][1], 6) for b in best],
    }
    for rank in range(1, len(best[0]) if best else 0):
        table[f"label_{rank + 1}"] = [b[rank][0] for b in best]
        table[f"probability_{rank + 1}"] = [round(b[rank][1], 6) for b in best]
    return pd.DataFrame(table).to_csv(index=False)


@app.command()
@user_errors
def evaluate(
    run_dir: RunDir,
    data: Annotated[
        Path, typer.Option(help="Labelled rows to score on (same columns).", rich_help_panel=DATA)
    ],
    json_output: EvaluateJson = False,
) -> None:
    """Metrics of a saved run (and the majority baseline) on new labelled data."""
    from rnnkit.classification import TextClassifier
    from rnnkit.classification.report import CLASSIFICATION_COLUMNS
    from rnnkit.core.persistence import json_safe

    classifier = TextClassifier.load(run_dir)
    with step(f"scoring the run and the majority class on {data}"):
        metrics = classifier.evaluate(data)
    details = classifier.last_evaluation_["details"]["data"]
    if details["rows_with_unknown_label"]:
        info(
            f"{details['rows_with_unknown_label']} rows have labels the run does not know and "
            f"were left out: {details['unknown_labels']}"
        )
    info(
        f"{details['rows_used']} of {details['rows_read']} rows scored. TF-IDF is not refit: "
        "it needs the training texts."
    )
    if json_output:
        echo(json.dumps(json_safe(metrics), indent=2))
    else:
        tables.print_metrics(metrics, CLASSIFICATION_COLUMNS)


@app.command(name="lr-find")
@user_errors
def lr_find(
    data: Data,
    text_column: TextColumn = _D.text_column,
    label_column: LabelColumn = _D.label_column,
    remove_stopwords: Stopwords = _D.remove_stopwords,
    max_tokens: MaxTokens = _D.max_tokens,
    sequence_length: SeqLength = _D.sequence_length,
    padding: Padding = _D.padding,
    truncation: Truncation = _D.truncation,
    drop_rare_classes: DropRare = _D.drop_rare_classes,
    embedding_dim: EmbeddingDim = _D.embedding_dim,
    spatial_dropout: SpatialDropout = _D.spatial_dropout,
    pooling: Pooling = _D.pooling,
    ngram_features: NgramFeatures = _D.ngram_features,
    cell: Cell = _M.cell,
    num_layers: Layers = _M.num_layers,
    units: Units = _M.units,
    dropout: Dropout = _M.dropout,
    bidirectional: Bidir = _M.bidirectional,
    batch_size: Batch = _T.batch_size,
    clipnorm: Clip = _T.clipnorm,
    seed: Seed = _T.seed,
    test_size: TestSize = _D.test_size,
    validation_size: ValSize = _D.validation_size,
    plot: PlotPath = Path("lr_find.png"),
    quiet: Quiet = False,
) -> None:
    """Learning-rate range test: sweep the rate per batch, suggest where loss falls fastest."""
    values = {k: v for k, v in locals().items() if k not in ("data", "plot", "quiet")}
    from rnnkit.classification import TextClassifier, make_config

    with step("learning-rate range test: preparing the texts, training at rising rates"):
        result = TextClassifier(make_config(None, **values)).find_learning_rate(data)
    print_range_test(result, plot)


def _training_steps(progress: Progress, data, config: ClassifierConfig):
    """The steps a classifier's fit runs around its Keras epochs, as progress shows them."""
    from rnnkit.cli.output import training_steps

    source = data if isinstance(data, (str, Path)) else "the texts"
    before = f"reading {source}, cleaning the texts, building the vocabulary"
    if config.ngram_features != "none":
        before += f", fitting TF-IDF {config.ngram_features} n-grams"
    if config.training.learning_rate == "auto":
        before += ", then the learning-rate range test"
    after = "scoring the test part against the majority class and TF-IDF + linear"
    return training_steps(progress, before, after)


def _other_process(data, config, out: Path, test_data: Path | None, resume: bool) -> bool:
    """Trains as a process of a multi-process run other than 0 (then True): see
    :func:`~rnnkit.cli.training_runs.train_other_process`."""
    from rnnkit.classification import TextClassifier

    def fit(state: Path) -> None:
        TextClassifier(config).fit(
            data, test_data=test_data, verbose=0, state_path=state, resume=resume
        )

    return train_other_process(out, fit)
