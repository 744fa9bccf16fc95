"""The report as one JSON document: the records as they are, money as exact decimal text."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal
from enum import Enum
from typing import Any

from kakosheet.reports.model import Report


def jsonable(value: Any) -> Any:
    """Records to plain JSON values: Decimal as text (12.50, never a float), dates as ISO 8601."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def render_json(report: Report) -> str:
    return json.dumps(jsonable(report), ensure_ascii=False, indent=2) + "\n"
