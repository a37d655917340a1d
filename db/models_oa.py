"""Tables of the Zalo Official Account channel: its OAuth tokens and its followers' interaction times."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, BigId


class OAToken(Base):
    """The OA's OAuth pair for one app id, sealed (Fernet, ZALO_OA_TOKEN_KEY): access token, single-use refresh
    token and the app id in one ciphertext. `generation` counts the pairs stored; `refused_at` is set when the
    OAuth server refused the refresh token (an OA admin must authorize again)."""

    __tablename__ = "oa_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    app_id: Mapped[str] = mapped_column(String(64), unique=True)
    sealed: Mapped[str] = mapped_column(Text)
    generation: Mapped[int] = mapped_column(Integer)
    access_expires_at: Mapped[dt.datetime]
    refresh_expires_at: Mapped[dt.datetime]
    authorized_at: Mapped[dt.datetime]
    refreshed_at: Mapped[dt.datetime | None]
    refused_at: Mapped[dt.datetime | None]
    refused_reason: Mapped[str | None] = mapped_column(String(300))


class OATokenRefresh(Base):
    """Write-ahead record of a refresh in flight: committed before the refresh token leaves, deleted in the
    transaction that stores the new pair. Found by the next refresher, it says a process stopped in between."""

    __tablename__ = "oa_token_refreshes"

    app_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime]
