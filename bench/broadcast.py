"""The broadcast scenario's pieces: a lesson broadcast created with the teachers' command line, and the
deliveries' states read back after the run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from bench.loadtest import ROOT
from db import models as m
from db.session import create_engine

LESSON = "atm-du-lieu-ca-nhan-cua-em"  # a lower-secondary lesson; the seed's classes are grade 7


def class_codes(first_student: int, students: int) -> list[str]:
    """The seed's join codes (classes of 40, B00000, B00001, ...) of students [first, first + students)."""
    return [f"B{c:05d}" for c in range(first_student // 40, (first_student + students + 39) // 40)]


def create(database_url: str, workdir: Path, codes: list[str], lesson: str = LESSON) -> None:
    """`python -m bot broadcast create --lesson ID --class-code CODE ...`, as a teacher's operator would."""
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}
    args = [a for code in codes for a in ("--class-code", code)]
    subprocess.run(
        [sys.executable, "-m", "bot", "broadcast", "create", "--lesson", lesson, *args],
        env=env,
        cwd=workdir,
        check=True,
        stdout=subprocess.DEVNULL,
    )


async def delivery_counts(database_url: str) -> dict[str, int]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(select(m.Delivery.status, func.count()).group_by(m.Delivery.status))
            return {str(status): int(n) for status, n in rows}
    finally:
        await engine.dispose()
