"""The web console: staff sign in from the chat with a one-time link and work in a browser."""
