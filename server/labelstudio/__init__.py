"""The Label Studio bridge: queues go to a Label Studio project, labels come back exactly once,
and Label Studio can ask our server for the model's predictions (its ML backend protocol)."""
