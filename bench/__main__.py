"""`python -m bench`: the baseline and the bot under the same load, in one run; prints figures and ratios.

Scenarios: `practice` (students answering quiz questions by tapping buttons: the contest hot path without the
contest rules), `contest` (start, 20 answers, prediction), `open-attempts` (every student starts the official
attempt, answers `--answers` questions and leaves it open: peak RSS with all attempts open), `broadcast` (a
lesson sent to every student by the bot's own sender), `mixed` (contest answers, practice taps and a broadcast
at once), `contest-limits` (a chat-only contest round against a fake Bot API that keeps Telegram's published pace,
429 with `retry_after` beyond it, beside the same round with no limits), `web-contest` (the official attempt on
the contest page over HTTP keep-alive, beside the same attempt in the chat). `--rate R` releases the answers at R per
second (open loop) instead of at each reply."""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench import broadcast as bc
from bench import contest as c
from bench import web_contest as wc
from bench.fake_botapi import TelegramLimits
from bench.loadtest import Group, Result, baseline_cmd, max_in_window, percentile, run_load, tapper
from bench.seed import seed

SCENARIOS = ["practice", "contest", "open-attempts", "broadcast", "mixed", "contest-limits", "web-contest"]
WITH_BASELINE = {"practice", "contest", "mixed"}  # the others report a pace or a memory figure, not a ratio


def bot_cmd() -> list[str]:
    cmd = [sys.executable, "-m", "bot", "run", "--channel", "telegram"]
    profile = os.environ.get("BENCH_PROFILE")  # a file: sample the bot with py-spy (collapsed stacks)
    return ["py-spy", "record", "-r", "200", "-f", "raw", "-o", profile, "--", *cmd] if profile else cmd


def mixed_groups(args: argparse.Namespace) -> tuple[list[Group], list[str]]:
    """Contest students (answers at --rate), practice students (taps at --practice-rate), and the last quarter
    of the classes as a broadcast's recipients; returns the groups and the recipients' class codes."""
    first_recipient = (args.students - args.students // 4) // 40 * 40  # whole classes of the seed
    recipients = args.students - first_recipient
    contest_students = first_recipient * 2 // 3
    groups = [
        Group("contest answers", contest_students, "/thi", c.react, rate=args.rate or 300),
        Group(
            "practice taps",
            first_recipient - contest_students,
            "/practice",
            tapper("Luyện tiếp"),
            taps=args.taps,
            rate=args.practice_rate,
        ),
        Group("broadcast", recipients, None),
    ]
    return groups, bc.class_codes(first_recipient, recipients)


async def scenario(
    args: argparse.Namespace, name: str, workdir: Path, run: int, api_limits: TelegramLimits | None = None
) -> Result:
    """One measurement of the bot on a fresh database; prints its line and the database check. `api_limits`: the
    fake Bot API keeps Telegram's pace, and so does the bot (its own per-chat limit, not the benchmark's)."""
    database_url = await fresh_database(args, workdir, f"{name}-{run}{'-limited' if api_limits else ''}")
    env = {
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
        "BENCH_CWD": str(workdir),
        "TELEGRAM_CHAT_PER_SECOND": "1000",
        "FLOOD_EVENTS": "0",
        "PRACTICE_QUESTIONS": "20",
    }
    if args.broadcast_rate:
        env["BROADCAST_TELEGRAM_PER_SECOND"] = str(args.broadcast_rate)
    if api_limits is not None:
        del env["TELEGRAM_CHAT_PER_SECOND"]  # the bot's real pace: 1 a second per chat after a burst of 3
    webhook = None
    if args.mode == "webhook":
        webhook = "http://127.0.0.1:{port}/tg"
        env |= {"TELEGRAM_WEBHOOK_URL": "https://bench.example.edu.vn/tg", "TELEGRAM_WEBHOOK_SECRET": "b" * 40}
    t = time.perf_counter()
    await asyncio.to_thread(seed, database_url, args.students)
    print(f"    {name}: database seeded with {args.students} students in {time.perf_counter() - t:.1f} s")
    if name in ("contest", "open-attempts", "mixed", "contest-limits"):
        await asyncio.to_thread(c.open_contest, database_url, workdir)
    during: Callable[[], Awaitable[None]] | None = None
    if name == "practice":
        groups = [Group("practice", args.students, "/practice", tapper("Luyện tiếp"), args.taps, args.rate)]
    elif name == "contest":
        groups = [Group("contest", args.students, "/thi", c.react, rate=args.rate)]
    elif name == "contest-limits":  # a chat-only round, each student answering `--answers` questions
        react = functools.partial(c.react, limit=args.answers)
        groups = [Group("contest round", args.students, "/thi", react)]
    elif name == "open-attempts":
        react = functools.partial(c.react, limit=args.answers)
        groups = [Group("open attempts", args.students, "/thi", react, rate=args.rate or 100)]
    elif name == "broadcast":  # created before the bot starts: its sender begins at once
        await asyncio.to_thread(bc.create, database_url, workdir, bc.class_codes(0, args.students))
        groups = [Group("broadcast", args.students, None)]
    else:  # mixed: the broadcast is created while the students answer, as a teacher would
        groups, codes = mixed_groups(args)

        async def during() -> None:
            await asyncio.to_thread(bc.create, database_url, workdir, codes)

    rate = f", {groups[0].rate:.0f}/s offered" if groups[0].rate else ""
    label = f"antt-bot {name}, {args.db}, {args.mode}, {args.procs} proc{rate}"
    if name == "contest-limits":
        label = "round at Telegram's pace" if api_limits else "round with no limits"
    try:
        result = await run_load(
            label,
            bot_cmd(),
            env,
            groups,
            core=args.core,
            settle=0.5,
            webhook_url=webhook,
            procs=args.procs,
            during=during,
            duration=args.duration,
            api_limits=api_limits,
        )
        if name in ("contest", "open-attempts", "mixed", "contest-limits"):
            result.extra.update(await c.stored_answers(database_url))
            result.extra["answers_sent"] = sum(p.answers for p in result.parts if p.group.first_text == "/thi")
        if name in ("broadcast", "mixed"):
            result.extra["deliveries"] = await bc.delivery_counts(database_url)
    finally:
        await drop_database(args, database_url)
    return result


def db_check(name: str, r: Result) -> str:
    x = r.extra
    out = []
    if name in ("contest", "open-attempts", "mixed", "contest-limits"):
        out.append(
            f"answers tapped {x['answers_sent']}, stored {x['answers']}, stored twice "
            f"{x['duplicate_answers']}; official attempts finished {x['finished']}, open {x['open']}"
        )
    if name == "open-attempts":
        out.append(f"bot RSS now {x['rss_now_mb']:.0f} MB, peak {r.peak_rss_mb:.0f} MB")
    if name in ("broadcast", "mixed"):
        out.append(f"deliveries by state {x['deliveries']}")
    return "    " + "; ".join(out)


async def main(args: argparse.Namespace) -> None:
    rate = f"answers offered at {args.rate:.0f}/s" if args.rate else "closed loop"
    rest = os.sched_getaffinity(0) - {int(c) for c in args.core.split(",")}
    if rest:  # the driver (fake API and students) keeps off the bot's core
        os.sched_setaffinity(0, rest)
    print(
        f"{args.students} students, {rate}; bot pinned to core {args.core}; fake API and students on "
        f"{sorted(rest) if rest else 'the same cores'}"
    )
    runs: dict[str, list[tuple[Result, Result | None]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.repeat):
            if args.repeat > 1:
                print(f"-- run {run + 1}/{args.repeat}")
            base = None
            if WITH_BASELINE & set(args.scenario):
                group = Group("baseline", args.students, "/start", tapper(), args.taps, args.rate)
                base = await run_load(
                    "baseline: bare aiogram, no database",
                    baseline_cmd(),
                    {},
                    [group],
                    core=args.core,
                    duration=args.duration,
                )
                print(base.line())
                runs.setdefault("baseline", []).append((base, None))
            for name in args.scenario:
                if name == "contest-limits":
                    await limits_round(args, Path(tmp), run)
                    continue
                if name == "web-contest":
                    await web_round(args, Path(tmp), run)
                    continue
                result = await scenario(args, name, Path(tmp), run)
                print(result.line(base if name in WITH_BASELINE else None))
                print(db_check(name, result))
                runs.setdefault(name, []).append((result, base if name in WITH_BASELINE else None))
    if args.repeat > 1:
        print(f"-- {args.repeat} runs: median [min – max]")
        for name, pairs in runs.items():
            print(summary(name, pairs))


async def limits_round(args: argparse.Namespace, workdir: Path, run: int) -> None:
    """The same chat-only round twice: with no limits (the baseline), then against Telegram's published pace
    (30 calls a second overall, 1 a second per chat after a burst of 3; 429 with `retry_after` beyond it). Prints
    how long each took, and what the whole round (`FULL_ROUND` questions each) takes at the pace measured."""
    print(
        f"  contest round, chat only: {args.students} students, each registers, starts the official attempt and "
        f"answers {args.answers} of the {FULL_ROUND} questions (reduced to keep the run short)"
    )
    rounds = []
    for limits in (None, TelegramLimits()):
        r = await scenario(args, "contest-limits", workdir, run, api_limits=limits)
        rounds.append(r)
        x = r.extra
        calls = x["calls_to_chats"]
        print(
            f"  {r.name:<26} {x['round_seconds']:>7.1f} s for the round; {len(calls)} calls to chats "
            f"({len(calls) / max(x['round_seconds'], 1e-9):.1f}/s, most in any 1 s: {max_in_window(calls, 1.0)}), "
            f"429 answered {x['refused_429']}; update→reply {_p(r.latencies)}"
        )
        print(db_check("contest-limits", r))
    limited = rounds[1].extra
    pace = len(limited["calls_to_chats"]) / max(limited["round_seconds"], 1e-9)
    # An answer costs one call to the chat: the next question, edited in place (the first question is shown at
    # the start); the whole round adds the prediction question and the result (about 2 more a student).
    edits = (limited["question_edits"] - args.students) / max(limited["answers_sent"], 1)
    full = len(limited["calls_to_chats"]) + args.students * ((FULL_ROUND - args.answers) * edits + 2)
    print(
        f"  estimate for the whole round ({FULL_ROUND} answers each, {edits:.2f} call per answer) at the "
        f"{pace:.1f} calls/s measured: about {full:.0f} calls, {full / pace / 60:.1f} min (no limits: "
        f"{rounds[0].extra['round_seconds']:.1f} s for the reduced round)"
    )


async def web_round(args: argparse.Namespace, workdir: Path, run: int) -> None:
    """The official attempt in the chat (the baseline: the chat contest path, through the fake Bot API), then
    the same attempt on the contest page over HTTP keep-alive, each on a fresh database, the bot on its core."""
    chat = await scenario(args, "contest", workdir, run)
    print(chat.line())
    print(db_check("contest", chat))
    chat_answers = chat.extra["answers_sent"]
    chat_rate = chat_answers / chat.seconds if chat.seconds else 0.0
    chat_cpu = chat.cpu_seconds / max(chat_answers, 1) * 1e6
    database_url = await fresh_database(args, workdir, f"web-contest-{run}")
    try:
        await asyncio.to_thread(seed, database_url, args.students)
        await asyncio.to_thread(c.open_contest, database_url, workdir)
        page = await wc.run(
            database_url, workdir, args.students, args.core, procs=args.procs, rate=args.rate, duration=args.duration
        )
    finally:
        await drop_database(args, database_url)
    print(page.line())
    page_cpu = page.cpu_seconds / max(page.answers_acked, 1) * 1e6
    print(
        f"  page against chat: {page.answers_per_second:.0f} against {chat_rate:.0f} answers/s "
        f"({page.answers_per_second / max(chat_rate, 1e-9):.1f}×); bot CPU per answer {page_cpu:.0f} µs against "
        f"{chat_cpu:.0f} µs ({chat_cpu / max(page_cpu, 1e-9):.1f}× less); every request or update counted"
    )


def _p(values: list[float]) -> str:
    return f"p50 {statistics.median(values or [0.0]):.2f} s, p99 {percentile(values, 0.99):.2f} s"


FULL_ROUND = 20  # questions in the example contest's round


def summary(name: str, pairs: list[tuple[Result, Result | None]]) -> str:
    def spread(values: list[float], fmt: str) -> str:
        return f"{statistics.median(values):{fmt}} [{min(values):{fmt}} – {max(values):{fmt}}]"

    from bench.loadtest import percentile

    out = f"{name:<16} upd/s {spread([r.rate for r, _ in pairs], '.0f')}"
    if all(b is not None for _, b in pairs) and not pairs[0][0].open_loop:
        out += f"  ratio {spread([r.ratio(b) for r, b in pairs], '.2f')}"
    if any(r.latencies for r, _ in pairs):
        out += f"  p99 ms {spread([percentile(r.latencies, 0.99) * 1000 for r, _ in pairs], '.0f')}"
    return out + f"  peak RSS MB {spread([r.peak_rss_mb for r, _ in pairs], '.0f')}"


async def fresh_database(args: argparse.Namespace, workdir: Path, name: str) -> str:
    if args.db == "postgres":
        return await fresh_postgres(args.pg_url)
    return f"sqlite+aiosqlite:///{workdir / (name + '.db')}"


async def fresh_postgres(server_url: str) -> str:
    """A new, empty database on the server for this run (each run starts from nothing)."""
    import secrets

    name = f"bench_{secrets.token_hex(4)}"
    await _admin(server_url, f'CREATE DATABASE "{name}"')
    return server_url.rstrip("/") + f"/{name}"


async def drop_database(args: argparse.Namespace, database_url: str) -> None:
    if args.db == "postgres" and not args.keep_db:
        await _admin(args.pg_url, f'DROP DATABASE IF EXISTS "{database_url.rsplit("/", 1)[1]}" WITH (FORCE)')


async def _admin(server_url: str, statement: str) -> Any:
    from sqlalchemy import text

    from db.session import create_engine

    engine = create_engine(server_url.rstrip("/") + "/postgres", isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(statement))
    await engine.dispose()


if __name__ == "__main__":
    p = argparse.ArgumentParser(prog="python -m bench")
    p.add_argument("--students", type=int, default=2000)
    p.add_argument("--taps", type=int, default=10, help="practice and baseline taps per student")
    p.add_argument("--core", default="1")
    p.add_argument("--scenario", action="append", default=None, choices=SCENARIOS)
    p.add_argument("--rate", type=float, help="answers offered per second (open loop); default: closed loop")
    p.add_argument("--duration", type=float, help="open loop: release answers for this many seconds only")
    p.add_argument("--answers", type=int, default=3, help="open-attempts: answers before a student stops")
    p.add_argument("--practice-rate", type=float, default=30.0, help="mixed: practice taps offered per second")
    p.add_argument("--broadcast-rate", type=int, help="BROADCAST_TELEGRAM_PER_SECOND for the bot (default 25)")
    p.add_argument("--repeat", type=int, default=1, help="run each measurement (baseline included) K times")
    p.add_argument("--mode", choices=["polling", "webhook"], default="polling")
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--procs", type=int, default=1, help="bot processes (webhook mode only)")
    p.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432")
    p.add_argument("--keep-db", action="store_true", help="keep each run's PostgreSQL database")
    a = p.parse_args()
    a.scenario = a.scenario or ["practice"]
    asyncio.run(main(a))
