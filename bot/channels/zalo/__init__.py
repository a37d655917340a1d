"""Zalo Bot API channel: a thin httpx client, update mapping, rendering, polling and webhook."""
