"""kakosheet.toml: a team's settings, found in the working folder or above it."""

from __future__ import annotations

import datetime as dt
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kakosheet.core.codes import CURRENCIES
from kakosheet.errors import ConfigError

if TYPE_CHECKING:
    from kakosheet.core.schema import SchemaSet

CONFIG_NAME = "kakosheet.toml"
DEFAULT_LOGS = ("qc", "refunds", "returns", "after_sales")
DATE_ORDERS = ("DMY", "MDY")
PUBLISHED_KINDS = ("weekly", "monthly")  # the reports a schedule can publish

CONFIG_TEMPLATE = """\
# kakosheet settings for this team. Paths are relative to this file.

# The master log: an .xlsx/.xlsm workbook, or a Google Sheet (gsheet:KEY or its URL).
source = "{source}"

# For a Google Sheet: the service-account (or authorized-user) JSON key kakosheet signs
# in with. Left empty, GOOGLE_APPLICATION_CREDENTIALS names it. Never commit this file.
# credentials = "service-account.json"

# The canonical store: any SQLAlchemy URL. The default is a SQLite file beside this one.
store = "{store}"

# The logs this team keeps; a team that keeps only a QC log lists only "qc".
logs = [{logs}]

# The team's own copy of the schemas: edit them to add columns, reason codes or rules.
schemas = "schemas"

# Dates such as "today" (for dates in the future) are taken in this time zone.
timezone = "{timezone}"

# The currency totals are converted to when a report asks for one total.
base_currency = "{base_currency}"

# How to read dates typed as text, such as 03/04/2026: "DMY" (3 April) or "MDY" (March 4).
# Left empty, only ISO dates (2026-04-03) and unambiguous ones are read; others are issues.
date_order = "{date_order}"

# A rate table for reports to total costs in the base currency: a CSV with the columns
# currency, rate (1 unit in the base currency), valid_from (2026-01-01). Without one, costs
# are totalled per currency only, never added across currencies.
# rates = "rates.csv"

# Reports the scheduled job (kakosheet schedule) writes into the source by itself, once
# each period completes: "weekly", "monthly", or both.
# publish = ["weekly"]

# Tabs staff move old cases to. Their cases keep their IDs and are not "missing".
[archives]
# qc = ["QC Archive"]
"""

_KNOWN_KEYS = {
    "publish",
    "rates",
    "source",
    "store",
    "logs",
    "schemas",
    "timezone",
    "base_currency",
    "date_order",
    "archives",
    "credentials",
    "sheets_api_url",
}


def default_schema_dir() -> Path:
    """The schemas that ship with kakosheet."""
    packaged = Path(__file__).parent / "defaults" / "schemas"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "schemas"  # a source checkout


@dataclass(frozen=True)
class Config:
    """A team's settings; defaults when there is no kakosheet.toml."""

    root: Path
    path: Path | None = None
    source: str | None = None
    store: str | None = None
    logs: tuple[str, ...] = DEFAULT_LOGS
    schemas_dir: Path = field(default_factory=default_schema_dir)
    timezone: str = "UTC"
    base_currency: str = "USD"
    date_order: str | None = None
    archives: dict[str, tuple[str, ...]] = field(default_factory=dict)  # log -> tabs its old cases moved to
    credentials: Path | None = None  # Google credentials JSON (else GOOGLE_APPLICATION_CREDENTIALS)
    sheets_api_url: str | None = None  # another Sheets API root (else KAKOSHEET_SHEETS_API_URL, else Google's)
    rates: Path | None = None  # a rate table CSV for reports (currency, rate, valid_from)
    publish: tuple[str, ...] = ()  # the reports the scheduled job writes into the source: weekly, monthly

    def today(self) -> dt.date:
        return dt.datetime.now(ZoneInfo(self.timezone)).date()

    def load_schemas(self) -> SchemaSet:
        # Every command reads the settings (--help and --version import them); the schemas' YAML
        # and their model load only for a command that needs the schemas.
        from kakosheet.schema_files import load_schemas

        schemas = load_schemas(self.schemas_dir)
        unknown = [
            name for name in (*self.logs, *self.archives) if name not in schemas.logs or schemas[name].kind != "log"
        ]
        if unknown:
            known = ", ".join(s.name for s in schemas.case_logs)
            key = "logs" if unknown[0] in self.logs else "archives"
            raise ConfigError(f"{self._where(key)}: {unknown[0]!r} is not a log (the logs are: {known})")
        return schemas

    def _where(self, key: str) -> str:
        return f"{self.path.name if self.path else CONFIG_NAME}: {key}"


def find_config(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def load_config(path: Path | None = None, *, cwd: Path | None = None) -> Config:
    """The config at ``path``, or found from ``cwd`` upwards, or the defaults."""
    cwd = cwd or Path.cwd()
    if path is None:
        path = find_config(cwd)
        if path is None:
            return Config(root=cwd)
    elif not path.is_file():
        raise ConfigError(f"{path}: no such config file; run `kakosheet init` to write one")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path.name}: cannot read it ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: not valid TOML: {exc}") from exc
    return _parse(data, path)


def _parse(data: dict[str, Any], path: Path) -> Config:
    def where(key: str) -> str:
        return f"{path.name}: {key}"

    unknown = sorted(set(data) - _KNOWN_KEYS)
    if unknown:
        raise ConfigError(f"{where(unknown[0])}: unknown setting (known: {', '.join(sorted(_KNOWN_KEYS))})")

    def text(key: str) -> str | None:
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{where(key)}: should be text in quotes, found {value!r}")
        return value.strip() if value and value.strip() else None

    root = path.parent
    logs = data.get("logs", list(DEFAULT_LOGS))
    if not isinstance(logs, list) or not logs or not all(isinstance(x, str) for x in logs):
        raise ConfigError(f'{where("logs")}: should be a list of log names, e.g. ["qc", "refunds"]')
    timezone = text("timezone") or "UTC"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"{where('timezone')}: {timezone!r} is not a time zone (e.g. Europe/Berlin, Asia/Shanghai)"
        ) from exc
    currency = (text("base_currency") or "USD").upper()
    if currency not in CURRENCIES:
        raise ConfigError(f"{where('base_currency')}: {currency!r} is not an ISO 4217 currency code (e.g. USD)")
    date_order = (text("date_order") or "").upper() or None
    if date_order is not None and date_order not in DATE_ORDERS:
        raise ConfigError(f'{where("date_order")}: should be "DMY", "MDY" or "", found {date_order!r}')
    schemas = root / (text("schemas") or "schemas")
    if not schemas.is_dir():
        raise ConfigError(
            f"{where('schemas')}: the folder {schemas.name!r} does not exist; "
            "run `kakosheet init` to copy the default schemas"
        )
    credentials = text("credentials")
    rates = text("rates")
    publish = data.get("publish", [])
    if not isinstance(publish, list) or not all(isinstance(x, str) and x in PUBLISHED_KINDS for x in publish):
        raise ConfigError(f'{where("publish")}: should be a list of "weekly" and "monthly", e.g. ["weekly"]')
    return Config(
        root=root,
        path=path,
        credentials=root / Path(credentials).expanduser() if credentials else None,
        sheets_api_url=text("sheets_api_url"),
        source=text("source"),
        store=text("store"),
        logs=tuple(dict.fromkeys(logs)),  # a log listed twice is one log, as `init --logs qc,qc` makes it
        archives=_archives(data.get("archives", {}), where),
        schemas_dir=schemas,
        timezone=timezone,
        base_currency=currency,
        date_order=date_order,
        rates=root / Path(rates).expanduser() if rates else None,
        publish=tuple(dict.fromkeys(publish)),
    )


def _archives(value: Any, where: Any) -> dict[str, tuple[str, ...]]:
    """[archives] qc = ["QC Archive"]: tabs staff move old cases to; their cases are not missing."""
    if not isinstance(value, dict) or not all(
        isinstance(tabs, list) and all(isinstance(t, str) and t.strip() for t in tabs) for tabs in value.values()
    ):
        raise ConfigError(f'{where("archives")}: should be a table of tab lists, e.g. [archives] qc = ["QC Archive"]')
    return {log: tuple(t.strip() for t in tabs) for log, tabs in value.items()}


def write_config(
    folder: Path,
    *,
    source: str,
    logs: tuple[str, ...] = DEFAULT_LOGS,
    timezone: str = "UTC",
    base_currency: str = "USD",
    date_order: str = "",
) -> Path:
    """Write kakosheet.toml and the team's copy of the default schemas into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CONFIG_NAME
    path.write_text(
        CONFIG_TEMPLATE.format(
            source=source,
            store="sqlite:///kakosheet.db",
            logs=", ".join(f'"{name}"' for name in logs),
            timezone=timezone,
            base_currency=base_currency,
            date_order=date_order,
        ),
        encoding="utf-8",
    )
    schemas = folder / "schemas"
    schemas.mkdir(exist_ok=True)
    for schema_file in sorted(default_schema_dir().glob("*.yaml")):
        target = schemas / schema_file.name
        if not target.exists():
            shutil.copyfile(schema_file, target)
    return path
