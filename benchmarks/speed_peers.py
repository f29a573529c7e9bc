"""The peers of bench_speed.py: each case as a plain Keras script and as a PyTorch loop.

Run by bench_speed.py in a fresh process of another interpreter (one without rnnkit):

    python speed_peers.py keras CASE.npz CASE.json EPOCHS   # KERAS_BACKEND=tensorflow
    python speed_peers.py torch CASE.npz CASE.json EPOCHS

``CASE.npz`` holds the training and validation arrays (``x_train``, ``y_train``,
``x_val``, ``y_val``) and ``CASE.json`` the network (see ``bench_speed.py``). Every epoch
is one shuffled pass over the training windows in batches, then one pass over the
validation windows, as ``keras.Model.fit`` does with ``validation_data``. Prints one JSON
line: the seconds from process start (``SPEED_T0``, the parent's clock when it started
this process) to the end of the first epoch, each epoch's seconds, the peak resident
memory and the number of trainable weights.
"""

import json
import os
import sys
import time


def keras_model(spec):
    import keras
    from keras import layers

    cells = {"lstm": layers.LSTM, "gru": layers.GRU}
    cell = cells[spec["cell"]]
    if spec["kind"] == "stack":
        # The guide's script.
        model = keras.Sequential([keras.Input(shape=tuple(spec["input_shape"]))])
        for index in range(spec["num_layers"]):
            last = index == spec["num_layers"] - 1
            model.add(cell(spec["units"], return_sequences=not last))
            model.add(layers.Dropout(spec["dropout"]))
        model.add(layers.Dense(spec["outputs"]))
        return model
    if spec["kind"] == "ensemble":
        window, future, channels = spec["window"], spec["future_steps"], spec["channels"]
        horizon = spec["horizon"]
        inputs = keras.Input(shape=(window + future, channels))
        rows = []
        for steps in spec["member_lookbacks"]:
            x = layers.Cropping1D((window - steps, 0))(inputs)
            hidden = x
            for index in range(spec["num_layers"]):
                last = index == spec["num_layers"] - 1
                hidden = cell(spec["units"], return_sequences=not last)(hidden)
            output = layers.Dense(horizon)(hidden)
            if spec["linear"]:
                values = layers.Cropping1D((0, future))(x) if future else x
                values = layers.Lambda(lambda v: v[..., :1])(values)
                output = output + layers.Dense(horizon)(layers.Flatten()(values))
            if future:
                ahead = layers.Cropping1D((steps, 0))(x)
                output = output + layers.Flatten()(layers.Dense(1)(ahead))
            rows.append(layers.Reshape((1, horizon))(output))
        outputs = rows[0] if len(rows) == 1 else layers.Concatenate(axis=1)(rows)
        return keras.Model(inputs, outputs)
    # kind == "text": embedding, spatial dropout, (bidirectional) recurrent, max over time.
    inputs = keras.Input(shape=(spec["sequence_length"],), dtype="int32")
    x = layers.Embedding(spec["vocabulary_size"], spec["embedding_dim"])(inputs)
    x = layers.SpatialDropout1D(spec["spatial_dropout"])(x)
    for _ in range(spec["num_layers"]):
        layer = cell(spec["units"], return_sequences=True)
        x = layers.Bidirectional(layer)(x) if spec["bidirectional"] else layer(x)
    x = layers.GlobalMaxPooling1D()(x)
    outputs = layers.Dense(spec["classes"], activation="softmax")(x)
    return keras.Model(inputs, outputs)


def run_keras(data, spec, epochs, t0):
    import keras
    import numpy as np

    keras.utils.set_random_seed(0)

    class EpochTimer(keras.callbacks.Callback):
        seconds = []
        first_end = None

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.start)
            if self.first_end is None:
                self.first_end = time.time() - t0

    model = keras_model(spec)
    loss = {"mse": "mse", "mae": "mae", "cross_entropy": "sparse_categorical_crossentropy"}
    model.compile(
        optimizer=keras.optimizers.Adam(spec["learning_rate"], clipnorm=spec["clipnorm"]),
        loss=loss[spec["loss"]],
    )
    timer = EpochTimer()
    model.fit(
        data["x_train"],
        data["y_train"],
        batch_size=spec["batch_size"],
        epochs=epochs,
        validation_data=(data["x_val"], data["y_val"]),
        shuffle=True,
        callbacks=[timer],
        verbose=0,
    )
    params = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    return timer.first_end, timer.seconds, params


def torch_model(spec):
    import torch
    from torch import nn

    cells = {"lstm": nn.LSTM, "gru": nn.GRU}
    cell = cells[spec["cell"]]

    class Stack(nn.Module):
        """The guide's network: stacked layers, dropout after each, a linear head."""

        def __init__(self):
            super().__init__()
            self.rnn = cell(
                spec["input_shape"][-1],
                spec["units"],
                num_layers=spec["num_layers"],
                dropout=spec["dropout"],
                batch_first=True,
            )
            self.dropout = nn.Dropout(spec["dropout"])
            self.head = nn.Linear(spec["units"], spec["outputs"])

        def forward(self, x):
            out, _ = self.rnn(x)
            return self.head(self.dropout(out[:, -1]))

    class Ensemble(nn.Module):
        """Members each reading the last steps of the window (and the periods ahead)."""

        def __init__(self):
            super().__init__()
            channels, horizon = spec["channels"], spec["horizon"]
            self.rnns = nn.ModuleList(
                cell(channels, spec["units"], num_layers=spec["num_layers"], batch_first=True)
                for _ in spec["member_lookbacks"]
            )
            self.heads = nn.ModuleList(
                nn.Linear(spec["units"], horizon) for _ in spec["member_lookbacks"]
            )
            self.linears = nn.ModuleList(
                nn.Linear(steps, horizon) for steps in spec["member_lookbacks"]
            )
            self.ahead = nn.ModuleList(nn.Linear(channels, 1) for _ in spec["member_lookbacks"])

        def forward(self, x):
            window, future = spec["window"], spec["future_steps"]
            rows = []
            for k, steps in enumerate(spec["member_lookbacks"]):
                part = x[:, window - steps :]
                out, _ = self.rnns[k](part)
                row = self.heads[k](out[:, -1])
                if spec["linear"]:
                    row = row + self.linears[k](part[:, :steps, 0])
                if future:
                    row = row + self.ahead[k](part[:, steps:]).squeeze(-1)
                rows.append(row)
            return torch.stack(rows, dim=1)

    class Text(nn.Module):
        """Embedding, channel dropout, recurrent layers, max over time, a linear head."""

        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(spec["vocabulary_size"], spec["embedding_dim"])
            self.channel_dropout = nn.Dropout1d(spec["spatial_dropout"])
            self.rnn = cell(
                spec["embedding_dim"],
                spec["units"],
                num_layers=spec["num_layers"],
                bidirectional=spec["bidirectional"],
                batch_first=True,
            )
            width = spec["units"] * (2 if spec["bidirectional"] else 1)
            self.head = nn.Linear(width, spec["classes"])

        def forward(self, tokens):
            x = self.embedding(tokens)  # (batch, steps, channels)
            x = self.channel_dropout(x.transpose(1, 2)).transpose(1, 2)
            out, _ = self.rnn(x)
            return self.head(out.max(dim=1).values)

    return {"stack": Stack, "ensemble": Ensemble, "text": Text}[spec["kind"]]()


def run_torch(data, spec, epochs, t0):
    import torch
    from torch import nn

    torch.set_num_threads(2)
    torch.manual_seed(0)
    model = torch_model(spec)
    losses = {"mse": nn.MSELoss(), "mae": nn.L1Loss(), "cross_entropy": nn.CrossEntropyLoss()}
    loss_fn = losses[spec["loss"]]
    optimizer = torch.optim.Adam(model.parameters(), lr=spec["learning_rate"])
    x_train, y_train, x_val, y_val = (
        torch.from_numpy(data[name]) for name in ("x_train", "y_train", "x_val", "y_val")
    )
    if spec["kind"] == "text":  # token ids and class ids
        x_train, y_train, x_val, y_val = (a.long() for a in (x_train, y_train, x_val, y_val))
    batch = spec["batch_size"]

    def target(y, prediction):
        # Ensemble targets (n, 1, horizon) are broadcast over the members, as in Keras.
        return y.expand_as(prediction) if y.dim() == prediction.dim() else y

    seconds, first_end = [], None
    for _ in range(epochs):
        start = time.perf_counter()
        model.train()
        order = torch.randperm(len(x_train))
        for begin in range(0, len(order), batch):
            rows = order[begin : begin + batch]
            optimizer.zero_grad()
            prediction = model(x_train[rows])
            loss = loss_fn(prediction, target(y_train[rows], prediction))
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), spec["clipnorm"])
            optimizer.step()
        model.eval()
        with torch.no_grad():
            for begin in range(0, len(x_val), batch):
                prediction = model(x_val[begin : begin + batch])
                loss_fn(prediction, target(y_val[begin : begin + batch], prediction))
        seconds.append(time.perf_counter() - start)
        if first_end is None:
            first_end = time.time() - t0
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return first_end, seconds, params


def peak_memory_mb() -> float:
    """This process's peak resident memory (VmHWM). Not ``getrusage``'s ``ru_maxrss``,
    which a child keeps from the parent it was forked from, across ``exec``."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def main():
    t0 = float(os.environ.get("SPEED_T0", time.time()))
    framework, data_path, spec_path, epochs = sys.argv[1:5]
    import numpy as np

    data = dict(np.load(data_path))
    with open(spec_path) as file:
        spec = json.load(file)
    run = {"keras": run_keras, "torch": run_torch}[framework]
    first_end, seconds, params = run(data, spec, int(epochs), t0)
    print(
        json.dumps(
            {
                "first_epoch_end_s": first_end,
                "epochs_s": seconds,
                "peak_memory_mb": peak_memory_mb(),
                "trainable_weights": int(params),
            }
        )
    )


if __name__ == "__main__":
    main()
