"""Certificates as PDF: Giấy khen for prize winners, Giấy chứng nhận for participants who pass, one page each.

The font is embedded (a Unicode TTF), so Vietnamese names print and extract correctly."""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
import zipfile
from importlib import resources
from pathlib import Path

from bot.contests.ranking import PRIZE_NAMES, Ranked
from bot.contests.service import RoundResults
from bot.core.clock import official_date, vn_date

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


def _kind(r: Ranked, pass_score: int) -> str | None:
    if r.prize:
        return "khen"
    return "chung_nhan" if r.entry.score >= pass_score else None


def recipients(res: RoundResults) -> list[tuple[Ranked, str]]:
    """Who gets what: prize winners a Giấy khen, other passing participants a Giấy chứng nhận; nobody whose
    data was deleted after publishing (a certificate names its holder)."""
    pass_score = res.definition.certificates.pass_score
    out = []
    for r in res.ranked:
        kind = _kind(r, pass_score)
        if kind is not None and not r.entry.erased:
            out.append((r, kind))
    return out


# Landscape A4 (297 × 210 mm), a frame 10 mm inside the edge; text keeps MARGIN mm from the paper's edge, so
# at least 12 mm from the frame on every side.
PAGE_W, PAGE_H = 297.0, 210.0
FRAME = 10.0
MARGIN = 22.0
SIGN_W = 110.0  # the signature block, on the right: date, signer's title, room to sign and seal, name
SIGN_ROOM = 26.0  # mm left blank for the signature and the seal


def numbers(res: RoundResults) -> dict[int, str]:
    """The certificate number of each standing (by its place in `res.ranked`): "12/GK-PGDĐT", "3/GCN-PGDĐT",
    counted from 1 per kind in the order of the standings. A person whose data was deleted keeps their number
    (unprinted), so the numbers of certificates already handed out never change."""
    pass_score = res.definition.certificates.pass_score
    prefix = res.definition.certificates.number_prefix or "BTC"
    counts = {"khen": 0, "chung_nhan": 0}
    out = {}
    for i, r in enumerate(res.ranked):
        kind = _kind(r, pass_score)
        if kind is None:
            continue
        counts[kind] += 1
        out[i] = f"{counts[kind]}/{'GK' if kind == 'khen' else 'GCN'}-{prefix}"
    return out


def certificates_pdf(res: RoundResults, issued_on: dt.date | None = None, only: int | None = None) -> tuple[bytes, int]:
    """One landscape A4 page per certificate (with `only`, the one of that place in the standings, counted from
    0); returns the PDF and the number of pages."""
    regular, bold = font_paths()
    from fpdf import FPDF  # fpdf2 and fontTools load with the first certificate, not with the bot

    pdf = FPDF(orientation="L", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.add_font("vn", "", str(regular))
    pdf.add_font("vn", "B", str(bold))
    italic = regular.with_name("BeVietnamPro-Italic.ttf")
    pdf.add_font("vn", "I", str(italic if italic.exists() else regular))
    pdf.set_title(f"Giấy chứng nhận – {res.contest.title}")
    cert = res.definition.certificates
    day = issued_on or vn_date(res.round.published_at or res.round.closes_at)
    numbered = numbers(res)
    place_of = {id(r): i for i, r in enumerate(res.ranked)}
    people = [(r, kind) for r, kind in recipients(res) if only is None or place_of[id(r)] == only]
    inner = PAGE_W - 2 * MARGIN
    half = inner / 2
    for r, kind in people:
        e = r.entry
        pdf.add_page()
        pdf.set_draw_color(180, 20, 20)
        pdf.set_line_width(1.2)
        pdf.rect(FRAME, FRAME, PAGE_W - 2 * FRAME, PAGE_H - 2 * FRAME)
        # The header of an official document: the issuing body and the number on the left, the national title
        # and motto on the right.
        top = MARGIN
        pdf.set_font("vn", "B", 12)
        pdf.set_xy(MARGIN, top)
        pdf.multi_cell(half - 6, 6, _nfc(cert.issuer.upper()), align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("vn", "", 12)
        pdf.set_x(MARGIN)
        pdf.cell(half - 6, 7, f"Số: {numbered[place_of[id(r)]]}", align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_xy(MARGIN + half, top)
        pdf.set_font("vn", "B", 12)
        pdf.cell(half, 6, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", align="C", new_x="LEFT", new_y="NEXT")
        pdf.cell(half, 6, "Độc lập - Tự do - Hạnh phúc", align="C", new_x="LEFT", new_y="NEXT")
        pdf.set_line_width(0.3)
        pdf.set_draw_color(0, 0, 0)
        pdf.line(MARGIN + half + half / 2 - 28, top + 13, MARGIN + half + half / 2 + 28, top + 13)

        pdf.set_xy(MARGIN, 46)
        pdf.set_text_color(180, 20, 20)
        pdf.set_font("vn", "B", 32)
        heading = "GIẤY KHEN" if kind == "khen" else "GIẤY CHỨNG NHẬN"
        pdf.cell(inner, 15, heading, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        pdf.set_font("vn", "", 15)
        pdf.ln(2)
        verb = "khen tặng" if kind == "khen" else "chứng nhận"
        pdf.cell(inner, 8, _nfc(f"{cert.issuer} trân trọng {verb}"), align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("vn", "B", 24)
        pdf.cell(inner, 14, _nfc(e.name), align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("vn", "", 14)
        pdf.cell(inner, 8, _nfc(f"Lớp {e.class_name} – {e.school_name}"), align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
        if kind == "khen":
            what = f"Đã đạt {PRIZE_NAMES[r.prize]} – {res.round.name}"
        else:
            what = f"Đã hoàn thành {res.round.name} với {e.score}/{e.total} câu trả lời đúng"
        pdf.multi_cell(inner, 7, _nfc(f"{what}\n{res.contest.title}"), align="C", new_x="LMARGIN", new_y="NEXT")

        # The signature block: it starts below the text above, and ends well inside the frame.
        x = PAGE_W - MARGIN - SIGN_W
        y = max(pdf.get_y() + 3, 128.0)
        y = min(y, PAGE_H - MARGIN - (8 + 7 + SIGN_ROOM + 8))
        pdf.set_xy(x, y)
        pdf.set_font("vn", "I", 13)
        pdf.cell(SIGN_W, 8, _nfc(official_date(day, cert.place)), align="C", new_x="LEFT", new_y="NEXT")
        pdf.set_font("vn", "B", 13)
        pdf.cell(SIGN_W, 7, _nfc((cert.signer_title or cert.issuer).upper()), align="C", new_x="LEFT", new_y="NEXT")
        pdf.ln(SIGN_ROOM)  # room for the signature and the seal
        pdf.set_x(x)
        if cert.signer_name:
            pdf.cell(SIGN_W, 8, _nfc(cert.signer_name), align="C", new_x="LEFT", new_y="NEXT")
    if not people:
        pdf.add_page()
        pdf.set_font("vn", "", 14)
        pdf.cell(0, 10, "Không có giấy chứng nhận nào cho đợt này.", align="C")
    return bytes(pdf.output()), len(people)


def certificates_zip(res: RoundResults, issued_on: dt.date | None = None) -> tuple[bytes, int]:
    """Every certificate of the round as a PDF of its own, in one ZIP: "12-GK-BTC-nguyen-van-an.pdf" (its number,
    then its holder), for a school to print or send each one. Returns the ZIP and the number of files."""
    numbered = numbers(res)
    place_of = {id(r): i for i, r in enumerate(res.ranked)}
    out = io.BytesIO()
    people = recipients(res)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for r, _kind in people:
            place = place_of[id(r)]
            pdf, _pages = certificates_pdf(res, issued_on, only=place)
            archive.writestr(file_name(numbered[place], r.entry.name), pdf)
    return out.getvalue(), len(people)


def file_name(number: str, name: str) -> str:
    """A certificate's file name in a ZIP, from its number and its holder, in plain letters and digits."""
    plain = unicodedata.normalize("NFKD", f"{number} {name}".replace("đ", "d").replace("Đ", "D"))
    words = re.findall(r"[a-z0-9]+", "".join(c for c in plain if not unicodedata.combining(c)).lower())
    return "-".join(words) + ".pdf"


def _nfc(text: str) -> str:
    # Names typed on phones may arrive decomposed; the font has the precomposed Vietnamese letters.
    return unicodedata.normalize("NFC", text)
