"""District-scale web console benchmark: 30 schools, 15,000 students and 2 million participation records (the
report benchmark's data), then page times as the server gives them: the overview for the district's organizer
and for one school's admin, the report page, a chart, and the overview again while a district report is being made
in the background (started as the page's button does, followed as the page follows it).

    python bench/web_bench.py                      # SQLite file in a temporary directory, full scale
    python bench/web_bench.py --rows 200000        # smaller, for a quick look
    python bench/web_bench.py --database-url postgresql://user@host/db --reset   # an EMPTY throwaway database
    python bench/web_bench.py --keep /tmp/district.db   # seed once into that SQLite file, reuse it next time
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import delete, func, select

from bench.report_bench import build, insert_batches
from bot.app import unit_of_work_factory
from bot.content.loader import load_content
from bot.contests.loader import load_contest
from bot.contests.service import create_contest
from bot.core import activity
from bot.core.i18n import I18n
from bot.reports.options import ReportOptions
from bot.reports.service import parse_period
from bot.web.background import BACKGROUND
from bot.web.render import WebDeps
from bot.web.server import COOKIE, make_web_app
from bot.web.service import redeem, sign_in_link
from db import models as m
from db.base import Base
from db.session import create_engine, create_read_engine, session_factory

CONTEST = Path(__file__).resolve().parents[1] / "content/quizzes/contests/ngay-hoi-2027.yaml"
NOW = dt.datetime(2026, 11, 10, 3, 0, tzinfo=dt.UTC)  # inside the reporting year 2026 the data fills


async def session_for(uow_factory: Any, role: str, school_id: int | None) -> tuple[str, str]:
    """(session id, CSRF token) of a new signed-in user of `role`."""
    async with uow_factory() as uow:
        user = await uow.users.by_account("console", f"bench-{role}")
        if user is None:
            user = await uow.users.create("console", f"bench-{role}", f"bench-{role}", "vi", NOW, role=role)
            await uow.users.update(user.id, onboarded=True, school_id=school_id, display_name=role)
            user = await uow.users.get(user.id)
        link = await sign_in_link(uow, user, "http://bench", NOW)
        opened = await redeem(uow, link.split("t=", 1)[1], NOW)
        await uow.commit()
    assert opened is not None
    return opened


async def teacher_session(uow_factory: Any, school_id: int) -> str:
    """A session for the teacher of the first class of `school_id` (seeded by the report benchmark)."""
    async with uow_factory() as uow:
        klass = (await uow.classes.for_school(school_id))[0]
        teacher = await uow.users.get(klass.teacher_id)
        link = await sign_in_link(uow, teacher, "http://bench", NOW)
        opened = await redeem(uow, link.split("t=", 1)[1], NOW)
        await uow.commit()
    assert opened is not None
    return opened[0]


async def add_record(uow_factory: Any, school_id: int) -> None:
    async with uow_factory() as uow:
        await uow.activity.add(activity.HELP_VIEWED, NOW, None, school_id, None)
        await uow.commit()


async def seed_round(engine: Any, uow_factory: Any, entries: int, questions: int = 20) -> int:
    """A closed district round that `entries` students took (every student of the data, as many as there are),
    each with `questions` answers: the contest of `content/`, its first round. Returns the round's id."""
    d = load_contest(CONTEST)
    async with engine.begin() as conn:  # a kept database: the round of an earlier run goes first
        await conn.execute(delete(m.Contest).where(m.Contest.slug == d.id))
    async with uow_factory() as uow:
        contest = await create_contest(uow, d, None, NOW)
        round_id = (await uow.contests.rounds(contest.id))[0].id
        await uow.commit()
    async with engine.connect() as conn:
        students = (
            await conn.execute(
                select(m.Membership.user_id, m.Membership.class_id, m.SchoolClass.school_id, m.SchoolClass.name)
                .join(m.SchoolClass, m.SchoolClass.id == m.Membership.class_id)
                .where(m.Membership.role == "student")
                .order_by(m.Membership.user_id)
                .limit(entries)
            )
        ).all()
        first_reg = (await conn.execute(select(func.coalesce(func.max(m.ContestRegistration.id), 0)))).scalar_one()
        first_att = (await conn.execute(select(func.coalesce(func.max(m.QuizAttempt.id), 0)))).scalar_one()
    rnd = random.Random(8)
    start = NOW - dt.timedelta(days=2)
    plan = []
    for i, (user_id, class_id, school_id, class_name) in enumerate(students):
        began = start + dt.timedelta(seconds=rnd.randrange(3600))
        times = sorted(rnd.uniform(5, 600) for _ in range(questions))
        right = [rnd.random() < 0.7 for _ in range(questions)]
        plan.append(
            (first_reg + i + 1, first_att + i + 1, user_id, class_id, school_id, class_name, began, times, right)
        )
    await insert_batches(
        engine,
        m.ContestRegistration.__table__,
        (
            {
                "id": reg,
                "contest_id": contest.id,
                "user_id": user,
                "display_name": f"Học sinh {user}",
                "school_id": school,
                "school_name": f"Trường THCS số {school:02d}",
                "class_id": klass,
                "class_name": cname,
                "grade": 6,
                "created_at": began,
                "locked_at": began,
            }
            for reg, _att, user, klass, school, cname, began, _t, _r in plan
        ),
    )
    await insert_batches(
        engine,
        m.QuizAttempt.__table__,
        (
            {
                "id": att,
                "user_id": user,
                "kind": "contest",
                "questions": [],
                "started_at": began,
                "deadline_at": began + dt.timedelta(minutes=15),
                "finished_at": began + dt.timedelta(seconds=t[-1]),
                "score": sum(r),
                "total": questions,
            }
            for _reg, att, user, _k, _s, _c, began, t, r in plan
        ),
    )
    await insert_batches(
        engine,
        m.ContestEntry.__table__,
        (
            {
                "round_id": round_id,
                "registration_id": reg,
                "user_id": user,
                "attempt_id": att,
                "official_round_id": round_id,
                "official_no": 1,
                "prediction": rnd.randrange(0, 3000),
                "created_at": began,
            }
            for reg, att, user, _k, _s, _c, began, _t, _r in plan
        ),
    )
    await insert_batches(
        engine,
        m.AttemptAnswer.__table__,
        (
            {
                "attempt_id": att,
                "seq": q,
                "question_id": f"q{q}",
                "chosen": 0,
                "correct": r[q],
                "answered_at": began + dt.timedelta(seconds=t[q]),
            }
            for _reg, att, _u, _k, _s, _c, began, t, r in plan
            for q in range(questions)
        ),
    )
    async with uow_factory() as uow:
        await uow.contests.update_round(round_id, status="closed", closed_at=NOW)
        await uow.commit()
    return round_id


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
            print(f"seeded {rows} activity rows, {args.schools} schools, {args.students} students in {seconds:.0f} s")
        uow_factory = unit_of_work_factory(session_factory(engine))
        async with engine.connect() as conn:
            school_id = (await conn.execute(select(m.School.id).limit(1))).scalar_one()
        organizer, csrf = await session_for(uow_factory, "organizer", None)
        admin, _csrf = await session_for(uow_factory, "school_admin", school_id)
        teacher = await teacher_session(uow_factory, school_id)
        read_engine = create_read_engine(url)
        reader = unit_of_work_factory(session_factory(read_engine, fast_path=False)) if read_engine else uow_factory
        deps = WebDeps(uow_factory, reader, lambda: NOW, I18n(), "http://bench", options, load_content())
        async with engine.begin() as conn:
            await conn.execute(delete(m.FigureSnapshot))  # every run starts with nothing kept
        async with TestClient(TestServer(make_web_app(deps))) as client:
            background = client.app[BACKGROUND]
            results = []
            for name, sid in (("district", organizer), ("one school", admin)):
                # The first visit answers within snapshots.FIRST_WAIT, saying the figures are being counted;
                # the count goes on in the background: its time is the baseline (the page computed on the spot).
                t0 = time.perf_counter()
                first = await timed(client, "/", sid, 1)
                await background.idle()
                results.append(line(f"overview, {name}, first visit (the page)", first))
                results.append(f"{f'  first count of {name} (background)':<50} {time.perf_counter() - t0:7.1f} s")
            results += [
                line("overview, district (organizer)", await timed(client, "/", organizer, args.n)),
                line("overview, one school (school admin)", await timed(client, "/", admin, args.n)),
                line("overview, one teacher's class (always counted)", await timed(client, "/", teacher, args.n)),
            ]
            # The overview's charts, each asked right after the page (which leaves its figures for them), then
            # one asked with no page before it (it takes the figures the school's overview keeps).
            charts = [f"/bao-cao/bieu-do/2026/{name}.svg" for name in ("theo-thang", "theo-chu-de", "theo-don-vi")]
            after: list[float] = []
            for _ in range(max(1, args.n // 4)):
                await timed(client, "/", organizer, 1)
                for path in charts:
                    after += await timed(client, path, organizer, 1)
            results.append(line("a chart right after the overview (SVG, district)", after))
            alone = f"/bao-cao/bieu-do/2026/theo-don-vi.svg?pham-vi=school:{school_id}"
            results.append(line("a chart, no page before it (one school)", await timed(client, alone, organizer, 2)))
            # Records keep arriving (students at work): each visit finds newer records than its figures, is
            # served the last figures, and the newer ones are counted in the background, one count at a time.
            during: list[float] = []
            t0 = time.perf_counter()
            for _ in range(args.n):
                await add_record(uow_factory, school_id)
                during += await timed(client, "/", organizer, 1)
            await background.idle()
            results.append(line("overview, district, while records arrive", during))
            results.append(f"{'  (last background count ended after)':<50} {time.perf_counter() - t0:7.1f} s")
            results.append(line("report page (organizer)", await timed(client, "/bao-cao", organizer, args.n)))
            if args.entries:
                t0 = time.perf_counter()
                round_id = await seed_round(engine, uow_factory, args.entries)
                results.append(f"{'seeded a closed round: entries x 20 answers':<50} {time.perf_counter() - t0:7.1f} s")
                path = f"/hoi-thi/vong/{round_id}"
                results.append(line(f"results table, {args.entries} entries", await timed(client, path, organizer, 5)))
                xlsx = await timed(client, path + "/ket-qua.xlsx", organizer, 1)
                results.append(line("results XLSX download", xlsx))
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
    parser.add_argument("--database-url", help="a throwaway database (default: a temporary SQLite file)")
    parser.add_argument("--reset", action="store_true", help="drop every table of --database-url first")
    parser.add_argument("--keep", help="a SQLite file to seed once and reuse")
    parser.add_argument("--entries", type=int, default=15_000, help="entries of a closed round (0: none)")
    parser.add_argument("-n", type=int, default=20, help="requests per page")
    sys.exit(asyncio.run(main(parser.parse_args())))
