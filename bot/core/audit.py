"""The audit log's hash chain: each row's hash covers the previous row's hash and the row's own content."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any


def canonical(at: dt.datetime, actor_id: int | None, action: str, scope: str, detail: dict[str, Any]) -> str:
    """One stable text for a row's content, the same on SQLite and PostgreSQL (sorted keys, UTC time)."""
    return json.dumps(
        {
            "at": at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            "actor_id": actor_id,
            "action": action,
            "scope": scope,
            "detail": detail,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )


def audit_hash(
    prev_hash: str | None, at: dt.datetime, actor_id: int | None, action: str, scope: str, detail: dict[str, Any]
) -> str:
    text = (prev_hash or "") + canonical(at, actor_id, action, scope, detail)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
