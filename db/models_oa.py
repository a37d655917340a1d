"""Tables of the Zalo Official Account channel: its OAuth tokens and its followers' interaction times."""

from __future__ import annotations

import datetime as dt  # noqa: F401

from db.base import Base, BigId  # noqa: F401
