"""Shared set-up of the Zalo OA token tests: settings pointing at the fake OAuth server and a migrated database."""

from __future__ import annotations

from cryptography.fernet import Fernet

from bot.config import Settings
from tests.fakes.zalo_oauth import FakeZaloOAuth

KEY = Fernet.generate_key().decode()


def oa_settings(database_url: str, fake: FakeZaloOAuth, key: str | None = KEY, **extra: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "zalo_oa_app_id": fake.app_id,
        "zalo_oa_app_secret": fake.secret,
        "zalo_oa_oauth_base": fake.url,
        "zalo_oa_token_key": key,
        "zalo_oa_redirect_uri": "https://truong.example.vn/zalo-oa/callback",
        **extra,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def oa_env(database_url: str, fake: FakeZaloOAuth, key: str = KEY) -> dict[str, str]:
    """The same settings as environment variables, for the subprocesses."""
    return {
        "DATABASE_URL": database_url,
        "ZALO_OA_APP_ID": fake.app_id,
        "ZALO_OA_APP_SECRET": fake.secret,
        "ZALO_OA_OAUTH_BASE": fake.url,
        "ZALO_OA_TOKEN_KEY": key,
        "ZALO_OA_REDIRECT_URI": "https://truong.example.vn/zalo-oa/callback",
    }
