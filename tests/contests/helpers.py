"""Test helpers: a roster of schools, classes and students made directly, a contest, and a chat driver."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert

from bot.app import App
from bot.contests import service as svc
from bot.contests.models import ContestDef
from bot.core.events import ChannelAddress, IncomingEvent
from bot.core.replies import Reply
from db import models as m

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Minh", "Ngọc", "Đức", "Thu", "Quốc", "Bảo", "Khánh", "Hữu"]
GIVEN = [
    "An",
    "Ánh",
    "Bình",
    "Châu",
    "Dũng",
    "Đạt",
    "Giang",
    "Hà",
    "Hưng",
    "Khoa",
    "Linh",
    "Lộc",
    "My",
    "Nhật",
    "Phúc",
    "Quỳnh",
    "Sơn",
    "Tâm",
    "Thảo",
    "Trí",
    "Tuấn",
    "Uyên",
    "Việt",
    "Yến",
    "Ngữ",
    "Ước",
]


@dataclass
class Roster:
    schools: dict[int, str] = field(default_factory=dict)
    classes: dict[int, tuple[int, str]] = field(default_factory=dict)  # class id -> (school id, name)
    students: list[tuple[str, str, int, str]] = field(default_factory=list)  # (channel, external id, user id, name)
    organizer: str = "btc"


async def make_roster(
    app: App,
    schools: int,
    classes_per_school: int,
    students: int,
    rng: random.Random,
    guardian: bool = True,
    extra_members: int = 0,
) -> Roster:
    """Schools, classes and students with a name, a class and consents, made in one transaction."""
    now = app.clock()
    roster = Roster()
    async with app.uow_factory() as uow:
        org = await uow.users.create("console", "btc", "btc", "vi", now, role="organizer")
        await uow.users.update(org.id, display_name="Ban Tổ Chức", onboarded=True)
        class_ids = []
        for s in range(schools):
            school = await uow.schools.create(f"Trường THCS Số {s + 1} Đông Hòa", now)
            roster.schools[school.id] = school.name
            for c in range(classes_per_school):
                name = f"{6 + c % 4}{'ABCD'[c // 4]}"
                klass = await uow.classes.create(school.id, None, name, 6 + c % 4, "2026-2027", f"C{s}X{c}Y", now)
                roster.classes[klass.id] = (school.id, name)
                class_ids.append(klass.id)
        for i in range(students + extra_members):
            channel = "zalo" if i % 2 else "telegram"
            ext = f"u{i}"
            user = await uow.users.create(channel, ext, ext, "vi", now)
            name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
            await uow.users.update(user.id, display_name=name, onboarded=True)
            await uow.classes.add_member(user.id, rng.choice(class_ids), now)
            await uow.consents.add(user.id, "child", "in_chat", "2026-01", now)
            if guardian:
                await uow.consents.add(user.id, "guardian", "paper_form", "2026-01", now, recorded_by=org.id)
            if i < students:
                roster.students.append((channel, ext, user.id, name))
        await uow.commit()
    return roster


def contest_def(now: dt.datetime, **overrides: object) -> ContestDef:
    data: dict[str, object] = {
        "id": "thu-nghiem",
        "title": "Hội thi thử nghiệm Ngày hội",
        "rounds": [{"name": "Đợt 1", "opens_at": now - dt.timedelta(hours=1), "closes_at": now + dt.timedelta(days=2)}],
        "questions": 5,
        "time_limit_minutes": 15,
        "prizes": {"nhat": 1, "nhi": 2, "ba": 3, "khuyen_khich": 4, "min_score": 1},
        "collective": {"unit": "school", "by": "rate", "top": 2},
        "certificates": {"pass_score": 4, "issuer": "Ban Tổ chức Hội thi", "place": "Đông Hòa"},
    }
    data.update(overrides)
    return ContestDef.model_validate(data)


async def make_contest(app: App, d: ContestDef) -> int:
    async with app.uow_factory() as uow:
        contest = await svc.create_contest(uow, d, None, app.clock())
        await uow.commit()
        return contest.id


class Chat:
    """One user talking to the real dispatcher; remembers the last choices offered."""

    def __init__(self, app: App, channel: str, external_id: str) -> None:
        self.app = app
        self.address = ChannelAddress(channel, external_id, external_id)
        self.options: list[tuple[str, str]] = []  # (token, label)
        self.lettered = False
        self.replies: list[Reply] = []

    @property
    def text(self) -> str:
        return "\n\n".join(r.text for r in self.replies)

    async def _handle(self, event: IncomingEvent) -> list[Reply]:
        replies = await self.app.dispatcher.handle(event) or []
        self.replies = replies
        for r in replies:
            if r.prompt is not None:
                self.options = [(c.token, c.label) for c in r.prompt.options]
                self.lettered = r.prompt.lettered
        return replies

    async def say(self, text: str) -> list[Reply]:
        return await self._handle(IncomingEvent.text_message(self.address, text))

    async def tap_token(self, token: str) -> list[Reply]:
        return await self._handle(IncomingEvent.choice(self.address, token))

    def token(self, label_part: str) -> str:
        for token, label in self.options:
            if label_part in label:
                return token
        raise AssertionError(f"no option {label_part!r} in {self.options} after:\n{self.text}")

    async def tap(self, label_part: str) -> list[Reply]:
        return await self.tap_token(self.token(label_part))

    async def start_official(self) -> list[Reply]:
        """/thi, confirm the registration, start the official attempt: the first question is shown."""
        await self.say("/thi")
        await self.tap("Đúng, em đăng ký")
        return await self.tap("Thi chính thức")


async def add_official_attempt(
    s: Any, contest_id: int, round_id: int, name: str, started: dt.datetime, answered: list[dt.datetime], score: int
) -> int:
    """Rows of a new student's submitted official attempt, written straight to the tables (for rounds of a size
    no chat test would sit through): the student, the registration, the attempt, its entry, its answers."""
    user = m.User(display_name=name, locale="vi", role="student", onboarded=True, created_at=started)
    s.add(user)
    await s.flush()
    reg = m.ContestRegistration(
        contest_id=contest_id,
        user_id=user.id,
        display_name=name,
        school_name="Trường THCS Thử",
        class_name="7A",
        created_at=started,
    )
    finished = answered[-1] if answered else started
    att = m.QuizAttempt(
        user_id=user.id,
        kind="contest",
        questions=[],
        started_at=started,
        finished_at=finished,
        score=score,
        total=max(len(answered), score),
    )
    s.add_all([reg, att])
    await s.flush()
    s.add(
        m.ContestEntry(
            round_id=round_id,
            registration_id=reg.id,
            user_id=user.id,
            attempt_id=att.id,
            official_round_id=round_id,
            official_no=1,
            created_at=started,
        )
    )
    for seq, at in enumerate(answered):
        await s.execute(
            insert(m.AttemptAnswer).values(
                attempt_id=att.id, seq=seq, question_id=f"q{seq}", chosen=0, correct=True, answered_at=at
            )
        )
    return int(att.id)
