"""The durable inbox every platform channel stores updates in, the notices job, and the running process's
serve loop (channels and background jobs under one stop event)."""
