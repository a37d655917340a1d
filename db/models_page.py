"""Tables of the contest page and the live round: one-time entry links, page sessions and live schedules."""

from __future__ import annotations

import datetime as dt  # noqa: F401

from db.base import Base, BigId  # noqa: F401
