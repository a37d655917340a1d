"""A new contest from the console: filled in a form, or uploaded as its YAML file (the format of `python -m bot
contest create`). Both become the same validated definition (`ContestDef`, as the YAML loader builds it) and are
created by the same service as the terminal's, so the rules are one set. Every error is named in the user's
language, beside its field (the form) or by its field and line (the file), and nothing is stored."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import yaml
from aiohttp import web
from pydantic import ValidationError

from bot.content.models import TOPICS
from bot.contests import service as contests
from bot.contests.models import ContestDef, PredictionTarget, RoundDef
from bot.contests.ports import ContestsUnitOfWork
from bot.contests.ranking import PRIZES
from bot.core.clock import VN_TZ
from bot.core.i18n import N_
from bot.core.roles import Role
from bot.core.text import slugify
from bot.learning.topics import TOPIC_NAMES
from bot.web.render import DEPS, NOT_FOUND, USER, page, refusal

FOR_ORGANIZERS = N_("Trang này dành cho ban tổ chức hội thi.")
ROUND_ROWS = 4  # rounds offered by the form (a Ngày hội has one to four); a file may have more
GRADES = range(1, 10)  # primary and lower secondary, the schools the bot serves
MAX_YAML = 64 * 1024  # a contest's file is one or two kilobytes
SHOWN_ERRORS = 50

# --- what the form asks, by the definition's own field paths --------------------------------------------------

LABELS = {
    "title": N_("Tên hội thi"),
    "id": N_("Mã hội thi"),
    "description": N_("Giới thiệu ngắn"),
    "rounds": N_("Các đợt thi"),
    "questions": N_("Số câu mỗi bài"),
    "time_limit_minutes": N_("Thời gian làm bài (phút)"),
    "official_attempts": N_("Số lượt thi chính thức"),
    "practice": N_("Cho thi thử (luyện tập) không giới hạn"),
    "mix.topics": N_("Chủ đề câu hỏi"),
    "mix.difficulty": N_("Số câu theo mức độ"),
    "mix.difficulty.1": N_("Số câu dễ"),
    "mix.difficulty.2": N_("Số câu trung bình"),
    "mix.difficulty.3": N_("Số câu khó"),
    "prediction.target": N_("Câu hỏi dự đoán hỏi về"),
    "prediction.question": N_("Lời câu hỏi dự đoán"),
    "prizes.nhat": N_("Số giải Nhất"),
    "prizes.nhi": N_("Số giải Nhì"),
    "prizes.ba": N_("Số giải Ba"),
    "prizes.khuyen_khich": N_("Số giải Khuyến khích"),
    "prizes.min_percent": N_("Tỉ lệ câu đúng tối thiểu để xét giải (%)"),
    "prizes.min_score": N_("Hoặc số câu đúng tối thiểu để xét giải"),
    "collective.unit": N_("Giải tập thể"),
    "collective.by": N_("Xếp giải tập thể theo"),
    "collective.top": N_("Số giải tập thể"),
    "scope.schools": N_("Trường dự thi"),
    "scope.classes": N_("Lớp dự thi"),
    "scope.grades": N_("Khối lớp dự thi"),
    "certificates.pass_score": N_("Số câu đúng để nhận giấy chứng nhận"),
    "certificates.issuer": N_("Cơ quan, đơn vị cấp giấy"),
    "certificates.place": N_("Địa danh ghi trên giấy"),
    "certificates.signer_title": N_("Chức vụ người ký"),
    "certificates.signer_name": N_("Họ tên người ký"),
    "certificates.number_prefix": N_("Ký hiệu trong số giấy"),
}
ROUND_LABELS = {"name": N_("Tên đợt"), "opens_at": N_("Mở lúc"), "closes_at": N_("Đóng lúc")}
ROUND_LEGEND = N_("Đợt {n}")
ROUND_FIELDS = {f"rounds.{i}.{part}" for i in range(ROUND_ROWS) for part in ROUND_LABELS}
FIELDS = set(LABELS) | ROUND_FIELDS
TEXTS = ("title", "id", "description", "prediction.question") + tuple(
    f"certificates.{k}" for k in ("issuer", "place", "signer_title", "signer_name", "number_prefix")
)
NUMBERS = (
    "questions",
    "time_limit_minutes",
    "official_attempts",
    "collective.top",
    "certificates.pass_score",
    "prizes.min_percent",
    *(f"prizes.{k}" for k in PRIZES),
)
OPTIONAL_NUMBERS = ("prizes.min_score", "mix.difficulty.1", "mix.difficulty.2", "mix.difficulty.3")
CHOICES = ("mix.topics", "scope.schools", "scope.classes", "scope.grades")
TARGETS = {
    PredictionTarget.ALL_CORRECT_COUNT.value: N_("Số bạn trả lời đúng tất cả các câu"),
    PredictionTarget.PARTICIPANT_COUNT.value: N_("Số bạn tham gia đợt thi"),
}
UNITS = {"school": N_("Theo trường"), "class": N_("Theo lớp"), "none": N_("Không xét giải tập thể")}
COLLECTIVE_BY = {"participants": N_("Số người tham gia"), "rate": N_("Tỉ lệ tham gia (so với sĩ số)")}

# --- what each kind of error says (pydantic's error types and the definition's own checks) ----------------------

MISSING = N_("Chưa điền mục này.")
MESSAGES = {
    "missing": MISSING,
    "string_too_short": N_("Mục này không được để trống."),
    "string_too_long": N_("Dài quá {max_length} ký tự."),
    "string_type": N_("Cần ghi một dòng chữ."),
    "string_pattern_mismatch": N_(
        "Mã chỉ gồm chữ thường không dấu, chữ số và dấu gạch ngang, dài 2–64 ký tự, ví dụ ngay-hoi-2027."
    ),
    "int_parsing": N_("Cần một số nguyên, ví dụ 20."),
    "int_type": N_("Cần một số nguyên, ví dụ 20."),
    "int_from_float": N_("Cần một số nguyên, ví dụ 20."),
    "float_parsing": N_("Cần một số, ví dụ 2.5."),
    "float_type": N_("Cần một số, ví dụ 2.5."),
    "greater_than_equal": N_("Cần một số từ {ge} trở lên."),
    "less_than_equal": N_("Cần một số không lớn hơn {le}."),
    "too_short": N_("Cần ít nhất {min_length} mục."),
    "too_long": N_("Nhiều nhất {max_length} mục."),
    "list_type": N_("Cần một danh sách (mỗi mục một dòng, bắt đầu bằng “- ”)."),
    "dict_type": N_("Cần một nhóm mục con (mỗi dòng dạng “tên: giá trị”)."),
    "model_type": N_("Cần một nhóm mục con (mỗi dòng dạng “tên: giá trị”)."),
    "model_attributes_type": N_("Cần một nhóm mục con (mỗi dòng dạng “tên: giá trị”)."),
    "extra_forbidden": N_("Không có mục này trong định nghĩa hội thi (có thể gõ nhầm tên)."),
    "datetime_parsing": N_("Ngày giờ chưa đúng; ghi như 2027-08-19T07:00:00+07:00."),
    "datetime_from_date_parsing": N_("Ngày giờ chưa đúng; ghi như 2027-08-19T07:00:00+07:00."),
    "datetime_type": N_("Ngày giờ chưa đúng; ghi như 2027-08-19T07:00:00+07:00."),
    "timezone": N_("Cần ghi cả múi giờ, ví dụ 2027-08-19T07:00:00+07:00 (giờ Việt Nam)."),
    "bool_parsing": N_("Chỉ nhận true (có) hoặc false (không)."),
    "bool_type": N_("Chỉ nhận true (có) hoặc false (không)."),
    "literal_error": N_("Chỉ nhận một trong các giá trị: {expected}."),
    "enum": N_("Chỉ nhận một trong các giá trị: {expected}."),
    "round_order": N_("Giờ đóng phải sau giờ mở."),
    "rounds_overlap": N_("Đợt {round} mở trước khi đợt trước đóng: các đợt không được chồng lên nhau."),
    "unknown_topics": N_("Không có chủ đề {unknown}; chỉ chọn trong: {expected}."),
    "ranking_order": N_("Thứ tự xếp hạng bắt đầu bằng score và ghi mỗi tiêu chí một lần."),
    "difficulty_exceeds": N_("Số câu theo mức độ cộng lại ({asked}) nhiều hơn số câu mỗi bài ({questions})."),
    "certificate_text": N_("Cần ghi một dòng chữ."),
    "text_too_long": N_("Dài quá 80 ký tự."),
    "number_prefix": N_(
        "Ký hiệu chỉ gồm chữ in hoa không dấu (trừ Đ), chữ số, nối bằng dấu gạch ngang, tối đa 30 ký tự, "
        "ví dụ PGDĐT hoặc BTC-HT."
    ),
    "signer_title_missing": N_("Có họ tên người ký thì cần cả chức vụ người ký."),
    "issuer_missing": N_("Cần ghi cơ quan, đơn vị cấp giấy."),
}
FORM_DATETIME = N_("Ngày giờ chưa đúng; chọn hoặc ghi như 19/08/2027 07:00 (giờ Việt Nam).")
NO_ROUND = N_("Cần ít nhất một đợt thi: điền giờ mở và giờ đóng của đợt 1.")
NOT_A_DEFINITION = N_("Tệp phải là một bảng các mục của hội thi (id, title, rounds, …), như tệp mẫu.")
OTHER_ERROR = N_("Giá trị chưa đúng ({detail}).")
DATETIME_TYPES = {"datetime_parsing", "datetime_from_date_parsing", "datetime_type", "timezone"}

NO_FILE = N_("Thầy/cô chọn tệp YAML của hội thi rồi bấm “Tải lên và tạo”.")
TOO_BIG = N_("Tệp quá lớn (tối đa 64 KB): tệp hội thi chỉ vài KB. Thầy/cô kiểm tra lại có chọn đúng tệp không.")
NOT_TEXT = N_("Đây không phải tệp YAML (tệp văn bản UTF-8), ví dụ tệp Excel hay Word. Thầy/cô chọn lại tệp nhé.")
NOT_YAML = N_("Tệp không đọc được như YAML ở dòng {line}: {problem}. Chưa có gì được lưu.")
NOT_YAML_ANYWHERE = N_("Tệp không đọc được như YAML: {problem}. Chưa có gì được lưu.")
EMPTY_FILE = N_("Tệp trống: chưa có mục nào của hội thi.")
WHOLE_FILE = N_("(cả tệp)")
CREATED = N_(
    "Đã tạo hội thi “{title}” với {n} đợt thi. Mỗi đợt tự mở và đóng theo giờ đã đặt; muốn mở sớm, bấm vào đợt."
)


@dataclass(frozen=True)
class FileError:
    """One problem of an uploaded file: the field's path (as the terminal prints it), its line, what is wrong."""

    path: str
    line: int | None
    message: str


class _Fields(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def _gettext(request: web.Request) -> Callable[[str], str]:
    return partial(request.app[DEPS].i18n.gettext, request[USER].locale)


def where(err: Mapping[str, Any]) -> tuple[str | int, ...]:
    """The field an error belongs to: the definition's own checks of a whole round or of the whole contest are
    put at the field to change."""
    loc, kind, ctx = tuple(err["loc"]), err["type"], err.get("ctx") or {}
    if kind == "round_order":
        return (*loc, "closes_at")
    if kind == "rounds_overlap":
        return ("rounds", int(ctx.get("round", 1)) - 1, "opens_at")
    if kind == "difficulty_exceeds":
        return ("mix", "difficulty")
    if kind == "signer_title_missing":
        return (*loc, "signer_title")
    if kind == "issuer_missing":
        return (*loc, "issuer")
    return tuple(p for p in loc if p != "[key]")


def explain(err: Mapping[str, Any], gettext: Callable[[str], str], in_form: bool = False) -> str:
    """What a validation error says, in the user's language."""
    kind, loc = err["type"], tuple(err["loc"])
    if in_form and kind in DATETIME_TYPES:
        message = FORM_DATETIME
    elif loc == ("rounds",) and kind == "too_short":
        message = NO_ROUND
    elif loc == () and kind in ("model_type", "dict_type", "model_attributes_type"):
        message = NOT_A_DEFINITION
    elif kind in MESSAGES:
        message = MESSAGES[kind]
    else:
        return gettext(OTHER_ERROR).format(detail=err.get("msg", kind))
    fields = _Fields(err.get("ctx") or {})
    if isinstance(fields.get("unknown"), list):
        fields["unknown"] = ", ".join(str(u) for u in fields["unknown"])
    if isinstance(fields.get("expected"), str):
        fields["expected"] = fields["expected"].replace("' or '", "', '")
    return gettext(message).format_map(fields)


# --- the form --------------------------------------------------------------------------------------------------


def field_id(name: str) -> str:
    return "f-" + name.replace(".", "-")


def defaults(gettext: Callable[[str], str]) -> dict[str, Any]:
    """The form as it opens: the definition's own defaults (one set, the model's)."""
    day = dt.datetime(2027, 8, 19, tzinfo=VN_TZ)
    d = ContestDef(id="mac-dinh", title="-", rounds=[RoundDef(name="-", opens_at=day, closes_at=day + dt.timedelta(1))])
    values: dict[str, Any] = {name: "" for name in TEXTS + OPTIONAL_NUMBERS}
    values |= {name: [] for name in CHOICES}
    for i in range(ROUND_ROWS):
        values |= {
            f"rounds.{i}.name": gettext(ROUND_LEGEND).format(n=i + 1),
            f"rounds.{i}.opens_at": "",
            f"rounds.{i}.closes_at": "",
        }
    values |= {
        "questions": str(d.questions),
        "time_limit_minutes": str(d.time_limit_minutes),
        "official_attempts": str(d.official_attempts),
        "practice": "1" if d.practice else "",
        "prediction.target": d.prediction.target.value,
        "prizes.min_percent": str(d.prizes.min_percent),
        "collective.unit": d.collective.unit if d.collective else "none",
        "collective.by": d.collective.by if d.collective else "participants",
        "collective.top": str(d.collective.top if d.collective else 3),
        "certificates.pass_score": str(d.certificates.pass_score),
        "certificates.issuer": d.certificates.issuer,
    }
    values |= {f"prizes.{k}": str(n) for k, n in d.prizes.counts().items()}
    return values


def posted(form: Any) -> dict[str, Any]:
    """The form's values as sent (to build the definition from, and to show again beside its errors)."""
    values: dict[str, Any] = {}
    for name in (
        *TEXTS,
        *NUMBERS,
        *OPTIONAL_NUMBERS,
        *ROUND_FIELDS,
        "prediction.target",
        "collective.unit",
        "collective.by",
    ):
        raw = form.get(name, "")
        values[name] = raw.strip() if isinstance(raw, str) else ""
    for name in CHOICES:
        values[name] = [v.strip() for v in form.getall(name, []) if isinstance(v, str)]
    values["practice"] = "1" if form.get("practice") else ""
    return values


def vn_moment(text: str) -> dt.datetime | str:
    """A wall-clock time in Vietnam as the form sends it (a datetime-local field, or typed in an old browser:
    19/08/2027 07:00); what cannot be read goes to the definition as it is, which names the error."""
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M", "%H:%M %d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=VN_TZ)
        except ValueError:
            continue
    return text


def definition_data(values: Mapping[str, Any], gettext: Callable[[str], str]) -> tuple[dict[str, Any], list[int]]:
    """The definition the form describes, as the YAML file would hold it, and the form's row of each round.

    A round row counts once a time is written in it (or its name is changed); an empty number is sent as
    nothing, which the definition refuses where the number is needed."""
    rounds, rows = [], []
    for i in range(ROUND_ROWS):
        name, opens, closes = (values[f"rounds.{i}.{part}"] for part in ROUND_LABELS)
        if not (opens or closes or name not in ("", gettext(ROUND_LEGEND).format(n=i + 1))):
            continue
        one: dict[str, Any] = {"name": name or gettext(ROUND_LEGEND).format(n=i + 1)}
        if opens:
            one["opens_at"] = vn_moment(opens)
        if closes:
            one["closes_at"] = vn_moment(closes)
        rounds.append(one)
        rows.append(i)

    def number(name: str) -> str | None:
        return values[name] or None

    data: dict[str, Any] = {
        "title": values["title"],
        "description": values["description"],
        "rounds": rounds,
        "questions": number("questions"),
        "time_limit_minutes": number("time_limit_minutes"),
        "official_attempts": number("official_attempts"),
        "practice": bool(values["practice"]),
        "mix": {
            "topics": values["mix.topics"],
            "difficulty": {k: values[f"mix.difficulty.{k}"] for k in (1, 2, 3) if values[f"mix.difficulty.{k}"]},
        },
        "prediction": {"target": values["prediction.target"], "question": values["prediction.question"]},
        "prizes": {k: number(f"prizes.{k}") for k in PRIZES}
        | {"min_percent": number("prizes.min_percent"), "min_score": number("prizes.min_score")},
        "scope": {k: values[f"scope.{k}"] for k in ("schools", "classes", "grades")},
        "certificates": {
            "pass_score": number("certificates.pass_score"),
            **{
                k: values[f"certificates.{k}"]
                for k in ("issuer", "place", "signer_title", "signer_name", "number_prefix")
            },
        },
    }
    slug = values["id"] or slugify(values["title"], 64)
    if slug:
        data["id"] = slug
    if values["collective.unit"] == "none":
        data["collective"] = None
    else:
        data["collective"] = {
            "unit": values["collective.unit"],
            "by": values["collective.by"],
            "top": number("collective.top"),
        }
    return data, rows


def form_field(loc: tuple[str | int, ...], rows: list[int]) -> str:
    """The form's field for a place in the definition (the nearest one that the form has; "" for none)."""
    parts = [str(p) for p in loc]
    if len(parts) >= 2 and parts[0] == "rounds" and parts[1].isdigit() and int(parts[1]) < len(rows):
        parts[1] = str(rows[int(parts[1])])
    while parts:
        name = ".".join(parts)
        if name in FIELDS:
            return name
        parts.pop()
    return ""


def label_of(name: str, gettext: Callable[[str], str]) -> str:
    if name in ROUND_FIELDS:
        _r, row, part = name.split(".")
        return f"{gettext(ROUND_LEGEND).format(n=int(row) + 1)} – {gettext(ROUND_LABELS[part])}"
    return gettext(LABELS[name]) if name in LABELS else ""


async def _form_page(
    request: web.Request,
    values: Mapping[str, Any],
    errors: Mapping[str, list[str]] | None = None,
    file_errors: list[FileError] | None = None,
    file_problem: str = "",
    status: int = 200,
) -> web.Response:
    deps = request.app[DEPS]
    async with deps.uow_factory() as uow:
        schools = await uow.schools.list()
        classes = await uow.contests.class_members()
    gettext = _gettext(request)
    errors = errors or {}
    return page(
        request,
        "contest_new.html",
        status=status,
        values=values,
        errors=errors,
        summary=[(name, label_of(name, gettext), m) for name, messages in errors.items() for m in messages],
        file_errors=(file_errors or [])[:SHOWN_ERRORS],
        more_file_errors=max(0, len(file_errors or []) - SHOWN_ERRORS),
        file_problem=file_problem,
        label=lambda name: label_of(name, gettext),
        field_id=field_id,
        round_rows=range(ROUND_ROWS),
        round_labels=ROUND_LABELS,
        round_legend=ROUND_LEGEND,
        topics=[(t, TOPIC_NAMES[t]) for t in TOPICS],
        targets=TARGETS,
        units=UNITS,
        collective_by=COLLECTIVE_BY,
        schools=schools,
        classes=classes,
        grades=GRADES,
        prizes=PRIZES,
    )


def _organizer(request: web.Request) -> web.Response | None:
    return None if request[USER].role == Role.ORGANIZER else refusal(request, 403, FOR_ORGANIZERS)


async def new_contest(request: web.Request) -> web.StreamResponse:
    if (refused := _organizer(request)) is not None:
        return refused
    return await _form_page(request, defaults(_gettext(request)))


async def create_from_form(request: web.Request) -> web.StreamResponse:
    if (refused := _organizer(request)) is not None:
        return refused
    gettext = _gettext(request)
    values = posted(await request.post())
    data, rows = definition_data(values, gettext)
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        if message not in errors.setdefault(name, []):
            errors[name].append(message)

    try:
        d = ContestDef.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            name = form_field(where(err), rows)
            if name == "id" and not values["id"] and "id" not in data:
                continue  # no title to make the code from: the title's own error says so
            empty = err["type"] in ("int_type", "float_type") and values.get(name) == ""
            add(name, gettext(MISSING) if empty else explain(err, gettext, in_form=True))
        return await _form_page(request, values, errors, status=422)
    return await _create(
        request, d, lambda p: add(form_field(p.loc, rows), p.error.translated(gettext)), values, errors
    )


async def _create(
    request: web.Request,
    d: ContestDef,
    report: Callable[[contests.Problem], None],
    values: Mapping[str, Any] | None,
    errors: dict[str, list[str]] | None = None,
    file_errors: list[FileError] | None = None,
) -> web.StreamResponse:
    """Store the contest unless the stored data refuses it (its code taken, an unknown school or class): then
    each problem is reported and the page shown again with them."""
    deps, user = request.app[DEPS], request[USER]
    async with deps.uow_factory() as uow:
        problems = await contests.definition_problems(uow, d)
        if not problems:
            created = await contests.create_contest(uow, d, user.id, deps.clock())
            await uow.commit()
    if problems:
        for p in problems:
            report(p)
        return await _form_page(
            request, values or defaults(_gettext(request)), errors, file_errors=file_errors, status=422
        )
    return web.Response(status=303, headers={"Location": f"/hoi-thi/{created.id}?xong=tao"})


# --- the file ----------------------------------------------------------------------------------------------------


def line_of(tree: yaml.Node | None, loc: tuple[str | int, ...]) -> int | None:
    """The line (from 1) of the deepest node of `loc` that the file has: a missing field is named by the line of
    the part that lacks it."""
    node, line = tree, tree.start_mark.line + 1 if tree is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
        else:
            node = None
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def file_path(loc: tuple[str | int, ...], gettext: Callable[[str], str]) -> str:
    return ".".join(str(p) for p in loc) or gettext(WHOLE_FILE)


async def create_from_yaml(request: web.Request) -> web.StreamResponse:
    if (refused := _organizer(request)) is not None:
        return refused
    gettext = _gettext(request)
    form = await request.post()
    upload = form.get("tep")
    raw = upload.file.read(MAX_YAML + 1) if isinstance(upload, web.FileField) else b""
    fresh = defaults(gettext)
    if not raw.strip():
        return await _form_page(request, fresh, file_problem=gettext(NO_FILE), status=400)
    if len(raw) > MAX_YAML:
        return await _form_page(request, fresh, file_problem=gettext(TOO_BIG), status=413)
    try:
        text = raw.decode("utf-8-sig")
        if "\x00" in text:
            raise UnicodeDecodeError("utf-8", raw, 0, 1, "NUL")
    except UnicodeDecodeError:
        return await _form_page(request, fresh, file_problem=gettext(NOT_TEXT), status=400)
    try:
        data = yaml.safe_load(text)
        tree = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or type(exc).__name__
        message = (
            gettext(NOT_YAML).format(line=mark.line + 1, problem=problem)
            if mark is not None
            else gettext(NOT_YAML_ANYWHERE).format(problem=problem)
        )
        return await _form_page(request, fresh, file_problem=message, status=400)
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:  # a date such as 2027-13-45, a deep nest
        problem = str(exc) or type(exc).__name__
        return await _form_page(
            request, fresh, file_problem=gettext(NOT_YAML_ANYWHERE).format(problem=problem), status=400
        )
    if data is None:
        return await _form_page(request, fresh, file_problem=gettext(EMPTY_FILE), status=422)
    try:
        d = ContestDef.model_validate(data)
    except ValidationError as exc:
        found = []
        for err in exc.errors():
            loc = where(err)
            found.append(FileError(file_path(loc, gettext), line_of(tree, loc), explain(err, gettext)))
        return await _form_page(request, fresh, file_errors=found, status=422)
    file_errors: list[FileError] = []
    return await _create(
        request,
        d,
        lambda p: file_errors.append(
            FileError(file_path(p.loc, gettext), line_of(tree, p.loc), p.error.translated(gettext))
        ),
        None,
        file_errors=file_errors,
    )


# --- the contest, once made ----------------------------------------------------------------------------------------


async def contest_page(request: web.Request) -> web.StreamResponse:
    if (refused := _organizer(request)) is not None:
        return refused
    deps = request.app[DEPS]
    now = deps.clock()
    async with deps.uow_factory() as uow:
        raw = request.match_info["contest"]
        contest = await uow.contests.get(int(raw)) if len(raw) <= 12 else None
        if contest is None:
            return refusal(request, 404, NOT_FOUND)
        await contests.close_overdue(uow, now)
        rounds = await uow.contests.rounds(contest.id)
        await uow.commit()
        scope = await _scope_names(uow, contest)
    d = contests.definition(contest)
    gettext = _gettext(request)
    notice = gettext(CREATED).format(title=contest.title, n=len(rounds)) if request.query.get("xong") == "tao" else ""
    return page(
        request,
        "contest.html",
        contest=contest,
        d=d,
        rounds=rounds,
        states={r.id: contests.round_state(r, now) for r in rounds},
        state_names=contests.STATE_NAMES,
        notice=notice,
        prize_rules=contests.prize_rules(d, gettext, how_to_change=False),
        warnings=contests.pool_warnings(deps.content, d, d.rounds[0].opens_at.date()),
        topics=[gettext(TOPIC_NAMES.get(t, t)) for t in d.mix.topics],
        scope=scope,
        targets=TARGETS,
    )


async def _scope_names(uow: ContestsUnitOfWork, contest: Any) -> dict[str, list[str]]:
    """The names of the schools and classes a contest is limited to."""
    scope = contests.definition(contest).scope
    schools = {s.id: s.name for s in await uow.schools.list()} if scope.schools else {}
    classes = (
        {c.class_id: f"{c.class_name} ({c.school_name})" for c in await uow.contests.class_members()}
        if scope.classes
        else {}
    )
    return {
        "schools": [schools.get(i, f"#{i}") for i in scope.schools],
        "classes": [classes.get(i, f"#{i}") for i in scope.classes],
    }


def add_routes(app: web.Application) -> None:
    app.router.add_get("/hoi-thi/moi", new_contest)
    app.router.add_post("/hoi-thi/moi", create_from_form)
    app.router.add_post("/hoi-thi/tai-len", create_from_yaml)
    app.router.add_get(r"/hoi-thi/{contest:\d+}", contest_page)
