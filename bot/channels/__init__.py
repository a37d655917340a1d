"""Channel adapters: they translate platform updates to core events and replies to platform calls."""
