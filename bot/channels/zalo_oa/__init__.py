"""Zalo Official Account channel: webhook events, consultation messages with buttons, images and files."""
