"""Benchmark (a script, not a test): how fast the sender drains deliveries when the platform answers at once,
i.e. the sender's own cost per message (two short transactions and the rendering).

    .venv/bin/python -m tests.broadcasts.bench_sender [DATABASE_URL] [N]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from bot.app import build_app
from bot.broadcasts import service as broadcasts
from bot.broadcasts.sender import ChannelLimits
from bot.config import Settings
from bot.content.loader import load_content
from bot.core.context import CoreSettings
from db.base import Base
from tests.broadcasts.fakes import FakeTransport
from tests.broadcasts.helpers import make_school
from tests.fakes.content import write_test_content


async def main(url: str | None, n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        content = load_content(write_test_content(Path(tmp) / "content"))
        settings = Settings(database_url=url or f"sqlite:///{tmp}/bench.db", _env_file=None)  # type: ignore[call-arg]
        app = build_app(settings, content=content, core_settings=CoreSettings())
        async with app.engine.begin() as conn:
            await conn.run_sync(Base.metadata.drop_all)
            await conn.run_sync(Base.metadata.create_all)
        school = await make_school(app, classes=1, per_class=n)
        async with app.uow_factory() as uow:
            await broadcasts.create_broadcast(
                uow, school.teacher, "lesson", "ma-tuy-lower-secondary-1", school.class_ids, content, app.clock()
            )
            await uow.commit()
        for in_flight in (1, 8):
            fake = FakeTransport("telegram", app.clock)
            limits = {"telegram": ChannelLimits(per_second=100_000, chat_interval=0.0, max_in_flight=in_flight)}
            sender = app.broadcast_sender({"telegram": fake}, limits=limits)
            start = time.perf_counter()
            sent = await sender.run_until_empty()
            took = time.perf_counter() - start
            if sent:
                print(
                    f"{settings.database_url.split(':')[0]}: {sent} sent in {took:.2f}s = {sent / took:.0f}/s "
                    f"({1000 * took / sent:.2f} ms each), in flight {in_flight}"
                )
            async with app.sessions() as s:  # queue them again for the next round
                from sqlalchemy import update

                from db import models as m

                await s.execute(update(m.Delivery).values(status="pending", attempts=0, attempted_at=None))
                await s.commit()
        await app.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else None, int(sys.argv[2]) if len(sys.argv) > 2 else 2000))
