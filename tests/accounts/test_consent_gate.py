"""The consent gate without a database: a student learns only after onboarding and with their own agreement in
force; staff are not gated; a student who is stopped is told why and taken to /start."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from bot.accounts.consent import CHILD, GUARDIAN, IN_CHAT, consent_status, require_ready, status_of
from bot.accounts.ports import ConsentRec
from bot.core.context import Context, CoreSettings
from bot.core.events import ChannelAddress, IncomingEvent
from bot.core.i18n import I18n
from bot.core.ports import ConversationRec, UserRec
from bot.core.roles import Role
from bot.core.router import Router
from tests.fakes.uow import FakeUnitOfWorkFactory, World

NOW = dt.datetime(2026, 12, 3, 2, 0, tzinfo=dt.UTC)


@dataclass
class Env:
    invite_ttl_hours: int = 48
    notice_version: str = "v1"


def context(uow: Any, user: UserRec, started: list[str]) -> Context[Any, Env]:
    router = Router()

    @router.action("onboarding.start")
    async def start(ctx: Context[Any, Env], _arg: str) -> None:
        started.append(ctx.user.display_name or "")

    address = ChannelAddress("console", str(user.id), str(user.id))
    event = IncomingEvent.text_message(address, "/hoc")
    return Context(uow, user, ConversationRec(), event, NOW, Env(), CoreSettings(), I18n(), router)


async def gate(world: World, user: UserRec) -> tuple[bool, list[str], list[str]]:
    started: list[str] = []
    async with FakeUnitOfWorkFactory(world)() as uow:
        ctx = context(uow, user, started)
        ready = await require_ready(ctx)
    return ready, [r.text for r in ctx.out], started


async def test_a_student_who_agreed_may_learn() -> None:
    world = World()
    student = world.add_user("An")
    world.consents[student.id] = [ConsentRec(CHILD, IN_CHAT, "v1", NOW, None)]
    assert await gate(world, student) == (True, [], [])


async def test_a_student_who_withdrew_is_told_why_and_taken_to_start() -> None:
    world = World()
    student = world.add_user("An")
    world.consents[student.id] = [ConsentRec(CHILD, IN_CHAT, "v1", NOW, NOW)]
    ready, said, started = await gate(world, student)
    assert not ready and started == ["An"]
    assert said == ["Em đã rút lại đồng ý nên mình tạm dừng. Nếu em và bố mẹ muốn học tiếp, em đồng ý lại nhé."]


async def test_a_student_who_has_not_finished_onboarding_is_sent_back_to_it() -> None:
    world = World()
    student = world.add_user("An")
    student.onboarded = False
    world.consents[student.id] = [ConsentRec(CHILD, IN_CHAT, "v1", NOW, None)]
    ready, said, started = await gate(world, student)
    assert not ready and started == ["An"] and "bắt đầu và đồng ý" in said[0]


@pytest.mark.parametrize("role", [Role.TEACHER, Role.SCHOOL_ADMIN, Role.ORGANIZER])
async def test_staff_are_not_gated_by_a_childs_consent(role: Role) -> None:
    world = World()
    assert await gate(world, world.add_user("Cô Lan", role)) == (True, [], [])


async def test_only_consents_in_force_count() -> None:
    world = World()
    student = world.add_user("An")
    async with FakeUnitOfWorkFactory(world)() as uow:
        await uow.consents.add(student.id, GUARDIAN, "paper_form", "v1", NOW, recorded_by=1)
        await uow.consents.add(student.id, CHILD, IN_CHAT, "v1", NOW)
        assert await consent_status(uow, student.id) == (True, True)
        await uow.consents.withdraw(student.id, NOW)
        assert await consent_status(uow, student.id) == (False, False)
    assert status_of([ConsentRec(GUARDIAN, "paper_form", "v1", NOW, None)]) == (False, True)
