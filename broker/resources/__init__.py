"""Resources the configuration declares (queues, topics, streams, functions, mappings), created at start."""
