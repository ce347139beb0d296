"""Training a classifier's head alone, on precomputed features (a frozen backbone's).

``train_head`` takes the penultimate features of the labeled images, float32 ``[n,
n_features]``, and trains the model's ``head`` (``Dropout`` + ``Linear``) on them with the loop
``train_model`` uses (``labeler.learning.fitting.fit``): the same stratified validation split
when labels allow it (none with few labels), planned steps, AdamW with a one-cycle learning
rate, class weights, early stopping and restoring the best weights. No image passes through the
backbone, so a round on a frozen backbone trains in a second. Runs on the CPU (a linear layer
gains nothing from a GPU) without augmentation; every feature row is used in each epoch (a
head has no batch norm that a last, small batch could upset). All randomness comes from
``train_config.seed`` and torch's global random state is left as it was.
"""

from __future__ import annotations

import logging
from copy import deepcopy
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from labeler.learning.devices import cpu_threads
from labeler.learning.fitting import TrainResult, fit
from labeler.learning.models import Classifier
from labeler.learning.train_config import TrainConfig
from labeler.learning.training import check_labels

logger = logging.getLogger(__name__)


def train_head(
    model: Classifier,
    features: NDArray[np.float32],
    labels: NDArray[np.integer[Any]],
    *,
    train_config: TrainConfig | None = None,
) -> TrainResult:
    """Train ``model``'s head on ``features`` float32 ``[n, model.n_features]`` (the model's own
    ``features`` of the labeled images) with ``labels`` int ``[n]``.

    Returns a ``TrainResult`` whose model is a copy of ``model`` with the trained head (eval
    mode, on the CPU); ``model`` is left as it was. Raises ValueError on bad shapes or too few
    labels, as ``train_model`` does.
    """
    config = train_config or TrainConfig()
    features = np.asarray(features, dtype=np.float32)
    labels = np.asarray(labels)
    if features.shape != (len(labels), model.n_features):
        raise ValueError(
            f"expected features [{len(labels)}, {model.n_features}] (one row per label), got "
            f"{features.shape}"
        )
    counts = check_labels(
        labels, n_classes=model.n_classes, min_per_class=config.min_labels_per_class
    )
    with cpu_threads(config.n_threads):
        result = fit(
            lambda: deepcopy(model).cpu(),
            torch.from_numpy(features),
            labels,
            counts,
            config=config,
            device=torch.device("cpu"),
            logger=logger,
            head_only=True,
            drop_small_last_batch=False,
            eval_batch_size=None,
            loss_sum_dtype=torch.float64,
        )
    logger.info(
        "trained the head %d steps in %.2f s; validation accuracy %.3f",
        result.n_steps,
        result.seconds,
        result.val_accuracy,
    )
    return result
