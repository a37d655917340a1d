"""Who issues the report, where, for whom, and the period cut-offs, all with defaults (the REPORT_* settings:
`bot.config.ReportSettings` reads them)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ReportOptions(BaseModel):
    """Defaults follow the district plan: reports before 15/6 (six months) and 15/11 (the year)."""

    model_config = ConfigDict(frozen=True)

    # "DD/MM": the six-month period ends on this day; the reporting year ends on the other.
    half_year_cutoff: str = "15/06"
    year_cutoff: str = "15/11"
    place: str = "Kiên Hải"
    # District-wide reports: issued by `district_body` under `superior_body`, signed by `district_signer`.
    superior_body: str = "UBND ĐẶC KHU KIÊN HẢI"
    district_body: str = "PHÒNG VĂN HÓA - XÃ HỘI"
    district_name: str = "Phòng Văn hóa - Xã hội"  # the same body as the body text names it
    district_symbol: str = "VHXH"
    district_signer: str = "TRƯỞNG PHÒNG"
    district_recipients: list[str] = Field(
        default_factory=lambda: [
            "Sở GD&ĐT tỉnh An Giang (để b/c);",
            "UBND đặc khu (để b/c);",
            "Công an đặc khu (để phối hợp);",
            "Các cơ sở giáo dục trực thuộc;",
            "Lưu: VT.",
        ]
    )
    # A school's report: issued by the school under `district_body`, signed by `school_signer`.
    school_signer: str = "HIỆU TRƯỞNG"
    school_recipients: list[str] = Field(
        default_factory=lambda: ["Phòng Văn hóa - Xã hội đặc khu (để b/c);", "Lưu: VT."]
    )
    signer_name: str = ""  # empty: a marked place for the name
    movement: str = "phong trào toàn dân bảo vệ an ninh Tổ quốc"

    def cutoff(self, which: str) -> tuple[int, int]:
        """(day, month) of a cut-off given as "DD/MM"."""
        day, _, month = (self.half_year_cutoff if which == "half" else self.year_cutoff).partition("/")
        return int(day), int(month)
