"""A bot process serving the web console and the contest page (the live round's students and screens), for the
kill -9 test: `python -m tests.live.live_child PORT` with DATABASE_URL, WEB_BASE_URL and CONTENT_DIR in the
environment; prints READY once it listens, then serves until it is killed."""

from __future__ import annotations

import asyncio
import sys

from bot.app import build_app
from bot.config import Settings
from bot.web.server import start_web


async def serve(port: int) -> None:
    app = build_app(Settings())
    runner = await start_web(app.web_deps(), "127.0.0.1", port)
    print("READY", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        await app.close()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
