"""Result exports: an XLSX workbook (all entries, a sheet per school, the collective ranking, the round's
details) that prints as it is, and a CSV file."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import TYPE_CHECKING, Any

from bot.contests.models import ContestDef, PredictionTarget
from bot.contests.ranking import PRIZE_NAMES, Ranked
from bot.contests.service import RoundResults
from bot.core.clock import VN_TZ
from bot.core.text import slugify

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

DATETIME_FORMAT = "dd/mm/yyyy hh:mm:ss"
TEXT_DATETIME = "%d/%m/%Y %H:%M:%S"
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
PREDICTION_TARGETS = {
    PredictionTarget.ALL_CORRECT_COUNT: "Số người trả lời đúng tất cả các câu hỏi",
    PredictionTarget.PARTICIPANT_COUNT: "Số người tham gia đợt thi",
}
# How each tie-break criterion reads in the sentence of the info sheet ("… thì ai … xếp trên").
TIE_BREAKS = {
    "prediction": "ai dự đoán gần kết quả thực tế hơn",
    "duration": "ai làm bài trong thời gian ngắn hơn",
    "submitted_at": "ai nộp bài sớm hơn",
}
ENTRY_FORMATS = {9: "0.0##", 10: DATETIME_FORMAT}  # by 1-based column of COLUMNS
UNIT_FORMATS = {6: "0.0%"}


def vn_cell(ts: dt.datetime | None) -> dt.datetime | None:
    """A time as a spreadsheet holds it: Vietnam wall-clock time, without a zone, to the second."""
    if ts is None:
        return None
    return ts.astimezone(VN_TZ).replace(tzinfo=None, microsecond=0)


def ranking_rule(d: ContestDef) -> str:
    """The ranking order as a sentence: "Xếp theo điểm từ cao xuống thấp; nếu bằng điểm thì …"."""
    parts = ["Xếp theo điểm từ cao xuống thấp"]
    for i, criterion in enumerate(c for c in d.ranking if c != "score"):
        parts.append(f"nếu {'bằng điểm' if i == 0 else 'vẫn bằng nhau'} thì {TIE_BREAKS[criterion]} xếp trên")
    parts.append("cuối cùng, ai đăng ký dự thi sớm hơn xếp trên")
    return "; ".join(parts) + "."


def file_stem(res: RoundResults, kind: str = "ket-qua") -> str:
    """A file name from the titles: "ket-qua-hoi-thi-an-toan-giao-thong-2026", with the round's name when the
    contest has several rounds ("…-dot-1")."""
    title = res.contest.title
    if len(res.definition.rounds) > 1:
        title = f"{title} {res.round.name}"
    return f"{kind}-{slugify(title, 90) or res.contest.slug}"


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
        vn_cell(e.finished_at),
        PRIZE_NAMES.get(r.prize, ""),
        SEPARATED[r.separated_by],
        "trả lời quá nhanh" if e.attempt_id in flagged else "",
    ]


def row_text(r: Ranked, flagged: set[int] | frozenset[int] = frozenset()) -> list[str]:
    """`row_of` as text (the CSV, the terminal): times as "19/08/2027 07:05:09"."""
    return [v.strftime(TEXT_DATETIME) if isinstance(v, dt.datetime) else str(v) for v in row_of(r, flagged)]


def _sheet_title(name: str, used: set[str]) -> str:
    # Excel: at most 31 characters, none of []:*?/\ , unique in the workbook.
    base = "".join(ch for ch in name if ch not in "[]:*?/\\")[:28] or "Trường"
    title, n = base, 2
    while title.lower() in used:
        title, n = f"{base[:26]} {n}", n + 1
    used.add(title.lower())
    return title


def results_xlsx(res: RoundResults) -> bytes:
    from openpyxl import Workbook  # openpyxl (and numpy) load with the first export, not with the bot

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Xếp hạng"
    used = {"xếp hạng", "giải tập thể", "thông tin"}
    heading = f"{res.contest.title} – {res.round.name}"
    _table(ws, COLUMNS, [row_of(r, res.flagged) for r in res.ranked], ENTRY_FORMATS, heading)
    schools: dict[str, list[Ranked]] = {}
    for r in res.ranked:
        schools.setdefault(r.entry.school_name, []).append(r)
    for school, rows in sorted(schools.items()):
        sheet = wb.create_sheet(_sheet_title(school, used))
        _table(sheet, COLUMNS, [row_of(r, res.flagged) for r in rows], ENTRY_FORMATS, f"{heading} – {school}")
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
        UNIT_FORMATS,
        f"{heading} – Giải tập thể",
    )
    _info_sheet(wb.create_sheet("Thông tin"), res)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _info_sheet(ws: Worksheet, res: RoundResults) -> None:
    from openpyxl.styles import Alignment

    d, rnd = res.definition, res.round
    target = PREDICTION_TARGETS[d.prediction.target]
    rows: list[list[Any]] = [
        ["Hội thi", res.contest.title],
        ["Đợt thi", rnd.name],
        ["Mở đợt thi lúc", vn_cell(rnd.opens_at)],
        ["Đóng đợt thi lúc", vn_cell(rnd.closes_at)],
        ["Công bố kết quả lúc", vn_cell(rnd.published_at) or "Chưa công bố"],
        ["Số câu hỏi mỗi bài thi", d.questions],
        ["Thời gian làm bài (phút)", d.time_limit_minutes],
        ["Câu hỏi dự đoán", d.prediction.question or target],
        ["Nội dung dự đoán", target],
        ["Kết quả thực tế", res.actual],
        ["Cách xếp hạng", ranking_rule(d)],
        ["Số câu đúng tối thiểu để đạt giải", d.prizes.min_score],
        ["Số bài thi chính thức", len(res.ranked)],
        ["Số bài cần xem lại (trả lời quá nhanh)", len(res.flagged)],
    ]
    _table(ws, ("Mục", "Nội dung"), rows, {}, f"{res.contest.title} – {rnd.name}")
    for label, value in ws.iter_rows(min_row=2, max_col=2):
        label.alignment = Alignment(vertical="top")
        value.alignment = Alignment(wrap_text=True, vertical="top", horizontal="left")
        if isinstance(value.value, dt.datetime):
            value.number_format = DATETIME_FORMAT
    ws.column_dimensions["A"].width = 40
    ws.column_dimensions["B"].width = 70


def _width(value: Any) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, dt.datetime):
        return 19
    return len(str(value))


def _table(
    ws: Worksheet, header: tuple[str, ...], rows: list[list[Any]], formats: dict[int, str], heading: str = ""
) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    ws.append(list(header))
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    for row in rows:
        ws.append(row)
    for col, fmt in formats.items():
        for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
            cell.number_format = fmt
    ws.freeze_panes = "A2"
    for i, title in enumerate(header, start=1):
        longest = max([0, *(_width(r[i - 1]) for r in rows[:500])])
        # Headers wrap onto two lines; the data decides the width, within reason.
        ws.column_dimensions[get_column_letter(i)].width = max(6, min(40, max(longest, min(len(title), 16)) + 2))
    _printable(ws, len(header), heading)


def _printable(ws: Worksheet, columns: int, heading: str = "") -> None:
    """A4, one page wide and as many pages long as needed, the header row on every page, landscape when wide;
    the contest and the round at the top of each printed page, the page number at the bottom."""
    from openpyxl.utils import get_column_letter

    ws.print_title_rows = "1:1"
    ws.print_area = f"A1:{get_column_letter(columns)}{max(ws.max_row, 1)}"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if columns > 4 else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    if heading:
        ws.oddHeader.center.text = heading.replace("&", "&&")
        ws.oddHeader.center.size = 10
    ws.oddFooter.center.text = "Trang &P/&N"
    ws.oddFooter.center.size = 9


def results_csv(res: RoundResults) -> bytes:
    """UTF-8 with a BOM, so Excel opens the Vietnamese names correctly."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(COLUMNS)
    for r in res.ranked:
        writer.writerow(row_text(r, res.flagged))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
