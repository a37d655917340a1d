"""The Telegram channel (aiogram 3): polling or webhook in, replies out through a rate limiter."""
