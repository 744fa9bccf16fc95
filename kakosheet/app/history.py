"""`kakosheet history`: every version of a case, from the store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kakosheet.app.sync import open_store
from kakosheet.config import Config
from kakosheet.errors import UsageError
from kakosheet.store.store import HistoryEvent


@dataclass(frozen=True)
class CaseHistory:
    case_id: str
    log: str
    current: dict[str, Any]
    events: list[HistoryEvent]


def case_history(config: Config, case_id: str, *, store_url: str | None = None) -> CaseHistory:
    schemas = config.load_schemas()
    store = open_store(config, schemas, store_url)
    case_id = case_id.strip().upper()
    found = store.case(case_id) if store.has_tables() else None
    if found is None:
        raise UsageError(f"no case {case_id} in the store {store.display_url}; check the ID (or the --store)")
    log, current = found
    case_id = current["case_id"]  # as stored: the ID asked for may be another padding of it
    return CaseHistory(case_id=case_id, log=log, current=current, events=store.history(case_id))
