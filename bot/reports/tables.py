"""The report's tables as plain rows, shared by the DOCX and the XLSX annex so that both show the same figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.core import activity as a
from bot.pledges.ports import ClassTally
from bot.reports.ports import CountRow, StandardSchoolRow
from bot.reports.service import ReportData

# Official wording; the report is always written in Vietnamese.
KIND_LABELS: dict[str, str] = {
    a.LESSON_DELIVERED: "Lượt bài học giáo viên gửi",
    a.LESSON_OPENED: "Lượt mở bài học",
    a.LESSON_COMPLETED: "Lượt hoàn thành bài học",
    a.PRACTICE_FINISHED: "Lượt luyện tập",
    a.CONTEST_ENTERED: "Lượt đăng ký dự thi",
    a.CONTEST_SUBMITTED: "Bài thi đã nộp",
    a.CONTEST_AWARDED: "Giải thưởng",
    a.BROADCAST_SENT: "Tin giáo viên gửi lớp",
    a.HELP_VIEWED: "Lượt tra cứu trợ giúp",
}
assert set(KIND_LABELS) == set(a.ALL_KINDS)
SHORT_LABELS: dict[str, str] = {
    a.LESSON_DELIVERED: "Bài được gửi",
    a.LESSON_OPENED: "Mở bài",
    a.LESSON_COMPLETED: "Hoàn thành",
    a.PRACTICE_FINISHED: "Luyện tập",
    a.CONTEST_ENTERED: "Dự thi",
    a.CONTEST_SUBMITTED: "Bài thi",
    a.CONTEST_AWARDED: "Giải",
    a.BROADCAST_SENT: "Tin gửi lớp",
    a.HELP_VIEWED: "Tra cứu trợ giúp",
}
TOPIC_LABELS: dict[str, str] = {
    "ma-tuy": "Phòng, chống ma túy",
    "bao-luc-hoc-duong": "Phòng, chống bạo lực học đường, xâm hại trẻ em",
    "an-toan-giao-thong": "An toàn giao thông",
    "phong-chay-chua-chay": "Phòng cháy, chữa cháy, thoát nạn",
    "an-toan-mang": "Sử dụng mạng xã hội an toàn, đúng pháp luật",
}
PRIZE_NAMES = {1: "Nhất", 2: "Nhì", 3: "Ba", 4: "Khuyến khích"}
NO_SCHOOL = "Chưa gắn trường"
NO_CLASS = "Không gắn với lớp"  # anonymous help lookups, people outside any class
NO_TOPIC = "Không theo chủ đề"
# The DOCX keeps the columns that fit a portrait A4 page; the XLSX annex has every kind.
DOC_KINDS = (a.LESSON_DELIVERED, a.LESSON_OPENED, a.LESSON_COMPLETED, a.PRACTICE_FINISHED, a.CONTEST_ENTERED)

Cell = str | int | float | None


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list[Cell]] = field(default_factory=list)


def rate(students: int, enrolled: int) -> float | None:
    return round(100.0 * students / enrolled, 1) if enrolled else None


def _by_key(rows: list[CountRow]) -> dict[Any, CountRow]:
    return {r.key: r for r in rows}


def _zero(key: Any) -> CountRow:
    return CountRow(key, dict.fromkeys(a.ALL_KINDS, 0), 0)


def summary_table(data: ReportData) -> Table:
    f = data.figures
    enrolled = sum(f.enrolled_by_class.values())
    t = Table("Tổng hợp", ["Chỉ tiêu", "Số lượng"])
    t.rows.append(["Số học sinh trong các lớp", enrolled])
    t.rows.append(["Số học sinh tham gia", f.totals.students])
    t.rows.append(["Tỉ lệ học sinh tham gia (%)", rate(f.totals.students, enrolled)])
    t.rows += [[KIND_LABELS[k], f.totals.counts.get(k, 0)] for k in a.ALL_KINDS]
    t.rows += standard_summary_rows(data)
    return t


def school_table(data: ReportData, kinds: tuple[str, ...] = a.ALL_KINDS) -> Table:
    f = data.figures
    found = _by_key(f.by_school)
    enrolled: dict[int, int] = {}
    for cid, n in f.enrolled_by_class.items():
        klass = f.classes.get(cid)
        if klass is not None:
            enrolled[klass.school_id] = enrolled.get(klass.school_id, 0) + n
    t = Table("Theo trường", ["STT", "Trường", "Sĩ số", "HS tham gia", "Tỉ lệ (%)", *[SHORT_LABELS[k] for k in kinds]])
    keys: list[int | None] = list(f.schools)
    if None in found:
        keys.append(None)
    for i, sid in enumerate(keys, 1):
        row = found.get(sid) or _zero(sid)
        name = f.schools.get(sid, NO_SCHOOL) if sid is not None else NO_SCHOOL
        n = enrolled.get(sid, 0) if sid is not None else 0
        t.rows.append([i, name, n, row.students, rate(row.students, n), *[row.counts.get(k, 0) for k in kinds]])
    return t


def class_table(data: ReportData, kinds: tuple[str, ...] = a.ALL_KINDS) -> Table:
    f = data.figures
    found = _by_key(f.by_class)
    t = Table(
        "Theo lớp",
        ["STT", "Trường", "Lớp", "Khối", "Sĩ số", "HS tham gia", "Tỉ lệ (%)", *[SHORT_LABELS[k] for k in kinds]],
    )
    i = 0
    for cid, klass in f.classes.items():
        row = found.get(cid) or _zero(cid)
        n = f.enrolled_by_class.get(cid, 0)
        i += 1
        school = f.schools.get(klass.school_id, "")
        cells: list[Cell] = [i, school, klass.name, klass.grade, n, row.students, rate(row.students, n)]
        t.rows.append(cells + [row.counts.get(k, 0) for k in kinds])
    if None in found:
        row = found[None]
        i += 1
        t.rows.append([i, "", NO_CLASS, None, None, row.students, None, *[row.counts.get(k, 0) for k in kinds]])
    return t


def topic_table(data: ReportData, kinds: tuple[str, ...] = a.ALL_KINDS) -> Table:
    found = _by_key(data.figures.by_topic)
    t = Table("Theo chủ đề", ["STT", "Chủ đề", "HS tham gia", *[SHORT_LABELS[k] for k in kinds]])
    keys: list[str | None] = [*TOPIC_LABELS, *sorted(str(k) for k in found if k is not None and k not in TOPIC_LABELS)]
    if None in found:
        keys.append(None)
    for i, topic in enumerate(keys, 1):
        row = found.get(topic) or _zero(topic)
        label = TOPIC_LABELS.get(topic, topic) if topic is not None else NO_TOPIC
        t.rows.append([i, label, row.students, *[row.counts.get(k, 0) for k in kinds]])
    return t


def month_table(data: ReportData, kinds: tuple[str, ...] = a.ALL_KINDS) -> Table:
    found = _by_key(data.figures.by_month)
    t = Table("Theo tháng", ["Tháng", "HS tham gia", *[SHORT_LABELS[k] for k in kinds]])
    for i, first in enumerate(data.period.months()):
        row = found.get(i) or _zero(i)
        t.rows.append([f"{first:%m/%Y}", row.students, *[row.counts.get(k, 0) for k in kinds]])
    return t


def contest_table(data: ReportData) -> Table:
    t = Table(
        "Hội thi",
        ["Hội thi", "Lượt đăng ký", "Bài thi đã nộp", "Điểm trung bình", "Điểm cao nhất"]
        + [f"Giải {p}" for p in PRIZE_NAMES.values()],
    )
    for c in data.figures.contests:
        avg = round(c.avg_score, 2) if c.avg_score is not None else None
        prizes = [c.prizes.get(p, 0) for p in PRIZE_NAMES]
        t.rows.append([c.title or c.ref, c.entered, c.submitted, avg, c.max_score, *prizes])
    return t


def standard_status(row: StandardSchoolRow) -> str:
    """A school's status for the standard, in the words of the district's view."""
    if row.result is not None:
        return "Đã đánh giá: đạt" if row.result == "dat" else "Đã đánh giá: chưa đạt"
    if row.self_assessed:
        return "Đã tự đánh giá"
    return "Đã đăng ký" if row.registered else "Chưa đăng ký"


def standard_summary_rows(data: ReportData) -> list[list[Cell]]:
    """The plan's target as figures: schools registered, self-assessed and meeting the standard."""
    s = data.standard
    if s is None:
        return []
    n = len(s.rows)
    return [
        ["Số cơ sở giáo dục", n],
        [f"Cơ sở giáo dục đăng ký tiêu chuẩn “An toàn về ANTT” (năm học {s.school_year})", s.registered],
        ["Tỉ lệ đăng ký (%)", rate(s.registered, n)],
        ["Cơ sở giáo dục đã tự đánh giá", s.self_assessed],
        ["Cơ sở giáo dục đạt tiêu chuẩn", s.met],
        ["Tỉ lệ đạt tiêu chuẩn (%)", rate(s.met, n)],
    ]


def standard_table(data: ReportData) -> Table:
    t = Table("Tiêu chuẩn ANTT", ["STT", "Trường", "Đăng ký", "Tự đánh giá", "Trạng thái", "Ngày đánh giá"])
    for i, row in enumerate(data.standard.rows if data.standard else [], 1):
        on = f"{row.evaluated_on:%d/%m/%Y}" if row.evaluated_on else None
        yes = lambda flag: "Có" if flag else "Chưa"  # noqa: E731
        t.rows.append([i, row.name, yes(row.registered), yes(row.self_assessed), standard_status(row), on])
    return t


def mailbox_table(data: ReportData) -> Table:
    """Letters to the school counsellor (Thông tư 18/2025/TT-BGDĐT, Điều 19) by kind: counts only."""
    t = Table("Hộp thư an toàn", ["Loại", "Số thư"])
    t.rows += [[kind_name, data.figures.mailbox.get(kind, 0)] for kind, kind_name in a.WORRY_KINDS.items()]
    t.rows.append(["Cộng", sum(data.figures.mailbox.values())])
    return t


PLEDGE_COUNTS = ["Số học sinh", "HS đã ký", "Tỉ lệ HS (%)", "PH đã ký", "Tỉ lệ PH (%)", "PH có tài khoản liên kết"]


def _pledge_cells(t: ClassTally) -> list[Cell]:
    return [
        t.students,
        t.students_confirmed,
        rate(t.students_confirmed, t.students),
        t.parents_confirmed,
        rate(t.parents_confirmed, t.students),
        t.parents_linked,
    ]


def pledge_totals(data: ReportData) -> list[tuple[str, ClassTally]]:
    """Each pledge of the period with its counts over the scope, in the order the pledges opened."""
    totals: dict[int, tuple[str, ClassTally]] = {}
    for row in data.pledges:
        totals.setdefault(row.pledge_id, (row.title, ClassTally(0)))[1].add(row.tally)
    return list(totals.values())


def pledge_table(data: ReportData) -> Table:
    """Pledges (ký cam kết) of the period, counts only: by school for the district, by class otherwise; the
    confirmations of each pledge's current text made by the end of the period."""
    by_school = data.district_wide
    unit = ["Trường"] if by_school else ["Trường", "Lớp"]
    t = Table("Ký cam kết", ["STT", "Bản cam kết", *unit, *PLEDGE_COUNTS])
    groups: dict[tuple[int, str], dict[tuple[str, ...], ClassTally]] = {}
    for row in data.pledges:
        key = (row.school,) if by_school else (row.school, row.class_name)
        groups.setdefault((row.pledge_id, row.title), {}).setdefault(key, ClassTally(0)).add(row.tally)
    i = 0
    for (_pid, title), units in groups.items():
        total = ClassTally(0)
        for names, tally in units.items():
            i += 1
            t.rows.append([i, title, *names, *_pledge_cells(tally)])
            total.add(tally)
        if len(units) > 1:
            t.rows.append([None, title, "Cộng", *([""] * (len(unit) - 1)), *_pledge_cells(total)])
    return t


def all_tables(data: ReportData) -> list[Table]:
    out = [
        summary_table(data),
        school_table(data),
        class_table(data),
        topic_table(data),
        month_table(data),
        contest_table(data),
    ]
    if data.standard is not None:
        out.append(standard_table(data))
    if data.scope.class_ids is None:  # a school's letters are not counted by class
        out.append(mailbox_table(data))
    if data.pledges:
        out.append(pledge_table(data))
    return out
