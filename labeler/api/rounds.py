"""A round from Python, with the options of ``labeler round`` and a researcher's own strategy
or model."""

from __future__ import annotations

from typing import Any

from labeler.api.options import (
    ROUND_DEFAULTS,
    get_backbone_config,
    get_learner,
    get_model_config,
    get_selection_config,
    get_train_config,
    resolve_options,
)
from labeler.api.projects import ProjectPath
from labeler.engines.base import Engine
from labeler.learning.custom_model import ModelFactory, register_custom_model
from labeler.learning.model_presets import get_preset
from labeler.loop.round_config import RoundConfig
from labeler.loop.rounds import RoundSummary
from labeler.loop.rounds import run_round as run_project_round
from labeler.selection.custom_strategy import CustomStrategy, register_custom_strategy
from labeler.store.project import open_project


def run_round(
    path: ProjectPath,
    *,
    strategy: str | CustomStrategy = ROUND_DEFAULTS["strategy"],
    model: str | ModelFactory = ROUND_DEFAULTS["model"],
    engine: Engine | None = None,
    progress: bool = True,
    **options: Any,
) -> RoundSummary:
    """Train on the project's labels, score the pool and queue the next batch, as
    ``labeler round`` does; return what the round did.

    ``strategy``: a strategy name, or a function ``scores = f(probs)`` (probs ``[n_samples,
    n_classes, n_draws]`` -> ``[n_samples]``, higher = label first), recorded as
    ``custom:<its name>``. ``model``: a ``--model`` name, or a factory ``f(n_classes,
    in_channels, image_size) -> torch.nn.Module`` returning logits, recorded as
    ``custom:<its name>``. ``options``: the other flags of ``labeler round`` by their names
    (``query_size=20``, ``initial=40``, ``seed=1``, ``max_epochs=30``, ...; see
    ``labeler.api.options.ROUND_DEFAULTS``). ``engine``: a Ray engine (``labeler.engines``)
    scores the pool on its cluster; custom strategies and models run in this process only.
    """
    named = {
        "strategy": name_strategy(strategy, engine),
        "model": name_model(model, engine),
        **options,
    }
    args = resolve_options(named, ROUND_DEFAULTS, what="round")
    with open_project(path) as project:
        config = RoundConfig(
            selection=get_selection_config(args, strategy=args.strategy),
            learner=get_learner(args),
            model=get_model_config(
                args,
                image_size=project.image_size,
                in_channels=project.channels,
                allow_pretrained=True,
            ),
            train=get_train_config(args, augment=project.get_augmentation(args.augment)),
            initial=args.initial,
            initial_strategy=args.initial_strategy,
            embedding=args.embedding,
            score_subset=args.score_subset,
            audit_share=args.audit_share,
            warm_start=args.warm_start,
            seed=args.seed,
            scoring_model=args.scoring_model,
            backbone=get_backbone_config(args),
            model_preset=args.model if get_preset(args.model) is not None else None,
        )
        return run_project_round(project, config=config, engine=engine, progress=progress)


def name_strategy(strategy: str | CustomStrategy, engine: Engine | None) -> str:
    """A strategy's name; a function is registered as ``custom:<name>`` first."""
    if isinstance(strategy, str):
        return strategy
    _check_local(engine, "strategy")
    return register_custom_strategy(strategy)


def name_model(model: str | ModelFactory, engine: Engine | None) -> str:
    """A model's name; a factory is registered as ``custom:<name>`` first."""
    if isinstance(model, str):
        return model
    _check_local(engine, "model")
    return register_custom_model(model)


def _check_local(engine: Engine | None, what: str) -> None:
    if engine is not None and engine.name != "local":
        raise ValueError(
            f"a custom {what} lives in this Python process and cannot run on the {engine.name} "
            "engine's workers: run without an engine, or register it in a module they import"
        )
