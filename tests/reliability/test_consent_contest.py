"""Consent before a contest: registration without the guardian's consent is refused in
tests/contests/test_contest_rules.py::test_guardian_consent_is_required_before_registration; here the other
half — without the child's own agreement, or after consent was withdrawn, nobody is registered either."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import delete, func, select

from bot.app import App
from db import models as m
from tests.contests.helpers import Chat, contest_def, make_contest, make_roster

pytestmark = pytest.mark.reliability


async def registrations(app: App) -> int:
    async with app.sessions() as s:
        return (await s.execute(select(func.count()).select_from(m.ContestRegistration))).scalar_one()


async def test_no_registration_without_the_childs_agreement_or_after_withdrawal(app: App) -> None:
    roster = await make_roster(app, 1, 1, 2, random.Random(3))
    await make_contest(app, contest_def(app.clock()))
    (ch1, ext1, uid1, _n1), (ch2, ext2, uid2, _n2) = roster.students
    async with app.sessions() as s, s.begin():  # the first child never agreed (only the guardian's paper form)
        await s.execute(delete(m.Consent).where(m.Consent.user_id == uid1, m.Consent.kind == "child"))
    async with app.uow_factory() as uow:  # the second one's consent was withdrawn
        await uow.consents.withdraw(uid2, app.clock())
        await uow.commit()

    for ch, ext in ((ch1, ext1), (ch2, ext2)):
        chat = Chat(app, ch, ext)
        await chat.say("/thi")
        assert "Đăng ký dự thi" not in chat.text and all("đăng ký" not in label for _t, label in chat.options)
        assert "đồng ý" in chat.text, chat.text
    assert await registrations(app) == 0
