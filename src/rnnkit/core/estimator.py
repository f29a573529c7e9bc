"""The scikit-learn estimator protocol, shared by both jobs' estimators.

``get_params`` and ``set_params`` speak the flat names the constructors take
(``lookback``, ``cell``, ``epochs``), so ``sklearn.base.clone``, ``GridSearchCV`` and
pipelines work; ``repr`` shows the parameters that differ from the defaults, as
scikit-learn's does. scikit-learn itself is imported only when one of its functions asks
for the estimator's tags.

The protocol is written out here rather than inherited from ``sklearn.base.BaseEstimator``:
that class reads the parameters from the constructor's signature, and these constructors
take ``config=None, **params``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

# The nested configurations, whose fields are given by their own (flat) names.
NESTED = ("model", "training")


def flat_params(config: Any) -> dict[str, Any]:
    """Every field of a job's configuration by its flat name (nested ones included)."""
    params = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    for name in NESTED:
        params.update(params.pop(name).to_dict())
    return params


class EstimatorParams:
    """``get_params``, ``set_params``, ``repr`` and scikit-learn's fitted check and tags.

    A subclass keeps its configuration in ``config``, names the function that builds it
    from flat keywords in ``_make_config`` and calls :meth:`_configured` when it changes.
    """

    config: Any
    _make_config: Callable[..., Any]
    _estimator_type: str | None = None

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's parameters by their flat names (``deep`` changes nothing:
        no parameter is itself an estimator).

        Example:
            >>> Forecaster(horizon=7).get_params()["horizon"]  # doctest: +SKIP
            7
        """
        return flat_params(self.config)

    def set_params(self, **params: Any) -> Any:
        """Changes parameters by their flat names and returns ``self``; an unknown name is
        a :class:`~rnnkit.errors.ConfigError` naming the closest one. Fit again afterwards:
        a fitted model keeps the parameters it was trained with."""
        previous = self.config
        self.config = type(self)._make_config(self.config, **params)
        try:
            self._configured()
        except Exception:
            self.config = previous  # a refused change leaves the estimator as it was
            raise
        return self

    def _configured(self) -> None:
        """Checks or derives what depends on ``config`` (after ``__init__`` and
        ``set_params``)."""

    def __repr__(self) -> str:
        defaults = flat_params(type(self)._make_config())
        changed = {k: v for k, v in self.get_params().items() if defaults.get(k) != v}
        shown = ", ".join(f"{k}={v!r}" for k, v in sorted(changed.items()))
        return f"{type(self).__name__}({shown})"

    def __sklearn_is_fitted__(self) -> bool:
        # Only a trained (or loaded) model counts: preparing data (find_learning_rate)
        # sets other attributes ending in "_".
        return hasattr(self, "model_")

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import ClassifierTags, InputTags, Tags, TargetTags

        classifier = self._estimator_type == "classifier"
        return Tags(
            estimator_type=self._estimator_type,
            target_tags=TargetTags(required=classifier),
            classifier_tags=ClassifierTags() if classifier else None,
            input_tags=InputTags(one_d_array=classifier, two_d_array=False, string=classifier),
            non_deterministic=False,
        )
