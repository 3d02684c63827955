"""notify's use cases, each a function of a Context (shared.readscope) and its input."""
