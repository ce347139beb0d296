"""Pruning analysis: conflicting bundles, auto-tuned depth, block lesions and greedy layer
pruning, and the trimmed model that rounds can score with."""
