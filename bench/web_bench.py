"""District-scale web console benchmark: 30 schools, 15,000 students and 2 million participation records (the
report benchmark's data), then page times as the server gives them: the overview for the district's organizer
and for one school's admin, the report page, and the overview again while a district report is being made.

    python bench/web_bench.py                      # SQLite file in a temporary directory, full scale
    python bench/web_bench.py --rows 200000        # smaller, for a quick look
    python bench/web_bench.py --database-url postgresql://user@host/db --reset   # an EMPTY throwaway database
    python bench/web_bench.py --keep /tmp/district.db   # seed once into that SQLite file, reuse it next time
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
from sqlalchemy import func, select

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


async def session_for(uow_factory: Any, role: str, school_id: int | None) -> str:
    async with uow_factory() as uow:
        user = await uow.users.create("console", f"bench-{role}", f"bench-{role}", "vi", NOW, role=role)
        await uow.users.update(user.id, onboarded=True, school_id=school_id, display_name=role)
        user = await uow.users.get(user.id)
        link = await sign_in_link(uow, user, "http://bench", NOW)
        opened = await redeem(uow, link.split("t=", 1)[1], NOW)
        await uow.commit()
    assert opened is not None
    return opened[0]


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
    keep = Path(args.keep) if args.keep else None
    url = args.database_url or f"sqlite+aiosqlite:///{keep or Path(tmp.name) / 'bench.db'}"
    seeded = keep is not None and keep.exists()
    engine = create_engine(url)
    options = ReportOptions()
    period = parse_period("2026", options)
    try:
        async with engine.begin() as conn:
            if args.reset:
                await conn.run_sync(Base.metadata.drop_all)
            await conn.run_sync(Base.metadata.create_all)
        if seeded:
            async with engine.connect() as conn:
                rows = (await conn.execute(select(func.count()).select_from(m.Activity))).scalar_one()
            print(f"reusing {keep}: {rows} activity rows")
        else:
            t0 = time.perf_counter()
            rows = await build(engine, args.schools, args.students, args.rows, period.start, period.end)
            seconds = time.perf_counter() - t0
            print(f"seeded {rows} activity rows for {args.schools} schools, {args.students} students in {seconds:.0f} s")
        uow_factory = unit_of_work_factory(session_factory(engine))
        async with engine.connect() as conn:
            school_id = (await conn.execute(select(m.School.id).limit(1))).scalar_one()
        organizer = await session_for(uow_factory, "organizer", None)
        admin = await session_for(uow_factory, "school_admin", school_id)
        deps = WebDeps(uow_factory, lambda: NOW, I18n(), "http://bench", options, load_content())
        async with TestClient(TestServer(make_web_app(deps))) as client:
            await timed(client, "/", organizer, 1)  # warm caches once
            results = [
                line("overview, district (organizer)", await timed(client, "/", organizer, args.n)),
                line("overview, one school (school admin)", await timed(client, "/", admin, args.n)),
                line("report page (organizer)", await timed(client, "/bao-cao", organizer, args.n)),
            ]
            t1 = time.perf_counter()
            report = asyncio.ensure_future(timed(client, "/bao-cao/2026.docx", organizer, 1))
            during: list[float] = []
            while not report.done():
                during += await timed(client, "/", admin, 1)
            report_ms = (await report)[0]
            results.append(line("overview (school) while the district report runs", during or [0.0]))
            wall = time.perf_counter() - t1
            results.append(
                f"{'district report (DOCX) made on request':<50} {report_ms / 1000:7.1f} s (wall {wall:.1f} s)"
            )
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
    parser.add_argument("--database-url", help="a throwaway database (default: a temporary SQLite file)")
    parser.add_argument("--reset", action="store_true", help="drop every table of --database-url first")
    parser.add_argument("--keep", help="a SQLite file to seed once and reuse")
    parser.add_argument("-n", type=int, default=20, help="requests per page")
    sys.exit(asyncio.run(main(parser.parse_args())))
