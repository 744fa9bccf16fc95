"""Report publications in the store: the figures of each report written (xlsx, html, --publish),
so a later run for the same period can say what changed since."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from kakosheet.errors import StoreError
from kakosheet.store.store import Store, utc_now


@dataclass(frozen=True)
class Publication:
    id: int
    kind: str
    period: str
    scope: str  # the logs and source it covered
    published_at: dt.datetime
    output_format: str
    figures: dict[str, Any]  # name -> {"value": ..., "case_ids": [...]}


def record_publication(
    store: Store, *, kind: str, period: str, scope: str, output_format: str, figures: dict[str, Any]
) -> int:
    """Record a report's figures; a store that refuses (a manager's read-only account) is a StoreError."""
    table = store.metadata.tables["report_publications"]
    try:
        with store.engine.begin() as connection:
            result = connection.execute(
                table.insert().values(
                    kind=kind, period=period, scope=scope, published_at=utc_now(), format=output_format, figures=figures
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])
    except SQLAlchemyError as exc:
        failed = store.failure(exc)
        raise StoreError(
            f"the report's figures were not recorded as published ({failed}); a later run for {period} cannot say "
            "what changed since. Let the store's user write the table report_publications"
        ) from exc


def last_publication(
    store: Store, *, kind: str, period: str, scope: str, output_format: str | None = None
) -> Publication | None:
    """The latest publication of a report (in one format when given)."""
    table = store.metadata.tables["report_publications"]
    query = select(table).where(table.c.kind == kind, table.c.period == period, table.c.scope == scope)
    if output_format is not None:
        query = query.where(table.c.format == output_format)
    query = query.order_by(table.c.id.desc()).limit(1)
    with store.engine.connect() as connection:
        row = connection.execute(query).first()
    if row is None:
        return None
    return Publication(row.id, row.kind, row.period, row.scope, row.published_at, row.format, row.figures)


def changed_since(store: Store, logs: list[str], when: dt.datetime) -> frozenset[str]:
    """The cases of these logs with a history event (changed, missing, returned) since ``when``."""
    history = store.metadata.tables["case_history"]
    query = select(func.distinct(history.c.case_id)).where(
        history.c.log.in_(logs), history.c.recorded_at >= when, history.c.event != "created"
    )
    with store.engine.connect() as connection:
        return frozenset(connection.execute(query).scalars())
