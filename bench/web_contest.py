"""The web-contest scenario: N students take the official attempt on the contest page over HTTP keep-alive
(start, the state, 20 answers each with its key, the prediction), against one bot process serving the web
console and the page (`python -m bench.web_contest serve`, pinned to the bot's core). Sessions are signed by the
driver with the key the bot reads from the database (entry by link is not on the hot path)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import select

from bench import contest as c
from bench.loadtest import ROOT, percentile, proc_cpu, proc_mem_mb
from bot.web.contest_page import SessionSigner
from db import models as m
from db import models_page as mp
from db.session import create_engine

BASE = "https://bench.example.edu.vn"


@dataclass
class WebResult:
    students: int
    answers_sent: int = 0
    answers_acked: int = 0
    errors: int = 0
    answer_lat: list[float] = field(default_factory=list)
    start_lat: list[float] = field(default_factory=list)  # start pressed -> first question on screen (state)
    first_answer: float = 0.0
    last_ack: float = 0.0
    cpu_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def answers_per_second(self) -> float:
        span = self.last_ack - self.first_answer
        return self.answers_acked / span if span > 0 else 0.0

    def line(self) -> str:
        def q(v: list[float]) -> str:
            return f"p50 {statistics.median(v or [0.0]) * 1000:.1f} ms, p99 {percentile(v, 0.99) * 1000:.1f} ms"

        x = self.extra
        return (
            f"web contest page, {self.students} students: {self.answers_acked} answers acknowledged, "
            f"{self.answers_per_second:.0f} answers/s, "
            f"{self.cpu_seconds / max(self.answers_acked, 1) * 1e6:.0f} µs bot CPU/answer (every request counted), "
            f"answer→ack {q(self.answer_lat)}, start→first "
            f"question {q(self.start_lat)}, peak RSS {self.peak_rss_mb:.0f} MB, errors {self.errors}\n"
            f"    the page with {x.get('questions')} questions, its script and style: "
            f"{x.get('page_bytes', 0) / 1024:.1f} KB (uncompressed)\n"
            f"    answers sent {self.answers_sent}, stored {x.get('answers')}, stored twice "
            f"{x.get('duplicate_answers')}; official attempts finished {x.get('finished')}, open {x.get('open')}"
        )


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


async def run(database_url: str, workdir: Path, students: int, core: str, concurrency: int = 200) -> WebResult:
    """The database is seeded and the contest opened; one bot process serves the page while N students sit."""
    key, round_id, users = await _sessions(database_url)
    users = users[:students]
    signer = SessionSigner(key.encode())
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "WEB_BASE_URL": BASE,
        "WEB_PORT": str(port),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    log = (workdir / "web-contest-bot.log").open("wb")
    proc = _start(env, workdir, {int(x) for x in core.split(",")}, log)
    result = WebResult(students)
    try:
        await _wait_port(port, proc)
        cpu0 = proc_cpu(proc.pid)
        url = f"http://127.0.0.1:{port}/thi/api/"
        connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
        slots = asyncio.Semaphore(concurrency)
        async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as http:

            async def sit(user_id: int) -> None:
                cookie = signer.issue(user_id, round_id, dt.datetime.now(dt.UTC))
                headers = {"Cookie": f"antt_thi={cookie}", "Origin": BASE}

                async def call(path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
                    if body is None:
                        async with http.get(url + path, headers=headers) as r:
                            return r.status, await r.json()
                    async with http.post(url + path, json=body, headers=headers) as r:
                        return r.status, await r.json()

                async with slots:
                    t = time.perf_counter()
                    await call("register", {})
                    status, _ok = await call("start", {"official": True})
                    status, state = await call("state")
                    result.start_lat.append(time.perf_counter() - t)
                    if status != 200 or state.get("step") != "attempt":
                        result.errors += 1
                        return
                    if "page_bytes" not in result.extra:  # what a phone downloads: the page, its script, its style
                        result.extra["page_bytes"] = 0
                        for path in ("/thi/", "/thi/static/thi.js", "/thi/static/thi.css"):
                            async with http.get(f"http://127.0.0.1:{port}{path}", headers=headers) as r:
                                result.extra["page_bytes"] += len(await r.read())
                    result.extra["questions"] = len(state["items"])
                    for item in state["items"]:
                        body = {
                            "attempt": state["attempt"],
                            "seq": item["seq"],
                            "pos": 0,
                            "key": secrets.token_hex(8),
                        }
                        t = time.perf_counter()
                        if not result.first_answer:
                            result.first_answer = t
                        result.answers_sent += 1
                        status, ack = await call("answer", body)
                        done = time.perf_counter()
                        if status == 200 and ack.get("status") == "saved":
                            result.answers_acked += 1
                            result.answer_lat.append(done - t)
                            result.last_ack = done
                        else:
                            result.errors += 1
                    status, _done = await call("submit", {"attempt": state["attempt"], "prediction": 7})
                    if status != 200:
                        result.errors += 1

            await asyncio.gather(*(sit(u) for u in users))
        result.cpu_seconds = proc_cpu(proc.pid) - cpu0
        result.peak_rss_mb = proc_mem_mb(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    result.extra.update(await c.stored_answers(database_url))
    return result


async def serve() -> None:
    """The bot's web server (console and contest page) alone, as `python -m bot run` starts it."""
    from bot.app import build_app
    from bot.config import Settings
    from bot.web.server import run_web

    settings = Settings()
    app = build_app(settings)
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
