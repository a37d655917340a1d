"""The kernel: events in, replies out, in one unit of work per event. Imports no feature, no database and no
platform library (the import contracts in pyproject.toml check it)."""
