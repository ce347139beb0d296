"""Selection: acquisition functions over probabilities, batch selectors over scores, the
strategies that join them, and querying the pool with a model."""
