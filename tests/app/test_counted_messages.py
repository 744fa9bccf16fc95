"""Counts in what kakosheet tells people take the noun's number: "1 figure changed", not "1 figures"."""

from __future__ import annotations

import datetime as dt

import pytest

from kakosheet.core.plural import counted
from kakosheet.reports.publication import Recorded, compare

PUBLISHED = dt.datetime(2026, 3, 9, 8, 0)


@pytest.mark.parametrize(("count", "said"), [(0, "0 cases"), (1, "1 case"), (2, "2 cases"), (1204, "1,204 cases")])
def test_a_count_takes_its_nouns_number(count: int, said: str) -> None:
    assert counted(count, "case") == said


def test_a_noun_with_its_own_plural() -> None:
    assert (counted(1, "entry", "entries"), counted(3, "entry", "entries")) == ("1 entry", "3 entries")


@pytest.mark.parametrize(("changed", "said"), [(1, "1 figure changed"), (2, "2 figures changed")])
def test_the_note_of_a_report_published_before_says_how_many_figures_changed(changed: int, said: str) -> None:
    published = {
        "reasons/qc/Damaged/cases": Recorded("2", ("QC-2026-0001", "QC-2026-0002")),
        "reasons/qc/Defective/cases": Recorded("1", ("QC-2026-0003",)),
    }
    now = dict(published)
    now["reasons/qc/Damaged/cases"] = Recorded("1", ("QC-2026-0001",))
    if changed == 2:
        now["reasons/qc/Defective/cases"] = Recorded("2", ("QC-2026-0002", "QC-2026-0003"))
    check = compare(published, now, frozenset({"QC-2026-0002"}), published_at=PUBLISHED, published_as="html")
    assert len(check.changes) == changed
    assert check.note == f"{said} since this report was published"
