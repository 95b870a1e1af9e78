"""Event source mappings at work: pollers of SQS queues and Kinesis shards that invoke functions with batches."""
