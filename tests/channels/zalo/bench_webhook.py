"""Benchmark (a script, not a test): webhook acknowledgement latency and handling throughput on SQLite.

    .venv/bin/python -m tests.channels.zalo.bench_webhook [students] [messages_each]

Posts /help from many students concurrently to the Zalo webhook (with the secret), through the inbox, with
the send rate limits lifted (the real limits, 5 messages/s by default, bound the sending, not the handling)."""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bot.app import build_app
from bot.config import Settings
from bot.content.loader import load_content
from db.base import Base
from tests.channels.zalo.conftest import ZaloBot
from tests.fakes.content import write_test_content
from tests.fakes.zalo_server import FakeZaloServer, text_update


async def main(students: int, each: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        content = load_content(write_test_content(Path(tmp) / "content"))
        settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp}/bench.db", _env_file=None)  # type: ignore[call-arg]
        app = build_app(settings, content=content)
        async with app.engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        async with FakeZaloServer(echo=True) as fake:
            bot = await ZaloBot(app, fake, webhook=True).start()
            latencies: list[float] = []

            async def student(i: int) -> None:
                for j in range(each):
                    update = text_update(f"s{i}", "/help", message_id=f"m{i}-{j}")
                    started = time.perf_counter()
                    assert await fake.post_webhook(update) == 200
                    latencies.append(time.perf_counter() - started)

            started = time.perf_counter()
            await asyncio.gather(*(student(i) for i in range(students)))
            acked = time.perf_counter() - started
            bot.keys = {f"message.text.received:m{i}-{j}" for i in range(students) for j in range(each)}
            await bot.settle()
            total = time.perf_counter() - started
            await bot.close()
        await app.close()
    latencies.sort()
    n = len(latencies)
    print(f"{n} updates from {students} students: all acknowledged in {acked:.2f}s, all answered in {total:.2f}s")
    print(
        f"ack latency p50 {statistics.median(latencies) * 1000:.1f} ms, "
        f"p99 {latencies[int(n * 0.99) - 1] * 1000:.1f} ms; {n / total:.0f} updates/s handled and answered; "
        f"{len(fake.messages)} replies sent"
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100, int(sys.argv[2]) if len(sys.argv) > 2 else 3))
