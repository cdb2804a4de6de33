"""Values read from the JSON documents sites send, one way for every kind.

Counts arrive as `12`, as `12.0` (clients generated from an API's spec type them as numbers) or
not at all; times as ISO 8601 text, often ending in `Z`. A value that is not what it should be
is None, never an exception: one odd field must not cost the item.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any


def count(value: Any) -> int | None:
    """A non-negative count: 12, 12.0 and 12.4 read as 12; a bool, a string, NaN or a
    negative number is not a count."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return int(round(value)) if value >= 0 else None


def iso_time(value: Any) -> datetime | None:
    """An ISO 8601 time (`2026-06-12T00:00:00.000Z`) as an aware UTC datetime, else None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
