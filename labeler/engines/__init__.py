"""Engines that run many independent tasks: here, one after another (local), or across a Ray
cluster (ray), with results always in task order."""
