"""The source and the store a command works on, as the command line or kakosheet.toml names them.

Opening them reads no cell: an unchanged re-sync (app/sync.py) opens both and reads nothing,
so this module imports no reader of cells (pandas) and the store only once one is opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kakosheet.config import Config
from kakosheet.errors import UsageError
from kakosheet.sources import open_source
from kakosheet.sources.gsheet_spec import GoogleAccess

if TYPE_CHECKING:
    from kakosheet.core.schema import SchemaSet
    from kakosheet.sources.base import Source
    from kakosheet.store.store import Store


def resolve_source(config: Config, source: str | None) -> str:
    spec = source or config.source
    if not spec:
        raise UsageError(
            "no source given: pass a workbook (kakosheet validate master.xlsx) or set `source` in kakosheet.toml"
        )
    return spec


def open_configured_source(config: Config, source: str | None) -> Source:
    """The SOURCE argument, or the config's `source` (relative to the team folder)."""
    return open_source(
        resolve_source(config, source),
        base=config.root if source is None else None,
        google=google_access(config),
    )


def google_access(config: Config) -> GoogleAccess:
    """The Google credentials and API root: kakosheet.toml's, else the environment's."""
    return GoogleAccess.resolve(config.credentials, config.sheets_api_url)


def open_store(config: Config, schemas: SchemaSet, store_url: str | None = None, *, create: bool = True) -> Store:
    """The store named by --store, else by kakosheet.toml, else kakosheet.db beside the config."""
    from kakosheet.store.store import Store, resolve_url  # SQLAlchemy: only when there is a store to open

    return Store(resolve_url(store_url or config.store, config.root), schemas, create=create)
