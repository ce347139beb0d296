"""The options of a round and of a simulation: one name per ``labeler round`` / ``labeler
simulate`` flag (``--query-size`` is ``query_size``), with the same defaults, and the configs
they make.

The commands parse their flags into these names and call ``labeler.api``; a notebook passes
them as keyword arguments. Unknown names are refused with the valid ones listed.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from labeler.data.input_size import check_image_size
from labeler.learning.backbones import BackboneConfig, get_backbone_name
from labeler.learning.embedding_kinds import list_embedding_kinds
from labeler.learning.learner_choice import AUTO, CNN, check_learner, get_head_name
from labeler.learning.model_presets import get_preset, list_presets
from labeler.learning.models import DEFAULT_MODEL_CONFIG, ModelConfig, list_models
from labeler.learning.training import TrainConfig
from labeler.loop.initial_round import DEFAULT_COLD_START
from labeler.loop.round_config import AUTO_EMBEDDING
from labeler.selection.accuracy_estimate import DEFAULT_AUDIT_SHARE
from labeler.selection.strategies import SelectionConfig

_TRAIN_DEFAULTS = TrainConfig()

# The network and its training (``labeler.commands.model_options.add_model_arguments``).
MODEL_DEFAULTS: dict[str, Any] = {
    "model": AUTO,
    "depth": DEFAULT_MODEL_CONFIG.depth,
    "width": DEFAULT_MODEL_CONFIG.width,
    "image_size": None,
    "dropout": DEFAULT_MODEL_CONFIG.dropout,
    "device": _TRAIN_DEFAULTS.device,
    "max_epochs": _TRAIN_DEFAULTS.max_epochs,
    "min_steps": _TRAIN_DEFAULTS.min_steps,
    "batch_size": _TRAIN_DEFAULTS.batch_size,
    "lr": _TRAIN_DEFAULTS.lr,
    "train_seed": _TRAIN_DEFAULTS.seed,
    "augment": "auto",
    "threads": _TRAIN_DEFAULTS.n_threads,
    "warm_start": False,
}
# Batch selection and the cold start, shared by rounds and simulations.
SELECTION_DEFAULTS: dict[str, Any] = {
    "query_size": 50,
    "diversity": "none",
    "max_class_fraction": None,
    "n_draws": 0,
    "score_subset": None,
    "initial_strategy": DEFAULT_COLD_START,
    "embedding": AUTO_EMBEDDING,
}
ROUND_DEFAULTS: dict[str, Any] = {
    "strategy": "auto",
    "initial": 0,
    "audit_share": DEFAULT_AUDIT_SHARE,
    "seed": 0,
    "scoring_model": "full",
    "backbone_mode": None,
    "weights": None,
    **SELECTION_DEFAULTS,
    **MODEL_DEFAULTS,
}
SIMULATION_DEFAULTS: dict[str, Any] = {
    "strategies": ("auto", "margin", "random"),
    "seeds": 3,
    "first_seed": 0,
    "initial": 50,
    "budget": 1000,
    "pool_size": None,
    "test_fraction": None,
    "colour": "auto",
    "label_noise": 0.0,
    "label_noise_kind": "uniform",
    **SELECTION_DEFAULTS,
    **MODEL_DEFAULTS,
}


def resolve_options(
    given: Mapping[str, Any], defaults: Mapping[str, Any], *, what: str
) -> SimpleNamespace:
    """``defaults`` overridden by ``given``, as attributes; ValueError naming any unknown
    option and the valid ones (``what``: "round", "simulation")."""
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise ValueError(
            f"unknown {what} option(s) {', '.join(unknown)}; valid ones: "
            f"{', '.join(sorted(defaults))}"
        )
    return SimpleNamespace(**{**defaults, **given})


def get_backbone_config(args: Any) -> BackboneConfig | None:
    """The backbone flags as a config for a ``-pretrained`` ``--model``; None for the others
    (ValueError when backbone flags are given with them)."""
    if get_backbone_name(args.model) is None:
        given = [
            flag
            for flag, value in (
                ("--backbone-mode", args.backbone_mode),
                ("--weights", args.weights),
            )
            if value is not None
        ]
        if given:
            raise ValueError(
                f"{' and '.join(given)} apply to the -pretrained models only, not to "
                f"--model {args.model}"
            )
        return None
    return BackboneConfig(mode=args.backbone_mode or BackboneConfig.mode, weights=args.weights)


def get_selection_config(args: Any, *, strategy: str) -> SelectionConfig:
    """The batch selection the flags ask for (``--query-size`` and the ``batch selection``
    group), with ``strategy``."""
    return SelectionConfig(
        strategy=strategy,
        query_size=args.query_size,
        diversity=args.diversity,
        max_class_fraction=args.max_class_fraction,
        n_draws=args.n_draws,
    )


def get_learner(args: Any) -> str:
    """The learner ``--model`` names: ``auto``, ``linear@<embedding>``, or ``cnn`` for a
    network (ValueError listing every valid name otherwise)."""
    if args.model in list_models() or get_preset(args.model) is not None:
        return CNN
    try:
        return check_learner(args.model)
    except ValueError:
        heads = ", ".join(get_head_name(kind) for kind in list_embedding_kinds())
        networks = ", ".join([*list_models(), *list_presets()])
        raise ValueError(
            f"unknown model {args.model!r}; valid ones: {AUTO}, {heads}, {networks}"
        ) from None


def get_requested_image_size(args: Any) -> int | None:
    """``--image-size``, else the size a preset ``--model`` takes (None: the data's own)."""
    preset = get_preset(args.model)
    if args.image_size is None and preset is not None:
        return preset.image_sizes[0]
    return args.image_size


def get_model_config(
    args: Any,
    *,
    image_size: int,
    in_channels: int = 1,
    allow_pretrained: bool = False,
) -> ModelConfig:
    """The network the flags ask for (with ``--model auto`` or a linear head: the CNN
    ``auto`` considers, ``DEFAULT_MODEL_CONFIG.name``), seeing ``in_channels`` channels (1 or
    3) of ``image_size`` (``--image-size`` when given, checked against the supported range; a
    preset (``labeler.learning.model_presets``) also checks it against the sizes it takes, and
    takes no ``--width`` or ``--depth``). ``allow_pretrained``: the command reads pretrained
    weights (``labeler round``); elsewhere a ``-pretrained`` model is refused rather than
    trained from random weights."""
    name = args.model if get_learner(args) == CNN else DEFAULT_MODEL_CONFIG.name
    preset = get_preset(name)
    if preset is not None:
        config = preset.make_config(
            name,
            image_size=check_image_size(args.image_size or image_size),
            dropout=args.dropout,
            in_channels=in_channels,
        )
        shaped = [
            f"--{flag} {getattr(args, flag)}"
            for flag in ("width", "depth")
            if getattr(args, flag) != getattr(DEFAULT_MODEL_CONFIG, flag)
        ]
        if shaped:
            raise ValueError(
                f"--model {name} is a preset of fixed shape (width {preset.width}, depth "
                f"{preset.depth}): {' and '.join(shaped)} do not apply to it"
            )
        return config
    if not allow_pretrained and get_backbone_name(args.model) is not None:
        raise ValueError(
            f"--model {args.model}: pretrained backbones are only supported by `labeler round` "
            "so far"
        )
    return ModelConfig(
        name=name,
        depth=args.depth,
        width=args.width,
        image_size=check_image_size(args.image_size or image_size),
        dropout=args.dropout,
        stem_stride=DEFAULT_MODEL_CONFIG.stem_stride,
        in_channels=in_channels,
    )


def get_train_config(args: Any, *, augment: tuple[str, ...] = ()) -> TrainConfig:
    """The training the flags ask for, with ``augment`` (``--augment`` resolved for the data)."""
    return TrainConfig(
        augment=augment,
        max_epochs=args.max_epochs,
        min_steps=args.min_steps,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.train_seed,
        device=args.device,
        n_threads=args.threads,
    )
