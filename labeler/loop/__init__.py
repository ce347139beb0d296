"""The loop: retrain-and-select rounds on a project, and the simulation that measures label
savings against random order, with its report."""
