"""District-scale report benchmark: a year of data for 30 schools, 15,000 students and 2 million participation
records, then the full district report (DOCX + XLSX + charts). Prints rows, seconds and peak memory.

    python bench/report_bench.py                        # SQLite file in a temporary directory
    python bench/report_bench.py --database-url postgresql://user@host/db --reset   # an EMPTY throwaway database
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select

from bot.app import unit_of_work_factory
from bot.core import activity as a
from bot.reports.cli import write_files
from bot.reports.options import ReportOptions
from bot.reports.render import render_report
from bot.reports.service import build_report, parse_period
from db import models as m
from db.base import Base
from db.session import create_engine, session_factory

TOPICS = ("ma-tuy", "bao-luc-hoc-duong", "an-toan-giao-thong", "phong-chay-chua-chay", "an-toan-mang")
# How often each kind happens in a year of a district (weights, not exact shares).
KIND_WEIGHTS = {
    a.LESSON_DELIVERED: 16,
    a.LESSON_OPENED: 30,
    a.LESSON_COMPLETED: 20,
    a.PRACTICE_FINISHED: 20,
    a.CONTEST_ENTERED: 5,
    a.CONTEST_SUBMITTED: 5,
    a.CONTEST_AWARDED: 0.05,
    a.BROADCAST_SENT: 1,
    a.HELP_VIEWED: 3,
}
BATCH = 20_000
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def insert_batches(engine: Any, table: Any, rows: Iterator[dict[str, Any]]) -> int:
    """executemany in batches, one transaction per batch (COPY-like throughput without holding everything)."""
    n = 0
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            async with engine.begin() as conn:
                await conn.execute(insert(table), batch)
            n += len(batch)
            batch = []
    if batch:
        async with engine.begin() as conn:
            await conn.execute(insert(table), batch)
        n += len(batch)
    return n


async def build(engine: Any, schools: int, students: int, rows: int, first: dt.datetime, last: dt.datetime) -> int:
    rnd = random.Random(19_08)
    now = dt.datetime.now(dt.UTC)
    per_class = 35
    classes_per_school = max(1, round(students / schools / per_class))
    n_classes = schools * classes_per_school
    await insert_batches(
        engine,
        m.School.__table__,
        ({"id": s + 1, "name": f"Trường THCS số {s + 1:02d}", "created_at": now} for s in range(schools)),
    )
    # Users: one teacher per class, then the students.
    teachers = range(1, n_classes + 1)
    await insert_batches(
        engine,
        m.User.__table__,
        (
            {
                "id": t,
                "display_name": f"GV {t}",
                "locale": "vi",
                "role": "teacher",
                "school_id": (t - 1) // classes_per_school + 1,
                "onboarded": True,
                "created_at": now,
            }
            for t in teachers
        ),
    )
    await insert_batches(
        engine,
        m.SchoolClass.__table__,
        (
            {
                "id": c,
                "school_id": (c - 1) // classes_per_school + 1,
                "teacher_id": c,
                "name": f"{6 + (c - 1) % 4}A{(c - 1) % classes_per_school // 4 + 1}",
                "grade": 6 + (c - 1) % 4,
                "school_year": "2025-2026",
                "join_code": f"B{c:06d}",
                "archived": False,
                "created_at": now,
            }
            for c in range(1, n_classes + 1)
        ),
    )
    first_student = n_classes + 1
    class_of = [1 + i * n_classes // students for i in range(students)]
    await insert_batches(
        engine,
        m.User.__table__,
        (
            {
                "id": first_student + i,
                "display_name": None,
                "locale": "vi",
                "role": "student",
                "school_id": (class_of[i] - 1) // classes_per_school + 1,
                "onboarded": True,
                "created_at": now,
            }
            for i in range(students)
        ),
    )
    await insert_batches(
        engine,
        m.Membership.__table__,
        (
            {"user_id": first_student + i, "class_id": class_of[i], "role": "student", "joined_at": now}
            for i in range(students)
        ),
    )
    kinds, weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
    span = int((last - first).total_seconds())
    # 5% of students never take part, so rates stay below 100%.
    active = [i for i in range(students) if rnd.random() > 0.05]

    def activity_rows() -> Iterator[dict[str, Any]]:
        for kind in rnd.choices(kinds, weights, k=rows):
            i = rnd.choice(active)
            klass = class_of[i]
            school = (klass - 1) // classes_per_school + 1
            at = first + dt.timedelta(seconds=rnd.randrange(span))
            row = {"kind": kind, "at": at, "school_id": school, "class_id": klass, "user_id": first_student + i}
            row["topic"] = rnd.choice(TOPICS)
            row["ref"] = row["value"] = None
            if kind == a.HELP_VIEWED:
                row.update(user_id=None, class_id=None, topic=None)
            elif kind == a.BROADCAST_SENT:
                row.update(user_id=klass, topic=None, value=per_class)
            elif kind in (a.CONTEST_ENTERED, a.CONTEST_SUBMITTED, a.CONTEST_AWARDED):
                row["ref"] = "ngay-hoi-19-8"
                row["value"] = rnd.randint(1, 4) if kind == a.CONTEST_AWARDED else rnd.randint(5, 20)
            elif kind == a.PRACTICE_FINISHED:
                row["value"] = rnd.randint(0, 5)
            yield row

    return await insert_activity(engine, activity_rows())


ACTIVITY_COLUMNS = ("kind", "at", "user_id", "school_id", "class_id", "topic", "ref", "value")


async def insert_activity(engine: Any, rows: Iterator[dict[str, Any]]) -> int:
    """The 2 million records go in at driver level: `executemany` on SQLite, `COPY` on PostgreSQL."""
    n = 0
    pg = engine.dialect.name == "postgresql"
    while True:
        batch = [tuple(r[c] for c in ACTIVITY_COLUMNS) for r in itertools.islice(rows, BATCH * 5)]
        if not batch:
            return n
        async with engine.begin() as conn:
            if pg:
                raw = await conn.get_raw_connection()
                await raw.driver_connection.copy_records_to_table("activity", records=batch, columns=ACTIVITY_COLUMNS)
            else:
                # SQLite keeps UTC datetimes as naive ISO text, as the UTCDateTime column type writes them.
                batch = [(k, at.astimezone(dt.UTC).strftime(SQLITE_TIME), *rest) for k, at, *rest in batch]
                await conn.exec_driver_sql(
                    f"INSERT INTO activity ({', '.join(ACTIVITY_COLUMNS)}) VALUES ({', '.join('?' * 8)})", batch
                )
        n += len(batch)


async def main(args: argparse.Namespace) -> int:
    tmp = tempfile.TemporaryDirectory() if args.database_url is None else None
    url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp.name) / 'bench.db'}"  # type: ignore[union-attr]
    engine = create_engine(url)
    options = ReportOptions()
    period = parse_period(args.period, options)
    try:
        async with engine.begin() as conn:
            if args.reset:
                await conn.run_sync(Base.metadata.drop_all)
            await conn.run_sync(Base.metadata.create_all)
        async with engine.connect() as conn:
            existing = (await conn.execute(select(func.count()).select_from(m.Activity))).scalar_one()
        if existing:
            print(f"The database already holds {existing} activity rows; use an empty one or --reset.")
            return 2
        t0 = time.perf_counter()
        n = await build(engine, args.schools, args.students, args.rows, period.start, period.end)
        build_s = time.perf_counter() - t0
        async with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                await conn.exec_driver_sql("ANALYZE")
        rss_after_build = peak_rss_mb()

        if args.tracemalloc:
            tracemalloc.start()
        t1 = time.perf_counter()
        async with unit_of_work_factory(session_factory(engine))() as uow:
            data = await build_report(uow, None, "all", period, options, dt.datetime.now(dt.UTC))
            await uow.commit()
        query_s = time.perf_counter() - t1
        files = render_report(data)
        report_s = time.perf_counter() - t1
        traced = tracemalloc.get_traced_memory()[1] / 2**20 if args.tracemalloc else None
        out = Path(args.out)
        write_files(files, out)
    finally:
        await engine.dispose()
        if tmp is not None:
            tmp.cleanup()

    print(f"database           {engine.dialect.name}")
    print(f"schools/classes    {args.schools} / {len(data.figures.classes)}")
    enrolled = sum(data.figures.enrolled_by_class.values())
    print(f"students           {enrolled} enrolled, {data.figures.totals.students} reached")
    print(f"activity rows      {n} (in the report: {sum(data.figures.totals.counts.values())})")
    print(f"build seconds      {build_s:.1f}")
    render_s = report_s - query_s
    print(f"report seconds     {report_s:.1f} (SQL aggregation {query_s:.1f}, DOCX+XLSX+charts {render_s:.1f})")
    print(f"peak RSS MB        {rss_after_build:.0f} after build, {peak_rss_mb():.0f} after report")
    if traced is not None:
        print(f"tracemalloc MB     {traced:.1f} peak during the report")
    print(f"files              {', '.join(f.filename for f in files)} in {out}")
    return 0 if report_s < 60 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary directory")
    parser.add_argument("--reset", action="store_true", help="drop and recreate every table first (throwaway DB!)")
    parser.add_argument("--schools", type=int, default=30)
    parser.add_argument("--students", type=int, default=15_000)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--period", default="2026", help="the report period (default: the reporting year 2026)")
    parser.add_argument("--out", default="bench-report", help="where the report files go")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations during the report")
    sys.exit(asyncio.run(main(parser.parse_args())))
