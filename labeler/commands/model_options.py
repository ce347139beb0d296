"""Command-line flags for the model, its training and batch selection, shared by ``round`` and
``simulate`` so both read the same way."""

from __future__ import annotations

import argparse

from generators.family import TRANSFORMS
from labeler.data.augmentation import PHOTO_AUGMENTATION
from labeler.data.input_size import MAX_IMAGE_SIZE, MIN_IMAGE_SIZE
from labeler.learning.backbones import BACKBONE_MODES
from labeler.learning.devices import DEVICES
from labeler.learning.embedding_kinds import list_embedding_kinds
from labeler.learning.learner_choice import AUTO, HEAD_PREFIX
from labeler.learning.model_presets import PRESETS, list_presets
from labeler.learning.models import DEFAULT_MODEL_CONFIG, list_models
from labeler.learning.training import TrainConfig
from labeler.learning.warm_start import SCRATCH_NEW_SHARE, WARM_STEP_SHARE
from labeler.loop.initial_round import DEFAULT_COLD_START
from labeler.loop.round_config import AUTO_EMBEDDING
from labeler.selection.cold_start import list_cold_starts
from labeler.selection.strategies import DIVERSITY_MODES, list_strategies

_TRAIN_DEFAULTS = TrainConfig()


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --model, --depth, --width, --image-size, --dropout, --device and training flags."""
    group = parser.add_argument_group("model and training")
    group.add_argument(
        "--model",
        default=AUTO,
        help=f"what learns from the labels: {AUTO} (each round, linear heads on the "
        "embeddings and the CNN cross-validated on the labels so far, the best one used; "
        f"default), {HEAD_PREFIX}<embedding> (a linear head on one of "
        f"{', '.join(list_embedding_kinds())}), a network: {', '.join(list_models())} "
        f"({DEFAULT_MODEL_CONFIG.name} is the CNN {AUTO} considers), or a preset network of "
        "fixed shape: " + ", ".join(f"{name} ({PRESETS[name].summary})" for name in list_presets()),
    )
    group.add_argument(
        "--depth", type=int, default=DEFAULT_MODEL_CONFIG.depth, help="blocks per stage"
    )
    group.add_argument(
        "--width", type=int, default=DEFAULT_MODEL_CONFIG.width, help="channels of stage 1"
    )
    group.add_argument(
        "--image-size",
        type=int,
        default=None,
        help=(
            f"model input side in px, {MIN_IMAGE_SIZE}-{MAX_IMAGE_SIZE} (default: the "
            "project's; for a dataset, the size a project would choose for it)"
        ),
    )
    group.add_argument(
        "--dropout", type=float, default=DEFAULT_MODEL_CONFIG.dropout, help="head dropout"
    )
    group.add_argument(
        "--device",
        default=_TRAIN_DEFAULTS.device,
        choices=DEVICES,
        help="auto: CUDA when present (default auto)",
    )
    group.add_argument(
        "--max-epochs", type=int, default=_TRAIN_DEFAULTS.max_epochs, help="epochs to plan"
    )
    group.add_argument(
        "--min-steps",
        type=int,
        default=_TRAIN_DEFAULTS.min_steps,
        help="optimizer steps planned at least, and run before early stopping may act "
        f"(default {_TRAIN_DEFAULTS.min_steps})",
    )
    group.add_argument("--batch-size", type=int, default=_TRAIN_DEFAULTS.batch_size)
    group.add_argument("--lr", type=float, default=_TRAIN_DEFAULTS.lr, help="peak learning rate")
    group.add_argument(
        "--train-seed", type=int, default=_TRAIN_DEFAULTS.seed, help="seed of training"
    )
    group.add_argument(
        "--augment",
        default="auto",
        help=(
            "label-preserving transforms to train with: auto (a generated dataset's own, "
            f"{','.join(PHOTO_AUGMENTATION)} for photos), none, or a list of "
            f"{','.join(TRANSFORMS)} (default auto)"
        ),
    )
    group.add_argument(
        "--warm-start",
        action="store_true",
        help=f"train a network on from the last round's weights, for {WARM_STEP_SHARE:.0%}% of "
        f"the steps, once that network has seen more than {1 - SCRATCH_NEW_SHARE:.0%}% of the "
        "labels (default: from scratch every round)",
    )
    group.add_argument(
        "--threads",
        type=int,
        default=_TRAIN_DEFAULTS.n_threads,
        help="torch CPU threads for training and scoring (default: every core; give 1 to "
        "each of several processes sharing the cores)",
    )


def add_backbone_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --backbone-mode and --weights (for the ``-pretrained`` models)."""
    group = parser.add_argument_group("pretrained backbones (the -pretrained models)")
    group.add_argument(
        "--backbone-mode",
        default=None,
        choices=BACKBONE_MODES,
        help="frozen: keep the ImageNet weights, compute each image's features once (cached in "
        "PROJECT/features/) and train only the head on them, seconds on a CPU (default); "
        "finetune: train the whole network from the ImageNet weights",
    )
    group.add_argument(
        "--weights",
        default=None,
        metavar="PATH",
        help="the backbone's weights file (default: torch's cache, "
        "$TORCH_HOME/hub/checkpoints/<torchvision's file name>); never downloaded",
    )


def add_selection_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --diversity, --max-class-fraction, --n-draws and --score-subset."""
    group = parser.add_argument_group("batch selection")
    group.add_argument(
        "--diversity",
        default="none",
        choices=DIVERSITY_MODES,
        help="kcenter: spread the batch over the best candidates' features; power: draw it "
        "with probability proportional to the score (default none)",
    )
    group.add_argument(
        "--max-class-fraction",
        type=float,
        default=None,
        help="cap on any predicted class's share of a batch, e.g. 0.5 (default: no cap)",
    )
    group.add_argument(
        "--n-draws",
        type=int,
        default=0,
        help="MC-dropout passes (default: 10 for bald/variation_ratio, else 1)",
    )
    group.add_argument(
        "--score-subset",
        "--score-subsample",
        dest="score_subset",
        type=int,
        default=None,
        help="score only this many unlabeled images, drawn at random each round (for huge "
        "pools; at least --query-size; more than the pool scores it all)",
    )


def add_cold_start_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --initial-strategy and --embedding: how the first labels are picked."""
    parser.add_argument(
        "--initial-strategy",
        default=DEFAULT_COLD_START,
        help=f"how --initial picks them: one of {', '.join(list_cold_starts())} (default "
        f"{DEFAULT_COLD_START}: greedy coverage of the pool; typiclust and max_herding read "
        "--embedding)",
    )
    parser.add_argument(
        "--embedding",
        default=AUTO_EMBEDDING,
        help=f"the embedding the cold start reads: {AUTO_EMBEDDING} or one of "
        f"{', '.join(list_embedding_kinds())} (default {AUTO_EMBEDDING}: the first in --model "
        "auto's order of preference: efficientnet_lite0+pixels, or efficientnet_lite0 alone "
        "where the two disagree on which images are alike, pixels where the pretrained extra "
        "is missing or unaffordable; computed once per project and cached, see `labeler embed`)",
    )


def describe_strategies() -> str:
    return ", ".join(list_strategies())
