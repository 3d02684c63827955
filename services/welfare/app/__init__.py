"""The welfare service's use cases: each takes a Context and plain input, returns Documents or rows, and
raises shared.errors refusals; the API layer only parses, calls and dumps."""
