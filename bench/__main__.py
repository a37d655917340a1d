"""`python -m bench [--students N] [--taps K] [--scenario ...]`: runs the baseline and the bot in one run."""

from __future__ import annotations

import argparse
import asyncio

from bench.loadtest import baseline_cmd, run_load


async def main(args: argparse.Namespace) -> None:
    print(f"{args.students} students × {args.taps} taps; bot pinned to core {args.core}")
    base = await run_load("baseline: bare aiogram, no database", baseline_cmd(), {}, args.students, args.taps,
                          "/start", core=args.core)
    print(base.line())


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--students", type=int, default=200)
    p.add_argument("--taps", type=int, default=20)
    p.add_argument("--core", default="1")
    asyncio.run(main(p.parse_args()))
