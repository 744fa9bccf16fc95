"""A table's secondary indexes built once after a sync's many inserts rather than grown row by row
(SQLite only).

SQLite keeps each index up to date with every inserted row: one B-tree descent per row and index,
at random places. Building an index afterwards sorts the table's rows once, which for a first sync
of 100k cases and their history is about a fifth of the store's time less. Inside the sync's
transaction (SQLite's DDL is transactional), so a rollback restores the indexes with everything
else, and readers never see a table without them.

PostgreSQL is left as it is: its DROP INDEX locks the table against readers until the commit.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from sqlalchemy import Connection, Table, select

# A rebuild sorts every row the table holds; inserting costs a descent per new row. Rebuilding wins
# when the new rows outnumber those held (a first sync, a new log): it then touches at most twice the
# new rows. A table that already holds more keeps its indexes: a rebuild would sort all its old rows
# again for a few new ones. Below the floor inserting is quick either way, and a sync does no DDL.
FLOOR = 10_000


@contextmanager
def indexes_deferred(connection: Connection, inserting: Mapping[Table, int]) -> Iterator[None]:
    """Drop the secondary indexes of the tables about to receive many rows (``inserting``: table ->
    at most how many rows), and create them again, with their very SQL, once the block is done.

    Should the block raise, they stay dropped: the caller's rollback (of a savepoint or of the
    sync's transaction) brings them back with the rows it undoes."""
    if connection.dialect.name != "sqlite":
        yield
        return
    deferred = [
        index
        for table, rows in inserting.items()
        if _defers(connection, table, rows)
        for index in _indexes(connection, table)
    ]
    quote = connection.dialect.identifier_preparer.quote
    for name, _ in deferred:
        connection.exec_driver_sql(f"DROP INDEX {quote(name)}")
    yield
    for _, sql in deferred:
        connection.exec_driver_sql(sql)  # sqlite_master keeps the statement's text: the same again


def _defers(connection: Connection, table: Table, rows: int) -> bool:
    """Whether inserting this many rows is worth rebuilding the table's indexes: more than it holds."""
    if rows < FLOOR:
        return False
    # Whether the table holds `rows` rows or more, reading at most that many (not counting them all).
    held = connection.execute(select(1).select_from(table).limit(1).offset(rows - 1)).first()
    return held is None


def _indexes(connection: Connection, table: Table) -> list[tuple[str, str]]:
    """The indexes the store's metadata declares on a table, as the database holds them: name, SQL
    (an index someone added by hand, and those of primary keys, are left alone)."""
    declared = {str(index.name) for index in table.indexes}
    rows = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name",
        (table.name,),
    )
    return [(name, sql) for name, sql in rows if name in declared]
