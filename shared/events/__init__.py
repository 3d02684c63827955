"""Integration events: CloudEvents on Kafka, the outbox relay, the consumer."""
