"""Shared steps for the reliability suite: onboarding through the console, picking options, counting rows."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, settings
from sqlalchemy import func, select

from bot.app import App
from bot.channels.console.app import ConsoleSession
from db import models as m
from db.base import Base
from tests.core.test_console_flows import onboard_student, option_number

__all__ = ["PROPERTY", "code_in", "onboard_student", "option_number", "row_counts"]

# Settings for every property test of the suite: quick enough for CI (the examples drive the real dispatcher
# and database), no per-example deadline (database latency varies), and the `app` fixture shared by examples.
PROPERTY = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def code_in(screen: str) -> str:
    found = re.search(r"/start (P_[A-Z0-9]+)", screen)
    assert found, screen
    return found.group(1)


async def row_counts(app: App) -> dict[str, int]:
    """Rows in every table (the audit log and the inbox included)."""
    out = {}
    async with app.sessions() as s:
        for name, table in Base.metadata.tables.items():
            out[name] = (await s.execute(select(func.count()).select_from(table))).scalar_one()
    return out


async def user_id_of(app: App, external_id: str) -> int:
    async with app.sessions() as s:
        return (
            await s.execute(select(m.ChannelAccount.user_id).where(m.ChannelAccount.external_id == external_id))
        ).scalar_one()


async def consents_of(app: App, user_id: int) -> list[m.Consent]:
    async with app.sessions() as s:
        return list((await s.execute(select(m.Consent).where(m.Consent.user_id == user_id))).scalars())


async def new_student(app: App, user: str, code: str, name: str) -> ConsoleSession:
    session = ConsoleSession(app.dispatcher, user=user)
    await onboard_student(app, session, code, name)
    return session
