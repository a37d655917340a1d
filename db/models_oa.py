"""Tables of the Zalo Official Account channel: its OAuth tokens and its followers' interaction times."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, BigId  # noqa: F401

# --- The OA's followers (the channel's interaction windows) ---------------------------------------------------


class OAFollower(Base):
    """When each OA user last interacted (a message, a tap, a follow): proactive messages need one in 7 days.
    `not_reachable` keeps why the OA refused the last proactive message (-213, -230, -244) until they write."""

    __tablename__ = "oa_followers"

    oa_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_interaction_at: Mapped[dt.datetime | None]
    following: Mapped[bool | None] = mapped_column(Boolean)
    not_reachable: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[dt.datetime]
