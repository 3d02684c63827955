"""The events service's use cases: plain functions of a Context and validated input."""
