"""Broadcasts: a lesson or practice quiz sent to classes as a stored job, the message each recipient gets,
the teacher's progress view, and one reminder a day to those who have not finished."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.accounts.service import can_manage_class
from bot.broadcasts.ports import BroadcastRec, BroadcastsUnitOfWork, DeliveryRec, RecipientRec
from bot.broadcasts.roster import managed_class
from bot.content.loader import Content
from bot.core import activity
from bot.core.clock import vn_date
from bot.core.delivery import not_sent_reason
from bot.core.errors import Refusal
from bot.core.events import ChannelAddress
from bot.core.i18n import N_, I18n
from bot.core.ports import UserRec
from bot.core.replies import Choice, ChoicePrompt, Reply
from bot.learning.topics import TOPIC_NAMES

Gettext = Callable[[str], str]
# Channels that show a prompt as buttons. Elsewhere options are typed back as numbers, which would answer
# whatever the student is busy with, so a busy student there gets words to type instead.
BUTTON_CHANNELS = frozenset({"telegram"})
MAX_PINNED = 5
# Delivery statuses, as the sender writes them.
DONE_STATUSES = ("sent",)
UNREACHABLE_STATUSES = ("blocked", "unreachable")
WAITING_STATUSES = ("pending", "sending")


def _same(text: str) -> str:
    return text


def title_of(content: Content, kind: str, ref: str, _: Gettext = _same) -> str:
    if kind == "lesson":
        lesson = content.lessons.get(ref)
        return lesson.title if lesson else ref
    return _("Luyện tập: {topic}").format(topic=_(TOPIC_NAMES.get(ref, ref)))


def _check_subject(content: Content, kind: str, ref: str, today: dt.date) -> str | None:
    """The topic of what is sent, after checking it can be served today."""
    if kind == "lesson":
        lesson = content.lessons.get(ref)
        if lesson is None or not content.lesson_window(lesson).contains(today):
            raise Refusal(N_("Không tìm thấy bài học này (hoặc bài không còn hiệu lực)."))
        return lesson.topic
    if kind == "practice" and ref in TOPIC_NAMES:
        return ref
    raise Refusal(N_("Không tìm thấy chủ đề luyện tập này."))


async def group_targets(uow: BroadcastsUnitOfWork, class_ids: list[int]) -> list[RecipientRec]:
    """The Telegram groups linked to these classes (`class_groups`), as delivery targets (`is_group=True`,
    `user_id=None`). The sender keeps to 20 messages a minute per group and stores no prompt for them."""
    targets: list[RecipientRec] = []
    seen: set[tuple[str, str]] = set()
    for class_id in class_ids:
        for channel, chat_id in await uow.class_groups.for_class(class_id):
            if (channel, chat_id) not in seen:
                seen.add((channel, chat_id))
                targets.append(RecipientRec(None, class_id, channel, None, chat_id, is_group=True))
    return targets


@dataclass
class Preview:
    title: str
    topic: str | None
    class_names: list[str]
    students: int  # students with at least one account that can be reached
    unreachable: int  # students whose every account blocked the bot
    targets: list[RecipientRec] = field(default_factory=list)


async def preview(
    uow: BroadcastsUnitOfWork,
    user: UserRec | None,
    kind: str,
    ref: str,
    class_ids: list[int],
    content: Content,
    today: dt.date,
    _: Gettext = _same,
) -> Preview:
    """What a broadcast would send, to how many; refuses classes the user does not manage."""
    if not class_ids:
        raise Refusal(N_("Thầy/cô chọn ít nhất một lớp nhé."))
    classes = [await managed_class(uow, user, cid) for cid in dict.fromkeys(class_ids)]
    topic = _check_subject(content, kind, ref, today)
    targets = await uow.broadcasts.recipients([c.id for c in classes]) + await group_targets(
        uow, [c.id for c in classes]
    )
    reachable = {t.user_id for t in targets if t.user_id is not None and not t.unreachable}
    everyone = {t.user_id for t in targets if t.user_id is not None}
    return Preview(
        title_of(content, kind, ref, _),
        topic,
        [c.name for c in classes],
        len(reachable),
        len(everyone - reachable),
        targets,
    )


async def create_broadcast(
    uow: BroadcastsUnitOfWork,
    user: UserRec | None,
    kind: str,
    ref: str,
    class_ids: list[int],
    content: Content,
    now: dt.datetime,
    send_at: dt.datetime | None = None,
    due_on: dt.date | None = None,
    _: Gettext = _same,
) -> tuple[BroadcastRec, Preview]:
    """Store the job and one delivery row per recipient; the sender does the rest."""
    today = vn_date(now)
    plan = await preview(uow, user, kind, ref, class_ids, content, today, _)
    if not plan.targets:
        raise Refusal(N_("Lớp chưa có học sinh nào vào lớp, nên chưa gửi được."))
    if due_on is not None and due_on < today:
        raise Refusal(N_("Hạn hoàn thành đã qua rồi. Thầy/cô chọn ngày khác nhé."))
    ids = list(dict.fromkeys(class_ids))
    first = await uow.classes.get(ids[0])
    school_id = first.school_id if first else None
    broadcast = await uow.broadcasts.create(
        school_id, user.id if user else None, kind, ref, ids, send_at or now, due_on, now
    )
    await uow.broadcasts.add_deliveries(broadcast.id, plan.targets, now)
    per_class: dict[int, int] = {}
    for t in plan.targets:
        if t.class_id is not None and t.user_id is not None:
            per_class[t.class_id] = per_class.get(t.class_id, 0) + 1
    for class_id in ids:
        await uow.activity.add(
            activity.BROADCAST_SENT,
            now,
            user.id if user else None,
            school_id,
            class_id,
            plan.topic,
            str(broadcast.id),
            per_class.get(class_id, 0),
        )
    await uow.audit.add(
        user.id if user else None,
        "broadcast.create",
        f"broadcast:{broadcast.id}",
        {"kind": kind, "classes": ids, "deliveries": len(plan.targets)},
        now,
    )
    return broadcast, plan


# --- the message one recipient gets ---


def _due_text(due_on: dt.date | None, _: Gettext) -> str:
    return _("Hạn hoàn thành: {date}.").format(date=due_on.strftime("%d/%m/%Y")) if due_on else ""


async def render_delivery(
    uow: BroadcastsUnitOfWork,
    delivery: DeliveryRec,
    broadcast: BroadcastRec,
    content: Content,
    i18n: I18n,
    now: dt.datetime,
) -> Reply:
    """The message for one delivery. Its "📖 Đọc bài" button is stored in the recipient's conversation, in
    the caller's transaction, without undoing what the student is doing:

    - a student at rest (no flow) gets the button as their current prompt, so typing "1" also works;
    - a busy student (in a lesson or quiz) keeps their prompt; the button is *pinned* beside it (a tap works,
      typed numbers still answer their question) and the text says to type "bài được giao" when done.
    Groups get text only: a button's token lives in one person's conversation."""
    root_id = broadcast.parent_id or broadcast.id
    address = ChannelAddress(
        delivery.channel,
        delivery.chat_id,
        delivery.external_id or delivery.chat_id,
        "group" if delivery.is_group else "private",
    )
    user = await uow.users.get(delivery.user_id) if delivery.user_id is not None else None

    def _(message: str) -> str:
        return i18n.gettext(user.locale if user else None, message)

    title = title_of(content, broadcast.kind, broadcast.ref, _)
    head = (
        _("🔔 Nhắc bài: em chưa hoàn thành “{title}”.")
        if broadcast.parent_id
        else _("📚 Thầy cô giao bài mới: “{title}”.")
    ).format(title=title)
    lines = [head, _due_text(broadcast.due_on, _)]
    if user is None:
        lines.append(_("Các em mở trò chuyện riêng với bot và gõ /assigned (hoặc “bài được giao”) để làm bài nhé."))
        return Reply(text="\n".join(x for x in lines if x), to=address)
    label = _("📖 Đọc bài") if broadcast.kind == "lesson" else _("✍️ Làm bài")
    action = f"assigned.open:{root_id}"
    await uow.broadcasts.lock_conversation(user.id, now)
    conv = await uow.conversations.get(user.id)
    token = secrets.token_hex(4)
    if not conv.flow and not conv.step:
        list_token = secrets.token_hex(4)
        list_label = _("📋 Bài được giao")
        lines.append(_("Em bấm “{label}” (hoặc gõ 1) để bắt đầu nhé.").format(label=label))
        text = "\n".join(x for x in lines if x)
        conv.prompt = {
            "options": [[token, action, label], [list_token, "assigned.list", list_label]],
            "lettered": False,
            "text": text,
            "columns": 1,
            **({"pinned": conv.prompt["pinned"]} if conv.prompt.get("pinned") else {}),
        }
        prompt: ChoicePrompt | None = ChoicePrompt((Choice(token, label), Choice(list_token, list_label)))
    else:
        pinned = [p for p in conv.prompt.get("pinned", []) if p[1] != action][-(MAX_PINNED - 1) :]
        conv.prompt["pinned"] = [*pinned, [token, action, label]]
        lines.append(_("Em làm xong việc đang làm rồi gõ “bài được giao” để bắt đầu nhé."))
        text = "\n".join(x for x in lines if x)
        prompt = ChoicePrompt((Choice(token, label),)) if delivery.channel in BUTTON_CHANNELS else None
    await uow.conversations.save(user.id, conv, now)
    return Reply(text=text, prompt=prompt, to=address)


# --- the teacher's view ---


@dataclass
class Counts:
    students: int = 0
    delivered: int = 0
    opened: int = 0
    completed: int = 0
    unreachable: int = 0
    waiting: int = 0  # not sent yet (scheduled, queued, or waiting out a rate limit)
    unknown: int = 0  # the sender stopped while sending: maybe received, not sent again
    failed: int = 0
    not_sent: int = 0  # the platform's rules kept it back (the Zalo OA's window): the reason is shown


@dataclass
class StudentState:
    user_id: int
    class_id: int | None
    name: str
    delivery: str  # delivered|unreachable|waiting|unknown|failed|not_sent
    opened: bool
    completed: bool
    reason: str | None = None  # for not_sent: why (a key of `bot.core.delivery.NOT_SENT_REASONS`)


@dataclass
class Progress:
    broadcast: BroadcastRec
    total: Counts
    per_class: dict[int, Counts]
    students: list[StudentState]
    groups_sent: int = 0

    @property
    def not_completed(self) -> list[StudentState]:
        return [s for s in self.students if not s.completed]


def _delivery_state(statuses: list[str]) -> str:
    if any(s in DONE_STATUSES for s in statuses):
        return "delivered"
    if any(s in WAITING_STATUSES for s in statuses):
        return "waiting"
    if any(s == "unknown" for s in statuses):
        return "unknown"
    if statuses and all(s in UNREACHABLE_STATUSES for s in statuses):
        return "unreachable"
    return "failed"


async def progress(uow: BroadcastsUnitOfWork, broadcast: BroadcastRec) -> Progress:
    """Per student (not per account): delivered on any channel, opened, completed; counted per class."""
    deliveries = await uow.broadcasts.deliveries(broadcast.id)
    by_student: dict[int, list[DeliveryRec]] = {}
    groups_sent = 0
    for d in deliveries:
        if d.user_id is None:
            groups_sent += d.status == "sent"
            continue
        by_student.setdefault(d.user_id, []).append(d)
    ids = list(by_student)
    learning = await uow.broadcasts.learning(broadcast, ids)
    names = await uow.broadcasts.names(ids)
    total, per_class = Counts(), {cid: Counts() for cid in broadcast.class_ids}
    students: list[StudentState] = []
    for uid, rows in by_student.items():
        learned = learning[uid]
        # Consistent by construction (completed ⊆ opened ⊆ delivered): a student who completed it has opened
        # it, and one who opened it has it (from the message, or from "Bài được giao" while the message waits).
        completed = learned.completed
        opened = learned.opened or completed
        state = "delivered" if opened else _delivery_state([d.status for d in rows])
        reason = None
        if state == "failed":
            reason = next((r for d in rows if (r := not_sent_reason(d.last_error))), None)
            state = "not_sent" if reason else state
        class_id = rows[0].class_id
        students.append(StudentState(uid, class_id, names.get(uid, ""), state, opened, completed, reason))
        for counts in (total, per_class.setdefault(class_id or 0, Counts())):
            counts.students += 1
            counts.opened += opened
            counts.completed += completed
            setattr(counts, state, getattr(counts, state) + 1)
    students.sort(key=lambda s: (s.class_id or 0, s.name))
    return Progress(broadcast, total, per_class, students, groups_sent)


async def visible_broadcast(uow: BroadcastsUnitOfWork, user: UserRec | None, broadcast_id: int) -> BroadcastRec:
    """The broadcast, if the user manages every class it went to."""
    broadcast = await uow.broadcasts.get(broadcast_id)
    if broadcast is None:
        raise Refusal(N_("Không tìm thấy bài đã gửi này."))
    for class_id in broadcast.class_ids:
        klass = await uow.classes.get(class_id)
        if klass is not None and not can_manage_class(user, klass):
            raise Refusal(N_("Không tìm thấy bài đã gửi này."))
    return broadcast


async def send_reminder(
    uow: BroadcastsUnitOfWork,
    user: UserRec | None,
    broadcast_id: int,
    now: dt.datetime,
) -> int:
    """Remind the reachable students who have not completed it: a small broadcast, at most once a day."""
    parent = await visible_broadcast(uow, user, broadcast_id)
    if parent.parent_id is not None:
        raise Refusal(N_("Không tìm thấy bài đã gửi này."))
    today = vn_date(now)
    if await uow.broadcasts.reminder_on(parent.id, today) is not None:
        raise Refusal(N_("Hôm nay thầy/cô đã nhắc bài này rồi. Ngày mai thầy/cô nhắc lại được nhé."))
    state = await progress(uow, parent)
    remind = {s.user_id for s in state.students if not s.completed and s.delivery != "unreachable"}
    targets = [
        t for t in await uow.broadcasts.recipients(parent.class_ids) if t.user_id in remind and not t.unreachable
    ]
    if not targets:
        raise Refusal(N_("Không còn em nào cần nhắc: các em đã hoàn thành hoặc không liên lạc được."))
    reminder = await uow.broadcasts.create(
        parent.school_id,
        user.id if user else None,
        parent.kind,
        parent.ref,
        parent.class_ids,
        now,
        parent.due_on,
        now,
        parent_id=parent.id,
        reminder_on=today,
    )
    await uow.broadcasts.add_deliveries(reminder.id, targets, now)
    await uow.audit.add(
        user.id if user else None, "broadcast.remind", f"broadcast:{parent.id}", {"students": len(remind)}, now
    )
    return len({t.user_id for t in targets})
