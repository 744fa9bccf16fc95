"""The one interface every source (xlsx file, Google Sheet) offers to the use cases."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # the protocol's types only: opening a source imports neither
    from kakosheet.core.grid import Grid
    from kakosheet.core.writeback import WriteBack


@dataclass(frozen=True)
class WriteResult:
    """What a write-back did: whether the source changed, and the rows it left for the next sync.

    A file is written whole or not at all. A shared sheet is edited while a sync runs: a row
    that moved or changed after it was read is left alone (``skipped``, as (tab, row) pairs),
    so the cases read from it must not be stored under an ID it does not show. ``warnings``
    name what the write-back could not do (a protected tab, a cell it could not put back).
    """

    written: bool
    skipped: frozenset[tuple[str, int]] = field(default_factory=frozenset)
    warnings: tuple[str, ...] = ()
    # Cells a write-back left as they were because they hold a formula, as (tab, row, column index).
    formulas_kept: frozenset[tuple[str, int, int]] = field(default_factory=frozenset)
    # The title each owned tab was written under, by its mark ("kakosheet Issues" beside a team's "Issues").
    tab_titles: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class KnownRows:
    """What the last sync recorded of one tab: the digest of each row it read (not of those it wrote
    to since), and how many rows from the top are the header's (always read)."""

    digests: dict[int, bytes]
    header_rows: int


class Source(Protocol):
    """A spreadsheet kakosheet reads cases from (and, in sync, writes back to)."""

    @property
    def name(self) -> str:
        """How messages name the source (a file name, a sheet title), never a credential."""
        ...

    @property
    def date1904(self) -> bool:
        """True when bare date numbers count from 1904 (old Mac Excel workbooks)."""
        ...

    @property
    def number_symbols(self) -> tuple[str, str] | None:
        """The decimal and grouping symbols of amounts typed as text, when the source says (a
        Google Sheet's locale); None for a workbook file, whose text carries no locale."""
        ...

    def sheet_names(self) -> list[str]:
        """The worksheet tabs, in the workbook's order."""
        ...

    def digest_ahead(self, sheets: list[str]) -> None:
        """Start telling these tabs' rows' digests (see read_ahead's ``known``), if the source can,
        before it is known what the last sync recorded of them; read_ahead is then told that."""
        ...

    def read_ahead(
        self, sheets: list[str], *, write_back_follows: bool = False, known: dict[str, KnownRows | None] | None = None
    ) -> None:
        """Start reading these tabs, if the source can while its caller gets ready (a workbook's
        reader parses on a thread); read_grids takes what was read. It raises nothing: what
        stops the read is said by read_grids. ``write_back_follows``: what kakosheet's own tabs
        show is looked at too, for the write-back to compare with. ``known``: tabs whose rows'
        digests to tell (rows_as_read), with what the last sync recorded of them: a source that
        can may then read only the rows whose digest changed (a grid with ``row_numbers``). Called
        again, once tabs are being read, it only takes the tabs whose digests to tell."""
        ...

    def rows_as_read(self, sheet: str) -> dict[int, bytes] | None:
        """Each row's digest of a tab read_ahead was asked to tell; None when the source cannot."""
        ...

    def styles_digest(self) -> str | None:
        """A digest of how the source styles its cells (a workbook's number formats tell dates), if any."""
        ...

    def close(self) -> None:
        """End whatever the source still runs for its caller (a child process still telling digests)."""
        ...

    def read_grids(self, sheets: list[str]) -> dict[str, Grid]:
        """The cells of the given tabs, each with its formula and error cells."""
        ...

    def read_head(self, sheet: str, rows: int) -> Grid:
        """The first rows of a tab, to recognise a log by its header."""
        ...

    @property
    def location(self) -> str:
        """Where the source is (a workbook's resolved path, a sheet's key): only where it was seen."""
        ...

    @property
    def identity(self) -> str | None:
        """What the source carries as its own identity (a workbook's document property, a sheet's
        key); None for a workbook never synced since identities came (kakosheet/app/identity.py)."""
        ...

    @property
    def content_digest(self) -> str | None:
        """A digest of everything the source holds, when it can tell without reading its cells
        (a file's package directory), else None. After a write-back: of what was written."""
        ...

    def check_writable(self) -> None:
        """Refuse, before anything is stored, a source kakosheet could not write back to."""
        ...

    def write_back(self, changes: WriteBack) -> WriteResult:
        """Write kakosheet's cells (nothing when nothing has to change). SourceChangedError when a
        file changed since it was read (nothing is written then); a shared sheet skips the rows
        that changed instead."""
        ...
