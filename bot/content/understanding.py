"""The word lists for understanding free text (`understanding.yaml`) and the hotlines (`hotlines.yaml`): read,
checked with errors a school's editor can act on (in Vietnamese, with the file and the field), and turned into
the kernel's plain records."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bot.core import understanding as u

UNDERSTANDING_FILE = "understanding.yaml"
HOTLINES_FILE = "hotlines.yaml"
_NUMBER_RE = re.compile(r"^[0-9][0-9 .]{1,14}$")


def _read(path: Path, rel: str, errors: list[str]) -> Any:
    if not path.exists():
        errors.append(f"{rel}: (file): thiếu file này")
        return None
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        errors.append(f"{rel}: (file): không đọc được YAML: {exc}")
    except OSError as exc:
        errors.append(f"{rel}: (file): không mở được file: {exc}")
    return None


def _phrases(data: Any, where: str, errors: list[str], required: bool = True) -> tuple[str, ...]:
    if not required and data is None:
        return ()
    if not isinstance(data, list) or (required and not data):
        errors.append(f"{where}: phải là một danh sách cụm từ (ít nhất một cụm)")
        return ()
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, phrase in enumerate(data):
        if not isinstance(phrase, str) or not [w for w in u.phrase_words(phrase) if w is not None]:
            errors.append(f"{where}[{i}]: phải là một cụm từ có ít nhất một chữ, ví dụ “bị bắt nạt”")
            continue
        key = " ".join("..." if w is None else w.exact for w in u.phrase_words(phrase))
        if key in seen:
            field = where.split(": ", 1)[-1]
            errors.append(f"{where}[{i}]: cụm từ “{phrase}” bị trùng với {field}[{seen[key]}]")
            continue
        seen[key] = i
        out.append(phrase.strip())
    return tuple(out)


def parse_lexicon(data: Any, rel: str, errors: list[str]) -> u.Lexicon | None:
    if not isinstance(data, dict):
        errors.append(f"{rel}: (file): phải có các mục spellings, distress, not_distress, intents")
        return None
    before = len(errors)
    known = {"spellings", "distress", "not_distress", "intents"}
    for extra in sorted(set(data) - known, key=str):
        errors.append(f"{rel}: {extra}: mục không có trong mẫu (chỉ dùng: {', '.join(sorted(known))})")
    spellings: dict[str, str] = {}
    raw_spellings = data.get("spellings") or {}
    if not isinstance(raw_spellings, dict):
        errors.append(f"{rel}: spellings: phải có dạng “chữ viết tắt: chữ đầy đủ”, ví dụ “ko: không”")
    else:
        for typed, meant in raw_spellings.items():
            if not isinstance(typed, str) or not isinstance(meant, str) or not typed.strip() or not meant.strip():
                errors.append(f"{rel}: spellings.{typed}: phải có dạng “chữ viết tắt: chữ đầy đủ”, ví dụ “ko: không”")
                continue
            spellings[u.spelling_key(typed)] = meant.strip()
    distress = _phrases(data.get("distress"), f"{rel}: distress", errors)
    not_distress = _phrases(data.get("not_distress"), f"{rel}: not_distress", errors, required=False)
    intents: dict[str, tuple[str, ...]] = {}
    raw_intents = data.get("intents")
    if not isinstance(raw_intents, dict) or not raw_intents:
        errors.append(f"{rel}: intents: phải có dạng “tên chức năng: [cụm từ, ...]”")
    else:
        for name, phrases in raw_intents.items():
            if name not in u.INTENTS:
                errors.append(f"{rel}: intents.{name}: không có chức năng này (chỉ dùng: {', '.join(u.INTENTS)})")
                continue
            intents[name] = _phrases(phrases, f"{rel}: intents.{name}", errors)
    if len(errors) > before:
        return None
    return u.Lexicon(spellings=spellings, distress=distress, not_distress=not_distress, intents=intents)


def _texts(data: Any, where: str, errors: list[str]) -> dict[str, str]:
    if not isinstance(data, dict) or not isinstance(data.get("vi"), str) or not data["vi"].strip():
        errors.append(f"{where}: phải có tiếng Việt (vi), ví dụ {{vi: “…”, en: “…”}}")
        return {}
    return {str(k): str(v).strip() for k, v in data.items() if isinstance(v, str) and v.strip()}


def parse_hotlines(data: Any, rel: str, errors: list[str]) -> tuple[u.Hotline, ...] | None:
    raw = data.get("hotlines") if isinstance(data, dict) else None
    if not isinstance(raw, list):
        errors.append(f"{rel}: hotlines: phải là danh sách các số điện thoại (key, number, name, when)")
        return None
    before = len(errors)
    out: list[u.Hotline] = []
    for i, item in enumerate(raw):
        where = f"{rel}: hotlines[{i}]"
        if not isinstance(item, dict):
            errors.append(f"{where}: phải có key, number, name, when")
            continue
        for extra in sorted(set(item) - {"key", "number", "name", "when"}, key=str):
            errors.append(f"{where}.{extra}: mục không có trong mẫu (chỉ dùng: key, number, name, when)")
        key, number = item.get("key"), str(item.get("number") or "")
        if key not in u.HOTLINE_KEYS:
            errors.append(f"{where}.key: phải là một trong: {', '.join(u.HOTLINE_KEYS)}")
        elif any(h.key == key for h in out):
            errors.append(f"{where}.key: “{key}” đã có ở một số khác")
        if not _NUMBER_RE.match(number):
            errors.append(f'{where}.number: “{number}” không phải số điện thoại (chỉ gồm chữ số), ví dụ "111"')
        name = _texts(item.get("name"), f"{where}.name", errors)
        when = _texts(item.get("when"), f"{where}.when", errors)
        if isinstance(key, str) and name and when:
            out.append(u.Hotline(key=key, number=number, name=name, when=when))
    missing = [k for k in u.HOTLINE_KEYS if not any(h.key == k for h in out)]
    if missing and len(errors) == before:
        errors.append(f"{rel}: hotlines: còn thiếu số cho: {', '.join(missing)}")
    if len(errors) > before:
        return None
    return tuple(out)


def load_understanding(root: Path, rel: str, errors: list[str]) -> u.Understanding | None:
    """Both files under the content folder `root`; `rel` is how the folder is named in errors ("content")."""
    found: list[Any] = []
    for name, parse in ((UNDERSTANDING_FILE, parse_lexicon), (HOTLINES_FILE, parse_hotlines)):
        where, before = f"{rel}/{name}", len(errors)
        data = _read(root / name, where, errors)
        found.append(parse(data, where, errors) if len(errors) == before else None)
    lexicon, hotlines = found
    if lexicon is None or hotlines is None:
        return None
    return u.Understanding(lexicon=lexicon, hotlines=hotlines)
