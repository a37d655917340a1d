"""The web-contest scenario: N students take the official attempt on the contest page over HTTP keep-alive
(start, the state, 20 answers each with its key, the prediction), against one bot process serving the web
console and the page (`python -m bench.web_contest serve`, pinned to the bot's core). Sessions are signed by the
driver with the key the bot reads from the database (entry by link is not on the hot path)."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import select

from bench import contest as c
from bench.loadtest import ROOT, loop_lag, percentile, proc_cpu, proc_mem_mb
from bot.web.contest_page import SessionSigner
from db import models as m
from db import models_page as mp
from db.session import create_engine

BASE = "https://bench.example.edu.vn"


@dataclass
class Phase:
    """One part of the run: how long it took and what it cost the bot processes and the database server."""

    name: str
    count: int = 0  # students (registration, start) or answers
    seconds: float = 0.0
    bot_cpu: float = 0.0
    db_cpu: float | None = None  # PostgreSQL's server processes; None on SQLite (in the bot's process)

    def line(self) -> str:
        n = max(self.count, 1)
        db = f", PostgreSQL server {self.db_cpu / n * 1e6:.0f} µs CPU each" if self.db_cpu is not None else ""
        return (
            f"    {self.name}: {self.count} in {self.seconds:.1f} s ({self.count / max(self.seconds, 1e-9):.0f}/s), "
            f"bot {self.bot_cpu / n * 1e6:.0f} µs CPU each ({self.bot_cpu / max(self.seconds, 1e-9) * 100:.0f} % of "
            f"a core){db}"
        )


@dataclass
class WebResult:
    students: int
    answers_sent: int = 0
    answers_acked: int = 0
    errors: int = 0
    answer_lat: list[float] = field(default_factory=list)
    answered_at: list[float] = field(default_factory=list)  # when each acknowledged answer was sent (or due)
    start_lat: list[float] = field(default_factory=list)  # the common press -> first question on screen (state)
    first_answer: float = 0.0
    last_ack: float = 0.0
    cpu_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    phases: list[Phase] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def answers_per_second(self) -> float:
        span = self.last_ack - self.first_answer
        return self.answers_acked / span if span > 0 else 0.0

    def line(self) -> str:
        def q(v: list[float]) -> str:
            return f"p50 {statistics.median(v or [0.0]) * 1000:.1f} ms, p99 {percentile(v, 0.99) * 1000:.1f} ms"

        x = self.extra
        return "\n".join(
            [
                f"web contest page, {self.students} students, {x.get('procs', 1)} bot process(es): "
                f"{self.answers_acked} answers acknowledged, {self.answers_per_second:.0f} answers/s"
                + (f" ({x['offered']:.0f}/s offered)" if "offered" in x else "")
                + ", "
                f"{self.cpu_seconds / max(self.answers_acked, 1) * 1e6:.0f} µs bot CPU/answer (every request "
                f"counted), answer→ack {q(self.answer_lat)}, peak RSS {self.peak_rss_mb:.0f} MB, errors "
                f"{self.errors}",
                f"    all {self.students} press start at the same moment: first question on screen "
                f"{q(self.start_lat)}, last {max(self.start_lat or [0.0]) * 1000:.0f} ms",
                *(ph.line() for ph in self.phases),
                self.seconds_line(),
                f"    the page with {x.get('questions')} questions, its script and style: "
                f"{x.get('page_bytes', 0) / 1024:.1f} KB (uncompressed)",
                f"    answers sent {self.answers_sent}, stored {x.get('answers')}, stored twice "
                f"{x.get('duplicate_answers')}; official attempts finished {x.get('finished')}, open {x.get('open')}",
            ]
        )

    def seconds_line(self) -> str:
        """The answers' p99 second by second: where the slow ones were."""
        by: dict[int, list[float]] = {}
        for at, lat in zip(self.answered_at, self.answer_lat, strict=True):
            by.setdefault(int(at - self.first_answer), []).append(lat)
        worst = sorted(by, key=lambda k: -percentile(by[k], 0.99))[:3]
        shown = ", ".join(f"{k}: {percentile(by[k], 0.99) * 1000:.0f} ms" for k in sorted(worst))
        lag = self.extra.get("driver_lag")
        driver = f"; the driver's own loop lag at most {lag * 1000:.0f} ms" if lag is not None else ""
        return f"    answer→ack p99 in the slowest seconds (seconds from the first answer): {shown}{driver}"


def postgres_cpu() -> float:
    """CPU seconds of this machine's PostgreSQL server processes (backends and helpers), from /proc. A backend
    counts while it lives: read it before the bot's connections close."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                    total += proc_cpu(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue  # ended while being read
    return total


async def _sessions(database_url: str) -> tuple[str, int, list[int]]:
    """The page's key (stored now, as the bot would make it), the open round and the students' ids."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            key = secrets.token_urlsafe(48)
            now = dt.datetime.now(dt.UTC)
            await conn.execute(mp.PageKey.__table__.insert().values(id=1, secret=key, created_at=now))
            round_id = (await conn.execute(select(m.ContestRound.id).where(m.ContestRound.number == 1))).scalar_one()
            students = select(m.User.id).where(m.User.role == "student").order_by(m.User.id)
            users = (await conn.execute(students)).scalars()
            return key, int(round_id), [int(u) for u in users]
    finally:
        await engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _wait_port(port: int, proc: subprocess.Popen[bytes], seconds: float = 60.0) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError("the bot's web server stopped at start")
        try:
            _r, w = await asyncio.open_connection("127.0.0.1", port)
            w.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise RuntimeError("the bot's web server did not start")


def _start(env: dict[str, str], workdir: Path, cores: set[int], log: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.web_contest", "serve"],
        env=env,
        cwd=workdir,
        stdout=log,
        stderr=log,
        preexec_fn=lambda: os.sched_setaffinity(0, cores),
    )


async def run(
    database_url: str,
    workdir: Path,
    students: int,
    core: str,
    concurrency: int = 200,
    procs: int = 1,
    rate: float | None = None,
    duration: float | None = None,
) -> WebResult:
    """The database is seeded and the contest opened; `procs` bot processes serve the page (the students spread
    over them evenly, as a proxy would) while N students sit: every one registers; then all press start at the
    same moment and read the first question; then each answers 20 questions and the prediction. With `rate`,
    the answers are released at `rate` a second (Poisson, open loop: whether or not the bot keeps up; each
    latency counted from the moment its answer was due) for `duration` seconds at most, then the predictions."""
    key, round_id, users = await _sessions(database_url)
    users = users[:students]
    signer = SessionSigner(key.encode())
    ports = [_free_port() for _ in range(procs)]
    postgres = database_url.startswith("postgresql")
    log = (workdir / "web-contest-bot.log").open("wb")
    bots = []
    for port in ports:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "WEB_BASE_URL": BASE,
            "WEB_PORT": str(port),
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        bots.append(_start(env, workdir, {int(x) for x in core.split(",")}, log))
    result = WebResult(students, extra={"procs": procs})

    def cpu() -> tuple[float, float | None]:
        return sum(proc_cpu(b.pid) for b in bots), postgres_cpu() if postgres else None

    async def phase(name: str, count: Callable[[], int], work: Awaitable[Any]) -> None:
        t, (bot0, db0) = time.perf_counter(), cpu()
        await work
        bot1, db1 = cpu()
        db = db1 - db0 if db1 is not None and db0 is not None else None
        result.phases.append(Phase(name, count(), time.perf_counter() - t, bot1 - bot0, db))

    try:
        for port, bot in zip(ports, bots, strict=True):
            await _wait_port(port, bot)
        cpu0 = cpu()[0]
        connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
        slots = asyncio.Semaphore(concurrency)
        states: dict[int, dict[str, Any]] = {}
        acked: dict[int, int] = {}  # answers acknowledged, by student
        async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as http:

            def site(i: int) -> str:
                return f"http://127.0.0.1:{ports[i % procs]}"

            def headers(user_id: int) -> dict[str, str]:
                cookie = signer.issue(user_id, round_id, dt.datetime.now(dt.UTC))
                return {"Cookie": f"antt_thi={cookie}", "Origin": BASE}

            async def call(i: int, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
                url, sent = f"{site(i)}/thi/api/{path}", headers(users[i])
                if body is None:
                    async with http.get(url, headers=sent) as r:
                        return r.status, await r.json()
                async with http.post(url, json=body, headers=sent) as r:
                    return r.status, await r.json()

            async def register(i: int) -> None:
                async with slots:
                    status, _ok = await call(i, "register", {})
                    result.errors += status != 200

            async def begin(i: int, pressed: float) -> None:
                status, _ok = await call(i, "start", {"official": True})
                status, state = await call(i, "state")
                result.start_lat.append(time.perf_counter() - pressed)
                if status != 200 or state.get("step") != "attempt":
                    result.errors += 1
                else:
                    states[i] = state

            async def one(i: int, item: dict[str, Any], due: float) -> None:
                body = {"attempt": states[i]["attempt"], "seq": item["seq"], "pos": 0, "key": secrets.token_hex(8)}
                if not result.first_answer:
                    result.first_answer = due
                result.answers_sent += 1
                status, ack = await call(i, "answer", body)
                done = time.perf_counter()
                if status == 200 and ack.get("status") == "saved":
                    result.answers_acked += 1
                    acked[i] = acked.get(i, 0) + 1
                    result.answer_lat.append(done - due)
                    result.answered_at.append(due)
                    result.last_ack = done
                else:
                    result.errors += 1

            async def predict(i: int) -> None:
                status, _done = await call(i, "submit", {"attempt": states[i]["attempt"], "prediction": 7})
                result.errors += status != 200

            async def sit(i: int) -> None:
                async with slots:
                    for item in states[i]["items"]:
                        await one(i, item, time.perf_counter())
                    await predict(i)

            async def offered(per_second: float) -> None:
                """Question by question over every student, released on a Poisson schedule."""
                rng = random.Random(7)
                queue = [(i, item) for seq in range(20) for i in states for item in states[i]["items"][seq : seq + 1]]
                t0 = due = time.perf_counter()
                sent = []
                for i, item in queue:
                    due += rng.expovariate(per_second)
                    if duration is not None and due - t0 > duration:
                        break
                    if (wait := due - time.perf_counter()) > 0:
                        await asyncio.sleep(wait)
                    sent.append(asyncio.create_task(one(i, item, due)))
                await asyncio.gather(*sent)
                result.extra["offered"] = len(sent) / max(due - t0, 1e-9)

            every = range(len(users))
            await phase("registration", lambda: len(users), asyncio.gather(*(register(i) for i in every)))
            pressed = time.perf_counter()
            started = asyncio.gather(*(begin(i, pressed) for i in every))
            await phase("start together (start + first question)", lambda: len(users), started)
            if states:  # what a phone downloads: the page, its script, its style
                first = next(iter(states))
                result.extra["questions"] = len(states[first]["items"])
                result.extra["page_bytes"] = 0
                for path in ("/thi/", "/thi/static/thi.js", "/thi/static/thi.css"):
                    async with http.get(site(first) + path, headers=headers(users[first])) as r:
                        result.extra["page_bytes"] += len(await r.read())
            if rate:
                lag = [0.0]
                watch = asyncio.create_task(loop_lag(lag))
                gc.collect()  # the driver's own full collections would stall its loop (the measure, not the bot)
                gc.freeze()
                try:
                    await phase(f"answers offered at {rate:.0f}/s", lambda: result.answers_acked, offered(rate))
                finally:
                    gc.unfreeze()
                    watch.cancel()
                result.extra["driver_lag"] = lag[0]
                done = [i for i in states if acked.get(i) == len(states[i]["items"])]  # the others are not finished
                await phase("predictions", lambda: len(done), asyncio.gather(*(predict(i) for i in done)))
            else:
                answering = asyncio.gather(*(sit(i) for i in states))
                await phase(
                    "answers (each student's 20, one after the other, and the prediction)",
                    lambda: result.answers_acked,
                    answering,
                )
        result.cpu_seconds = cpu()[0] - cpu0
        result.peak_rss_mb = sum(proc_mem_mb(b.pid) for b in bots)
    finally:
        for bot in bots:
            bot.send_signal(signal.SIGTERM)
        for bot in bots:
            try:
                bot.wait(timeout=30)
            except subprocess.TimeoutExpired:
                bot.kill()
        log.close()
    result.extra.update(await c.stored_answers(database_url))
    return result


async def serve() -> None:
    """The bot's web server (console and contest page) alone, as `python -m bot run` starts it."""
    from bot.app import build_app
    from bot.config import Settings
    from bot.runtime.serve import settle_heap
    from bot.web.server import run_web

    settings = Settings()
    app = build_app(settings)
    settle_heap()  # as `python -m bot run` does before serving
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    profile = os.environ.get("BENCH_CPROFILE")  # a file: the server's cProfile statistics, written at the end
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    try:
        await run_web(app.web_deps(), "127.0.0.1", settings.web_port, stop)
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile)
        await app.close()


if __name__ == "__main__" and sys.argv[1:] == ["serve"]:
    asyncio.run(serve())
