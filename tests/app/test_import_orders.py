"""`kakosheet import orders FILE`: CSV and xlsx files checked by the Orders schema, bad rows refused
with a message, the others upserted by Order ID; and sync storing a workbook's Orders tab alike."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import create_engine, select, text

from kakosheet.app.import_orders import import_orders
from kakosheet.app.setup import init_team
from kakosheet.app.sync import sync_source
from kakosheet.config import Config, load_config
from kakosheet.sources.xlsx_template import fill_master_workbook
from kakosheet.store.store import Store
from tests.helpers import write_workbook

Cli = Callable[..., Result]
NOW = dt.datetime(2026, 12, 1, 9, 0)
SCHEMAS = load_config(None, cwd=Path(__file__).parent).load_schemas()  # the defaults
HEADER = ["Order ID", "Customer ID", "Vendor ID", "SKU", "Quantity", "Amount", "Currency", "Order Date"]


def team(tmp_path: Path) -> Config:
    init_team(tmp_path / "team", logs=("qc",), timezone="Asia/Shanghai")
    return load_config(tmp_path / "team" / "kakosheet.toml")


def stored(url: str, *columns: str) -> list[tuple[Any, ...]]:
    """The stored order rows, by Order ID and line, typed as the store reads them."""
    store = Store(url, SCHEMAS, create=False)
    orders = store.metadata.tables["orders"]
    query = select(orders.c.order_id, orders.c._line, *(orders.c[c] for c in columns))
    try:
        with store.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(query.order_by(orders.c.order_id, orders.c._line))]
    finally:
        store.engine.dispose()


def write_csv(path: Path, rows: list[list[str]], *, delimiter: str = ",", bom: bool = False) -> Path:
    body = "\n".join(delimiter.join(row) for row in [HEADER, *rows]) + "\n"
    path.write_text(("\ufeff" if bom else "") + body, encoding="utf-8")
    return path


GOOD = [
    ["007", "C1", "ACME", "SKU-1", "2", "12.50", "USD", "2026-11-03"],
    ["008", "C2", "BETA", "SKU-2", "1", "5", "EUR", "2026-11-04"],
]


@pytest.mark.parametrize(("delimiter", "bom"), [(",", False), (";", True), ("\t", False)])
def test_a_csv_is_imported_typed_whatever_its_delimiter_and_bom(
    tmp_path: Path, store_url: str, delimiter: str, bom: bool
) -> None:
    config = team(tmp_path)
    path = write_csv(tmp_path / "orders.csv", GOOD, delimiter=delimiter, bom=bom)
    result = import_orders(config, path, store_url=store_url, now=NOW)
    assert result.report.valid and result.refused == 0
    assert (result.stored.upserted.imported, result.stored.upserted.updated) == (2, 0)
    rows = stored(store_url, "vendor_id", "quantity", "amount", "currency", "order_date", "_source", "_imported_at")
    assert [row[:7] for row in rows] == [
        ("007", 1, "ACME", 2, Decimal("12.50"), "USD", dt.date(2026, 11, 3)),  # "007" stays text
        ("008", 1, "BETA", 1, Decimal("5"), "EUR", dt.date(2026, 11, 4)),
    ]
    assert rows[0][7] == f"file:{path.resolve()}"
    assert rows[0][8] == dt.datetime(2026, 12, 1, 1, 0)  # 09:00 in Shanghai, stored in UTC


def test_importing_again_updates_the_changed_order_and_leaves_the_others(tmp_path: Path, store_url: str) -> None:
    config = team(tmp_path)
    path = write_csv(tmp_path / "orders.csv", GOOD)
    import_orders(config, path, store_url=store_url, now=NOW)
    again = import_orders(config, path, store_url=store_url, now=NOW + dt.timedelta(days=1))
    assert (again.stored.upserted.imported, again.stored.upserted.updated, again.stored.upserted.unchanged) == (0, 0, 2)
    assert {row[2] for row in stored(store_url, "_imported_at")} == {dt.datetime(2026, 12, 1, 1, 0)}  # untouched

    changed = [GOOD[0][:4] + ["3"] + GOOD[0][5:], GOOD[1], ["009", "C3", "ACME", "SKU-1", "1", "", "", "2026-11-05"]]
    write_csv(path, changed)
    third = import_orders(config, path, store_url=store_url, now=NOW + dt.timedelta(days=2))
    assert (third.stored.upserted.imported, third.stored.upserted.updated, third.stored.upserted.unchanged) == (1, 1, 1)
    assert stored(store_url, "quantity", "_imported_at") == [
        ("007", 1, 3, dt.datetime(2026, 12, 3, 1, 0)),
        ("008", 1, 1, dt.datetime(2026, 12, 1, 1, 0)),
        ("009", 1, 1, dt.datetime(2026, 12, 3, 1, 0)),
    ]


def test_an_order_of_several_lines_is_one_order_stored_whole(tmp_path: Path, store_url: str) -> None:
    config = team(tmp_path)
    lines = [GOOD[0], ["007", "C1", "ACME", "SKU-9", "1", "3.00", "USD", "2026-11-03"]]
    path = write_csv(tmp_path / "orders.csv", lines)
    assert import_orders(config, path, store_url=store_url, now=NOW).stored.upserted.imported == 1
    write_csv(path, lines[::-1])  # re-sorted: the same order
    assert import_orders(config, path, store_url=store_url, now=NOW).stored.upserted.unchanged == 1
    write_csv(path, [GOOD[0]])  # a line fewer: changed, and stored as the file has it now
    assert import_orders(config, path, store_url=store_url, now=NOW).stored.upserted.updated == 1
    assert stored(store_url, "sku") == [("007", 1, "SKU-1")]


def test_a_file_without_a_column_leaves_what_the_store_holds_for_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    config = team(tmp_path)
    import_orders(config, write_csv(tmp_path / "full.csv", GOOD), store_url=url, now=NOW)
    (tmp_path / "part.csv").write_text("Order ID,Vendor ID,Quantity\n007,ACME,2\n008,BETA,4\n")
    result = import_orders(config, tmp_path / "part.csv", store_url=url, now=NOW)
    assert (result.stored.upserted.unchanged, result.stored.upserted.updated) == (1, 1)
    assert stored(url, "quantity", "amount", "order_date") == [
        ("007", 1, 2, Decimal("12.50"), dt.date(2026, 11, 3)),
        ("008", 1, 4, Decimal("5"), dt.date(2026, 11, 4)),  # its new quantity, the amount and date it had
    ]
    [missing] = [i for i in result.report.issues if i.code == "missing-column"]
    assert "Customer ID, SKU, Amount, Currency, Order Date" in missing.message


def test_bad_rows_are_named_and_refused_the_others_imported(cli: Cli, tmp_path: Path) -> None:
    team(tmp_path)
    rows = [
        GOOD[0],
        ["010", "C1", "ACME", "SKU-1", "0", "1.00", "USD", "2026-11-03"],  # no units
        ["011", "C1", "ACME", "SKU-1", "1", "1.00", "", "31/31/2026"],  # no currency, no such day
        ["012", "C1", "ACME", "SKU-1", "1", "1.00", "USD", "2027-01-05"],  # after --as-of
        ["013", "C1", "ACME", "SKU-1", "1", "", "", "2026-11-03"],
        ["013", "C1", "ACME", "SKU-2", "two", "", "", "2026-11-03"],  # the order's other line is held back
    ]
    path = write_csv(tmp_path / "orders.csv", rows, delimiter=";")
    result = cli("--config", "team/kakosheet.toml", "import", "orders", str(path), "--as-of", "2026-12-01")
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    expected = [
        "orders.csv, row 3, Quantity: error out-of-range: 0 should be at least 1 (value '0'); the row is not imported",
        "orders.csv, row 4, Currency: error required-when: Currency is needed when any of Amount is set; fill it in;"
        " the row is not imported",
        "orders.csv, row 5, Order Date: error future-date: 2027-01-05 is in the future (today is 2026-12-01); check"
        " the year and the day/month order (value '2027-01-05'); the row is not imported",
        "orders.csv, row 6: warning order-held-back: not imported either: order '013' is also on row 7, which has an"
        " error, and an order is imported whole (value '013')",
    ]
    for line in expected:
        assert line in lines, result.stderr
    assert any(line.startswith("orders.csv, row 4, Order Date: error ") and "'31/31/2026'" in line for line in lines)
    assert any(line.startswith("orders.csv, row 7, Quantity: error ") and "'two'" in line for line in lines)
    assert "orders imported 1, updated 0, unchanged 0, refused 4" in result.stderr
    assert "Traceback" not in result.output
    assert [row[0] for row in stored(f"sqlite:///{tmp_path / 'team' / 'kakosheet.db'}")] == ["007"]


def test_an_xlsx_is_read_from_its_orders_tab_or_its_only_tab(tmp_path: Path, store_url: str) -> None:
    config = team(tmp_path)
    header = ["Order ID", "Vendor ID", "Quantity", "Order Date"]
    several = write_workbook(
        tmp_path / "export.xlsx",
        {"Notes": [["not orders"]], "Orders": [header, ["007", "ACME", 2, dt.date(2026, 11, 3)]]},
    )
    assert import_orders(config, several, store_url=store_url, now=NOW).stored.upserted.imported == 1
    only = write_workbook(
        tmp_path / "only.xlsx", {"Sheet1": [["Exported by the shop"], header, ["8", "BETA", 1.0, "2026-11-04"]]}
    )
    result = import_orders(config, only, store_url=store_url, now=NOW)
    assert result.stored.upserted.imported == 1 and result.report.valid
    assert stored(store_url, "quantity", "order_date") == [
        ("007", 1, 2, dt.date(2026, 11, 3)),
        ("8", 1, 1, dt.date(2026, 11, 4)),
    ]


@pytest.mark.parametrize(
    ("name", "content", "code", "says"),
    [
        ("missing.csv", None, 3, "missing.csv: no such file"),
        ("missing.xlsx", None, 3, "missing.xlsx: no such file; check the path"),
        ("orders.txt", b"Order ID\n1\n", 2, "reads .csv (UTF-8) and .xlsx files"),
        ("latin1.csv", "Order ID,Customer ID\n1,Müller\n".encode("latin-1"), 3, 'save it as "CSV UTF-8"'),
        ("other.csv", b"Case,Status\n1,Open\n", 3, "no header row naming the columns Order ID"),
        ("empty.csv", b"", 3, "empty.csv: the file is empty"),
        ("blank.csv", b"\r\n \r\n", 3, "blank.csv: the file is empty"),
        ("damaged.xlsx", b"PK\x03\x04 not a workbook", 3, "damaged"),
        ("tabs.xlsx", "tabs", 3, "no 'Orders' tab among its tabs ('A', 'B')"),
    ],
)
def test_a_file_that_cannot_be_read_exits_3_a_wrong_command_2(
    cli: Cli, tmp_path: Path, name: str, content: bytes | str | None, code: int, says: str
) -> None:
    team(tmp_path)
    if content == "tabs":
        write_workbook(tmp_path / name, {"A": [["Order ID"]], "B": [["x"]]})
    elif isinstance(content, bytes):
        (tmp_path / name).write_bytes(content)
    result = cli("--config", "team/kakosheet.toml", "import", "orders", name)
    assert result.exit_code == code, result.output
    assert says in result.stderr
    assert "Traceback" not in result.output
    assert "`source` in kakosheet.toml" not in result.stderr  # the orders file is no source


def test_no_team_folder_and_no_store_exits_2_an_unreachable_store_3(cli: Cli, tmp_path: Path) -> None:
    write_csv(tmp_path / "orders.csv", GOOD)
    result = cli("import", "orders", "orders.csv")
    assert result.exit_code == 2 and "no kakosheet.toml found" in result.stderr
    result = cli("import", "orders", "orders.csv", "--store", "postgresql+psycopg://u:secret@127.0.0.1:9/x")
    assert result.exit_code == 3 and "cannot reach the store" in result.stderr
    assert "secret" not in result.output


def test_sync_stores_the_orders_and_vendors_tabs_into_the_same_tables(tmp_path: Path, store_url: str) -> None:
    config = team(tmp_path)
    orders = [
        {"order_id": "007", "vendor_id": "ACME", "quantity": 2, "order_date": dt.date(2026, 11, 3)},
        {"order_id": "010", "vendor_id": "ACME", "quantity": 0, "order_date": dt.date(2026, 11, 3)},  # refused
    ]
    vendors = [{"vendor_id": "ACME", "name": "Acme Trading", "type": "Supplier"}]
    tabs = {"orders": orders, "vendors": vendors}
    fill_master_workbook(tmp_path / "team" / "master.xlsx", config.load_schemas(), tabs)  # type: ignore[arg-type]
    sync_source(config, store_url=store_url, now=NOW)
    source = stored(store_url, "quantity", "_source")
    assert [row[:3] for row in source] == [("007", 1, 2)]
    assert source[0][3].startswith("workbook:")  # the workbook's identity, as its cases are filed
    engine = create_engine(store_url)
    with engine.connect() as connection:
        assert connection.execute(text("select vendor_id, name from vendors")).all() == [("ACME", "Acme Trading")]
    engine.dispose()
    # The same order in a file is the same row: unchanged.
    (tmp_path / "o.csv").write_text("Order ID,Vendor ID,Quantity,Order Date\n007,ACME,2,2026-11-03\n")
    result = import_orders(config, tmp_path / "o.csv", store_url=store_url, now=NOW)
    assert result.stored.upserted.unchanged == 1


def test_a_store_made_before_orders_gets_the_table(tmp_path: Path, store_url: str) -> None:
    config = team(tmp_path)
    store = Store(store_url, config.load_schemas())
    store.prepare()
    with store.engine.begin() as connection:  # as a store of an older version has it: no orders table
        connection.execute(text("drop table orders"))
    store.engine.dispose()
    path = write_csv(tmp_path / "orders.csv", GOOD)
    assert import_orders(config, path, store_url=store_url, now=NOW).stored.upserted.imported == 2


def test_help_shows_an_example(cli: Cli) -> None:
    result = cli("import", "orders", "--help")
    assert result.exit_code == 0 and "kakosheet import orders orders-2026-11.csv" in result.output
