"""The contest definition: what an organizer writes in `content/quizzes/contests/*.yaml` (pydantic, strict)."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bot.content.models import TOPICS, Band
from bot.contests.ranking import prize_minimum

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]

# Our own checks raise PydanticCustomError with a type of their own (the terminal prints the message; the web
# console shows its own sentence for each type, in the user's language, beside the field).

# Tie-break criteria, in the default order of Vietnamese official contests.
Criterion = Literal["score", "prediction", "duration", "submitted_at"]
DEFAULT_RANKING: tuple[Criterion, ...] = ("score", "prediction", "duration", "submitted_at")


class PredictionTarget(StrEnum):
    ALL_CORRECT_COUNT = "all_correct_count"  # how many participants answer every question correctly
    PARTICIPANT_COUNT = "participant_count"  # how many take part in the round


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RoundDef(_Strict):
    name: NonEmpty
    opens_at: dt.datetime
    closes_at: dt.datetime

    @field_validator("opens_at", "closes_at")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise PydanticCustomError("timezone", "give the time zone, e.g. 2027-08-19T07:00:00+07:00")
        return value.astimezone(dt.UTC)

    @model_validator(mode="after")
    def _order(self) -> RoundDef:
        if self.closes_at <= self.opens_at:
            raise PydanticCustomError("round_order", "closes_at must be after opens_at")
        return self


class Scope(_Strict):
    """Who may enter. Empty lists mean everyone."""

    schools: list[int] = []
    classes: list[int] = []
    grades: list[Annotated[int, Field(ge=1, le=12)]] = []
    bands: list[Band] = []


class QuestionMix(_Strict):
    """Where the questions come from: topics (empty = all) and how many of each difficulty (1 easy .. 3 hard)."""

    topics: list[str] = []
    # Counts per difficulty; the rest of the attempt (if any) is drawn from any difficulty.
    difficulty: dict[Annotated[int, Field(ge=1, le=3)], Annotated[int, Field(ge=0)]] = {}

    @field_validator("topics")
    @classmethod
    def _known(cls, topics: list[str]) -> list[str]:
        unknown = [t for t in topics if t not in TOPICS]
        if unknown:
            raise PydanticCustomError(
                "unknown_topics",
                "unknown topics {unknown}; expected some of {expected}",
                {"unknown": unknown, "expected": ", ".join(TOPICS)},
            )
        return topics


class Prediction(_Strict):
    target: PredictionTarget = PredictionTarget.ALL_CORRECT_COUNT
    # Shown to the student at the end of the attempt; empty = the default wording for the target.
    question: str = ""
    max_value: int = Field(default=1_000_000, ge=1)


class Prizes(_Strict):
    """Individual prizes per round, by rank: how many of each, and the minimum to win any.

    The defaults follow the official contests at a school's scale (1 Nhất, 2 Nhì, 3 Ba, 4 Khuyến khích) with a
    minimum of half the questions right; `min_score` (correct answers) replaces the share when given."""

    nhat: int = Field(default=1, ge=0)
    nhi: int = Field(default=2, ge=0)
    ba: int = Field(default=3, ge=0)
    khuyen_khich: int = Field(default=4, ge=0)
    min_percent: int = Field(default=50, ge=0, le=100)  # of the attempt's questions, rounded up
    min_score: int | None = Field(default=None, ge=0)  # nobody wins a prize with fewer correct answers

    def counts(self) -> dict[str, int]:
        return {"nhat": self.nhat, "nhi": self.nhi, "ba": self.ba, "khuyen_khich": self.khuyen_khich}

    def minimum(self, questions: int) -> int:
        """The fewest correct answers that win a prize in an attempt of `questions` questions."""
        return prize_minimum(questions, self.min_score, self.min_percent)


class CollectivePrize(_Strict):
    """Giải tập thể over the whole contest: units ranked by participants or by participation rate."""

    unit: Literal["school", "class"] = "school"
    by: Literal["participants", "rate"] = "participants"
    top: int = Field(default=3, ge=0)


_PREFIX_RE = re.compile(r"^[A-ZĐ0-9]+(?:[-.&][A-ZĐ0-9]+)*$")


class Certificates(_Strict):
    """What the certificates print. Giấy chứng nhận for official participants scoring at least `pass_score`;
    Giấy khen for prize winners."""

    pass_score: int = Field(default=10, ge=0)
    issuer: str = "Ban Tổ chức Hội thi"  # the issuing body, top left and in "… trân trọng khen tặng"
    place: str = ""  # "Thanh Trì" → "Thanh Trì, ngày 19 tháng 8 năm 2026"
    signer_title: str = ""  # "TRƯỞNG BAN TỔ CHỨC", above the room for the signature and the seal
    signer_name: str = ""  # under that room: "Nguyễn Văn An"
    number_prefix: str = ""  # the body's symbol in the number: "PGDĐT" → "Số: 12/GK-PGDĐT"

    @field_validator("issuer", "place", "signer_title", "signer_name", "number_prefix", mode="before")
    @classmethod
    def _text(cls, value: object, info: ValidationInfo) -> object:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise PydanticCustomError("certificate_text", "{field} phải là một dòng chữ", {"field": info.field_name})
        value = " ".join(value.split())
        if len(value) > 80:
            raise PydanticCustomError("text_too_long", "{field} dài quá 80 ký tự", {"field": info.field_name})
        return value

    @field_validator("number_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if value and (len(value) > 30 or not _PREFIX_RE.fullmatch(value)):
            raise PydanticCustomError(
                "number_prefix",
                "number_prefix chỉ gồm chữ in hoa không dấu (trừ Đ), chữ số, nối bằng dấu gạch ngang, "
                "tối đa 30 ký tự, ví dụ PGDĐT hoặc BTC-HT (đang ghi: {value})",
                {"value": repr(value)},
            )
        return value

    @model_validator(mode="after")
    def _signer(self) -> Certificates:
        if self.signer_name and not self.signer_title:
            raise PydanticCustomError(
                "signer_title_missing", "có signer_name (họ tên người ký) thì cần cả signer_title (chức vụ người ký)"
            )
        if self.issuer == "":
            raise PydanticCustomError("issuer_missing", "issuer (cơ quan, đơn vị cấp giấy) không được để trống")
        return self


class ContestDef(_Strict):
    id: Slug
    title: NonEmpty
    description: str = ""
    rounds: list[RoundDef] = Field(min_length=1)
    scope: Scope = Scope()
    questions: int = Field(default=20, ge=1, le=100)
    mix: QuestionMix = QuestionMix()
    time_limit_minutes: int = Field(default=15, ge=1, le=180)
    official_attempts: int = Field(default=1, ge=1, le=10)
    practice: bool = True
    grace_seconds: int = Field(default=2, ge=0, le=60)
    # Attempts whose median time per question is below this are flagged for the organizers (never auto-banned).
    review_median_seconds: float = Field(default=2.0, ge=0)
    prediction: Prediction = Prediction()
    ranking: list[Criterion] = list(DEFAULT_RANKING)
    prizes: Prizes = Prizes()
    collective: CollectivePrize | None = CollectivePrize()
    certificates: Certificates = Certificates()

    @field_validator("ranking")
    @classmethod
    def _ranking(cls, ranking: list[Criterion]) -> list[Criterion]:
        if not ranking or ranking[0] != "score" or len(set(ranking)) != len(ranking):
            raise PydanticCustomError("ranking_order", "ranking starts with 'score' and names each criterion once")
        return ranking

    @model_validator(mode="after")
    def _consistent(self) -> ContestDef:
        asked = sum(self.mix.difficulty.values())
        if asked > self.questions:
            raise PydanticCustomError(
                "difficulty_exceeds",
                "mix.difficulty asks for more questions than `questions`",
                {"asked": asked, "questions": self.questions},
            )
        for i, (a, b) in enumerate(zip(self.rounds, self.rounds[1:], strict=False), start=2):
            if b.opens_at < a.closes_at:
                raise PydanticCustomError(
                    "rounds_overlap", "rounds overlap: each round opens after the previous one closes", {"round": i}
                )
        return self
