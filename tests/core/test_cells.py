"""Normalizing single values: what people type, and what readers hand over."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kakosheet.core.cells import NORMALIZERS, CellContext, FormulaError, normalize_enum
from kakosheet.core.money import round_money

CTX = CellContext(today=dt.date(2026, 6, 30))


@pytest.mark.parametrize(
    ("value", "expected"),
    [("007", "007"), ("  A-1 ", "A-1"), (12345.0, "12345"), (7, "7"), (True, "TRUE")],
)
def test_codes_stay_text(value: object, expected: str) -> None:
    assert NORMALIZERS["code"](value, CTX) == (expected, None)


@pytest.mark.parametrize(
    ("value", "order", "expected"),
    [
        ("2026-03-15", None, dt.datetime(2026, 3, 15)),
        ("2026-03-15 14:05", None, dt.datetime(2026, 3, 15, 14, 5)),
        ("2026/03/15", None, dt.datetime(2026, 3, 15)),
        ("15/03/2026", None, dt.datetime(2026, 3, 15)),
        ("03/15/2026", None, dt.datetime(2026, 3, 15)),
        ("03/04/2026", "DMY", dt.datetime(2026, 4, 3)),
        ("03/04/2026", "MDY", dt.datetime(2026, 3, 4)),
        ("15.03.2026", None, dt.datetime(2026, 3, 15)),
        ("15 Mar 2026", None, dt.datetime(2026, 3, 15)),
        ("March 15, 2026", None, dt.datetime(2026, 3, 15)),
        (46096.5, None, dt.datetime(2026, 3, 15, 12)),
        (dt.date(2026, 3, 15), None, dt.datetime(2026, 3, 15)),
    ],
)
def test_dates_people_type(value: object, order: str | None, expected: dt.datetime) -> None:
    assert NORMALIZERS["datetime"](value, CellContext(date_order=order)) == (expected, None)


def test_serials_in_the_1904_system_count_from_1904() -> None:
    assert NORMALIZERS["date"](44634, CellContext(date1904=True)) == (dt.date(2026, 3, 15), None)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("03/04/2026", "ambiguous-date"),
        ("31/02/2026", "not-a-date"),
        ("soon", "not-a-date"),
        (5, "not-a-date"),
        (dt.timedelta(days=2), "not-a-date"),
        (FormulaError("#N/A"), "formula-error"),
    ],
)
def test_what_is_not_a_date_says_why(value: object, code: str) -> None:
    _, problem = NORMALIZERS["date"](value, CTX)
    assert problem is not None and problem.code == code


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12.1, Decimal("12.1")),
        ("1,234.50", Decimal("1234.50")),
        (" 7 ", Decimal("7")),
        (0.1 + 0.2, Decimal("0.30000000000000004")),
    ],
)
def test_money_is_decimal(value: object, expected: Decimal) -> None:
    assert NORMALIZERS["money"](value, CTX) == (expected, None)


@pytest.mark.parametrize("value", ["$12.50", "12,50 €", "twelve", True, "1.2.3"])
def test_money_with_anything_else_is_an_issue(value: object) -> None:
    _, problem = NORMALIZERS["money"](value, CTX)
    assert problem is not None and problem.code == "not-an-amount"


def test_money_rounds_half_up_to_the_currency_minor_unit() -> None:
    assert round_money(Decimal("2.675"), "USD") == Decimal("2.68")
    assert round_money(Decimal("1234.5"), "JPY") == Decimal("1235")
    assert round_money(Decimal("1.2345"), "KWD") == Decimal("1.235")


def test_enums_forgive_case_and_spacing_only() -> None:
    choices = {"vendor claim submitted": "Vendor Claim Submitted", "open": "Open"}
    assert normalize_enum("  vendor   CLAIM submitted ", CTX, choices=choices) == ("Vendor Claim Submitted", None)
    value, problem = normalize_enum("Opened", CTX, choices=choices)
    assert problem is not None and problem.code == "not-in-list" and value == "Opened"


@pytest.mark.parametrize(("value", "expected"), [("12%", Decimal("0.12")), (0.12, Decimal("0.12"))])
def test_percent(value: object, expected: Decimal) -> None:
    assert NORMALIZERS["percent"](value, CTX) == (expected, None)


def test_urls_accept_several_links_and_name_the_bad_one() -> None:
    assert NORMALIZERS["urls"]("https://a.example/1.jpg, https://b.example/2", CTX)[1] is None
    _, problem = NORMALIZERS["urls"]("https://a.example/1.jpg photo.jpg", CTX)
    assert problem is not None and "'photo.jpg'" in problem.message


cells = st.one_of(
    st.none(),
    st.text(),
    st.integers(),
    st.floats(allow_nan=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.timedeltas(),
    st.times(),
    st.builds(FormulaError, st.sampled_from(["#N/A", "#REF!"])),
)


@given(value=cells, kind=st.sampled_from(sorted(NORMALIZERS)), order=st.sampled_from([None, "DMY", "MDY"]))
def test_no_cell_value_makes_a_normalizer_raise(value: object, kind: str, order: str | None) -> None:
    normalized, problem = NORMALIZERS[kind](value, CellContext(date_order=order))
    assert problem is None or (problem.code and problem.message)
