"""`kakosheet history`: every version of a case, from the store; it reads and creates nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kakosheet.app.sync import open_store
from kakosheet.config import CONFIG_NAME, Config
from kakosheet.core.schema import SchemaSet
from kakosheet.errors import ConfigError, UsageError
from kakosheet.store.store import HistoryEvent, Store


@dataclass(frozen=True)
class CaseHistory:
    case_id: str
    log: str
    current: dict[str, Any]
    events: list[HistoryEvent]
    labels: dict[str, str]  # field -> the column's label in the sheet
    locations: dict[str, str]  # source (a workbook's identity) -> where it was last seen
    title: str = ""  # the log's name for people


def case_history(config: Config, case_id: str, *, store_url: str | None = None) -> CaseHistory:
    """The case's versions; outside a team folder (no kakosheet.toml, no --store) that is said, not guessed."""
    if config.path is None and store_url is None:
        raise ConfigError(
            f"no {CONFIG_NAME} found in this folder or above; run `kakosheet history` in the team's folder, "
            "or pass --config kakosheet.toml (or --store URL)"
        )
    schemas = config.load_schemas()
    store = open_store(config, schemas, store_url, create=False)
    try:
        return _history(store, schemas, case_id.strip().upper())
    finally:
        store.close()  # its connections closed: SQLite's log checkpointed and removed, nothing left


def _history(store: Store, schemas: SchemaSet, case_id: str) -> CaseHistory:
    """The case's versions as the store holds them; a usage error when it holds no such case."""
    if not store.exists or not store.has_tables():
        raise UsageError(f"the store {store.display_url} holds no cases yet; run `kakosheet sync` first")
    found = store.case(case_id)
    if found is None:
        raise UsageError(f"no case {case_id} in the store {store.display_url}; check the ID (or the --store)")
    log, current = found
    case_id = current["case_id"]  # as stored: the ID asked for may be another padding of it
    labels = {column.field: column.label for column in schemas[log].columns}
    events = store.history(case_id)
    return CaseHistory(
        case_id=case_id,
        log=log,
        current=current,
        events=events,
        labels=labels,
        locations=store.locations(event.source for event in events),
        title=schemas[log].title,
    )
