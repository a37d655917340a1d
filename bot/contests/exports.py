"""Result exports: an XLSX workbook (all entries, a sheet per school, the collective ranking) and a CSV file."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from bot.contests.ranking import PRIZE_NAMES, Ranked
from bot.contests.service import RoundResults

VN = dt.timezone(dt.timedelta(hours=7))
COLUMNS = (
    "Hạng",
    "Họ và tên",
    "Trường",
    "Lớp",
    "Điểm",
    "Số câu",
    "Dự đoán",
    "Độ lệch dự đoán",
    "Thời gian làm bài (giây)",
    "Nộp bài lúc",
    "Giải",
    "Xếp sau người trên vì",
    "Cần xem lại",
)
UNIT_COLUMNS = ("Hạng", "Đơn vị", "Trường", "Số người tham gia", "Số học sinh", "Tỉ lệ tham gia", "Xếp sau vì", "Giải")
SEPARATED = {
    "": "",
    "score": "điểm thấp hơn",
    "prediction": "dự đoán xa hơn",
    "duration": "làm bài lâu hơn",
    "submitted_at": "nộp bài muộn hơn",
    "registration": "đăng ký muộn hơn",
    "participants": "ít người tham gia hơn",
    "rate": "tỉ lệ tham gia thấp hơn",
    "id": "đơn vị đăng ký sau",
}


def row_of(r: Ranked, flagged: set[int] | frozenset[int] = frozenset()) -> list[Any]:
    e = r.entry
    return [
        r.rank,
        e.name,
        e.school_name,
        e.class_name,
        e.score,
        e.total,
        e.prediction if e.prediction is not None else "",
        r.distance if r.distance is not None else "",
        round(e.duration.total_seconds(), 3),
        e.finished_at.astimezone(VN).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
        PRIZE_NAMES.get(r.prize, ""),
        SEPARATED[r.separated_by],
        "trả lời quá nhanh" if e.attempt_id in flagged else "",
    ]


def _sheet_title(name: str, used: set[str]) -> str:
    # Excel: at most 31 characters, none of []:*?/\ , unique in the workbook.
    base = "".join(ch for ch in name if ch not in "[]:*?/\\")[:28] or "Trường"
    title, n = base, 2
    while title.lower() in used:
        title, n = f"{base[:26]} {n}", n + 1
    used.add(title.lower())
    return title


def results_xlsx(res: RoundResults) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Xếp hạng"
    used = {"xếp hạng", "giải tập thể", "thông tin"}
    _table(ws, COLUMNS, [row_of(r, res.flagged) for r in res.ranked])
    schools: dict[str, list[Ranked]] = {}
    for r in res.ranked:
        schools.setdefault(r.entry.school_name, []).append(r)
    for school, rows in sorted(schools.items()):
        _table(wb.create_sheet(_sheet_title(school, used)), COLUMNS, [row_of(r, res.flagged) for r in rows])
    units = wb.create_sheet("Giải tập thể")
    _table(
        units,
        UNIT_COLUMNS,
        [
            [
                u.rank,
                u.unit.name,
                u.unit.school_name,
                u.participants,
                u.unit.members,
                round(u.rate, 4),
                SEPARATED[u.separated_by],
                "Giải tập thể" if u.prize else "",
            ]
            for u in res.units
        ],
    )
    info = wb.create_sheet("Thông tin")
    d = res.definition
    _table(
        info,
        ("Mục", "Giá trị"),
        [
            ["Hội thi", res.contest.title],
            ["Đợt", res.round.name],
            ["Câu hỏi dự đoán", d.prediction.target.value],
            ["Giá trị thực", res.actual],
            ["Thứ tự xếp hạng", " > ".join((*d.ranking, "registration"))],
            ["Số bài chính thức", len(res.ranked)],
            ["Số bài cần xem lại (trả lời quá nhanh)", len(res.flagged)],
        ],
    )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _table(ws: Any, header: tuple[str, ...], rows: list[list[Any]]) -> None:
    ws.append(list(header))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
    ws.freeze_panes = "A2"
    for i, title in enumerate(header, start=1):
        ws.column_dimensions[ws.cell(1, i).column_letter].width = max(10, min(40, len(title) + 4))


def results_csv(res: RoundResults) -> bytes:
    """UTF-8 with a BOM, so Excel opens the Vietnamese names correctly."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(COLUMNS)
    for r in res.ranked:
        writer.writerow(row_of(r, res.flagged))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
