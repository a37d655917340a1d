"""Group handling: stored updates of different users that are ready at once are handled in one transaction, and
each member's outcome is what handling it alone gives. A refusal undoes only its own writes, an error fails only
its own update (which the inbox tries again), an update handled elsewhere is left alone, and every reply goes
out once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select

from bot.app import App
from bot.core.context import Context
from bot.core.errors import UserFacingError
from bot.core.router import Router
from db import models as m
from tests.runtime.test_inbox import CollectingSender, inbox_rows, parse, run_until_idle


def _writing_commands(failures: dict[str, int]) -> Router:
    """/ghi writes and answers; /tuchoi writes and refuses; /hong writes and fails `failures[user]` times."""
    router = Router()

    async def write(ctx: Context, action: str) -> None:
        user = ctx.event.address.user_id
        await ctx.uow.audit.add(ctx.user.id, action, f"user:{user}", {}, ctx.now)

    @router.command("ghi")
    async def ghi(ctx: Context, _args: str) -> None:
        await write(ctx, "test.write")
        ctx.say(f"Đã ghi cho em {ctx.event.address.user_id}.")

    @router.command("tuchoi")
    async def tuchoi(ctx: Context, _args: str) -> None:
        await write(ctx, "test.refused")
        raise UserFacingError("Việc này em chưa làm được đâu.")

    @router.command("hong")
    async def hong(ctx: Context, _args: str) -> None:
        await write(ctx, "test.flaky")
        user = ctx.event.address.user_id
        if failures.get(user, 0) > 0:
            failures[user] -= 1
            raise RuntimeError("a fault that goes away")
        ctx.say("Lần này thì được rồi.")

    return router


async def audit_actions(app: App) -> list[tuple[str, str]]:
    async with app.sessions() as s:
        rows = (await s.execute(select(m.AuditLog.action, m.AuditLog.scope).order_by(m.AuditLog.id))).all()
    return sorted((a, sc) for a, sc in rows if a.startswith("test."))


def count_commits(app: App) -> list[int]:
    commits = [0]

    def on_commit(_conn: Any) -> None:
        commits[0] += 1

    sa_event.listen(app.engine.sync_engine, "commit", on_commit)
    return commits


async def test_updates_ready_together_are_handled_in_one_transaction_and_each_answered_once(app: App) -> None:
    app.dispatcher.router.include(_writing_commands({}))
    sender = CollectingSender()
    worker = app.inbox_worker("test", "bot1", parse, sender)
    assert await worker.submit_many([(f"u-{i}", {"user": i, "text": "/ghi"}) for i in range(12)]) == [True] * 12
    commits = count_commits(app)
    await run_until_idle(worker)
    assert sorted(sender.sent) == sorted((str(i), f"Đã ghi cho em {i}.") for i in range(12))
    assert await audit_actions(app) == sorted(("test.write", f"user:{i}") for i in range(12))
    assert [r.status for r in await inbox_rows(app)] == ["done"] * 12
    # One transaction handled the twelve; one more marked them done after their replies were sent.
    assert worker.groups == 1 and commits[0] == 2


async def test_a_refusal_in_a_group_undoes_only_its_own_writes(app: App) -> None:
    app.dispatcher.router.include(_writing_commands({}))
    sender = CollectingSender()
    worker = app.inbox_worker("test", "bot1", parse, sender)
    texts = {1: "/ghi", 2: "/ghi", 3: "/tuchoi", 4: "/ghi"}
    await worker.submit_many([(f"u-{i}", {"user": i, "text": t}) for i, t in texts.items()])
    commits = count_commits(app)
    await run_until_idle(worker)
    # The others stay one group without the refusal, which has its own transaction; one more marks all done.
    assert commits[0] == 3
    assert sorted(sender.sent) == [
        ("1", "Đã ghi cho em 1."),
        ("2", "Đã ghi cho em 2."),
        ("3", "Việc này em chưa làm được đâu."),
        ("4", "Đã ghi cho em 4."),
    ]
    assert await audit_actions(app) == [("test.write", f"user:{i}") for i in (1, 2, 4)]
    assert [r.status for r in await inbox_rows(app)] == ["done"] * 4


async def test_a_refusal_and_an_error_in_a_group_touch_only_their_own_update(app: App) -> None:
    # User 4's update fails in the group, then alone (a failed attempt, tried again later), then succeeds.
    app.dispatcher.router.include(_writing_commands({"4": 2}))
    sender = CollectingSender()
    worker = app.inbox_worker("test", "bot1", parse, sender, retry_base_seconds=0.01)
    texts = {1: "/ghi", 2: "/ghi", 3: "/tuchoi", 4: "/hong", 5: "/ghi", 6: "/ghi"}
    await worker.submit_many([(f"u-{i}", {"user": i, "text": t}) for i, t in texts.items()])
    await run_until_idle(worker)

    assert sorted(sender.sent) == [
        ("1", "Đã ghi cho em 1."),
        ("2", "Đã ghi cho em 2."),
        ("3", "Việc này em chưa làm được đâu."),
        ("4", "Lần này thì được rồi."),
        ("5", "Đã ghi cho em 5."),
        ("6", "Đã ghi cho em 6."),
    ]
    # The refusal's write is undone, the failed try's write too; the others are stored once each.
    assert await audit_actions(app) == sorted(
        [("test.write", f"user:{i}") for i in (1, 2, 5, 6)] + [("test.flaky", "user:4")]
    )
    rows = await inbox_rows(app)
    assert [r.status for r in rows] == ["done"] * 6
    assert [r.attempts for r in rows] == [0, 0, 0, 1, 0, 0]  # only the update that failed counts a failure


async def test_an_update_another_worker_handled_first_is_left_to_it_and_the_group_goes_on(app: App) -> None:
    app.dispatcher.router.include(_writing_commands({}))
    worker = app.inbox_worker("test", "bot1", parse, CollectingSender())
    await worker.submit_many([(f"u-{i}", {"user": i, "text": "/ghi"}) for i in (1, 2, 3)])
    rows = await inbox_rows(app)
    members = [(parse(r.payload), r.id) for r in rows]
    assert await app.dispatcher.handle(*members[1])  # type: ignore[arg-type]  # handled elsewhere first

    outcomes, _committed = await app.dispatcher.handle_many(members)  # type: ignore[arg-type]
    assert outcomes[1] is None
    assert [[r.text for r in o] for o in (outcomes[0], outcomes[2])] == [["Đã ghi cho em 1."], ["Đã ghi cho em 3."]]  # type: ignore[union-attr]
    assert await audit_actions(app) == [("test.write", "user:1"), ("test.write", "user:2"), ("test.write", "user:3")]
    assert {r.status for r in await inbox_rows(app)} == {"handled"}


async def test_two_updates_of_one_user_in_a_batch_are_handled_in_order_in_separate_transactions(app: App) -> None:
    app.dispatcher.router.include(_writing_commands({}))
    sender = CollectingSender()
    worker = app.inbox_worker("test", "bot1", parse, sender)
    batch = [
        ("a", {"user": 1, "text": "/ghi"}),
        ("b", {"user": 2, "text": "/ghi"}),
        ("c", {"user": 1, "text": "/hong"}),
    ]
    await worker.submit_many(batch)
    await run_until_idle(worker)
    assert [text for user, text in sender.sent if user == "1"] == ["Đã ghi cho em 1.", "Lần này thì được rồi."]
    assert await audit_actions(app) == [("test.flaky", "user:1"), ("test.write", "user:1"), ("test.write", "user:2")]
    assert worker.groups == 2  # the second update of user 1 waited for the first one's group


async def test_if_handling_a_group_fails_as_a_whole_its_updates_are_tried_again_not_lost(app: App) -> None:
    app.dispatcher.router.include(_writing_commands({}))
    real = app.dispatcher.handle_many
    calls = [0]

    async def failing_once(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == 1:
            raise RuntimeError("the database went away for a moment")
        return await real(*args, **kwargs)

    app.dispatcher.handle_many = failing_once  # type: ignore[method-assign]
    sender = CollectingSender()
    worker = app.inbox_worker("test", "bot1", parse, sender, retry_base_seconds=0.01)
    await worker.submit_many([(f"u-{i}", {"user": i, "text": "/ghi"}) for i in (1, 2, 3)])
    await run_until_idle(worker)
    assert sorted(sender.sent) == [(str(i), f"Đã ghi cho em {i}.") for i in (1, 2, 3)]
    assert await audit_actions(app) == [("test.write", f"user:{i}") for i in (1, 2, 3)]
    rows = await inbox_rows(app)
    assert [(r.status, r.attempts) for r in rows] == [("done", 1)] * 3
