"""The report as one JSON document: the records as they are, money as exact decimal text."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import operator
from collections.abc import Callable
from decimal import Decimal
from enum import Enum
from typing import Any

from kakosheet.reports.model import Report

_PLAIN = (str, int, bool, type(None))


def jsonable(value: Any) -> Any:
    """Records to plain JSON values: Decimal as text (12.50, never a float), dates as ISO 8601."""
    if isinstance(value, _PLAIN) and not isinstance(value, Enum):
        return value
    if type(value) is tuple and all(type(item) is str for item in value):
        return list(value)  # case IDs, most of the document
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: jsonable(getattr(value, name)) for name in _field_names(type(value))}
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


@functools.cache
def _field_names(record: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(record))


def _encodable(value: Any) -> Any:
    """What the C encoder cannot write itself, one level down: the same values as ``jsonable``."""
    kind = type(value)
    convert = _CONVERTERS.get(kind)
    if convert is None:
        convert = _CONVERTERS[kind] = _converter(kind)
    return convert(value)


def _converter(kind: type) -> Callable[[Any], Any]:
    if dataclasses.is_dataclass(kind):
        names = _field_names(kind)
        values = operator.attrgetter(*names)
        if len(names) == 1:
            return lambda record: {names[0]: values(record)}
        return lambda record: dict(zip(names, values(record), strict=True))
    if issubclass(kind, Decimal):
        return str
    if issubclass(kind, dt.date):
        return kind.isoformat
    if issubclass(kind, Enum):
        return operator.attrgetter("value")
    if issubclass(kind, set | frozenset):
        return list
    raise TypeError(f"{kind.__name__} is not JSON")


_CONVERTERS: dict[type, Callable[[Any], Any]] = {}


def render_json(report: Report) -> str:
    """One line of JSON, the text of ``jsonable(report)``: written by the C encoder, which asks
    ``_encodable`` only for records, amounts and dates (a big week lists hundreds of thousands of IDs)."""
    return json.dumps(report, default=_encodable, ensure_ascii=False, separators=(",", ":")) + "\n"
