"""Settings from the environment or a `.env` file. Tokens are secrets: never printed, never logged."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.reports.options import ReportOptions

DEFAULT_DB = "sqlite+aiosqlite:///./data/antt-bot.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(default=DEFAULT_DB)
    content_dir: Path = Field(default=Path(__file__).resolve().parents[1] / "content")

    telegram_bot_token: SecretStr | None = None
    telegram_api_base: str = "https://api.telegram.org"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    # The contest page's Mini App short name, made with BotFather's /newapp (direct links for class groups:
    # https://t.me/<bot>/<name>?startapp=<round>); empty: no direct links, the private chat's button only.
    telegram_webapp_name: str = ""

    zalo_bot_token: SecretStr | None = None
    zalo_api_base: str = "https://bot-api.zaloplatforms.com"
    zalo_webhook_url: str | None = None
    zalo_webhook_secret: SecretStr | None = None
    # Webhook server port for Zalo (path /zalo/webhook); default WEBHOOK_PORT + 1, apart from Telegram's.
    zalo_webhook_port: int | None = None
    zalo_poll_timeout: int = Field(default=30, ge=1, le=60)
    # No published Zalo Bot API rate: stay cautious (messages a second, overall and per chat).
    zalo_rate_per_second: float = Field(default=5.0, gt=0)
    zalo_chat_rate_per_second: float = Field(default=1.0, gt=0)
    # Polling refuses to start while a webhook is set; 1 removes the webhook first (logged).
    zalo_replace_webhook: bool = False

    # Zalo Official Account (the school's OA, channel `zalo_oa`; see README "Zalo Official Account")
    zalo_oa_app_id: str | None = None  # the app at developers.zalo.me linked to the OA
    zalo_oa_secret_key: SecretStr | None = None  # "Khóa bí mật OA": checks the webhook's X-ZEvent-Signature
    zalo_oa_id: str | None = None  # the OA's own id: its echoes are dropped
    zalo_oa_api_base: str = "https://openapi.zalo.me"
    zalo_oa_webhook_url: str | None = None  # the public https address of /zalo-oa/webhook (set in the app)
    # Webhook server port for the OA (path /zalo-oa/webhook); default WEBHOOK_PORT + 2.
    zalo_oa_webhook_port: int | None = None
    zalo_oa_webhook_max_age_seconds: int = Field(default=300, ge=60, le=3600)  # older events: 401
    # No published OA figure (only the error -32): calls a second over all users, replies and broadcasts.
    zalo_oa_rate_per_second: float = Field(default=5.0, gt=0)
    broadcast_zalo_oa_per_second: int = Field(default=4, ge=1, le=30)
    # The OA's OAuth tokens (`zalo-oa authorize`): the app's secret, the OAuth host, the key they are stored with.
    zalo_oa_app_secret: SecretStr | None = None  # the app's secret key: the `secret_key` header of OAuth calls
    zalo_oa_oauth_base: str = "https://oauth.zaloapp.com"  # tests point it at a local fake server
    # Fernet key(s) that encrypt the stored OAuth tokens; "new,old" decrypts with either and encrypts with the first.
    zalo_oa_token_key: SecretStr | None = None
    zalo_oa_redirect_uri: str = ""  # the OA callback URL registered for the app (the authorize command needs it)

    # The console channel writes every file the bot sends (workbooks, certificates, reports) to this folder.
    console_outbox: Path = Field(default=Path("data/outbox"))

    webhook_host: str = "0.0.0.0"
    webhook_port: int = 8080

    # The web console: on when WEB_BASE_URL (its public HTTPS address behind the proxy) is set, and always with
    # the console chat (then on http://127.0.0.1:WEB_PORT). Served on WEB_HOST:WEB_PORT.
    web_base_url: str | None = None
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=1, le=65535)

    # "telegram:123,zalo:abc": accounts made organizers at start.
    bot_organizers: str = ""

    practice_questions: int = Field(default=5, ge=1, le=30)
    invite_ttl_hours: int = Field(default=72, ge=1)
    # Personal data of accounts unused this long is deleted; so are answers and lesson progress this old.
    retention_days: int = Field(default=365, ge=30)
    # Stored platform updates (they contain the text people typed) are deleted this long after handling.
    retention_inbox_days: int = Field(default=30, ge=1)
    # Letters to the school counsellor (the safe mailbox) are deleted this long after they are marked done.
    mailbox_retention_days: int = Field(default=365, ge=1)
    log_level: str = "INFO"
    # 0 runs every statement through SQLAlchemy's own execution path, on its own drivers (db/fast.py is off).
    db_fast_path: bool = True

    # Telegram channel (appended; see README "Telegram")
    telegram_poll_timeout: int = Field(default=25, ge=0, le=50)  # seconds a getUpdates long poll waits
    telegram_rate_per_second: float = Field(default=25.0, gt=0)  # all outgoing messages, under Telegram's ~30/s
    telegram_chat_per_second: float = Field(default=1.0, gt=0)
    # Webhook mode, several processes: unfinished inbox rows younger than this belong to a live process.
    telegram_webhook_sweep_min_age_seconds: float = Field(default=60.0, ge=0)
    telegram_group_per_minute: float = Field(default=20.0, gt=0)
    shutdown_grace_seconds: float = Field(default=20.0, ge=0)  # SIGTERM: time for work in hand to finish
    # A tap not answered (with the core's toast) within this many seconds is answered empty, to stop the spinner.
    telegram_callback_answer_seconds: float = Field(default=5.0, ge=0)
    # Broadcast sender limits (messages per second over all chats; per group chat per minute).
    broadcast_telegram_per_second: int = Field(default=25, ge=1, le=30)
    broadcast_zalo_per_second: int = Field(default=5, ge=1, le=30)
    broadcast_group_per_minute: int = Field(default=20, ge=1, le=20)
    # How often the running bot sends pending contest prize notices (seconds).
    contest_notice_seconds: float = Field(default=10.0, gt=0)
    # Per-account flood limit (reliability): more than FLOOD_EVENTS events in FLOOD_SECONDS get one
    # "slow down" notice and are dropped. 0 turns it off.
    flood_events: int = Field(default=5, ge=0)
    flood_seconds: float = Field(default=2.0, gt=0)
    # Several bot processes: their outgoing platform calls share one limit in this Redis (redis://host:6379/0).
    # Empty: each process keeps the pace on its own (enough for one process).
    redis_url: str = ""

    @field_validator(
        "telegram_bot_token",
        "zalo_bot_token",
        "telegram_webhook_secret",
        "zalo_webhook_secret",
        "zalo_oa_app_secret",
        "zalo_oa_token_key",
        "zalo_oa_secret_key",
        "zalo_oa_app_id",
        "zalo_oa_id",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _ports_apart(self) -> Settings:
        webhooks = {self.webhook_port} if self.telegram_webhook_url else set()
        if self.zalo_webhook_url:
            webhooks.add(self.zalo_webhook_port or self.webhook_port + 1)
        if self.zalo_oa_app_id:
            webhooks.add(self.zalo_oa_webhook_port or self.webhook_port + 2)
        if self.web_base_url and self.web_port in webhooks:
            raise ValueError(f"WEB_PORT ({self.web_port}) must differ from the webhook ports ({sorted(webhooks)})")
        return self

    def organizer_accounts(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for item in self.bot_organizers.split(","):
            channel, sep, external_id = item.strip().partition(":")
            if sep and channel and external_id:
                out.append((channel.strip().lower(), external_id.strip()))
        return out


class ReportSettings(ReportOptions, BaseSettings):
    """The report's issuing details from REPORT_* variables (e.g. REPORT_PLACE, REPORT_SIGNER_NAME)."""

    model_config = SettingsConfigDict(env_prefix="REPORT_", env_file=".env", env_file_encoding="utf-8", extra="ignore")

    def options(self) -> ReportOptions:
        return ReportOptions.model_validate(self.model_dump())
