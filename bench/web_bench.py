"""District-scale web console benchmark: 30 schools, 15,000 students and 2 million participation records (the
report benchmark's data), then page times as the server gives them: the overview for the district's organizer
and for one school's admin, the report page, a chart, and the overview again while a district report is being made
in the background (started as the page's button does, followed as the page follows it).

    python bench/web_bench.py                      # SQLite file in a temporary directory, full scale
    python bench/web_bench.py --rows 200000        # smaller, for a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bench.report_bench import build
from bot.app import unit_of_work_factory
from bot.content.loader import load_content
from bot.core.i18n import I18n
from bot.reports.options import ReportOptions
from bot.reports.service import parse_period
from bot.web.render import WebDeps
from bot.web.server import COOKIE, make_web_app
from bot.web.service import redeem, sign_in_link
from db import models as m
from db.base import Base
from db.session import create_engine, session_factory

NOW = dt.datetime(2026, 11, 10, 3, 0, tzinfo=dt.UTC)  # inside the reporting year 2026 the data fills


async def session_for(uow_factory: Any, role: str, school_id: int | None) -> tuple[str, str]:
    """(session id, CSRF token) of a new signed-in user of `role`."""
    async with uow_factory() as uow:
        user = await uow.users.create("console", f"bench-{role}", f"bench-{role}", "vi", NOW, role=role)
        await uow.users.update(user.id, onboarded=True, school_id=school_id, display_name=role)
        user = await uow.users.get(user.id)
        link = await sign_in_link(uow, user, "http://bench", NOW)
        opened = await redeem(uow, link.split("t=", 1)[1], NOW)
        await uow.commit()
    assert opened is not None
    return opened


async def timed(client: TestClient[Any, Any], path: str, sid: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        response = await client.get(path, cookies={COOKIE: sid})
        await response.read()
        out.append((time.perf_counter() - t0) * 1000)
        assert response.status == 200, (path, response.status)
    return out


def line(name: str, ms: list[float]) -> str:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return f"{name:<50} median {statistics.median(ms):7.1f} ms   p95 {p95:7.1f} ms   ({len(ms)} requests)"


async def main(args: argparse.Namespace) -> int:
    tmp = tempfile.TemporaryDirectory()
    url = f"sqlite+aiosqlite:///{Path(tmp.name) / 'bench.db'}"
    engine = create_engine(url)
    options = ReportOptions()
    period = parse_period("2026", options)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        t0 = time.perf_counter()
        rows = await build(engine, args.schools, args.students, args.rows, period.start, period.end)
        seconds = time.perf_counter() - t0
        print(f"seeded {rows} activity rows for {args.schools} schools, {args.students} students in {seconds:.0f} s")
        uow_factory = unit_of_work_factory(session_factory(engine))
        async with engine.connect() as conn:
            school_id = (await conn.execute(select(m.School.id).limit(1))).scalar_one()
        organizer, csrf = await session_for(uow_factory, "organizer", None)
        admin, _csrf = await session_for(uow_factory, "school_admin", school_id)
        deps = WebDeps(uow_factory, lambda: NOW, I18n(), "http://bench", options, load_content())
        async with TestClient(TestServer(make_web_app(deps))) as client:
            await timed(client, "/", organizer, 1)  # warm caches once
            results = [
                line("overview, district (organizer)", await timed(client, "/", organizer, args.n)),
                line("overview, one school (school admin)", await timed(client, "/", admin, args.n)),
                line("report page (organizer)", await timed(client, "/bao-cao", organizer, args.n)),
            ]
            # The overview's charts, each asked right after the page (which leaves its figures for them), then
            # one asked with no page before it (it aggregates the figures itself).
            charts = [f"/bao-cao/bieu-do/2026/{name}.svg" for name in ("theo-thang", "theo-chu-de", "theo-don-vi")]
            after: list[float] = []
            for _ in range(max(1, args.n // 4)):
                await timed(client, "/", organizer, 1)
                for path in charts:
                    after += await timed(client, path, organizer, 1)
            results.append(line("a chart right after the overview (SVG, district)", after))
            alone = f"/bao-cao/bieu-do/2026/theo-don-vi.svg?pham-vi=school:{school_id}"
            results.append(line("a chart, no page before it (one school)", await timed(client, alone, organizer, 2)))
            t1 = time.perf_counter()
            started = await client.post(
                "/bao-cao/lap",
                data={"csrf": csrf, "ky": "2026", "pham-vi": "mine"},
                cookies={COOKIE: organizer},
                headers={"Origin": str(client.make_url("")).rstrip("/")},
                allow_redirects=False,
            )
            assert started.status == 303, started.status
            job = started.headers["Location"]
            during: list[float] = []
            polls: list[float] = []
            while True:
                during += await timed(client, "/", admin, 1)
                polls += await timed(client, f"{job}/trang-thai", organizer, 1)
                status = await client.get(f"{job}/trang-thai", cookies={COOKIE: organizer})
                html = await status.text()
                if "hx-trigger" not in html:
                    break
                await asyncio.sleep(0.5)
            wall = time.perf_counter() - t1
            assert "/docx" in html, html
            results.append(line("overview (school) while the district report is made", during))
            results.append(line("the report's progress (polled)", polls))
            results.append(f"{'district report (DOCX + XLSX) made in the background':<50} {wall:7.1f} s")
    finally:
        await engine.dispose()
        tmp.cleanup()
    print("\n".join(results))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schools", type=int, default=30)
    parser.add_argument("--students", type=int, default=15_000)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("-n", type=int, default=20, help="requests per page")
    sys.exit(asyncio.run(main(parser.parse_args())))
