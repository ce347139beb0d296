"""The Python API researchers import, with stable names: generator problems as torch datasets
(``datasets``), and the labeling loop from a notebook (see docs/python-api.md)."""

from labeler.api.generation import generate_dataset
from labeler.api.projects import (
    add_labels,
    create_project,
    export_labels,
    get_annotator_quality,
    get_queue,
    get_status,
    get_suspects,
    send_to_review,
)
from labeler.api.rounds import run_round
from labeler.api.simulations import SimulationOutcome, simulate

__all__ = [
    "SimulationOutcome",
    "add_labels",
    "create_project",
    "export_labels",
    "generate_dataset",
    "get_annotator_quality",
    "get_queue",
    "get_status",
    "get_suspects",
    "run_round",
    "send_to_review",
    "simulate",
]
