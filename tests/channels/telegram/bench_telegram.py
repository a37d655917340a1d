"""Benchmark script (not a test): updates handled per second by the real Telegram channel against the fake Bot
API, in polling mode, and webhook acknowledgement latency. The limiter is opened wide to measure the bot itself.

    .venv/bin/python -m tests.channels.telegram.bench_telegram --updates 1000 --mode polling|webhook
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
from pydantic import SecretStr

from bot.app import build_app
from bot.channels.telegram.app import run
from bot.channels.telegram.webhook import SECRET_HEADER
from bot.config import Settings
from bot.content.loader import load_content
from db.base import Base
from tests.channels.telegram.test_webhook import free_port
from tests.fakes.content import write_test_content
from tests.fakes.telegram_server import FakeTelegramServer

SECRET = "benchmark-webhook-secret-0123456789abcdef"


async def bench(n: int, mode: str, database_url: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        content = load_content(write_test_content(root / "content"))
        async with FakeTelegramServer() as server:
            port = free_port()
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                database_url=database_url or f"sqlite+aiosqlite:///{root / 'bench.db'}",
                telegram_bot_token=SecretStr(server.token),
                telegram_api_base=server.url,
                telegram_poll_timeout=1,
                telegram_rate_per_second=100_000,
                telegram_chat_per_second=1000,
                telegram_webhook_url="https://bench.example/hook" if mode == "webhook" else None,
                telegram_webhook_secret=SecretStr(SECRET) if mode == "webhook" else None,
                webhook_host="127.0.0.1",
                webhook_port=port,
            )
            app = build_app(settings, content=content)
            async with app.engine.begin() as conn:
                await conn.run_sync(Base.metadata.drop_all)
                await conn.run_sync(Base.metadata.create_all)
            updates = [server.message_update(10_000 + i, "/help") for i in range(n)]
            stop = asyncio.Event()
            latencies: list[float] = []
            statuses: list[int] = []
            if mode == "polling":
                for u in updates:
                    server.enqueue_update(u)
            task = asyncio.create_task(run(app.settings, app.channel_deps(), stop))
            if mode == "webhook":
                await server.wait_for(lambda s: s.calls("setWebhook"), timeout=60)
            else:
                await server.wait_for(lambda s: s.calls("getUpdates"), timeout=60)
            start = time.perf_counter()
            if mode == "webhook":
                sem = asyncio.Semaphore(40)
                async with aiohttp.ClientSession() as session:

                    async def post(i: int, update: dict[str, object]) -> None:
                        async with sem:
                            t0 = time.perf_counter()
                            body = {"update_id": 1 + i, **update}
                            async with session.post(
                                f"http://127.0.0.1:{port}/hook", json=body, headers={SECRET_HEADER: SECRET}
                            ) as resp:
                                statuses.append(resp.status)
                            latencies.append(time.perf_counter() - t0)

                    await asyncio.gather(*(post(i, u) for i, u in enumerate(updates)))
            expected = n if not statuses else statuses.count(200)
            await server.wait_for(lambda s: len(s.calls("sendMessage")) >= expected, timeout=600)
            elapsed = time.perf_counter() - start
            stop.set()
            await task
            await app.close()
            print(f"{mode}: {n} updates handled and answered in {elapsed:.1f}s = {n / elapsed:.0f} updates/s")
            if statuses:
                print("webhook answers:", {code: statuses.count(code) for code in sorted(set(statuses))})
            if latencies:
                latencies.sort()
                p99 = latencies[int(len(latencies) * 0.99) - 1]
                print(f"webhook ack latency: p50 {statistics.median(latencies) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=1000)
    parser.add_argument("--mode", choices=["polling", "webhook"], default="polling")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    asyncio.run(bench(args.updates, args.mode, args.database_url))


if __name__ == "__main__":
    main()
