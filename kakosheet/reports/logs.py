"""What a report needs to know of each log: which field dates a case, says why it failed,
names the party, holds its cost, and when it counts as closed.

The field names are the default schemas'; a field a team's schema lacks is skipped, and so is one
whose type a team changed so that it no longer is what the report reads it as (a cost typed as a
plain number has no currency to be summed in, a closing date typed as text is no date)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from kakosheet.core.schema import DATE_TYPES, LogSchema
from kakosheet.store.minor import money_fields


@dataclass(frozen=True)
class PartyField:
    """A field naming a party cases are charged to, and what kind of party it is."""

    field: str
    kind: str | None = None  # a fixed kind, e.g. "Vendor"
    kind_field: str | None = None  # or a field holding the kind (QC's Source Type)


@dataclass(frozen=True)
class LogFacts:
    log: str
    title: str
    date_field: str  # the case's own date: it decides the period
    status_field: str
    closed: frozenset[str]
    reason_field: str
    closed_on: str | None = None  # the date a case closed, where the log keeps one
    parties: tuple[PartyField, ...] = ()
    costs: tuple[str, ...] = ()  # money fields that are a cost of the exception
    recovered: tuple[str, ...] = ()  # money fields that come back (subtracted)
    sku_field: str | None = None
    logged_by: str = "logged_by"
    fields: frozenset[str] = field(default_factory=frozenset)
    money: frozenset[str] = field(default_factory=frozenset)  # fields the store sums exactly (in minor units)

    def has(self, name: str | None) -> bool:
        return name is not None and name in self.fields


# How each money field is named in the cost section.
COST_CATEGORIES = {
    "replacement_cost": "replacement",
    "shipping_cost": "shipping",
    "penalty": "penalty",
    "refund_amount": "refunds",
    "credit_amount": "credits",
    "cost": "after-sales cost",
    "recovered_amount": "recovered",
}

_DEFAULTS: dict[str, dict[str, object]] = {
    "qc": {
        "status_field": "status",
        "closed": frozenset({"Closed"}),
        "reason_field": "exception_type",
        "closed_on": "closure_date",
        "parties": (PartyField("responsible_party", kind_field="source_type"),),
        "costs": ("replacement_cost", "shipping_cost", "penalty"),
        "recovered": ("recovered_amount",),
    },
    "refunds": {
        "status_field": "status",
        "closed": frozenset({"Completed", "Rejected"}),
        "reason_field": "reason_code",
        "closed_on": "completed_at",
        "parties": (PartyField("vendor_id", kind="Vendor"),),
        "costs": ("refund_amount",),
    },
    "returns": {
        "status_field": "status",
        "closed": frozenset({"Closed"}),
        "reason_field": "defect_type",
        "costs": ("credit_amount",),
        "sku_field": "sku",
    },
    "after_sales": {
        "status_field": "stage",
        "closed": frozenset({"Closed"}),
        "reason_field": "problem_type",
        "parties": (PartyField("supplier", kind="Supplier"), PartyField("logistics_provider", kind="Logistics")),
        "costs": ("cost",),
        "sku_field": "sku",
    },
}


def log_facts(schema: LogSchema) -> LogFacts | None:
    """The facts of a log the reports know, trimmed to the fields its schema has; None for others."""
    defaults = _DEFAULTS.get(schema.name)
    if defaults is None or schema.id is None or not schema.id.year_from:
        return None
    fields = frozenset(c.field for c in schema.columns)
    money = frozenset(money_fields(schema))
    dates = frozenset(c.field for c in schema.columns if c.type in DATE_TYPES)
    facts = LogFacts(log=schema.name, title=schema.title, date_field=schema.id.year_from, **defaults)  # type: ignore[arg-type]
    if facts.status_field not in fields or facts.reason_field not in fields:
        return None
    return replace(
        facts,
        fields=fields,
        money=money,
        closed_on=facts.closed_on if facts.closed_on in dates else None,
        parties=tuple(p for p in facts.parties if p.field in fields),
        costs=tuple(f for f in facts.costs if f in money),
        recovered=tuple(f for f in facts.recovered if f in money),
        sku_field=facts.sku_field if facts.sku_field in fields else None,
    )
