"""Learning: the models, their training and checkpoints, and scoring the unlabeled pool."""
