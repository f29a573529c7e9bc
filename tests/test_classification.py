"""TextClassifier: the estimator contract, persistence and bad-input messages."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import TINY_CLASSIFIER, make_texts

from rnnkit import ClassifierConfig, TextClassifier
from rnnkit.classification.preparation import stratified_split
from rnnkit.config import ModelConfig
from rnnkit.core import models
from rnnkit.errors import ConfigError, DataError, NotFittedError, RunDirectoryError


@pytest.fixture(scope="module")
def fitted() -> TextClassifier:
    return TextClassifier(**TINY_CLASSIFIER).fit(make_texts(), verbose=0)


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory):
    return fitted.save(tmp_path_factory.mktemp("runs") / "classify")


# ----------------------------------------------------------------- contract
def test_fit_returns_self_with_fitted_attributes(fitted):
    assert isinstance(fitted, TextClassifier)
    assert fitted.classes_ == ["card", "loan", "mortgage"]
    assert set(fitted.metrics_) == {"model", "majority", "tfidf_linear"}
    assert len(fitted.history_["loss"]) == 2
    assert fitted.model_.output_shape == (None, 3)


def test_fit_returns_the_same_object():
    classifier = TextClassifier(**{**TINY_CLASSIFIER, "epochs": 1})
    assert classifier.fit(make_texts(10), verbose=0) is classifier


def test_predict_before_fit_says_what_to_call():
    with pytest.raises(NotFittedError, match=r"call fit\(data\) or TextClassifier.load"):
        TextClassifier().predict(["my card was stolen"])


def test_embedding_is_sized_to_the_vocabulary_found(fitted):
    embedding = fitted.model_.get_layer("embedding")
    assert embedding.input_dim == fitted.tokenizer_.get_vocab_size() == fitted.vocabulary_size_
    assert fitted.vocabulary_size_ < TextClassifier().config.max_tokens


def test_predict_proba_has_one_column_per_class_summing_to_one(fitted):
    probabilities = fitted.predict_proba(["stolen card at the atm", "escrow for my house"])
    assert probabilities.shape == (2, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_predict_returns_label_names_and_one_string_is_one_text(fitted):
    labels = fitted.predict("stolen card at the atm")
    assert labels.shape == (1,)
    assert labels[0] in fitted.classes_


def test_top_k_is_sorted_by_probability(fitted):
    (best,) = fitted.predict_top_k(["loan interest"], k=3)
    assert [label for label, _ in best] != [] and len(best) == 3
    probabilities = [p for _, p in best]
    assert probabilities == sorted(probabilities, reverse=True)


def test_save_then_load_gives_identical_probabilities(fitted, saved):
    texts = ["stolen card at the atm", "escrow for my house", "", "XXXX 12"]
    loaded = TextClassifier.load(saved)
    np.testing.assert_array_equal(loaded.predict_proba(texts), fitted.predict_proba(texts))
    assert loaded.classes_ == fitted.classes_
    assert loaded.config == fitted.config


def test_run_directory_holds_every_file(saved):
    expected = {
        "model.keras",
        "config.json",
        "preprocessing.json",
        "tokenizer.json",
        "metadata.json",
        "metrics.json",
        "history.csv",
        "per_class.csv",
        "confusion_matrix.png",
        "loss.png",
        "report.html",
        "evaluation.json",
    }
    assert expected <= {p.name for p in saved.iterdir()}


def test_metrics_json_has_the_model_and_both_baselines(saved):
    metrics = json.loads((saved / "metrics.json").read_text())
    assert set(metrics) == {"model", "majority", "tfidf_linear"}
    assert set(metrics["model"]) == {"accuracy", "macro_f1", "weighted_f1"}


def test_preprocessing_json_keeps_cleaning_length_and_label_names(saved):
    pre = json.loads((saved / "preprocessing.json").read_text())
    assert pre["classes"] == ["card", "loan", "mortgage"]
    assert pre["sequence_length"] == 12
    assert pre["cleaning"]["remove_stopwords"] is False
    assert json.loads((saved / "metadata.json").read_text())["job"] == "classify"


def test_report_shows_label_distribution_metrics_and_confusion_matrix(saved):
    report = (saved / "report.html").read_text()
    for heading in ("Test metrics", "Labels", "Per-class metrics", "Confusion matrix", "Training"):
        assert heading in report
    assert "tfidf_linear" in report and "data:image/png;base64," in report


def test_config_json_round_trip():
    config = ClassifierConfig(
        label_column="category",
        max_tokens=5000,
        pooling="last",
        model=ModelConfig(units=100, recurrent_dropout=0.2),
    )
    assert ClassifierConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_config_rejects_unknown_keys_with_the_closest_name():
    with pytest.raises(ConfigError, match="Did you mean 'max_tokens'"):
        ClassifierConfig.from_dict({"max_token": 10})


def test_unknown_parameter_suggests_the_closest_name():
    with pytest.raises(ConfigError, match="Did you mean 'sequence_length'"):
        TextClassifier(sequence_lenght=10)


def test_same_seed_gives_the_same_probabilities(fitted):
    again = TextClassifier(**TINY_CLASSIFIER).fit(make_texts(), verbose=0)
    texts = ["stolen card", "escrow house", "loan"]
    np.testing.assert_array_equal(again.predict_proba(texts), fitted.predict_proba(texts))


def test_labels_of_any_type_round_trip_as_names(tmp_path):
    frame = make_texts(10).assign(
        label=lambda f: f["label"].map({"card": 7, "loan": 8, "mortgage": 9})
    )
    classifier = TextClassifier(**{**TINY_CLASSIFIER, "epochs": 1}).fit(frame, verbose=0)
    assert classifier.classes_ == ["7", "8", "9"]
    loaded = TextClassifier.load(classifier.save(tmp_path / "run"))
    assert loaded.classes_ == ["7", "8", "9"]
    assert loaded.predict(["stolen card"])[0] in {"7", "8", "9"}


# ----------------------------------------------------------------- data handling
def test_rows_without_text_or_label_are_dropped_and_counted(fitted):
    frame = make_texts(10)
    frame.loc[0, "text"] = None
    frame.loc[1, "text"] = "   "
    frame.loc[2, "label"] = None
    frame.loc[3, "text"] = "1234 XXXX !!"
    classifier = TextClassifier(**{**TINY_CLASSIFIER, "epochs": 1}).fit(frame, verbose=0)
    prep = classifier.preparation_
    assert (prep["rows_without_text"], prep["rows_without_label"]) == (2, 1)
    assert prep["rows_empty_after_cleaning"] == 1
    assert prep["rows_used"] == len(frame) - 4
    assert sum(classifier.split_.values()) == len(frame) - 4


def test_split_is_stratified_with_every_class_in_every_part(fitted):
    for row in fitted.preparation_["label_distribution"]:
        assert row["train"] > 0 and row["validation"] > 0 and row["test"] > 0
    assert fitted.split_["test"] == 27  # 30% of each class of 30 rows


def test_stratified_split_holds_out_each_class_in_proportion():
    labels = np.array([0] * 100 + [1] * 10 + [2] * 3)
    kept, held = stratified_split(labels, 0.3, np.random.default_rng(0))
    assert np.bincount(labels[held]).tolist() == [30, 3, 1]
    assert sorted(np.concatenate([kept, held]).tolist()) == list(range(len(labels)))


def test_fixed_test_data_is_scored_and_unknown_labels_left_out():
    test = pd.concat(
        [make_texts(5, seed=9), pd.DataFrame({"text": ["a new thing"], "label": ["pension"]})]
    )
    classifier = TextClassifier(**{**TINY_CLASSIFIER, "epochs": 1}).fit(
        make_texts(10), test_data=test, verbose=0
    )
    assert classifier.split_["test"] == 15
    assert classifier.preparation_["test_data"]["unknown_labels"] == {"pension": 1}
    assert classifier.split_["train"] + classifier.split_["validation"] == 30


def test_evaluate_on_new_data_reports_and_excludes_unknown_labels(fitted):
    new = pd.concat(
        [
            make_texts(4, seed=5),
            pd.DataFrame({"text": ["gold coins"] * 2, "label": ["bullion"] * 2}),
        ]
    )
    metrics = fitted.evaluate(new)
    assert set(metrics) == {"model", "majority"}
    details = fitted.last_evaluation_["details"]["data"]
    assert details["rows_with_unknown_label"] == 2 and details["rows_used"] == 12


def test_balanced_class_weight_weights_rare_classes_more():
    frame = pd.concat(
        [
            make_texts(30)[lambda f: f.label != "mortgage"],
            make_texts(6)[lambda f: f.label == "mortgage"],
        ]
    )
    classifier = TextClassifier(**{**TINY_CLASSIFIER, "epochs": 1, "class_weight": "balanced"})
    weights = classifier.fit(frame, verbose=0).preparation_["class_weight"]
    assert weights[2] > 3 * weights[0]


def test_guides_network_is_expressible_with_the_config():
    guide = ClassifierConfig(
        max_tokens=5000,
        sequence_length=512,
        embedding_dim=100,
        spatial_dropout=0.2,
        pooling="last",
        padding="end",
        model=ModelConfig(num_layers=1, units=100, dropout=0.2, recurrent_dropout=0.2),
    )
    with pytest.warns(UserWarning, match="recurrent_dropout"):
        model = models.build_text_classifier(
            512,
            5000,
            10,
            guide.model,
            embedding_dim=guide.embedding_dim,
            spatial_dropout=guide.spatial_dropout,
            pooling=guide.pooling,
        )
    lstm = model.get_layer("rnn_1")
    assert (lstm.units, lstm.recurrent_dropout, lstm.return_sequences) == (100, 0.2, False)
    assert model.get_layer("embedding").input_dim == 5000
    assert model.get_layer("spatial_dropout").rate == 0.2


# ----------------------------------------------------------------- bad input
def test_missing_text_column_names_the_closest_one(tmp_path):
    path = tmp_path / "data.csv"
    make_texts(5).rename(columns={"text": "Text"}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"no column 'text'\. Did you mean 'Text'\?.*--text-column"):
        TextClassifier(**TINY_CLASSIFIER).fit(path)


def test_missing_label_column_names_the_closest_one():
    frame = make_texts(5).rename(columns={"label": "labels"})
    with pytest.raises(DataError, match=r"no column 'label'\. Did you mean 'labels'\?"):
        TextClassifier(**TINY_CLASSIFIER).fit(frame)


def test_single_class_is_rejected():
    frame = make_texts(5).assign(label="card")
    with pytest.raises(DataError, match=r"single class \('card', 15 rows\).*at least two"):
        TextClassifier(**TINY_CLASSIFIER).fit(frame)


def test_class_with_too_few_rows_is_named():
    frame = pd.concat(
        [make_texts(5), pd.DataFrame({"text": ["rare one", "rare two"], "label": ["pension"] * 2})]
    )
    with pytest.raises(DataError, match=r"'pension' \(2\).*--drop-rare-classes"):
        TextClassifier(**TINY_CLASSIFIER).fit(frame)


def test_rare_classes_are_dropped_and_reported_when_asked():
    frame = pd.concat([make_texts(5), pd.DataFrame({"text": ["rare one"], "label": ["pension"]})])
    classifier = TextClassifier(**{**TINY_CLASSIFIER, "epochs": 1, "drop_rare_classes": True})
    classifier.fit(frame, verbose=0)
    assert classifier.preparation_["dropped_classes"] == {"pension": 1}
    assert "pension" not in classifier.classes_


def test_all_texts_empty_after_cleaning_names_lines(tmp_path):
    path = tmp_path / "data.csv"
    pd.DataFrame({"text": ["1234", "XXXX !", "{$0.00}"], "label": ["a", "b", "a"]}).to_csv(
        path, index=False
    )
    with pytest.raises(
        DataError,
        match=r"column 'text': all 3 texts are empty after cleaning"
        r".*line 2: '1234'",
    ):
        TextClassifier(**TINY_CLASSIFIER).fit(path)


def test_non_utf8_file_is_reported_with_a_fix(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("text,label\ncaf\xe9 loan,loan\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"not UTF-8 text \(line 2.*iconv"):
        TextClassifier(**TINY_CLASSIFIER).fit(path)


def test_load_refuses_a_forecast_run(tmp_path):
    (tmp_path / "metadata.json").write_text(json.dumps({"job": "forecast", "format_version": 1}))
    with pytest.raises(RunDirectoryError, match="is a 'forecast' run.*rnnkit forecast"):
        TextClassifier.load(tmp_path)


def test_save_refuses_to_replace_a_run_without_overwrite(fitted, saved):
    with pytest.raises(RunDirectoryError, match="--overwrite"):
        fitted.save(saved)


def test_gradient_health_and_learning_rate_auto_reach_the_classifier(tmp_path):
    from rnnkit.classification import find_learning_rate

    data = _gh_rows()
    params = dict(
        text_column="text",
        label_column="label",
        num_layers=1,
        units=8,
        embedding_dim=8,
        epochs=1,
        sequence_length=8,
    )
    clf = TextClassifier(learning_rate="auto", **params).fit(data, verbose=0)
    # The sweep's rate, or the tuned default when the sweep is inconclusive (a model that
    # starts as a fitted linear SVM may have little loss left to lose).
    fallback = float(ClassifierConfig().training.learning_rate)
    assert clf.learning_rate_ == clf.learning_rate_range_test_.rate_to_use(fallback)
    assert clf.gradient_health_.frame()["step"].nunique() >= 1
    run = clf.save(tmp_path / "run")
    assert (run / "gradients.csv").exists() and (run / "lr_find.png").exists()
    assert "Gradient health" in (run / "report.html").read_text()
    result = find_learning_rate(TextClassifier(**params), data)
    assert len(result.learning_rates) > 10 and result.suggestion > 0


def _gh_rows():
    import pandas as pd

    words = {
        "a": "card charge fee interest",
        "b": "loan mortgage payment house",
        "c": "account bank deposit check",
    }
    rows = [(f"{words[k]} {i} number {k}", k) for k in words for i in range(40)]
    return pd.DataFrame(rows, columns=["text", "label"])


# ----------------------------------------------------------------- scikit-learn's X, y
def test_fit_on_texts_and_labels_trains_as_the_dataframe_form(fitted):
    frame = make_texts()
    from_xy = TextClassifier(**TINY_CLASSIFIER).fit(
        frame["text"], frame["label"].tolist(), verbose=0
    )
    assert from_xy.classes_ == fitted.classes_
    texts = ["my card was stolen", "the interest on my loan"]
    np.testing.assert_allclose(from_xy.predict_proba(texts), fitted.predict_proba(texts), atol=1e-6)


def test_score_is_the_accuracy_of_predict(fitted):
    frame = make_texts(rows_per_class=5, seed=1)
    texts, labels = frame["text"].to_numpy(), frame["label"].to_numpy()
    expected = float(np.mean(fitted.predict(list(texts)) == labels))
    assert fitted.score(texts, labels) == pytest.approx(expected)
    assert fitted.score(["card stolen pin atm"], [fitted.predict("card stolen pin atm")[0]]) == 1.0


def test_fit_on_texts_without_labels_says_to_pass_them():
    with pytest.raises(DataError, match=r"fit got list without labels: pass the labels too"):
        TextClassifier(**TINY_CLASSIFIER).fit(["a text", "another"])


def test_fit_with_fewer_labels_than_texts_says_how_many_of_each():
    with pytest.raises(DataError, match=r"fit got 3 texts but 2 labels: give one label per text"):
        TextClassifier(**TINY_CLASSIFIER).fit(["a", "b", "c"], ["x", "y"])


def test_score_with_fewer_labels_than_texts_is_a_data_error(fitted):
    with pytest.raises(DataError, match=r"score got 2 texts and 1 labels"):
        fitted.score(["a card", "a loan"], ["card"])


def test_the_verdict_names_the_winner_and_warns_of_a_small_test():
    from rnnkit.classification.metrics import verdict

    network = {"accuracy": 0.80, "macro_f1": 0.50}
    tfidf = {"accuracy": 0.85, "macro_f1": 0.55}
    majority = {"accuracy": 0.30, "macro_f1": 0.05}
    lost = verdict({"model": network, "tfidf_linear": tfidf, "majority": majority}, 1000)
    assert lost.startswith("TF-IDF + linear SVM beats the network") and "(-5.0 points)" in lost
    assert "only" not in lost
    won = verdict({"model": tfidf, "tfidf_linear": network, "majority": majority}, 50)
    assert won.startswith("The network wins") and "only 50 texts" in won
    split = verdict({"model": {"accuracy": 0.86, "macro_f1": 0.50}, "tfidf_linear": tfidf}, 1000)
    assert split.startswith("The network and TF-IDF + linear SVM split")
    assert "linear SVM on word and character n-grams" not in won
    kept = verdict({"model": tfidf, "tfidf_linear": network}, 1000, kept_start=True)
    assert kept.startswith("The model wins") and kept.endswith(
        "so the model is the linear SVM on word and character n-grams."
    )


def test_texts_without_spaces_are_warned_of():
    phrases = [
        "我的银行卡丢了请帮忙处理",
        "我想查询我的贷款余额和利息",
        "信用卡账单上有一笔错误的收费",
    ]
    rows = pd.DataFrame(
        {
            "text": [p + "的问题" * (i % 3) for i in range(30) for p in phrases[i % 3 : i % 3 + 1]],
            "label": [["card", "loan", "bill"][i % 3] for i in range(30)],
        }
    )
    params = dict(units=4, embedding_dim=4, epochs=1, sequence_length=4)
    with pytest.warns(UserWarning, match="without spaces.*character n-grams"):
        TextClassifier(**params).fit(rows, verbose=0)
    with pytest.warns(UserWarning, match="without spaces.*--ngram-features char"):
        TextClassifier(ngram_features="none", **params).fit(rows, verbose=0)


def test_the_wide_part_starts_as_the_calibrated_svm_and_a_kept_start_is_refit_on_all(
    monkeypatch,
):
    """With the guard keeping the start, the model is the linear SVM on the train and
    validation parts together (here every row of ``data``: the test is a fixed file),
    with the recurrent scores at zero."""
    from sklearn.svm import LinearSVC

    kept = []

    def keep_start(self, x_val, y_val):
        self.model_.set_weights(self._start_weights)
        kept.append(True)
        return True

    monkeypatch.setattr(TextClassifier, "_keep_linear_if_better", keep_start)
    data, test = make_texts(30, seed=0), make_texts(5, seed=1)
    clf = TextClassifier(**TINY_CLASSIFIER).fit(data, test_data=test, verbose=0)
    assert kept and clf.kept_linear_ and clf.preparation_["ngram_features"]["kept_start"]
    assert not np.any(clf.model_.get_layer("recurrent_scores").get_weights()[0])
    cleaned = clf.cleaner.clean_all(data["text"].tolist())
    labels = [clf.classes_.index(y) for y in data["label"]]
    svm = LinearSVC(C=1.0, random_state=TINY_CLASSIFIER["seed"])
    svm.fit(clf.ngrams_.matrix(cleaned), labels)
    temperature = clf.preparation_["ngram_features"]["start_temperature"]
    table = clf.model_.get_layer("ngram_table").get_weights()[0] * models.NGRAM_SCALE
    np.testing.assert_allclose(table[1:-1], temperature * svm.coef_.T, atol=2e-3)
    np.testing.assert_allclose(table[-1], temperature * svm.intercept_, atol=2e-3)


def test_classes_never_predicted_or_never_right_are_named_and_absent_ones_are_not():
    from rnnkit.classification.metrics import (
        confusion,
        failing_classes,
        failing_classes_warning,
        per_class_metrics,
    )

    names = ["card", "loan", "mortgage", "absent"]
    actual = np.array([0, 0, 1, 1, 2])
    predicted = np.array([0, 0, 0, 2, 0])  # loan never predicted, mortgage always wrongly
    table, matrix = per_class_metrics(actual, predicted, names), confusion(actual, predicted, 4)
    assert failing_classes(table, matrix) == {"never_predicted": ["loan"], "zero_f1": ["mortgage"]}
    warning = failing_classes_warning(table, matrix)
    assert warning.startswith("The network never predicts 1 of the 3 test classes: 'loan'.")
    assert "It predicts 1 class but never rightly (F1 0): 'mortgage'." in warning
    assert "absent" not in warning
    right = per_class_metrics(actual, actual, names)
    assert failing_classes_warning(right, confusion(actual, actual, 4)) is None


def _always_card(fitted: TextClassifier) -> TextClassifier:
    """``fitted`` as if its network predicted class 0, 'card', for every test text."""
    import copy

    from rnnkit.classification.metrics import confusion, per_class_metrics

    test_rows = fitted.evaluation_["confusion"].sum(axis=1)
    actual = np.repeat(np.arange(len(fitted.classes_)), test_rows)
    always_card = np.zeros_like(actual)
    stuck = copy.copy(fitted)
    stuck.evaluation_ = {
        **fitted.evaluation_,
        "per_class": per_class_metrics(actual, always_card, fitted.classes_),
        "confusion": confusion(actual, always_card, len(fitted.classes_)),
    }
    return stuck


def test_report_warns_of_the_classes_the_network_never_predicts(fitted, tmp_path):
    import html

    report = (_always_card(fitted).save(tmp_path / "run") / "report.html").read_text()
    # The quotes are escaped (as &#39;: the entity is the template engine's choice).
    assert "classes: 'loan'" not in report
    assert "never predicts 2 of the 3 test classes: 'loan', 'mortgage'" in html.unescape(report)
    assert "never predicts" not in (fitted.save(tmp_path / "fitted") / "report.html").read_text()


def test_report_shows_the_split_sizes_and_loss_used(fitted, saved):
    report = (saved / "report.html").read_text()
    split = fitted.split_
    assert "<td>sequence_length</td><td>12</td>" in report  # given, so shown as it is
    assert f"<td>test_size</td><td>0.3 \u2192 {split['test']} texts</td>" in report
    assert "<td>training.loss</td><td>auto \u2192 sparse categorical cross-entropy" in report
    assert "Loss: cross-entropy. Best epoch" in report


def test_largest_confusions_rank_off_diagonal_cells_with_full_class_names():
    from rnnkit.classification.metrics import largest_confusions

    long = "Credit reporting, credit repair services, or other personal consumer reports"
    names = ["card", "loan", long]
    matrix = np.array([[10, 3, 0], [1, 8, 1], [0, 3, 2]])
    table = largest_confusions(matrix, names, limit=3)
    assert list(zip(table["true"], table["predicted"], table["count"])) == [
        (long, "loan", 3),  # 3 of 5: the larger share of its true class comes first
        ("card", "loan", 3),
        ("loan", "card", 1),
    ]
    assert table["share_of_true"].tolist()[:2] == pytest.approx([0.6, 3 / 13])
    assert largest_confusions(np.eye(3, dtype=int), names).empty


def test_report_lists_the_largest_confusions_under_the_matrix(fitted, tmp_path):
    stuck = _always_card(fitted)
    report = (stuck.save(tmp_path / "run") / "report.html").read_text()
    section = report[report.index("<h2>Confusion matrix</h2>") :]
    test_rows = dict(zip(fitted.classes_, stuck.evaluation_["confusion"].sum(axis=1)))
    for true in ("loan", "mortgage"):  # all of them predicted as 'card': a share of 1
        assert (
            f"<td>{true}</td>\n      <td>card</td>\n      <td>{test_rows[true]}</td>\n      "
            "<td>1</td>" in section
        )


def test_the_largest_confusions_table_stands_under_the_matrix_at_full_width():
    from rnnkit.classification.report import confusion_html

    names = ["Credit reporting, credit repair services, or other personal reports", "Mortgage"]
    html = confusion_html("AAAA", np.array([[5, 3], [1, 4]]), names)
    # Side by side, the full names wrapped in narrow columns into a table taller than
    # the page.
    assert "flex" not in html and html.index("<img") < html.index("<table")
    assert f"<td>{names[0]}</td>" in html


def test_a_confusion_matrix_of_many_classes_numbers_their_alike_shortened_names():
    from matplotlib import pyplot as plt

    from rnnkit.classification.metrics import per_class_metrics
    from rnnkit.classification.report import confusion_figure, per_class_html

    names = [f"a rather long banking intent name that ends differently {i}" for i in range(30)]
    figure = confusion_figure(np.eye(30, dtype=int), names)
    ticks = [label.get_text() for label in figure.axes[0].get_yticklabels()]
    plt.close(figure)
    assert len(set(ticks)) == 30 and ticks[7].startswith("7 a rather long")
    table = per_class_html(per_class_metrics(np.arange(30), np.arange(30), names))
    assert "<th>#</th>" in table and f"<td>7</td>\n      <td>{names[7]}</td>" in table


def test_a_trained_network_is_refit_on_the_train_and_validation_parts(monkeypatch):
    """Unless the start was kept, the final model is trained again from its seed on
    every labelled row for the epochs early stopping chose; ``refit=False`` keeps the
    early-stopped model."""
    from rnnkit.classification.wide_and_deep import best_epoch
    from rnnkit.core import training

    monkeypatch.setattr(TextClassifier, "_keep_linear_if_better", lambda self, x, y: False)
    refits = []
    fit_epochs = training.fit_epochs

    def recorded(model, train, settings, epochs, class_weight=None):
        refits.append((len(train[1]), epochs))
        return fit_epochs(model, train, settings, epochs, class_weight)

    monkeypatch.setattr(training, "fit_epochs", recorded)
    data, test = make_texts(40, seed=0), make_texts(8, seed=1)
    params = {**TINY_CLASSIFIER, "epochs": 3}
    clf = TextClassifier(**{**params, "refit": True}).fit(data, test_data=test, verbose=0)
    refit = clf.preparation_["refit"]
    assert refit["used"] and refit["rows"] == len(data)
    assert clf.split_["train"] + clf.split_["validation"] == len(data)
    assert refits == [(len(data), best_epoch(clf.history_))]

    plain = TextClassifier(**params).fit(data, test_data=test, verbose=0)  # refit=False
    assert plain.preparation_["refit"] is None and len(refits) == 1
    assert plain.history_ == clf.history_  # the same early-stopped run before the refit
    # The table started from an SVM on the 120 rows, not on the 108 of the train part.
    table = clf.model_.get_layer("ngram_table").get_weights()[0]
    assert not np.allclose(plain.model_.get_layer("ngram_table").get_weights()[0], table)


def test_a_refit_that_diverges_keeps_the_early_stopped_model(monkeypatch):
    from rnnkit.core import training

    monkeypatch.setattr(TextClassifier, "_keep_linear_if_better", lambda self, x, y: False)
    monkeypatch.setattr(training, "fit_epochs", lambda *args, **kwargs: None)
    data, test = make_texts(40, seed=0), make_texts(8, seed=1)
    refit = {**TINY_CLASSIFIER, "refit": True}
    clf = TextClassifier(**refit).fit(data, test_data=test, verbose=0)
    plain = TextClassifier(**TINY_CLASSIFIER).fit(data, test_data=test, verbose=0)
    assert clf.preparation_["refit"]["used"] is False
    for trained, kept in zip(plain.model_.get_weights(), clf.model_.get_weights()):
        np.testing.assert_array_equal(trained, kept)


def test_an_ensemble_refit_predicts_the_mean_of_its_members_and_loads_the_same(
    monkeypatch, tmp_path
):
    monkeypatch.setattr(TextClassifier, "_keep_linear_if_better", lambda self, x, y: False)
    data, test = make_texts(40, seed=0), make_texts(8, seed=1)
    params = {**TINY_CLASSIFIER, "refit": True}
    clf = TextClassifier(**params, ensemble_size=3, class_weight="balanced")
    clf.fit(data, test_data=test, verbose=0)
    assert clf.preparation_["refit"]["members"] == 3 and clf.preparation_["refit"]["used"]
    members = [clf.model_.get_layer(f"member_{k}") for k in (1, 2, 3)]
    drawn = [m.get_layer("embedding").get_weights()[0] for m in members]
    assert not np.allclose(drawn[0], drawn[1])  # each member its own initial weights
    texts = test["text"].tolist()
    inputs = clf._encode(clf.cleaner.clean_all(texts))
    mean = np.mean([m.predict(inputs, verbose=0) for m in members], axis=0)
    assert clf._split_prediction() is None  # an ensemble predicts through Keras
    np.testing.assert_allclose(clf.predict_proba(texts), mean, rtol=1e-5, atol=1e-6)
    loaded = TextClassifier.load(clf.save(tmp_path / "run"))
    np.testing.assert_allclose(loaded.predict_proba(texts), clf.predict_proba(texts), atol=1e-6)
    report = (tmp_path / "run" / "report.html").read_text()
    assert "refit from the seed on the train and validation parts together (120 texts)" in report
    assert "3 networks, the model predicting the mean of their probabilities" in report


def test_an_ensemble_needs_the_refit():
    with pytest.raises(ConfigError, match="ensemble_size 3 needs refit"):
        TextClassifier(ensemble_size=3, refit=False)
    with pytest.raises(ConfigError, match="ensemble_size"):
        TextClassifier(ensemble_size=0)


# ----------------------------------------------------------------- split prediction
def _whole_model(clf: TextClassifier, texts: list[str]) -> np.ndarray:
    """The probabilities of the model's whole graph, in one Keras predict."""
    inputs = clf._encode(clf.cleaner.clean_all(texts))
    return clf.model_.predict(inputs, batch_size=256, verbose=0)


def test_split_prediction_gives_the_whole_models_probabilities(fitted, monkeypatch):
    from rnnkit.classification import wide_and_deep

    assert fitted._split_prediction() is not None  # the default has n-grams
    texts = make_texts(4, seed=5)["text"].tolist()  # 12 texts
    # 1 (no padding), 5 (padded to 8), 12 in chunks of 4 and 12 in one chunk of 16.
    np.testing.assert_allclose(fitted.predict_proba(texts[:1]), _whole_model(fitted, texts[:1]))
    np.testing.assert_allclose(fitted.predict_proba(texts[:5]), _whole_model(fitted, texts[:5]))
    whole = _whole_model(fitted, texts)
    np.testing.assert_allclose(fitted.predict_proba(texts), whole, rtol=1e-6, atol=1e-7)
    monkeypatch.setattr(wide_and_deep, "PREDICT_CHUNK", 4)
    np.testing.assert_allclose(fitted.predict_proba(texts), whole, rtol=1e-6, atol=1e-7)


def test_split_prediction_reads_the_models_current_weights():
    clf = TextClassifier(**TINY_CLASSIFIER).fit(make_texts(), verbose=0)
    texts = make_texts(2, seed=6)["text"].tolist()
    before = clf.predict_proba(texts)
    table = clf.model_.get_layer("ngram_table")
    table.set_weights([np.zeros_like(table.get_weights()[0])])  # the linear part off
    after = clf.predict_proba(texts)
    assert np.abs(before - after).max() > 0.1
    np.testing.assert_allclose(after, _whole_model(clf, texts), rtol=1e-6, atol=1e-7)


def test_split_prediction_is_left_to_keras_where_it_does_not_apply():
    plain = TextClassifier(**{**TINY_CLASSIFIER, "ngram_features": "none"})
    plain.fit(make_texts(), verbose=0)
    assert plain._split_prediction() is None
    texts = make_texts(2, seed=6)["text"].tolist()
    np.testing.assert_allclose(plain.predict_proba(texts), _whole_model(plain, texts))


def test_the_validation_part_is_one_batch_while_its_arrays_stay_small(fitted):
    # One batch: the validation step compiles for one shape, not full and partial ones.
    assert fitted._validation_batch_size((None, np.zeros(300))) == 300
    assert fitted._validation_batch_size((None, np.zeros(10_000_000))) is None
    assert fitted._validation_batch_size(object()) is None  # a streamed corpus
