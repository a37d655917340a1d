"""What a platform update must look like before the inbox stores it: no NUL character and no NaN or infinite
number (PostgreSQL text and JSON cannot hold them, so the insert would fail on every redelivery; Python's JSON
parser accepts both) and no absurd nesting."""

from __future__ import annotations

import math
from typing import Any

MAX_DEPTH = 64  # real updates nest fewer than 10 levels


def storable(value: Any, depth: int = 0) -> bool:
    if depth > MAX_DEPTH:
        return False
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(storable(k, depth + 1) and storable(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return all(storable(v, depth + 1) for v in value)
    return True
