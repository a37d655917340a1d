"""The contest hot path without any network: the durable inbox, the dispatcher and the database, in one process.

N simulated students each register, start the official attempt, tap 20 answers and type a prediction; the
inbox's `send` is a function that reads the reply and submits the student's next update at once. It prints the
CPU time per update, the SQL statements per update (BEGIN and COMMIT not counted) and the updates per handling
transaction (group handling), the figures that set what one core can take, so a change on the hot path can be
measured in seconds without the fake Bot API. `--profile FILE` writes cProfile stats of the answering phase.

    .venv/bin/python -m bench.hotpath --students 200 [--db postgres] [--profile /tmp/hot.prof]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import random
import tempfile
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import event as sa_event

from bench import contest as c
from bench.seed import FIRST_CHAT_ID, seed
from bot.app import build_app
from bot.config import Settings
from bot.core.events import ChannelAddress, IncomingEvent
from bot.core.replies import Reply
from bot.runtime.inbox import InboxWorker
from db import fast


def _payload(event: IncomingEvent) -> dict[str, str]:
    a = event.address
    return {"chat": a.chat_id, "kind": event.kind.value, "text": event.text, "token": event.token}


def _parse(payload: dict[str, str]) -> IncomingEvent:
    addr = ChannelAddress("telegram", payload["chat"], payload["chat"])
    if payload["kind"] == "choice":
        return IncomingEvent.choice(addr, payload["token"])
    return IncomingEvent.text_message(addr, payload["text"])


async def run(database_url: str, students: int, profile: str | None) -> None:
    app = build_app(Settings(database_url=database_url, flood_events=0))  # simulated students tap at machine speed
    statements: Counter[str] = Counter()

    @sa_event.listens_for(app.engine.sync_engine, "before_cursor_execute")
    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements[statement.split(None, 1)[0].upper()] += 1

    fast.observers.append(lambda statement: count(None, None, statement))  # SQLite's fast path (db/fast.py)

    rng = random.Random(7)
    stage: dict[str, int] = {}
    finished = asyncio.Event()
    done_students = 0
    answers = 0
    seq = 0
    worker: InboxWorker

    async def submit(event: IncomingEvent) -> None:
        nonlocal seq
        seq += 1
        await worker.submit(f"u{seq}", _payload(event))

    async def send(event: IncomingEvent, replies: list[Reply]) -> None:
        nonlocal done_students, answers
        chat = event.address.chat_id
        for reply in replies:
            params = {
                "text": reply.text,
                "reply_markup": {
                    "inline_keyboard": [
                        [{"text": o.label if not reply.prompt.lettered else "ABCD"[i], "callback_data": o.token}]
                        for i, o in enumerate(reply.prompt.options)
                    ]
                }
                if reply.prompt
                else None,
            }
            st = _State(stage.get(chat, 0))
            nxt = c.react(st, "sendMessage", params, rng)  # type: ignore[arg-type]
            stage[chat] = st.stage
            if nxt is None:
                continue
            kind, value = nxt
            addr = event.address
            if kind == "done":
                done_students += 1
                if done_students == students:
                    finished.set()
                return
            if kind in ("tap", "answer"):
                answers += st.answers
                asyncio.get_running_loop().create_task(submit(IncomingEvent.choice(addr, value)))
            else:
                asyncio.get_running_loop().create_task(submit(IncomingEvent.text_message(addr, value)))
            return

    gc.collect()  # as `python -m bot run` does after start-up
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    worker = app.inbox_worker("telegram", "bench", _parse, send, concurrency=64)
    stop = asyncio.Event()
    runner = asyncio.create_task(worker.run(stop))
    await worker.started.wait()
    statements.clear()
    prof = cProfile.Profile() if profile else None
    wall, cpu = time.perf_counter(), time.process_time()
    if prof:
        prof.enable()
    for i in range(students):
        chat = str(FIRST_CHAT_ID + i)
        await submit(IncomingEvent.text_message(ChannelAddress("telegram", chat, chat), "/thi"))
    await asyncio.wait_for(finished.wait(), timeout=600)
    await worker.idle()
    if prof:
        prof.disable()
        prof.dump_stats(profile)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    stop.set()
    await runner
    updates = worker.handled
    per = {k: round(v / updates, 2) for k, v in statements.most_common()}
    print(
        f"{updates} updates in {wall:.2f} s: {updates / wall:.0f} upd/s, {cpu / updates * 1e6:.0f} µs CPU/update "
        f"(this process, all threads); SQL per update {sum(statements.values()) / updates:.2f} {per}; "
        f"{updates / max(worker.groups, 1):.1f} updates per handling transaction"
    )
    print("    " + str(await c.stored_answers(database_url)))
    await app.close()


class _State:
    def __init__(self, stage: int) -> None:
        self.stage, self.answers = stage, 0


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.hotpath")
    p.add_argument("--students", type=int, default=200)
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432")
    p.add_argument("--profile")
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if a.db == "postgres":
            from bench.__main__ import fresh_postgres

            url = asyncio.run(fresh_postgres(a.pg_url))
        else:
            url = f"sqlite+aiosqlite:///{workdir / 'hot.db'}"
        seed(url, a.students)
        c.open_contest(url, workdir)
        asyncio.run(run(url, a.students, a.profile))


if __name__ == "__main__":
    main()
