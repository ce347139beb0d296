"""A researcher's own network as the model of rounds and simulations.

Any factory ``factory(n_classes, in_channels, image_size) -> torch.nn.Module`` whose module
maps input ``[n, in_channels, image_size, image_size]`` (ink 1.0, see
``labeler.learning.models.make_model_input``) to logits ``[n, n_classes]``. It is registered
as the model ``custom:<name>``, trained and scored like the built-in ones (``--model`` names it
in the round report). A module with a ``features(x)`` method and a ``head`` module
(``head(features(x))`` = logits) gets feature diversity and MC-dropout draws from them;
otherwise its logits stand in for features and it has no dropout draws.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from labeler.learning.models import Classifier, ModelConfig, register_model

CUSTOM_PREFIX = "custom:"
ModelFactory = Callable[[int, int, int], nn.Module]


class CustomClassifier(Classifier):
    """A module from a researcher's factory behind the ``Classifier`` interface."""

    def __init__(self, module: nn.Module, config: ModelConfig, n_classes: int) -> None:
        super().__init__()
        self.config = config
        self.n_classes = n_classes
        self.module = module
        features = getattr(module, "features", None)
        head = getattr(module, "head", None)
        self.has_features = callable(features) and isinstance(head, nn.Module)
        probe = torch.zeros(2, config.in_channels, config.image_size, config.image_size)
        module.eval()
        with torch.no_grad():
            logits = module(probe)
            width = features(probe).shape[1] if self.has_features else n_classes  # type: ignore[misc]
        module.train()
        if tuple(logits.shape) != (2, n_classes):
            raise ValueError(
                f"the custom model {config.name!r} returned {tuple(logits.shape)} for input "
                f"{tuple(probe.shape)}; it must return logits [n, {n_classes}]"
            )
        self.n_features = int(width)
        self.head = head if self.has_features else nn.Sequential(nn.Identity())  # type: ignore[assignment]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        if self.has_features:
            return self.module.features(x)  # type: ignore[operator]
        return self.module(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x)


def register_custom_model(factory: ModelFactory, name: str | None = None) -> str:
    """Register ``factory`` as the model ``custom:<name>`` (``name`` defaults to the factory's
    own name) and return that model name. Registering the same name again replaces it."""
    if not callable(factory):
        raise ValueError(
            f"a custom model must be a factory(n_classes, in_channels, image_size), got {factory!r}"
        )
    label = name if name is not None else getattr(factory, "__name__", "")
    if not label or label == "<lambda>" or not label.replace("_", "").isalnum():
        raise ValueError(
            f"name the custom model (letters, digits and '_'), got {label!r}: pass name=..."
        )
    model_name = CUSTOM_PREFIX + label

    def build(config: ModelConfig, n_classes: int) -> Classifier:
        module = factory(n_classes, config.in_channels, config.image_size)
        if not isinstance(module, nn.Module):
            raise ValueError(
                f"the custom model {model_name!r} factory returned {type(module).__name__}, "
                "not a torch.nn.Module"
            )
        return CustomClassifier(module, config, n_classes)

    register_model(model_name, replace=True)(build)
    return model_name
