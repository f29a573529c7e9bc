"""Experiments that measure the theory: the vanishing and exploding gradients of recurrent
cells (:mod:`rnnkit.experiments.gradients`, reported by
:mod:`rnnkit.experiments.gradients_report`)."""
