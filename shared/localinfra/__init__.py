"""Real infrastructure as local processes, for `make run` and the test suite.

No Docker engine is assumed: Apache Kafka runs from its Maven Central jars as
a single KRaft node, and FerretDB (MongoDB wire protocol on SQLite) is built
from the Go module proxy. Downloads and builds are cached outside the repo in
``GONGHUI_CACHE_DIR`` (default ``~/.cache/gonghui``).
"""
