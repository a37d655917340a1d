"""The report as a DOCX in the format of Nghị định 30/2020/NĐ-CP: header block, title, body, recipients, signer."""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
from xml.sax.saxutils import escape

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Mm, Pt
from docx.text.paragraph import Paragraph

from bot.core import activity as a
from bot.core.clock import official_date
from bot.reports import tables
from bot.reports.service import ReportData

FONT = "Times New Roman"
BODY_PT = 14
TABLE_PT = 10
# Page usable width: A4 210 mm minus 30 mm left and 15 mm right margins.
TEXT_WIDTH_CM = 16.5
LEFT_COL_CM, RIGHT_COL_CM = 6.6, 9.9
PLACEHOLDER = "[Đơn vị bổ sung nội dung: {what}]"
# Successors of w:pBdr in CT_PPr, so the border lands where the schema wants it.
_PBDR_SUCCESSORS = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:spacing", "w:ind", "w:jc", "w:rPr", "w:sectPr")


def vn_number(value: tables.Cell) -> str:
    """15000 -> "15.000"; 12.5 -> "12,5" (Vietnamese separators); None -> "–"."""
    if value is None:
        return "–"
    if isinstance(value, float):
        whole, _, frac = f"{value:,.1f}".partition(".")
        return whole.replace(",", ".") + ("," + frac if frac and frac != "0" else "")
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    return str(value)


def vn_date_words(place: str, day: int, month: int, year: int) -> str:
    """NĐ 30: days below 10 and months 1–2 are written with a leading zero."""
    return official_date(dt.date(year, month, day), place)


def abbreviation(name: str) -> str:
    """A document-symbol abbreviation of a school name: "Trường THCS Lê Lợi" -> "THCSLL"."""
    words = [w for w in re.split(r"[\s\-–]+", name) if w and w.lower() != "trường"]
    out = ""
    for w in words:
        out += w if w.isupper() and len(w) > 1 else w[0].upper()
    return unicodedata.normalize("NFC", out) or "TRG"


def _run_font(run, size: float | None = None, bold: bool | None = None, italic: bool | None = None) -> None:  # type: ignore[no-untyped-def]
    run.font.name = FONT
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    if size is not None:
        run.font.size = Pt(size)
    if bold is not None:
        run.bold = bold
    if italic is not None:
        run.italic = italic


def _para(
    container,  # type: ignore[no-untyped-def]
    text: str = "",
    *,
    size: float = BODY_PT,
    bold: bool = False,
    italic: bool = False,
    align: WD_ALIGN_PARAGRAPH | None = WD_ALIGN_PARAGRAPH.CENTER,
    before: float = 0,
    after: float = 0,
    first_line: float | None = None,
) -> Paragraph:
    p = container.add_paragraph()
    if text:
        _run_font(p.add_run(text), size, bold, italic)
    fmt = p.paragraph_format
    if align is not None:
        p.alignment = align
    fmt.space_before, fmt.space_after = Pt(before), Pt(after)
    if first_line is not None:
        fmt.first_line_indent = Cm(first_line)
    return p


def _rule(container, width_cm: float, column_cm: float) -> None:  # type: ignore[no-untyped-def]
    """A solid horizontal line of `width_cm`, centered in its column (the rule under the motto or the issuer)."""
    p = container.add_paragraph()
    ppr = p._p.get_or_add_pPr()
    pbdr = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    pbdr.append(bottom)
    ppr.insert_element_before(pbdr, *_PBDR_SUCCESSORS)
    side = max(0.0, (column_cm - width_cm) / 2)
    fmt = p.paragraph_format
    fmt.left_indent, fmt.right_indent = Cm(side), Cm(side)
    fmt.space_before, fmt.space_after, fmt.line_spacing = Pt(0), Pt(2), Pt(2)
    _run_font(p.add_run(""), 2)


def _placeholder(doc: DocxDocument, what: str) -> None:
    p = _para(doc, align=WD_ALIGN_PARAGRAPH.JUSTIFY, after=6, first_line=1.27)
    run = p.add_run(PLACEHOLDER.format(what=what))
    _run_font(run, BODY_PT, italic=True)
    run.font.highlight_color = WD_COLOR_INDEX.YELLOW


def _widths(table, widths: list[float]) -> None:  # type: ignore[no-untyped-def]
    """Column widths for both readers: the grid (LibreOffice) and each cell (Word)."""
    for col, w in zip(table.columns, widths, strict=True):
        col.width = Cm(w)
        for cell in col.cells:
            cell.width = Cm(w)


def _no_borders(table) -> None:  # type: ignore[no-untyped-def]
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tbl_pr.append(borders)


def _columns(table: tables.Table, names: list[str]) -> tables.Table:
    idx = [table.header.index(n) for n in names]
    return tables.Table(table.title, names, [[r[i] for i in idx] for r in table.rows])


def _table_style(doc: DocxDocument) -> str:
    """A paragraph style for table cells (Times New Roman 10, single spacing); returns its style id."""
    name = "Bảng số liệu"
    if name not in [st.name for st in doc.styles]:
        style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = doc.styles["Normal"]
        style.font.size = Pt(TABLE_PT)
        style.paragraph_format.line_spacing = 1.0
        style.paragraph_format.space_after = Pt(0)
    return str(doc.styles[name].style_id)


def _row_xml(values: list[str], widths: list[float], style_id: str, bold: bool, left: set[int]) -> str:
    """One table row as WordprocessingML: writing the XML at once keeps a 500-class table fast.

    A bold row is the header: Word and LibreOffice repeat it at the top of every page the table runs onto
    (w:tblHeader); no row is split across two pages (w:cantSplit)."""
    cells = []
    for j, (text, w) in enumerate(zip(values, widths, strict=True)):
        jc = "left" if j in left else "center"
        rpr = "<w:rPr><w:b/></w:rPr>" if bold else ""
        cells.append(
            f'<w:tc><w:tcPr><w:tcW w:w="{round(w * 567)}" w:type="dxa"/><w:vAlign w:val="center"/></w:tcPr>'
            f'<w:p><w:pPr><w:pStyle w:val="{style_id}"/><w:jc w:val="{jc}"/></w:pPr>'
            f'<w:r>{rpr}<w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p></w:tc>'
        )
    tr_pr = "<w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>" if bold else "<w:trPr><w:cantSplit/></w:trPr>"
    return f"<w:tr {nsdecls('w')}>{tr_pr}{''.join(cells)}</w:tr>"


def _data_table(doc: DocxDocument, caption: str, table: tables.Table, widths: list[float]) -> None:
    _para(doc, caption, size=13, bold=True, before=6, after=3)
    style_id = _table_style(doc)
    t = doc.add_table(rows=0, cols=len(table.header))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    for col, w in zip(t.columns, widths, strict=True):
        col.width = Cm(w)
    # Names (school, class, topic) read better left-aligned; numbers and months stay centered.
    left = {
        j for j, head in enumerate(table.header) if head in ("Trường", "Chủ đề", "Chỉ tiêu", "Hội thi", "Bản cam kết")
    }
    tbl = t._tbl
    tbl.append(parse_xml(_row_xml(table.header, widths, style_id, True, set())))
    for row in table.rows:
        tbl.append(parse_xml(_row_xml([vn_number(v) for v in row], widths, style_id, False, left)))
    _para(doc, after=3)


def _picture(doc: DocxDocument, png: bytes, caption: str) -> None:
    p = _para(doc, before=6)
    p.add_run().add_picture(io.BytesIO(png), width=Cm(15.5))
    _para(doc, caption, size=12, italic=True, after=6)


def _header(doc: DocxDocument, data: ReportData) -> None:
    o = data.options
    if data.district_wide:
        superior, issuer, symbol = o.superior_body, o.district_body, o.district_symbol
    else:
        superior, issuer = o.district_body, (data.school_name or "").upper()
        symbol = abbreviation(data.school_name or "")
    t = doc.add_table(rows=1, cols=2)
    t.autofit = False
    _no_borders(t)
    _widths(t, [LEFT_COL_CM, RIGHT_COL_CM])
    left, right = t.rows[0].cells
    lp = left.paragraphs[0]
    lp.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run_font(lp.add_run(superior.upper()), 13)
    _para(left, issuer.upper(), size=13, bold=True)
    _rule(left, 2.2, LEFT_COL_CM)
    _para(left, f"Số:       /BC-{symbol}", size=13, before=4)

    rp = right.paragraphs[0]
    rp.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run_font(rp.add_run("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), 12, bold=True)
    _para(right, "Độc lập - Tự do - Hạnh phúc", size=14, bold=True)
    _rule(right, 6.2, RIGHT_COL_CM)
    d = data.issued_on
    _para(right, vn_date_words(o.place, d.day, d.month, d.year), size=14, italic=True, before=4)


def _signature(doc: DocxDocument, data: ReportData) -> None:
    o = data.options
    recipients = o.district_recipients if data.district_wide else o.school_recipients
    t = doc.add_table(rows=1, cols=2)
    t.autofit = False
    _no_borders(t)
    _widths(t, [8.0, 8.5])
    left, right = t.rows[0].cells
    lp = left.paragraphs[0]
    lp.alignment = WD_ALIGN_PARAGRAPH.LEFT
    _run_font(lp.add_run("Nơi nhận:"), 12, bold=True, italic=True)
    for item in recipients:
        _para(left, f"- {item}", size=11, align=WD_ALIGN_PARAGRAPH.LEFT)
    rp = right.paragraphs[0]
    rp.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run_font(rp.add_run(o.district_signer if data.district_wide else o.school_signer), 14, bold=True)
    _para(right, "(Ký, ghi rõ họ tên, đóng dấu)", size=13, italic=True)
    for _ in range(4):
        _para(right)
    name = _para(right)
    run = name.add_run(o.signer_name or "[Họ và tên người ký]")
    _run_font(run, 14, bold=True)
    if not o.signer_name:
        run.font.highlight_color = WD_COLOR_INDEX.YELLOW


def _page_numbers(section) -> None:  # type: ignore[no-untyped-def]
    """NĐ 30: page numbers centered in the top margin, from the second page on."""
    section.different_first_page_header_footer = True
    p = section.header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run()
    _run_font(run, 13)
    for tag, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if tag is not None:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), tag)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)


def _setup(doc: DocxDocument) -> None:
    section = doc.sections[0]
    _page_numbers(section)
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(BODY_PT)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing = 1.15


def build_docx(data: ReportData, charts: dict[str, bytes]) -> bytes:
    doc = Document()
    _setup(doc)
    _header(doc, data)
    f = data.figures
    c = data.count
    where = f"tại {data.school_name}" if data.school_name else "trong các cơ sở giáo dục"
    issuer = data.school_name or data.options.district_name

    _para(doc, "BÁO CÁO", size=14, bold=True, before=18)
    _para(doc, f"Kết quả thực hiện {data.options.movement} {where} {data.period.phrase}", size=14, bold=True)
    _rule(doc, 5.0, TEXT_WIDTH_CM)

    body = dict(align=WD_ALIGN_PARAGRAPH.JUSTIFY, after=6, first_line=1.27)
    _para(
        doc,
        f"Thực hiện Kế hoạch công tác xây dựng {data.options.movement} năm {data.period.last.year} trong các cơ sở "
        f"giáo dục, {issuer} báo cáo kết quả thực hiện {data.period.phrase} (số liệu từ ngày "
        f"{data.period.first:%d/%m/%Y} đến ngày {data.period.last:%d/%m/%Y}, tổng hợp từ hệ thống trợ lý học "
        "pháp luật cho học sinh) như sau:",
        before=12,
        **body,  # type: ignore[arg-type]
    )
    _para(doc, "I. KẾT QUẢ THỰC HIỆN", bold=True, align=WD_ALIGN_PARAGRAPH.LEFT, before=6, after=6)
    _para(doc, "1. Kết quả chung", bold=True, align=WD_ALIGN_PARAGRAPH.LEFT, after=6, first_line=1.27)
    enrolled = sum(f.enrolled_by_class.values())
    share = tables.rate(f.totals.students, enrolled)
    lines = [
        f"- Số học sinh tham gia học tập, tìm hiểu pháp luật: {vn_number(f.totals.students)}"
        + (f"/{vn_number(enrolled)} học sinh (đạt {vn_number(share)}%)." if enrolled else " học sinh."),
        f"- Bài học được giáo viên gửi đến học sinh: {vn_number(c(a.LESSON_DELIVERED))} lượt; học sinh mở bài học: "
        f"{vn_number(c(a.LESSON_OPENED))} lượt; hoàn thành bài học: {vn_number(c(a.LESSON_COMPLETED))} lượt.",
        f"- Lượt luyện tập trắc nghiệm pháp luật: {vn_number(c(a.PRACTICE_FINISHED))}.",
        f"- Hội thi tìm hiểu pháp luật: {vn_number(c(a.CONTEST_ENTERED))} lượt đăng ký dự thi, "
        f"{vn_number(c(a.CONTEST_SUBMITTED))} bài thi đã nộp, {vn_number(c(a.CONTEST_AWARDED))} giải thưởng.",
        f"- Tin nhắn, bài học giáo viên gửi lớp: {vn_number(c(a.BROADCAST_SENT))} lượt.",
        f"- Lượt tra cứu số điện thoại, địa chỉ trợ giúp khẩn cấp: {vn_number(c(a.HELP_VIEWED))} "
        "(chỉ đếm số lượt, không ghi nhận người tra cứu).",
    ]
    if data.scope.class_ids is None:
        by_kind = "; ".join(f"{name}: {vn_number(f.mailbox.get(kind, 0))}" for kind, name in a.WORRY_KINDS.items())
        lines.append(
            f"- Thư học sinh gửi hộp thư an toàn đến người làm tư vấn của nhà trường: "
            f"{vn_number(sum(f.mailbox.values()))} thư ({by_kind}); chỉ đếm số thư theo loại, không ghi nội dung, "
            "không ghi người viết."
        )
    for line in lines:
        _para(doc, line, **body)  # type: ignore[arg-type]

    n = 0

    def caption(text: str) -> str:
        nonlocal n
        n += 1
        return f"Bảng {n}. {text}"

    _data_table(doc, caption("Tổng hợp số liệu"), tables.summary_table(data), [11.0, 4.0])

    doc_cols = [tables.SHORT_LABELS[k] for k in tables.DOC_KINDS]
    _para(doc, "2. Kết quả theo chủ đề", bold=True, align=WD_ALIGN_PARAGRAPH.LEFT, after=6, first_line=1.27)
    by_topic = _columns(tables.topic_table(data), ["STT", "Chủ đề", "HS tham gia", *doc_cols])
    # Help lookups and broadcasts have no topic; their row only shows zeros in these columns.
    by_topic.rows = [r for r in by_topic.rows if r[1] != tables.NO_TOPIC or any(r[2:])]
    _data_table(
        doc,
        caption("Kết quả theo chủ đề"),
        by_topic,
        [1.1, 5.0, 1.8, 1.8, 1.6, 1.8, 1.8, 1.6],
    )
    _picture(doc, charts["bieu-do-theo-chu-de.png"], "Biểu đồ 1. Lượt tham gia theo chủ đề")

    _para(doc, "3. Kết quả theo đơn vị", bold=True, align=WD_ALIGN_PARAGRAPH.LEFT, after=6, first_line=1.27)
    if data.district_wide:
        _data_table(
            doc,
            caption("Kết quả theo trường"),
            _columns(tables.school_table(data), ["STT", "Trường", "Sĩ số", "HS tham gia", "Tỉ lệ (%)", *doc_cols]),
            [1.1, 4.1, 1.3, 1.5, 1.3, 1.5, 1.5, 1.5, 1.4, 1.3],
        )
    _data_table(
        doc,
        caption("Kết quả theo lớp"),
        _columns(tables.class_table(data), ["STT", "Trường", "Lớp", "Sĩ số", "HS tham gia", "Tỉ lệ (%)", *doc_cols]),
        [1.1, 3.0, 1.6, 1.2, 1.4, 1.2, 1.4, 1.3, 1.5, 1.4, 1.2],
    )
    _picture(
        doc,
        charts["bieu-do-theo-don-vi.png"],
        "Biểu đồ 2. Học sinh tham gia theo " + ("trường" if data.district_wide else "lớp"),
    )

    _para(doc, "4. Diễn biến theo tháng", bold=True, align=WD_ALIGN_PARAGRAPH.LEFT, after=6, first_line=1.27)
    _picture(doc, charts["bieu-do-theo-thang.png"], "Biểu đồ 3. Lượt tham gia theo tháng")

    _para(doc, "5. Hội thi tìm hiểu pháp luật", bold=True, align=WD_ALIGN_PARAGRAPH.LEFT, after=6, first_line=1.27)
    contests = tables.contest_table(data)
    if contests.rows:
        _data_table(doc, caption("Kết quả hội thi và giải thưởng"), contests, [4.6] + [1.5] * 8)
    else:
        _para(doc, "Trong kỳ báo cáo, hệ thống chưa ghi nhận hội thi nào.", **body)  # type: ignore[arg-type]

    if data.standard is not None:
        s, total = data.standard, len(data.standard.rows)
        _para(
            doc,
            f"6. Thực hiện tiêu chuẩn “An toàn về an ninh, trật tự” (năm học {s.school_year})",
            bold=True,
            align=WD_ALIGN_PARAGRAPH.LEFT,
            after=6,
            first_line=1.27,
        )

        def pct(k: int) -> str:
            return f" (đạt {vn_number(tables.rate(k, total))}%)" if total else ""

        standard_lines = [
            "- Chỉ tiêu: 100% cơ sở giáo dục đăng ký và đạt tiêu chuẩn “An toàn về an ninh, trật tự”.",
            f"- Số cơ sở giáo dục đăng ký: {vn_number(s.registered)}/{vn_number(total)}{pct(s.registered)}; "
            f"đã tự đánh giá: {vn_number(s.self_assessed)}; được đánh giá đạt tiêu chuẩn: "
            f"{vn_number(s.met)}/{vn_number(total)}{pct(s.met)}.",
        ]
        if s.unregistered:
            standard_lines.append("- Chưa đăng ký: " + ", ".join(s.unregistered) + ".")
        if s.not_met:
            standard_lines.append("- Đã đăng ký, chưa đạt tiêu chuẩn: " + ", ".join(s.not_met) + ".")
        for line in standard_lines:
            _para(doc, line, **body)  # type: ignore[arg-type]
        if data.district_wide:
            _data_table(
                doc,
                caption("Tiêu chuẩn “An toàn về ANTT” theo trường"),
                tables.standard_table(data),
                [1.1, 5.4, 1.8, 2.0, 3.8, 2.4],
            )

    if data.pledges:
        _para(
            doc,
            f"{7 if data.standard is not None else 6}. Ký cam kết bảo đảm an ninh, trật tự",
            bold=True,
            align=WD_ALIGN_PARAGRAPH.LEFT,
            after=6,
            first_line=1.27,
        )
        pledges = tables.Table(
            "Ký cam kết", ["STT", "Bản cam kết", "Số học sinh", "HS đã ký", "Tỉ lệ (%)", "PH đã ký", "Tỉ lệ (%)"]
        )
        for i, (title, t) in enumerate(tables.pledge_totals(data), 1):
            pledges.rows.append(
                [
                    i,
                    title,
                    t.students,
                    t.students_confirmed,
                    tables.rate(t.students_confirmed, t.students),
                    t.parents_confirmed,
                    tables.rate(t.parents_confirmed, t.students),
                ]
            )
        _data_table(
            doc, caption("Kết quả ký cam kết của học sinh và phụ huynh"), pledges, [1.1, 5.6, 1.8, 1.7, 1.5, 1.7, 1.5]
        )

    _para(doc, "II. TỒN TẠI, HẠN CHẾ", bold=True, align=WD_ALIGN_PARAGRAPH.LEFT, before=6, after=6)
    _placeholder(doc, "những tồn tại, hạn chế và nguyên nhân")
    _para(doc, "III. PHƯƠNG HƯỚNG, NHIỆM VỤ THỜI GIAN TỚI", bold=True, align=WD_ALIGN_PARAGRAPH.LEFT, after=6)
    _placeholder(doc, "phương hướng, nhiệm vụ trọng tâm thời gian tới")
    _para(doc, "IV. KIẾN NGHỊ, ĐỀ XUẤT", bold=True, align=WD_ALIGN_PARAGRAPH.LEFT, after=6)
    _placeholder(doc, "kiến nghị, đề xuất (nếu có)")
    _para(
        doc,
        f"Trên đây là báo cáo kết quả thực hiện {data.options.movement} {data.period.phrase} của {issuer}./.",
        **body,  # type: ignore[arg-type]
    )
    _para(doc, "(Kèm theo Phụ lục số liệu chi tiết: tệp Excel)", size=13, italic=True, after=12)
    _signature(doc, data)

    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
