"""`python -m bench`: the baseline and the bot under the same load, in one run; prints figures and ratios.

Scenarios: `practice` (students answering quiz questions by tapping buttons: the contest hot path without the
contest rules), `contest` (start, 20 answers, prediction) when contests are available."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

from bench.loadtest import Result, baseline_cmd, run_load
from bench.seed import seed


def bot_cmd() -> list[str]:
    cmd = [sys.executable, "-m", "bot", "run", "--channel", "telegram"]
    profile = os.environ.get("BENCH_PROFILE")  # a file: sample the bot with py-spy (collapsed stacks)
    return ["py-spy", "record", "-r", "200", "-f", "raw", "-o", profile, "--", *cmd] if profile else cmd


async def practice(args: argparse.Namespace, workdir: Path, database_url: str, label: str,
                   extra_env: dict[str, str] | None = None) -> Result:
    await asyncio.to_thread(seed, database_url, args.students)
    env = {"DATABASE_URL": database_url, "PRACTICE_QUESTIONS": "20", "LOG_LEVEL": "WARNING",
           "BENCH_CWD": str(workdir), "TELEGRAM_CHAT_PER_SECOND": "1000", "FLOOD_EVENTS": "0", **(extra_env or {})}
    return await run_load(label, bot_cmd(), env, args.students, args.taps, "/practice", prefer="Luyện tiếp",
                          core=args.core, settle=0.5)


async def contest(args: argparse.Namespace, workdir: Path, database_url: str, label: str,
                  extra_env: dict[str, str] | None = None) -> Result:
    """Each student: /thi, register, start the official attempt, 20 answers, a prediction; then the DB check."""
    from bench import contest as c

    await asyncio.to_thread(seed, database_url, args.students)
    await asyncio.to_thread(c.open_contest, database_url, workdir)
    env = {"DATABASE_URL": database_url, "LOG_LEVEL": "WARNING", "BENCH_CWD": str(workdir),
           "TELEGRAM_CHAT_PER_SECOND": "1000", "FLOOD_EVENTS": "0", **(extra_env or {})}
    webhook = None
    if args.mode == "webhook":
        webhook = "http://127.0.0.1:{port}/tg"
        env |= {"TELEGRAM_WEBHOOK_URL": "https://bench.example.edu.vn/tg", "TELEGRAM_WEBHOOK_SECRET": "b" * 40}
    result = await run_load(label, bot_cmd(), env, args.students, 100, "/thi", core=args.core, settle=0.5,
                            react=c.react, webhook_url=webhook, procs=args.procs)
    result.extra.update(await c.stored_answers(database_url))
    return result


async def main(args: argparse.Namespace) -> None:
    print(f"{args.students} students × {args.taps} taps; bot pinned to core {args.core}; fake API on the other")
    base = await run_load("baseline: bare aiogram, no database", baseline_cmd(), {}, args.students, args.taps,
                          "/start", core=args.core)
    print(base.line())
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if "practice" in args.scenario:
            result = await practice(args, workdir, f"sqlite+aiosqlite:///{workdir / 'bench.db'}",
                                    "antt-bot practice answers, SQLite, polling")
            print(result.line(base))
        if "contest" in args.scenario:
            if args.db == "postgres":
                database_url = await fresh_postgres(args.pg_url)
            else:
                database_url = f"sqlite+aiosqlite:///{workdir / 'contest.db'}"
            label = f"antt-bot contest, {args.db}, {args.mode}, {args.procs} proc"
            result = await contest(args, workdir, database_url, label)
            print(result.line(base))
            x = result.extra
            print(f"    answers tapped {x['answers_sent']}, stored {x['answers']}, duplicate answers "
                  f"{x['duplicate_answers']}, attempts finished {x['finished']}")


async def fresh_postgres(server_url: str) -> str:
    """A new, empty database on the server for this run (each run starts from nothing)."""
    import secrets

    from sqlalchemy import text

    from db.session import create_engine

    name = f"bench_{secrets.token_hex(4)}"
    engine = create_engine(server_url.rstrip("/") + "/postgres", isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()
    return server_url.rstrip("/") + f"/{name}"


if __name__ == "__main__":
    p = argparse.ArgumentParser(prog="python -m bench")
    p.add_argument("--students", type=int, default=2000)
    p.add_argument("--taps", type=int, default=10)
    p.add_argument("--core", default="1")
    p.add_argument("--scenario", action="append", default=None, choices=["practice", "contest", "broadcast"])
    p.add_argument("--mode", choices=["polling", "webhook"], default="polling")
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--procs", type=int, default=1, help="bot processes (webhook mode only)")
    p.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432")
    a = p.parse_args()
    a.scenario = a.scenario or ["practice"]
    asyncio.run(main(a))
