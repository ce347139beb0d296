"""Architecture variants tried by the SVRT benchmarks, registered beside the library's models.

Importing this module registers (``labeler.learning.models.register_model``):

- ``resnet-maxpool``: the library's ``resnet`` (``SmallResNet`` with residual blocks) whose
  features are global average pooling and global max pooling of the last stage, concatenated
  (``n_features = 2 * 4 * width``); the head is ``Dropout`` + ``Linear`` on those. Why: a linear
  head on averages sees only how much of each pattern there is; "one small shape inside and one
  outside" (SVRT 23) is an AND of two presences, which max pooling gives as two features.

Every other part (stem, stages, initialisation, ``ModelConfig`` fields) is the library's.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from labeler.learning.models import Classifier, ModelConfig, SmallResNet, register_model

MAXPOOL_RESNET = "resnet-maxpool"


class MaxPoolResNet(SmallResNet):
    """``SmallResNet`` with features ``[avg_pool(x), max_pool(x)]`` ``[n, 2 * 4 * width]``."""

    def __init__(self, config: ModelConfig, n_classes: int) -> None:
        super().__init__(config, n_classes, residual=True)
        self._init_head(config, 2 * self.n_features, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.stem(x))
        pooled = (F.adaptive_avg_pool2d(x, 1), F.adaptive_max_pool2d(x, 1))
        return torch.flatten(torch.cat(pooled, dim=1), 1)


@register_model(MAXPOOL_RESNET)
def _make_maxpool_resnet(config: ModelConfig, n_classes: int) -> Classifier:
    return MaxPoolResNet(config, n_classes)
