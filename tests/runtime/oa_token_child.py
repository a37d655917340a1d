"""A bot process that needs the Zalo OA's access token, for the kill -9 and two-process tests.

`python -m tests.runtime.oa_token_child [--pause-at POINT] [--wait] [--expire]` with the ZALO_OA_* settings in
the environment: builds the token store as the bot does, asks for the access token and prints `TOKEN <token>`.
At POINT (before_request, after_response, after_commit) it prints `PAUSED <point>` and stops there, so the test
kills it exactly at that point; with --wait it asks only once a line arrives on its input (processes asking
together); with --expire it first gets the token, then reports it expired (as the channel does on -216)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from bot.app import oa_token_source
from bot.config import Settings
from bot.core.clock import utc_now


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pause-at", default="")
    parser.add_argument("--wait", action="store_true")
    parser.add_argument("--expire", action="store_true")
    args = parser.parse_args()

    def hook(point: str) -> None:
        if point == args.pause_at:
            print(f"PAUSED {point}", flush=True)
            time.sleep(600)  # the whole process stands still here until the test kills it

    async def run() -> str:
        async with oa_token_source(Settings(), utc_now, hook=hook) as (store, _):
            held = await store.access_token() if args.expire else ""
            print("READY", flush=True)
            if args.wait:
                await asyncio.to_thread(sys.stdin.readline)
            if args.expire:  # the OA refused the token it had (-216): report it, then ask again
                await store.expired(held)
            return await store.access_token()

    try:
        token = asyncio.run(run())
    except Exception as exc:
        print(f"ERROR {type(exc).__name__}: {exc}", flush=True)
        return 1
    print(f"TOKEN {token}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
