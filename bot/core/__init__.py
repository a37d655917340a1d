"""The platform-free core: events in, replies out. Imports nothing from aiogram, httpx, sqlalchemy or db."""
