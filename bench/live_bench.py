"""The live round's connections: N students with the page's event stream open (Server-Sent Events) on ONE bot
process serving the web console and the contest page, over real sockets. Printed: the process's resident memory
idle and with every stream open (and per stream), how long it took to open them, and, when the schedule moves
to the next question, how long until every student's page has heard of it (p50, p99, last), with the process's
CPU per second while the streams are open. Baseline in the same run: the same process idle.

    python bench/live_bench.py --students 10000
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp

from bench.loadtest import percentile, proc_mem_mb
from bot.accounts.seed import seed_demo
from bot.app import build_app
from bot.config import Settings
from bot.content.models import Band
from bot.contests.loader import load_contest
from bot.contests.service import create_contest, in_scope
from bot.live import service as live_svc
from bot.web.page_server import PageDeps
from db.migrate import upgrade_async

ROOT = Path(__file__).resolve().parents[1]
CONTEST = ROOT / "content/quizzes/contests/ngay-hoi-2027.yaml"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def prepare(url: str, web: str, students: int) -> tuple[int, list[str], dt.datetime]:
    """A demo school, the festival contest with its round open, a live round for the demo class starting in a
    while (time to open every stream), and a signed page session per student (the stream needs only that)."""
    await upgrade_async(url)
    app = build_app(Settings(database_url=url, web_base_url=web, _env_file=None))  # type: ignore[call-arg]
    try:
        await seed_demo(app.uow_factory, app.clock)
        now = app.clock()
        d = load_contest(CONTEST)
        times = {"opens_at": now - dt.timedelta(hours=1), "closes_at": now + dt.timedelta(days=1)}
        d = d.model_copy(update={"rounds": [d.rounds[0].model_copy(update=times)]})
        async with app.uow_factory() as uow:
            contest = await create_contest(uow, d, None, now)
            rnd = (await uow.contests.rounds(contest.id))[0]
            classes = [k for k in await uow.classes.for_school(1) if in_scope(d, k)]
            band = {Band.for_grade(k.grade) for k in classes}.pop()
            classes = [k for k in classes if Band.for_grade(k.grade) == band]
            starts = now + dt.timedelta(seconds=30 + students / 200)
            await live_svc.start(uow, app.content, contest, rnd, classes, 20, 5, starts, None, now, now.date())
            await uow.commit()
        signer = await PageDeps(app.web_deps()).sessions()
        cookies = [signer.issue(1_000_000 + i, rnd.id, now) for i in range(students)]
        return rnd.id, cookies, starts
    finally:
        await app.close()


async def listen(session: aiohttp.ClientSession, web: str, opened: asyncio.Queue[None], heard: list[float]) -> None:
    async with session.get(f"{web}/thi/api/live/su-kien") as response:
        assert response.status == 200, response.status
        first = True
        async for line in response.content:
            if not line.startswith(b"data: "):
                continue
            if first:
                opened.put_nowait(None)
                first = False
            elif b'"phase": "question"' in line:
                heard.append(time.time())
                return


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=10_000)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="live-bench-")
    url = f"sqlite+aiosqlite:///{tmp}/bench.db"
    port = 18_000 + os.getpid() % 1000
    web = f"http://127.0.0.1:{port}"
    _round, cookies, starts = await prepare(url, web, args.students)
    env = {**os.environ, "DATABASE_URL": url, "WEB_BASE_URL": web, "LOG_LEVEL": "WARNING"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.live.live_child", str(port), env=env, cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    assert (await proc.stdout.readline()).strip() == b"READY"
    await asyncio.sleep(2)
    idle_mb = proc_mem_mb(proc.pid, "VmRSS")
    idle_cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
    await asyncio.sleep(5)
    idle_cpu = (cpu_seconds(proc.pid) - idle_cpu0) / (time.monotonic() - t0)

    opened: asyncio.Queue[None] = asyncio.Queue()
    heard: list[float] = []
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    sessions = [
        aiohttp.ClientSession(connector=connector, connector_owner=False, cookies={"antt_thi": c}) for c in cookies
    ]
    began = time.monotonic()
    tasks = []
    for i, session in enumerate(sessions):
        tasks.append(asyncio.create_task(listen(session, web, opened, heard)))
        if i % 200 == 199:
            await asyncio.sleep(0.05)
    for _ in cookies:
        await opened.get()
    open_seconds = time.monotonic() - began
    await asyncio.sleep(3)
    open_mb = proc_mem_mb(proc.pid, "VmRSS")
    cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
    await asyncio.sleep(5)
    open_cpu = (cpu_seconds(proc.pid) - cpu0) / (time.monotonic() - t0)
    wait = (starts - dt.datetime.now(dt.UTC)).total_seconds()
    if wait < 0:
        print(f"(the first question opened {-wait:.0f} s before every stream was open; raise the lead time)")
    await asyncio.wait_for(asyncio.gather(*tasks), max(wait, 0) + 60)
    peak_mb = proc_mem_mb(proc.pid, "VmHWM")
    delays = sorted(h - starts.timestamp() for h in heard)
    proc.kill()
    await proc.wait()
    for session in sessions:
        await session.close()
    await connector.close()

    n = args.students
    print(f"live round, {n} students with the event stream open on one bot process (SQLite, loopback)")
    print(
        f"  resident memory: idle {idle_mb:.0f} MB, with {n} streams {open_mb:.0f} MB "
        f"(+{(open_mb - idle_mb) * 1024 / n:.1f} KB a stream), peak {peak_mb:.0f} MB"
    )
    print(f"  opening every stream took {open_seconds:.1f} s")
    print(f"  bot CPU: idle {100 * idle_cpu:.1f} % of a core (baseline), streams open {100 * open_cpu:.1f} %")
    print(
        f"  first question heard by every page: p50 {1000 * statistics.median(delays):.0f} ms, "
        f"p99 {1000 * percentile(delays, 0.99):.0f} ms, last {1000 * delays[-1]:.0f} ms after its time"
    )


if __name__ == "__main__":
    asyncio.run(main())
