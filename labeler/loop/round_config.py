"""The settings of one round (``labeler round``'s flags), checked before any work."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from labeler.learning.backbones import BackboneConfig, get_backbone_name
from labeler.learning.joint_embedding import check_embedding_name
from labeler.learning.learner_choice import CNN, check_learner
from labeler.learning.model_presets import get_preset, list_presets
from labeler.learning.models import ModelConfig
from labeler.learning.training import TrainConfig
from labeler.pruning.trimmed_model import SCORING_MODELS
from labeler.selection.accuracy_estimate import check_audit_share
from labeler.selection.cold_start import get_cold_start
from labeler.selection.strategies import SelectionConfig, check_strategy_fits

# ``RoundConfig.embedding`` that lets the round pick: the first embedding ``--model auto`` would
# put a head on (``labeler.loop.round_learning.list_auto_embeddings``).
AUTO_EMBEDDING = "auto"


@dataclass(frozen=True)
class RoundConfig:
    """Everything a round needs besides the project, written as JSON beside its outputs.

    ``learner``: what learns from the labels: ``cnn`` (the network ``model``, trained from
    scratch or from a backbone's weights), ``linear@<embedding>`` (a linear head on a cached
    embedding of the pool) or ``auto`` (chosen each round on the labels so far among linear
    heads and the CNN: ``labeler.learning.learner_choice``). ``selection.strategy`` may be
    ``auto`` (``labeler.selection.auto_strategy``).

    ``initial``: when the labels are too few to train on, queue this many unlabeled samples
    instead (0: refuse with an error that says what to label), picked by the cold-start
    strategy ``initial_strategy`` (``labeler.loop.initial_round``) on the project's
    ``embedding`` (a kind of ``labeler.learning.embeddings``, or ``auto``: the first that
    ``--model auto`` would use). ``score_subset``: score
    only this many random unlabeled samples (None: all). ``audit_share``: that share of each
    batch is drawn at random from the scored images instead, for the accuracy estimate
    (``labeler.selection.accuracy_estimate``; 0: none). ``warm_start``: a network starts from
    the last round's weights (``labeler.learning.warm_start``). ``seed``:
    selection randomness.
    ``scoring_model``: "full" scores with the trained model; "pruned" cuts the blocks that
    ``labeler prune apply`` chose from it, fine-tunes the rest briefly and scores with that
    (``labeler.pruning.trimmed_model``). ``backbone``: how a ``<backbone>-pretrained`` model
    is trained (frozen or fine-tuned) and where its weights are; set for those models (default
    ``BackboneConfig()``) and only for them. ``model_preset``: the preset ``--model`` named
    (``labeler.learning.model_presets``), for the record; ``model`` is the network it resolves
    to. None when ``--model`` named no preset.
    """

    selection: SelectionConfig = field(default_factory=SelectionConfig)
    learner: str = CNN
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    initial: int = 0
    initial_strategy: str = "random"
    embedding: str = "pixels"
    score_subset: int | None = None
    audit_share: float = 0.0
    warm_start: bool = False
    seed: int = 0
    scoring_model: str = "full"
    backbone: BackboneConfig | None = None
    model_preset: str | None = None

    def __post_init__(self) -> None:
        if self.model_preset is not None:
            check_model_preset(self.model_preset, self.model)
        if get_backbone_name(self.model.name) is None:
            if self.backbone is not None:
                raise ValueError(
                    f"backbone settings (mode, weights) apply to pretrained models only, not to "
                    f"{self.model.name!r}"
                )
        else:
            if self.backbone is None:
                object.__setattr__(self, "backbone", BackboneConfig())
            if self.scoring_model == "pruned":
                raise ValueError(
                    f"a pruned scoring model is cut from the small resnet or plain networks, "
                    f"not from {self.model.name!r}: use --scoring-model full"
                )
        if self.scoring_model not in SCORING_MODELS:
            raise ValueError(
                f"unknown scoring model {self.scoring_model!r}; valid ones: "
                f"{', '.join(SCORING_MODELS)}"
            )
        check_learner(self.learner)
        check_strategy_fits(self.learner, self.selection.strategy)
        if self.learner != CNN and self.backbone is not None:
            raise ValueError(
                f"a pretrained backbone model ({self.model.name}) is trained as the cnn learner, "
                f"not with learner {self.learner!r}"
            )
        if self.learner != CNN and self.scoring_model == "pruned":
            raise ValueError(
                f"a pruned scoring model is cut from a trained network: learner {self.learner!r} "
                "may choose a linear head; use --model resnet or --scoring-model full"
            )
        if self.initial < 0:
            raise ValueError(f"initial must be 0 or positive, got {self.initial}")
        get_cold_start(self.initial_strategy)  # unknown names are refused before any work
        if self.embedding != AUTO_EMBEDDING:
            check_embedding_name(self.embedding)
        check_audit_share(self.audit_share)
        if self.score_subset is not None and self.score_subset < self.selection.query_size:
            raise ValueError(
                f"score subset ({self.score_subset}) must be at least the query size "
                f"({self.selection.query_size})"
            )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def check_model_preset(name: str, model: ModelConfig) -> None:
    """ValueError unless ``name`` is a model preset that stands for ``model`` (at its input
    size, dropout and channels): a record never names a preset for another network."""
    preset = get_preset(name)
    if preset is None:
        raise ValueError(f"unknown model preset {name!r}; valid ones: {', '.join(list_presets())}")
    resolved = preset.make_config(
        name, image_size=model.image_size, dropout=model.dropout, in_channels=model.in_channels
    )
    if resolved != model:
        raise ValueError(f"model preset {name} stands for {resolved}, not {model}")
