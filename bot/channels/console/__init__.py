"""A terminal chat for trying the bot without any token."""
