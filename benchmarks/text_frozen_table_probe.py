"""The text suite with the wide part's n-gram table frozen at its linear-SVM start: a probe.

Only the recurrent network trains, on what the linear model's scores leave; the model
starts as the calibrated SVM and can only add to it. Same arguments as
``bench_text_suite.py``, whose ``main`` runs with the table frozen:

    .venv/bin/python benchmarks/text_frozen_table_probe.py --seeds 0 1 2 --no-recurrent-only \\
        --output benchmarks/results/text_suite_frozen_table.json
"""

from __future__ import annotations

import bench_text_suite as suite

from rnnkit.classification import TextClassifier

_build = TextClassifier._build_model


def _frozen_table(self, name=None):
    model = _build(self, name=name)
    if getattr(self, "ngrams_", None) is not None:
        model.get_layer("ngram_table").trainable = False
    return model


TextClassifier._build_model = _frozen_table

if __name__ == "__main__":
    suite.main()
