"""Certificates as PDF: Giấy khen for prize winners, Giấy chứng nhận for participants who pass, one page each.

The font is embedded (a Unicode TTF), so Vietnamese names print and extract correctly."""

from __future__ import annotations

import datetime as dt
import unicodedata
from importlib import resources
from pathlib import Path

from fpdf import FPDF

from bot.contests.ranking import PRIZE_NAMES, Ranked
from bot.contests.service import RoundResults

VN = dt.timezone(dt.timedelta(hours=7))
_SYSTEM_FONTS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
)


def font_paths() -> tuple[Path, Path]:
    """(regular, bold) TTF files with Vietnamese glyphs: the Be Vietnam Pro package we depend on, else DejaVu."""
    try:
        root = resources.files("fontpkg_be_vietnam_pro") / "files"
        regular, bold = Path(str(root / "BeVietnamPro-Regular.ttf")), Path(str(root / "BeVietnamPro-Bold.ttf"))
        if regular.exists() and bold.exists():
            return regular, bold
    except ModuleNotFoundError:
        pass
    for path in _SYSTEM_FONTS:
        if path.exists():
            bold = path.with_name("DejaVuSans-Bold.ttf")
            return path, bold if bold.exists() else path
    raise RuntimeError("no Unicode TTF font found; install the fontpkg-be-vietnam-pro package")


def recipients(res: RoundResults) -> list[tuple[Ranked, str]]:
    """Who gets what: prize winners a Giấy khen, other passing participants a Giấy chứng nhận; nobody whose
    data was deleted after publishing (a certificate names its holder)."""
    pass_score = res.definition.certificates.pass_score
    out = []
    for r in res.ranked:
        if r.entry.erased:
            continue
        if r.prize:
            out.append((r, "khen"))
        elif r.entry.score >= pass_score:
            out.append((r, "chung_nhan"))
    return out


def certificates_pdf(res: RoundResults, issued_on: dt.date | None = None) -> tuple[bytes, int]:
    """One landscape A4 page per certificate; returns the PDF and the number of pages."""
    regular, bold = font_paths()
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_font("vn", "", str(regular))
    pdf.add_font("vn", "B", str(bold))
    pdf.set_title(f"Giấy chứng nhận – {res.contest.title}")
    cert = res.definition.certificates
    day = issued_on or (res.round.published_at or res.round.closes_at).astimezone(VN).date()
    people = recipients(res)
    for r, kind in people:
        e = r.entry
        pdf.add_page()
        pdf.set_draw_color(180, 20, 20)
        pdf.set_line_width(1.2)
        pdf.rect(10, 10, 277, 190)
        pdf.set_font("vn", "B", 13)
        pdf.set_y(20)
        pdf.cell(0, 7, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.cell(0, 7, "Độc lập – Tự do – Hạnh phúc", align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(12)
        pdf.set_text_color(180, 20, 20)
        pdf.set_font("vn", "B", 34)
        pdf.cell(0, 16, "GIẤY KHEN" if kind == "khen" else "GIẤY CHỨNG NHẬN", align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        pdf.set_font("vn", "", 15)
        pdf.ln(4)
        pdf.cell(
            0,
            9,
            f"{cert.issuer} trân trọng {'khen tặng' if kind == 'khen' else 'chứng nhận'}",
            align="C",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.set_font("vn", "B", 26)
        pdf.cell(0, 16, _nfc(e.name), align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("vn", "", 15)
        pdf.cell(0, 9, _nfc(f"Lớp {e.class_name} – {e.school_name}"), align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        if kind == "khen":
            what = f"Đã đạt {PRIZE_NAMES[r.prize]} – {res.round.name}"
        else:
            what = f"Đã hoàn thành {res.round.name} với {e.score}/{e.total} câu trả lời đúng"
        pdf.multi_cell(0, 9, _nfc(f"{what}\n{res.contest.title}"), align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(6)
        place = f"{cert.place}, " if cert.place else ""
        pdf.set_font("vn", "", 13)
        pdf.cell(
            0, 8, f"{place}ngày {day.day} tháng {day.month} năm {day.year}", align="R", new_x="LMARGIN", new_y="NEXT"
        )
        pdf.set_font("vn", "B", 13)
        pdf.cell(0, 8, cert.issuer.upper(), align="R", new_x="LMARGIN", new_y="NEXT")
    if not people:
        pdf.add_page()
        pdf.set_font("vn", "", 14)
        pdf.cell(0, 10, "Không có giấy chứng nhận nào cho đợt này.", align="C")
    return bytes(pdf.output()), len(people)


def _nfc(text: str) -> str:
    # Names typed on phones may arrive decomposed; the font has the precomposed Vietnamese letters.
    return unicodedata.normalize("NFC", text)
