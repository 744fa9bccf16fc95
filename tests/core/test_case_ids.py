"""The case ID grammar: what kakosheet issues it recognises, look-alikes it does not."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kakosheet.config import load_config
from kakosheet.core.case_ids import EARLIEST_YEAR, NUMBER_DIGITS, IdProblem, compile_id_format, id_part
from kakosheet.core.cells import CellContext
from kakosheet.core.clock import Clock
from kakosheet.core.grid import Grid
from kakosheet.core.header import locate_header
from kakosheet.core.issues import ERROR, Issue
from kakosheet.core.plan import case_years, row_cases
from kakosheet.core.schema import SchemaSet
from kakosheet.core.table import build_table
from kakosheet.store.tables import stored_fields

years = st.integers(min_value=EARLIEST_YEAR, max_value=9999)
numbers = st.integers(min_value=0, max_value=10**NUMBER_DIGITS - 1)


@pytest.fixture(scope="module")
def schemas(tmp_path_factory: pytest.TempPathFactory) -> SchemaSet:
    """The built-in schemas (one load for every generated example)."""
    return load_config(None, cwd=tmp_path_factory.mktemp("team")).load_schemas()


@settings(max_examples=300, deadline=None)
@given(vendor=st.one_of(st.none(), st.text()), year=years, number=numbers)
def test_every_refund_id_kakosheet_issues_is_recognised_as_issued(
    schemas: SchemaSet, vendor: str | None, year: int, number: int
) -> None:
    id_format = schemas["refunds"].id
    assert id_format is not None
    issued = id_format.format(year=year, number=number, vendor_id=vendor)
    assert issued.isascii()
    parsed = id_format.parse(issued)
    assert not isinstance(parsed, IdProblem), (issued, parsed)
    assert (parsed.year, parsed.number) == (year, number)
    assert id_format.all_match([issued])
    # The one-call path for many IDs and the one-by-one path agree.
    assert id_format.keys([issued]) == id_format.keys([issued, "not an id"])[:1] == [id_format.key(parsed)]


@settings(max_examples=200, deadline=None)
@given(year=years, number=numbers)
def test_every_qc_id_kakosheet_issues_is_recognised_as_issued(schemas: SchemaSet, year: int, number: int) -> None:
    id_format = schemas["qc"].id
    assert id_format is not None
    issued = id_format.format(year=year, number=number)
    parsed = id_format.parse(issued)
    assert not isinstance(parsed, IdProblem) and (parsed.year, parsed.number) == (year, number)
    assert id_format.keys([issued]) == [issued]


def test_vendor_names_become_ascii_codes_by_one_stable_rule() -> None:
    assert id_part("Müller GmbH") == "MULLERGMBH"
    assert id_part("  acme ") == "ACME"
    assert id_part("Straße") == "STRASSE"
    assert id_part(None) == id_part("") == id_part("   ") == "NONE"
    huawei, zte = id_part("华为"), id_part("中兴")
    assert huawei != zte and huawei == id_part("华为")
    assert huawei.isascii() and huawei.isalnum() and huawei.isupper()


def test_look_alike_digits_are_not_ids(schemas: SchemaSet) -> None:
    id_format = schemas["qc"].id
    assert id_format is not None
    for look_alike in ("QC-２０２６-０００１", "QC-٢٠٢٦-٠٠٠١", "QC-2026-٠٠٠١"):
        assert id_format.parse(look_alike) is IdProblem.NOT_ASCII
        assert not id_format.all_match([look_alike])
        assert id_format.keys(["QC-2026-0002", look_alike]) == ["QC-2026-0002", IdProblem.NOT_ASCII]


def test_one_number_is_one_key_however_it_is_padded(schemas: SchemaSet) -> None:
    qc, refunds = schemas["qc"].id, schemas["refunds"].id
    assert qc is not None and refunds is not None
    assert len(set(qc.keys(["QC-2026-0001", "QC-2026-00001", "QC-2026-001", "QC-2026-1"]))) == 1
    assert qc.keys(["QC-2023-001"]) == ["QC-2023-0001"]  # an older sheet's narrower ID is an ID
    assert qc.keys(["QC-2026-12345", "QC-2026-1234"]) == ["QC-2026-12345", "QC-2026-1234"]
    same = refunds.keys(["PRF-2026-002-ACME", "PRF-2026-0002-acme", "PRF-2026-2-BETA"])
    assert len(set(same)) == 1
    assert refunds.keys(["PRF-2026-002-ACME", "PRF-2026-003-ACME"]) == [("2026", "002"), ("2026", "003")]


def test_a_number_the_sequence_cannot_hold_is_not_an_id(schemas: SchemaSet) -> None:
    qc = schemas["qc"].id
    assert qc is not None
    assert qc.parse("QC-2026-99999999999999999999") is IdProblem.TOO_LARGE
    assert qc.keys(["QC-2026-0001", "QC-2026-99999999999999999999"])[1] is IdProblem.TOO_LARGE
    assert qc.parse("QC-2026-" + "9" * NUMBER_DIGITS) is not IdProblem.TOO_LARGE


def test_an_id_longer_than_the_store_keeps_is_not_an_id(schemas: SchemaSet) -> None:
    refunds = schemas["refunds"].id
    assert refunds is not None
    assert refunds.parse("PRF-2026-001-" + "A" * 60) is IdProblem.TOO_LONG


def test_an_id_with_a_newline_inside_is_not_two_ids(schemas: SchemaSet) -> None:
    qc = schemas["qc"].id
    assert qc is not None
    assert not qc.all_match(["QC-2026-0001\nQC-2026-0002"])
    assert qc.keys(["QC-2026-0001\nQC-2026-0002"]) == [IdProblem.MALFORMED]
    assert qc.keys(["QC-2026-0001\nQC-2026-0002", "QC-2026-0003"]) == [IdProblem.MALFORMED, "QC-2026-0003"]


@pytest.mark.parametrize(
    "template",
    ["X-{year}-{number}{vendor_id}", "X-{year}-{number:04d}A{vendor_id}", "X-{year}-{number}-{vendor_id:03d}"],
)
def test_a_template_that_does_not_read_back_one_way_is_refused(template: str) -> None:
    with pytest.raises(ValueError):
        compile_id_format("case_id", template, None, ["case_id", "vendor_id"])


def test_a_year_and_number_side_by_side_read_back(schemas: SchemaSet) -> None:
    id_format = compile_id_format("case_id", "QC{year}{number:04d}", None, ["case_id"])
    parsed = id_format.parse(id_format.format(year=2026, number=123456))
    assert not isinstance(parsed, IdProblem) and (parsed.year, parsed.number) == (2026, 123456)


def test_a_date_with_an_error_on_it_gives_no_year_to_a_new_id(schemas: SchemaSet) -> None:
    schema = schemas["qc"]
    fields = [column.field for column in schema.columns]
    cells = {"original_order_id": "0001234", "exception_type": "Damaged", "description": "x", "status": "Open"}
    rows = [{**cells, "date_identified": dt.datetime(2025, day, 3)} for day in (12, 1)]
    grid = Grid(schema.tab, [[schema.column(f).label for f in fields], *[[r.get(f, "") for f in fields] for r in rows]])
    header = locate_header(grid, schema)
    assert header is not None
    table = build_table(grid, header, schema, CellContext(today=dt.date(2026, 6, 30)))
    flagged = Issue(
        log="qc", sheet=schema.tab, row=3, column="Date Identified", code="date-order", severity=ERROR, message="x"
    )
    clock = Clock.at(dt.datetime(2026, 6, 30, 9, 0))
    cases = row_cases(table, [flagged], fields=stored_fields(schema), clock=clock)
    assert case_years(cases) == [2025, 2026]


def _rendered(template: str) -> st.SearchStrategy[str]:
    """Texts shaped like a template's IDs: any year and number text, any padding, odd characters too."""
    text_template = template.replace(":04d", "").replace(":03d", "").replace(":018d", "")
    digits = st.text(alphabet="0123456789", min_size=1, max_size=20)
    # A four-digit year from 1000 on (a year of 0999 is read as 999, and no ID has one).
    year = st.sampled_from(["2026", "1999", "202", "20266"]) | digits.filter(lambda y: len(y) != 4 or y[0] != "0")
    number = digits | st.integers(0, 10**19).map(str) | st.integers(0, 99999).map(lambda n: f"{n:04d}")
    shaped = st.builds(lambda y, n: text_template.format(year=y, number=n), year, number)
    return (
        shaped
        | shaped.map(str.lower)
        | shaped.map(lambda text: text + " ")
        | st.text(alphabet="QCRX-0123\n", max_size=12)
    )


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    template=st.sampled_from(
        ["QC-{year}-{number:04d}", "R{year}-{number}", "X{number:03d}-{year}", "Y-{year}{number:018d}"]
    ),
)
def test_ids_are_their_own_keys_exactly_when_each_one_is(data: st.DataObject, template: str) -> None:
    """The one-regex check that IDs are canonical says what parsing each and writing its key back says."""
    id_format = compile_id_format("case_id", template, None, ())
    texts = data.draw(st.lists(_rendered(template), max_size=8))

    def own(text: str) -> bool:
        parsed = id_format.parse(text)
        return not isinstance(parsed, IdProblem) and id_format.key(parsed) == text

    assert id_format.own_keys(texts) == all(own(text) for text in texts)
    for text in texts:
        assert id_format.own_keys([text]) == own(text), text
