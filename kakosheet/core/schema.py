"""The schema model: what each log (and reference tab) holds, loaded from YAML and checked once.

A schema is the single source of truth for a log: the master template, the validation,
the store tables and the Google Sheet setup are all generated from it. Loading checks every
key, so a typo in a team's YAML is reported with its file and key path, never later as a
strange failure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from kakosheet.core.case_ids import IdFormat, compile_id_format
from kakosheet.core.derived import FILLS
from kakosheet.errors import SchemaError

COLUMN_TYPES = (
    "id",  # the case ID, assigned by kakosheet
    "text",  # free text
    "code",  # identifier typed by people (order number, SKU, serial): always text, "007" stays
    "enum",  # one of `values`
    "date",
    "datetime",
    "money",  # a decimal amount; its currency is the log's `currency` column
    "number",  # a decimal number
    "integer",
    "percent",  # 0.12 or "12%"
    "email",
    "urls",  # one or more http(s) links
    "currency",  # ISO 4217 code
    "country",  # ISO 3166-1 alpha-2 code
    "bool",
)

# Who writes a column (ARCHITECTURE.md, invariant 3).
COLUMN_KINDS = (
    "input",  # staff type it; kakosheet only reads it
    "owned",  # kakosheet's: the case ID and the Issues note
    "computed",  # kakosheet derives it and writes it
    "fill_when_blank",  # kakosheet fills it when staff left it blank, never overwrites
)

LOG_KINDS = ("log", "reference")


_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Condition:
    """When a column-level rule applies to a row.

    Exactly one form: ``field`` with ``in``/``not_in`` (enum or text values), or
    ``any_present`` (any of these fields holds a value).
    """

    field: str | None = None
    values_in: tuple[str, ...] = ()
    values_not_in: tuple[str, ...] = ()
    any_present: tuple[str, ...] = ()

    def fields(self) -> tuple[str, ...]:
        return (self.field,) if self.field else self.any_present

    def describe(self, labels: Mapping[str, str]) -> str:
        if self.any_present:
            return "any of " + ", ".join(labels[f] for f in self.any_present) + " is set"
        assert self.field is not None
        if self.values_in:
            return f"{labels[self.field]} is " + " or ".join(self.values_in)
        return f"{labels[self.field]} is not " + " or ".join(self.values_not_in)


@dataclass(frozen=True)
class Column:
    """One column of a log: how it is labelled, typed, checked and who may see it."""

    field: str
    label: str
    type: str
    kind: str = "input"
    description: str = ""
    required: bool = False
    required_when: Condition | None = None
    only_when: Condition | None = None
    recommended_when: Condition | None = None
    values: tuple[str, ...] = ()
    pattern: str | None = None
    pattern_hint: str | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    exclusive_minimum: bool = False
    not_future: bool = False
    not_before: str | None = None
    references: str | None = None
    unique: bool = False
    vendor_visible: bool = False
    aliases: tuple[str, ...] = ()
    width: int | None = None
    fill: str | None = None  # how kakosheet fills a fill_when_blank column (FILLS)

    @property
    def written_by_kakosheet(self) -> bool:
        return self.kind != "input"


# Checks that look across a log and a reference tab; each names its parameters, and
# whether each one is a field of the log itself, a reference tab, or a field of that tab.
CROSS_CHECKS: dict[str, dict[str, str]] = {
    # `field` is required when the row's `via` value is a `reference` row whose `flag` is TRUE.
    "required_if_flag": {"field": "log", "via": "log", "reference": "reference", "flag": "reference_field"},
    # The `field` amounts of all rows sharing a `group_by` value never exceed the sum of the
    # `reference_field` of the reference rows with that key (same currency only).
    "sum_within": {"field": "log", "group_by": "log", "reference": "reference", "reference_field": "reference_field"},
    # A typed `field` agrees with the `rate_field` of the `via` reference row times `base`.
    "matches_rate": {
        "field": "log",
        "base": "log",
        "via": "log",
        "reference": "reference",
        "rate_field": "reference_field",
    },
}


@dataclass(frozen=True)
class CrossCheck:
    """One check across a log and a reference tab (see CROSS_CHECKS)."""

    check: str
    params: Mapping[str, str]
    severity: str = "error"


@dataclass(frozen=True)
class Transitions:
    """Which changes of a status field the history allows."""

    field: str
    forbidden: frozenset[tuple[str, str]] = frozenset()  # (from, to) never allowed
    reopen_from: tuple[str, ...] = ()  # leaving these states needs a reason
    reason_field: str | None = None


@dataclass(frozen=True)
class Sla:
    """How long each stage of a case may take, in days, scaled by the case's priority."""

    stage_field: str
    days: Mapping[str, int]
    priority_field: str | None = None
    priority_factor: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class LogSchema:
    """One log (or reference tab): its tab, columns, ID format and rules."""

    name: str
    title: str
    tab: str
    kind: str
    columns: tuple[Column, ...]
    description: str = ""
    tab_aliases: tuple[str, ...] = ()
    id: IdFormat | None = None
    key: str | None = None
    match_also: tuple[str, ...] = ()
    sla: Sla | None = None
    checks: tuple[CrossCheck, ...] = ()
    transitions: Transitions | None = None
    source_file: str = ""

    def column(self, field_name: str) -> Column:
        for column in self.columns:
            if column.field == field_name:
                return column
        raise KeyError(field_name)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(c.field for c in self.columns)

    @property
    def labels(self) -> dict[str, str]:
        return {c.field: c.label for c in self.columns}

    @property
    def mandatory(self) -> tuple[Column, ...]:
        """Columns that must always hold a value (staff input, not conditional)."""
        return tuple(c for c in self.columns if c.required and c.kind == "input")

    @property
    def issues_column(self) -> Column | None:
        for column in self.columns:
            if column.field == "issues":
                return column
        return None


@dataclass(frozen=True)
class SchemaSet:
    """All schemas of a team: its logs and the reference tabs they check against."""

    logs: Mapping[str, LogSchema]

    def __getitem__(self, name: str) -> LogSchema:
        return self.logs[name]

    @property
    def case_logs(self) -> tuple[LogSchema, ...]:
        return tuple(s for s in self.logs.values() if s.kind == "log")

    @property
    def references(self) -> tuple[LogSchema, ...]:
        return tuple(s for s in self.logs.values() if s.kind == "reference")

    def enum_lists(self) -> dict[str, tuple[str, ...]]:
        """Every distinct dropdown list, named by the log and field that first uses it."""
        lists: dict[str, tuple[str, ...]] = {}
        seen: dict[tuple[str, ...], str] = {}
        for schema in self.logs.values():
            for column in schema.columns:
                if column.type == "enum" and column.values not in seen:
                    name = f"{schema.name}.{column.field}"
                    seen[column.values] = name
                    lists[name] = column.values
        return lists

    def list_name(self, values: tuple[str, ...]) -> str:
        for name, listed in self.enum_lists().items():
            if listed == values:
                return name
        raise KeyError(values)


# --------------------------------------------------------------------------- loading


class _Reader:
    """Reads one YAML mapping and reports any problem with the file and the key path."""

    def __init__(self, source: str, data: Any, path: str = "") -> None:
        self.source = source
        self.path = path
        if data is None:
            self.fail("is empty; give its keys" if path else "the file is empty; it should hold a log's keys")
        if not isinstance(data, dict):
            self.fail(f"should be {_KIND_WORDS[dict]}, found {_shown(data)}")
        self.data: dict[str, Any] = data
        self.used: set[str] = set()

    def fail(self, message: str, key: str | None = None) -> None:
        where = ".".join(p for p in (self.path, key) if p)
        location = f"{self.source}: {where}: " if where else f"{self.source}: "
        raise SchemaError(location + message)

    def child(self, key: str, data: Any) -> _Reader:
        return _Reader(self.source, data, f"{self.path}.{key}" if self.path else key)

    def get(
        self,
        key: str,
        kind: type | tuple[type, ...],
        default: Any = None,
        *,
        required: bool = False,
        expected: str | None = None,
    ) -> Any:
        """The key's value, checked against ``kind``; ``expected`` says in words what it should be."""
        self.used.add(key)
        if key not in self.data or self.data[key] is None:
            if required:
                self.fail("is missing", key)
            return default
        value = self.data[key]
        kinds = _as_tuple(kind)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            words = expected or " or ".join(_KIND_WORDS.get(k, k.__name__) for k in kinds)
            self.fail(f"should be {words}, found {_shown(value)}", key)
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.get(key, (list, str), (), expected="a list of names, e.g. [Open, Closed]")
        items = [value] if isinstance(value, str) else value
        for item in items:
            if isinstance(item, (bool, int, float)):
                self.fail(f"should be a list of names, found {_shown(item)}; put it in quotes to make it a name", key)
            if not isinstance(item, str) or not item.strip():
                self.fail(f"should be a list of names, found {_shown(item)}", key)
        return tuple(item.strip() for item in items)

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            self.fail(f"unknown key {unknown[0]!r} (known keys: {', '.join(sorted(self.used))})", unknown[0])


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


# What a YAML value should be, in the words of the person editing the file.
_KIND_WORDS: dict[type, str] = {
    str: "text",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    list: "a list",
    dict: "a mapping of keys (key: value lines)",
}


def _shown(value: Any) -> str:
    """A YAML value as the person wrote it, not as Python names it."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    if isinstance(value, dict):
        return "a mapping of keys"
    text = repr(value)
    return text if len(text) <= 80 else text[:79] + "…"


def _decimal(reader: _Reader, key: str) -> Decimal | None:
    value = reader.get(key, (int, float, str), expected="a number")
    if value is None:
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        reader.fail(f"should be a number, found {_shown(value)}", key)
    return number


def _condition(reader: _Reader, key: str) -> Condition | None:
    raw = reader.get(key, dict)
    if raw is None:
        return None
    sub = reader.child(key, raw)
    condition = Condition(
        field=sub.get("field", str),
        values_in=sub.strings("in"),
        values_not_in=sub.strings("not_in"),
        any_present=sub.strings("any_present"),
    )
    sub.finish()
    forms = [bool(condition.field), bool(condition.any_present)]
    if sum(forms) != 1:
        sub.fail("give either 'field' with 'in' or 'not_in', or 'any_present'")
    if condition.field and bool(condition.values_in) == bool(condition.values_not_in):
        sub.fail("give exactly one of 'in' or 'not_in'")
    return condition


def _column(reader: _Reader) -> Column:
    field_name = reader.get("field", str, required=True)
    if not _FIELD_NAME.match(field_name):
        reader.fail(f"{field_name!r} should be lower_snake_case (letters, digits, _)", "field")
    column_type = reader.get("type", str, required=True)
    if column_type not in COLUMN_TYPES:
        reader.fail(f"{column_type!r} is not a column type; choose one of {', '.join(COLUMN_TYPES)}", "type")
    kind = reader.get("kind", str, "input")
    if kind not in COLUMN_KINDS:
        reader.fail(f"{kind!r} is not a column kind; choose one of {', '.join(COLUMN_KINDS)}", "kind")
    pattern = reader.get("pattern", str)
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            reader.fail(f"is not a valid regular expression: {exc}", "pattern")
    values = reader.strings("values")
    _check_type_takes(reader, column_type)
    if column_type == "enum" and not values:
        reader.fail("an enum column needs its 'values'", "values")
    if values and column_type != "enum":
        reader.fail("only enum columns take 'values'", "values")
    if len({v.casefold() for v in values}) != len(values):
        reader.fail("values repeat (ignoring case)", "values")
    column = Column(
        field=field_name,
        label=reader.get("label", str, required=True).strip(),
        type=column_type,
        kind=kind,
        description=reader.get("description", str, "").strip(),
        required=reader.get("required", bool, False),
        required_when=_condition(reader, "required_when"),
        only_when=_condition(reader, "only_when"),
        recommended_when=_condition(reader, "recommended_when"),
        values=values,
        pattern=pattern,
        pattern_hint=reader.get("pattern_hint", str),
        minimum=_decimal(reader, "min"),
        maximum=_decimal(reader, "max"),
        exclusive_minimum=reader.get("exclusive_min", bool, False),
        not_future=reader.get("not_future", bool, False),
        not_before=reader.get("not_before", str),
        references=reader.get("references", str),
        unique=reader.get("unique", bool, False),
        vendor_visible=reader.get("vendor_visible", bool, False),
        aliases=reader.strings("aliases"),
        width=reader.get("width", int),
        fill=reader.get("fill", str),
    )
    reader.finish()
    if column.exclusive_minimum and column.minimum is None:
        reader.fail("'exclusive_min' needs a 'min' to exclude", "exclusive_min")
    if column.minimum is not None and column.maximum is not None and column.minimum > column.maximum:
        reader.fail(f"min ({column.minimum}) is more than max ({column.maximum})", "min")
    if column.pattern_hint is not None and column.pattern is None:
        reader.fail("'pattern_hint' describes a 'pattern'; give the pattern too, or remove the hint", "pattern_hint")
    if column.width is not None and column.width <= 0:
        reader.fail(f"should be a positive whole number of characters, found {column.width}", "width")
    if column.fill is not None and column.fill not in FILLS:  # the registry of derivations (core/derived.py)
        reader.fail(f"{column.fill!r} is not a way to fill a column; choose one of {', '.join(FILLS)}", "fill")
    if column.fill is not None and column.kind != "fill_when_blank":
        reader.fail("only fill_when_blank columns take 'fill'", "fill")
    return column


# Keys that only some column types take, and which. Any other type would ignore them, or
# fail on the first row: a `min` on a text column compares text with a number.
NUMBER_TYPES = ("money", "number", "integer", "percent")
TEXT_TYPES = ("text", "code", "email", "urls")
DATE_TYPES = ("date", "datetime")
_TYPES_TAKING: dict[str, tuple[tuple[str, ...], str]] = {
    "min": (NUMBER_TYPES, "number"),
    "max": (NUMBER_TYPES, "number"),
    "exclusive_min": (NUMBER_TYPES, "number"),
    "pattern": (TEXT_TYPES, "text"),
    "pattern_hint": (TEXT_TYPES, "text"),
    "references": (("code", "text"), "code or text"),
    "not_future": (DATE_TYPES, "date"),
    "not_before": (DATE_TYPES, "date"),
}
# Types whose values a condition's `in`/`not_in` can match (it compares text).
_CONDITION_TYPES = frozenset({"enum", "id", "currency", "country", *TEXT_TYPES})


def _check_type_takes(reader: _Reader, column_type: str) -> None:
    for key, (types, what) in _TYPES_TAKING.items():
        value = reader.data.get(key)
        if value is not None and value is not False and column_type not in types:  # min: 0 is given, false is not
            reader.fail(
                f"only {what} columns ({', '.join(types)}) take {key!r}; this column is {column_type}; "
                f"remove {key!r} or change the type",
                key,
            )


def _id_format(reader: _Reader, fields: set[str]) -> IdFormat | None:
    raw = reader.get("id", dict)
    if raw is None:
        return None
    sub = reader.child("id", raw)
    id_field = sub.get("field", str, required=True)
    template = sub.get("template", str, required=True)
    year_from = sub.get("year_from", str)
    sub.finish()
    for name in (id_field, year_from):
        if name is not None and name not in fields:
            sub.fail(f"{name!r} is not a field of this log", "field" if name == id_field else "year_from")
    try:
        return compile_id_format(id_field, template, year_from, fields)
    except ValueError as exc:
        sub.fail(str(exc), "template")
    return None


def _sla(reader: _Reader, fields: set[str]) -> Sla | None:
    raw = reader.get("sla", dict)
    if raw is None:
        return None
    sub = reader.child("sla", raw)
    stage_field = sub.get("stage_field", str, required=True)
    days = sub.get("days", dict, required=True)
    priority_field = sub.get("priority_field", str)
    factors = sub.get("priority_factor", dict, {})
    sub.finish()
    for name in (stage_field, priority_field):
        if name is not None and name not in fields:
            sub.fail(f"{name!r} is not a field of this log")
    for stage, value in days.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            sub.fail(f"days for {stage!r} should be a whole number of days, found {value!r}", "days")
    for priority, value in factors.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
            sub.fail(f"factor for {priority!r} should be a positive number", "priority_factor")
    return Sla(stage_field=stage_field, days=dict(days), priority_field=priority_field, priority_factor=dict(factors))


def _transitions(reader: _Reader, fields: set[str]) -> Transitions | None:
    raw = reader.get("transitions", dict)
    if raw is None:
        return None
    sub = reader.child("transitions", raw)
    field_name = sub.get("field", str, required=True)
    pairs = sub.get("forbidden", list, [])
    reason_field = sub.get("reason_field", str)
    transitions = Transitions(
        field=field_name,
        forbidden=frozenset(
            tuple(pair)
            for pair in pairs
            if isinstance(pair, list) and len(pair) == 2 and all(isinstance(state, str) for state in pair)
        ),
        reopen_from=sub.strings("reopen_from"),
        reason_field=reason_field,
    )
    sub.finish()
    if len(transitions.forbidden) != len(pairs):
        sub.fail("each entry is a pair [from, to], e.g. [Completed, Initiated]", "forbidden")
    for name in (field_name, reason_field):
        if name is not None and name not in fields:
            sub.fail(f"{name!r} is not a field of this log")
    if transitions.reopen_from and reason_field is None:
        sub.fail("reopen_from needs a reason_field", "reason_field")
    return transitions


def _checks(reader: _Reader, fields: set[str]) -> tuple[CrossCheck, ...]:
    raw = reader.get("checks", list, [])
    checks = []
    for i, item in enumerate(raw):
        sub = reader.child(f"checks[{i}]", item)
        name = sub.get("check", str, required=True)
        spec = CROSS_CHECKS.get(name)
        if spec is None:
            sub.fail(f"{name!r} is not a check; choose one of {', '.join(CROSS_CHECKS)}", "check")
        assert spec is not None
        params = {key: sub.get(key, str, required=True) for key in spec}
        severity = sub.get("severity", str, "error")
        if severity not in ("error", "warning"):
            sub.fail("should be error or warning", "severity")
        sub.finish()
        for key, kind in spec.items():
            if kind == "log" and params[key] not in fields:
                sub.fail(f"{params[key]!r} is not a field of this log", key)
        checks.append(CrossCheck(check=name, params=params, severity=severity))
    return tuple(checks)


def parse_schema(data: Any, source: str) -> LogSchema:
    """Build one log schema from parsed YAML, checking every key."""
    reader = _Reader(source, data)
    raw_columns = reader.get("columns", list, required=True)
    columns = tuple(_column(reader.child(f"columns[{i}]", raw)) for i, raw in enumerate(raw_columns))
    kind = reader.get("kind", str, "log")
    if kind not in LOG_KINDS:
        reader.fail(f"{kind!r} should be one of {', '.join(LOG_KINDS)}", "kind")
    fields = {c.field for c in columns}
    schema = LogSchema(
        name=reader.get("log", str, required=True),
        title=reader.get("title", str, required=True),
        tab=reader.get("tab", str, required=True),
        kind=kind,
        columns=columns,
        description=reader.get("description", str, "").strip(),
        tab_aliases=reader.strings("tab_aliases"),
        id=_id_format(reader, fields),
        key=reader.get("key", str),
        match_also=reader.strings("match_also"),
        sla=_sla(reader, fields),
        checks=_checks(reader, fields),
        transitions=_transitions(reader, fields),
        source_file=source,
    )
    reader.finish()
    _check_columns(schema, reader)
    return schema


def _check_columns(schema: LogSchema, reader: _Reader) -> None:
    seen_fields: set[str] = set()
    seen_labels: dict[str, str] = {}
    for i, column in enumerate(schema.columns):
        where = f"columns[{i}]"
        if column.field in seen_fields:
            reader.fail(f"field {column.field!r} appears twice", where)
        seen_fields.add(column.field)
        for label in (column.label, *column.aliases):
            key = normalize_label(label)
            if key in seen_labels:
                reader.fail(f"label {label!r} is also used by {seen_labels[key]!r}", where)
            seen_labels[key] = column.field
    fields = seen_fields
    for i, column in enumerate(schema.columns):
        where = f"columns[{i}]"
        for name, condition in (
            ("required_when", column.required_when),
            ("only_when", column.only_when),
            ("recommended_when", column.recommended_when),
        ):
            if condition is None:
                continue
            for ref in condition.fields():
                if ref not in fields:
                    reader.fail(f"{ref!r} is not a field of this log", f"{where}.{name}")
            if condition.field:
                target = schema.column(condition.field)
                if target.type not in _CONDITION_TYPES:
                    reader.fail(
                        f"'in' and 'not_in' compare text, and {target.label} is a {target.type} column; "
                        "name an enum or text column, or use 'any_present'",
                        f"{where}.{name}",
                    )
                for value in condition.values_in + condition.values_not_in:
                    if target.type == "enum" and value not in target.values:
                        reader.fail(f"{value!r} is not one of {target.label}'s values", f"{where}.{name}")
        if column.not_before and column.not_before not in fields:
            reader.fail(f"{column.not_before!r} is not a field of this log", f"{where}.not_before")
        if column.not_before and schema.column(column.not_before).type not in DATE_TYPES:
            reader.fail(
                f"{column.not_before!r} is not a date column, so no date can be before it", f"{where}.not_before"
            )
    if schema.key and schema.key not in fields:
        reader.fail(f"{schema.key!r} is not a field of this log", "key")
    for name in schema.match_also:
        if name not in fields:
            reader.fail(f"{name!r} is not a field of this log", "match_also")
    if schema.kind == "log" and schema.id is None:
        reader.fail("a log needs an 'id' format (e.g. QC-{year}-{number:04d})", "id")
    if schema.kind == "log" and schema.issues_column is None:
        reader.fail("a log needs an 'issues' column (kind: owned) for kakosheet's notes", "columns")


def normalize_label(label: str) -> str:
    """How header labels are compared: case, spacing and a trailing mandatory mark ignored."""
    return " ".join(label.replace("*", " ").split()).casefold()


def build_schema_set(schemas: list[LogSchema]) -> SchemaSet:
    """Cross-check schemas (unique names and tabs, references that exist) into one set."""
    logs: dict[str, LogSchema] = {}
    tabs: dict[str, str] = {}
    for schema in schemas:
        if schema.name in logs:
            raise SchemaError(
                f"{schema.source_file}: log: {schema.name!r} is also defined in {logs[schema.name].source_file}"
            )
        for tab in (schema.tab, *schema.tab_aliases):
            key = normalize_label(tab)
            if key in tabs:
                raise SchemaError(f"{schema.source_file}: tab: {tab!r} is also the tab of {tabs[key]!r}")
            tabs[key] = schema.name
        logs[schema.name] = schema
    _check_references(logs)
    return SchemaSet(logs=logs)


def _check_references(logs: Mapping[str, LogSchema]) -> None:
    for schema in logs.values():
        for i, check in enumerate(schema.checks):
            spec = CROSS_CHECKS[check.check]
            where = f"{schema.source_file}: checks[{i}]"
            target = logs.get(check.params["reference"])
            if target is None or target.kind != "reference":
                raise SchemaError(f"{where}.reference: {check.params['reference']!r} is not a reference tab")
            for key, kind in spec.items():
                if kind == "reference_field" and check.params[key] not in target.fields:
                    raise SchemaError(f"{where}.{key}: {check.params[key]!r} is not a field of {target.name}")
        for i, column in enumerate(schema.columns):
            if column.references is None:
                continue
            target = logs.get(column.references)
            where = f"{schema.source_file}: columns[{i}].references"
            if target is None:
                raise SchemaError(f"{where}: no schema is named {column.references!r}")
            if target.kind != "reference" or target.key is None:
                raise SchemaError(f"{where}: {column.references!r} is not a reference tab with a 'key'")
