import keras
import numpy as np
from conftest import TINY, make_events

from rnnkit import Forecaster
from rnnkit.core.gradient_health import GradientHealth


def _simple_rnn(units=8):
    model = keras.Sequential(
        [keras.Input((20, 1)), keras.layers.SimpleRNN(units), keras.layers.Dense(1)]
    )
    return model


def test_records_per_layer_norms_and_the_probe_loss():
    rng = np.random.default_rng(0)
    x, y = (
        rng.normal(size=(64, 20, 1)).astype("float32"),
        rng.normal(size=(64, 1)).astype("float32"),
    )
    model = _simple_rnn()
    model.compile(keras.optimizers.Adam(1e-3), "mse")
    health = GradientHealth((x[:16], y[:16]), "mse", every=2, background_compile=False)
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[health])
    frame = health.frame()
    assert set(frame["layer"]) == {layer.name for layer in model.layers}
    assert frame["step"].nunique() == 5  # steps 1, 2, 4, 6, 8
    assert (frame["gradient_norm"] > 0).all() and (frame["weight_norm"] > 0).all()
    assert health.findings == []


def test_flags_exploding_training_with_layer_and_remedy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 20, 1)).astype("float32") * 10
    y = rng.normal(size=(64, 1)).astype("float32") * 1e3
    keras.utils.set_random_seed(0)
    model = _simple_rnn()
    model.compile(keras.optimizers.SGD(learning_rate=10.0), "mse")  # no clipping
    health = GradientHealth((x[:16], y[:16]), "mse", every=1, background_compile=False)
    model.fit(x, y, batch_size=16, epochs=3, verbose=0, callbacks=[health])
    signs = {f.sign for f in health.findings}
    assert signs & {"loss_nan", "loss_jump", "weights_growing", "weights_nan", "gradients_large"}
    assert all("Remedy:" in f.message and "layer '" in f.message for f in health.findings)


def test_flags_vanishing_gradient_in_a_deep_simple_rnn_stack():
    rng = np.random.default_rng(0)
    x, y = (
        rng.normal(size=(32, 100, 1)).astype("float32"),
        rng.normal(size=(32, 1)).astype("float32"),
    )
    keras.utils.set_random_seed(0)
    init = keras.initializers.RandomNormal(stddev=0.01)  # a contracting recurrence
    layers = [
        keras.layers.SimpleRNN(
            8, return_sequences=i < 3, kernel_initializer=init, recurrent_initializer=init
        )
        for i in range(4)
    ]
    model = keras.Sequential([keras.Input((100, 1)), *layers, keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(1e-4), "mse")
    health = GradientHealth((x, y), "mse", every=1, background_compile=False)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[health])
    assert [f.sign for f in health.findings] == ["vanishing"]
    assert health.findings[0].layer == layers[0].name
    assert "lstm or gru" in health.findings[0].message


def test_forecaster_writes_gradient_health_into_the_run(tmp_path):
    f = Forecaster(time_column="created_at", target_column="amount", **TINY).fit(
        make_events(), verbose=0
    )
    run = f.save(tmp_path / "run")
    assert (run / "gradients.csv").exists() and (run / "gradients.png").exists()
    assert "Gradient health" in (run / "report.html").read_text()
    off = Forecaster(
        time_column="created_at", target_column="amount", gradient_health=False, **TINY
    )
    assert off.fit(make_events(), verbose=0).gradient_health_ is None


def test_background_compilation_still_records_a_short_run():
    rng = np.random.default_rng(0)
    x, y = (
        rng.normal(size=(32, 20, 1)).astype("float32"),
        rng.normal(size=(32, 1)).astype("float32"),
    )
    model = _simple_rnn()
    model.compile(keras.optimizers.Adam(1e-3), "mse")
    health = GradientHealth((x[:16], y[:16]), "mse", every=1)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[health])
    frame = health.frame()
    assert frame["step"].nunique() >= 1  # at least the record at the end of training
    assert frame["step"].max() == 2 and np.isfinite(frame["gradient_norm"]).all()


def _records(norms: list[float]) -> list[dict]:
    return [
        {
            "step": 20 * (i + 1),
            "epoch": 1,
            "layer": "out",
            "recurrent": False,
            "gradient_norm": 0.1,
            "weight_norm": norm,
            "loss": 1.0,
        }
        for i, norm in enumerate(norms)
    ]


def test_a_layer_that_starts_at_zero_is_not_flagged_for_growing_while_it_learns():
    health = GradientHealth((np.zeros((2, 3, 1)), np.zeros((2, 1))), loss="mse")
    for count in (2, 3):  # 0.06 -> 0.6 -> 0.9: tenfold growth, but tiny weights
        health.records = _records([0.06, 0.6, 0.9][:count])
        health._check_latest()
    assert not health.findings
    health.records = _records([0.06, 0.6, 0.9, 2.0, 5.0])  # 2.0 -> 5.0: large and growing
    health._check_latest()
    assert [f.sign for f in health.findings] == ["weights_growing"]
