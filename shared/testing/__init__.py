"""pytest fixtures that start the real broker and database as processes."""
