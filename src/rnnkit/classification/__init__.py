"""The second job: a text classifier (:class:`TextClassifier`) trained from a table of
texts and labels, in memory or streamed from a file larger than memory, scored against
baselines and reported."""

from __future__ import annotations

from rnnkit.classification.classifier import TextClassifier, find_learning_rate, make_config

__all__ = ["TextClassifier", "find_learning_rate", "make_config"]
