"""The guide's forecasting network as a plain Keras script (for timing only).

Run by bench_epoch_speed.py under another interpreter with KERAS_BACKEND set, e.g. a
virtual environment with TensorFlow:  KERAS_BACKEND=tensorflow python guide_keras_script.py
windows.npz EPOCHS. Prints one JSON line with the seconds of each epoch.
"""

import json
import sys
import time

import keras
import numpy as np
from keras.layers import LSTM, Dense, Dropout
from keras.models import Sequential


class EpochTimer(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


data = np.load(sys.argv[1])
x_train, y_train = data["x"], data["y"]
epochs = int(sys.argv[2])

regressor = Sequential()
regressor.add(keras.Input(shape=(x_train.shape[1], 1)))
regressor.add(LSTM(units=50, return_sequences=True))
regressor.add(Dropout(0.2))
regressor.add(LSTM(units=50, return_sequences=True))
regressor.add(Dropout(0.2))
regressor.add(LSTM(units=50, return_sequences=True))
regressor.add(Dropout(0.2))
regressor.add(LSTM(units=50))
regressor.add(Dropout(0.2))
regressor.add(Dense(units=1))
regressor.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="mse")
timer = EpochTimer()
timer.seconds = []
regressor.fit(x_train, y_train, epochs=epochs, batch_size=32, callbacks=[timer], verbose=0)
print(json.dumps({"backend": keras.backend.backend(), "seconds": timer.seconds}))
