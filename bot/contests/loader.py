"""Read contest definitions from YAML; every problem is reported with its file and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.contests.models import ContestDef


class DefinitionError(ValueError):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def _message(err: Any) -> str:
    # Our own checks say what is wrong in Vietnamese; pydantic puts "Value error, " in front of them.
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ") if err.get("type") == "value_error" else msg


def load_contest(path: Path | str) -> ContestDef:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DefinitionError([f"{path.name}: cannot read: {exc}"]) from None
    try:
        return ContestDef.model_validate(data)
    except ValidationError as exc:
        raise DefinitionError(
            [f"{path.name}: {'.'.join(str(p) for p in e['loc']) or '(file)'}: {_message(e)}" for e in exc.errors()]
        ) from None


def load_all(folder: Path | str) -> dict[Path, ContestDef | DefinitionError]:
    out: dict[Path, ContestDef | DefinitionError] = {}
    for path in sorted(Path(folder).glob("*.yaml")):
        try:
            out[path] = load_contest(path)
        except DefinitionError as exc:
            out[path] = exc
    return out
