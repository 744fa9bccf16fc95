"""Case IDs: one grammar per log, built from its template, that both issues IDs and recognises them.

An ID is ASCII: its year is four digits 0-9, its number one to ``NUMBER_DIGITS`` digits 0-9
(any padding: ``QC-2023-001`` beside the template's ``04d`` is an older sheet's ID), and a
row field inside it (a refund's vendor) letters A-Z and digits. Look-alikes (full-width
``２``, Arabic-Indic ``٢``) are not IDs (PITFALLS.md). An ID's identity is its year and
number: ``QC-2026-00001`` is ``QC-2026-0001`` written with another padding, and
``PRF-2026-002-acme`` is ``PRF-2026-002-ACME``; the number is what the store's sequence
keeps unique per log and year.
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from kakosheet.core.cells import quoted

ID_MAX_LENGTH = 64  # the store's case_id column holds this many characters
NUMBER_DIGITS = 18  # numbers below 10**18: the store's 64-bit sequence holds them and goes on past them
PART_MAX_LENGTH = 16  # a row field inside an ID (a vendor code) is cut to this many characters
BLANK_PART = "NONE"  # a row field inside an ID when the row leaves it blank
EARLIEST_YEAR = 1990  # an ID's year from a date before this is not believed (the template's date check)

PLACEHOLDER = re.compile(r"\{(\w+)(?::0(\d+)d)?\}", re.ASCII)
_NOT_PART = re.compile(r"[^A-Z0-9]+", re.ASCII)
_ALNUM = re.compile(r"[A-Za-z0-9]", re.ASCII)
_LITERAL = re.compile(r"[!-~]*", re.ASCII)  # printable ASCII, no space
_LENGTH = rf"(?=[^\n]{{1,{ID_MAX_LENGTH}}}(?![^\n]))"  # at most ID_MAX_LENGTH characters up to the line's end


class IdProblem(Enum):
    """Why a typed ID is not one kakosheet can take as a case's ID."""

    MALFORMED = "malformed"
    NOT_ASCII = "not-ascii"  # look-alike digits or letters (full-width, other scripts)
    TOO_LARGE = "too-large"  # more digits than the store's sequence holds
    TOO_LONG = "too-long"  # more characters than the store's case_id column holds


@dataclass(frozen=True, slots=True)
class CaseId:
    """A recognised ID: its year and number, and the row fields written inside it."""

    year: int
    number: int
    parts: Mapping[str, str]


Key = str | tuple[str, str]  # IdFormat.key: equal exactly when two IDs are one case


class FormulaId(str):
    """An ID cell's value computed by a formula: shown in messages, never taken as an ID."""

    __slots__ = ()


def id_part(value: Any) -> str:
    """A row field as it is written inside an ID: ASCII capitals and digits, one stable rule.

    Accents are dropped (``Müller GmbH`` -> ``MULLERGMBH``); a name with no Latin letter or
    digit (``华为``) gets a short code derived from its text, so two such vendors differ; a
    blank one is ``NONE``.
    """
    text = " ".join(str(value).split()) if value is not None else ""
    if not text:
        return BLANK_PART
    kept = _NOT_PART.sub("", unicodedata.normalize("NFKD", text.upper()))
    if kept:
        return kept[:PART_MAX_LENGTH]
    digest = hashlib.blake2b(unicodedata.normalize("NFC", text).encode(), digest_size=5).digest()
    return "X" + base64.b32encode(digest).decode("ascii")[:7]


@dataclass(frozen=True)
class IdFormat:
    """How a log's case IDs look, e.g. ``QC-{year}-{number:04d}``: issued and recognised alike.

    The number runs per log and year, zero-padded to the width shown and growing past it.
    Other placeholders name a field of the row (``{vendor_id}``).
    """

    field: str
    template: str
    year_from: str | None
    width: int
    row_fields: tuple[str, ...]
    regex: re.Pattern[str]  # one ID (named groups year, number and the row fields)
    many: re.Pattern[str]  # any number of IDs, one per line
    canonical: re.Pattern[str]  # IDs one per line, each number padded as kakosheet pads it
    key_line: re.Pattern[str]  # per line: the key of a canonical ID, "" or ("", "") of anything else
    loose: re.Pattern[str]  # the template with any Unicode digits and letters: says why an ID fails
    settled: re.Pattern[str]  # per line: an ID with no other form it may be stored under, else ""
    text_template: str  # the template with the number's width left out: renders any padding

    def all_match(self, ids: Iterable[str]) -> bool:
        """Whether every ID is well-formed, in one regex call."""
        listed = list(ids)
        joined = "\n".join(listed)
        return not listed or (joined.count("\n") == len(listed) - 1 and self.many.fullmatch(joined) is not None)

    def format(self, *, year: int, number: int, **parts: Any) -> str:
        """The ID kakosheet issues: the row fields written by ``id_part``."""
        written = {name: id_part(parts.get(name)) for name in self.row_fields}
        return self.template.format(year=year, number=number, **written)

    def example(self) -> str:
        return self.format(year=2026, number=1, **{f: "VEND" for f in self.row_fields})

    def parse(self, text: str) -> CaseId | IdProblem:
        """The year, number and row fields of an ID, or why it is not one."""
        match = self.regex.match(text)
        if match is not None:
            groups = match.groupdict()
            return CaseId(int(groups["year"]), int(groups["number"]), {f: groups[f] for f in self.row_fields})
        return self.problem(text)

    def problem(self, text: str) -> IdProblem:
        """Why a text the grammar does not match is not an ID."""
        loose = self.loose.fullmatch(text)
        if loose is None:
            return IdProblem.MALFORMED
        if not all(group.isascii() for group in loose.groups()):
            return IdProblem.NOT_ASCII
        if len(loose.group("number")) > NUMBER_DIGITS:
            return IdProblem.TOO_LARGE
        if len(text) > ID_MAX_LENGTH:
            return IdProblem.TOO_LONG
        return IdProblem.MALFORMED

    def key(self, case_id: CaseId) -> Key:
        """What makes two IDs one case: the year and number (the canonical ID, when it has no row fields)."""
        if not self.row_fields:
            return self.template.format(year=case_id.year, number=case_id.number)
        return (f"{case_id.year:04d}", format(case_id.number, f"0{self.width}d"))

    def own_keys(self, ids: list[str]) -> bool:
        """Whether each ID is its own key (canonical, in a template without row fields: the usual case),
        in one regex call."""
        if self.row_fields or not ids:
            return not self.row_fields
        joined = "\n".join(ids)
        return joined.count("\n") == len(ids) - 1 and self.canonical.fullmatch(joined) is not None

    def keys(self, ids: list[str]) -> list[Key | IdProblem]:
        """Each ID's ``key``, or why it is not an ID; in one or two regex calls when all are canonical (the
        usual case), and only the others parsed one by one."""
        if not ids:
            return []
        if self.own_keys(ids):
            return list(ids)
        joined = "\n".join(ids)
        if joined.count("\n") != len(ids) - 1:  # a cell with a line break inside
            return [self._key_of(text) for text in ids]
        plain = not self.row_fields
        found = self.key_line.findall(joined)  # per line: its key, or "" / ("", "") when it is not canonical
        if len(found) != len(ids):
            return [self._key_of(text) for text in ids]
        if not plain and found.count(("", "")) == 0:
            return found
        return [key if key and key[0] else self._key_of(text) for text, key in zip(ids, found, strict=True)]

    def _key_of(self, text: str) -> Key | IdProblem:
        parsed = self.parse(text)
        return parsed if isinstance(parsed, IdProblem) else self.key(parsed)

    def lookup_forms(self, ids: Iterable[str]) -> dict[str, list[str]]:
        """Each form a case with one of these IDs may be stored under -> the IDs asked for; an ID
        that has no other form (its number as wide as the template's, no leading zero, capitals)
        is found in one regex call over all of them."""
        asked = list(ids)
        joined = "\n".join(asked)
        settled = self.settled.findall(joined) if joined.count("\n") == len(asked) - 1 else []
        if len(settled) != len(asked):
            settled = [""] * len(asked)
        forms: dict[str, list[str]] = {}
        for text, only in zip(asked, settled, strict=True):
            if only:
                forms.setdefault(text, []).append(text)
                continue
            parsed = self.parse(text)
            for form in [text] if isinstance(parsed, IdProblem) else self.stored_forms(parsed, text):
                forms.setdefault(form, []).append(text)
        return forms

    def stored_forms(self, case_id: CaseId, typed: str) -> list[str]:
        """The forms under which a case with this ID may be stored: as typed, as kakosheet issues
        it, and each narrower padding an older sheet may have used."""
        numbers = {str(case_id.number).zfill(width) for width in range(1, self.width + 1)}
        numbers.add(format(case_id.number, f"0{self.width}d"))
        part_forms = [dict(case_id.parts), {f: v.upper() for f, v in case_id.parts.items()}]
        forms = {typed}
        for number in numbers:
            for parts in part_forms:
                forms.add(self._render(case_id.year, number, parts))
        return sorted(forms)

    def _render(self, year: int, number_text: str, parts: Mapping[str, str]) -> str:
        return self.text_template.format(year=f"{year:04d}", number=number_text, **parts)


def compile_id_format(field: str, template: str, year_from: str | None, fields: Iterable[str]) -> IdFormat:
    """The grammar of a template; ValueError names what is wrong with the template."""
    known = set(fields)
    placeholders = list(PLACEHOLDER.finditer(template))
    names = [m.group(1) for m in placeholders]
    if names.count("year") != 1 or names.count("number") != 1:
        raise ValueError("the template needs {year} and {number:0Nd} once each, e.g. QC-{year}-{number:04d}")
    literals = _literals(template, placeholders)
    for name in names:
        if name not in ("year", "number") and name not in known:
            raise ValueError(f"{{{name}}} is not a field of this log")
    for literal in literals:
        if not _LITERAL.fullmatch(literal) or "{" in literal or "}" in literal:
            raise ValueError(f"{literal!r}: an ID's text is ASCII letters, digits and signs, no spaces or braces")
    # Placeholders joined by letters and digits only read back one way when at most one of them
    # varies in length (the year is always four digits): QC{year}{number:04d}, not {number}{vendor_id}.
    varying = 0
    for name, before in zip(names, literals, strict=False):
        if before and _ALNUM.sub("", before):
            varying = 0
        varying += name != "year"
        if varying > 1:
            raise ValueError("put a sign such as '-' between the number and the row's fields, so an ID reads one way")
    width = 1
    for match in placeholders:
        name, digits = match.group(1), match.group(2)
        if digits is not None and name != "number":
            raise ValueError(f"only {{number}} takes a width (e.g. {{number:04d}}), not {{{name}}}")
        if name == "number":
            width = int(digits or 1)
            if not 1 <= width <= NUMBER_DIGITS:
                raise ValueError(f"the number's width is 1 to {NUMBER_DIGITS} digits")
    row_fields = tuple(n for n in names if n not in ("year", "number"))
    longest = sum(map(len, literals)) + 4 + NUMBER_DIGITS + PART_MAX_LENGTH * len(row_fields)
    if longest > ID_MAX_LENGTH:
        raise ValueError(f"its IDs can be longer than the {ID_MAX_LENGTH} characters the store keeps; shorten the text")
    narrow = rf"[0-9]{{{width}}}"
    if width < NUMBER_DIGITS:
        narrow += rf"|[1-9][0-9]{{{width},{NUMBER_DIGITS - 1}}}"
    strict = {"year": "[0-9]{4}", "number": rf"[0-9]{{1,{NUMBER_DIGITS}}}", "part": "[A-Za-z0-9]+"}
    canonical = {**strict, "number": narrow}
    loose = {"year": r"\d{4}", "number": r"\d+", "part": r"\w+"}
    settled = {"year": "[0-9]{4}", "number": rf"[1-9][0-9]{{{width - 1},{NUMBER_DIGITS - 1}}}", "part": "[A-Z0-9]+"}
    one = _LENGTH + _body(literals, names, strict, named=True)
    plain = _LENGTH + _body(literals, names, strict, named=False)
    canon = _LENGTH + _body(literals, names, canonical, named=False)
    # The same IDs, in half the time over 100k of them: a number's two forms told apart by its first digit,
    # and no length check (own_keys asks it of templates without row fields only, whose IDs are never
    # longer than ID_MAX_LENGTH: longest, above).
    padded = (
        rf"0[0-9]{{{width - 1}}}|[1-9][0-9]{{{width - 1},{NUMBER_DIGITS - 1}}}" if width < NUMBER_DIGITS else narrow
    )
    own = canon if row_fields else _body(literals, names, {**canonical, "number": padded}, named=False)
    return IdFormat(
        field=field,
        template=template,
        year_from=year_from,
        width=width,
        row_fields=row_fields,
        regex=re.compile(rf"^{one}\Z", re.ASCII),
        many=re.compile(rf"{plain}(?:\n{plain})*", re.ASCII),
        canonical=re.compile(rf"{own}(?:\n{own})*", re.ASCII),
        key_line=re.compile(
            f"^(?:({canon})|[^\n]*)$"
            if not row_fields
            else f"^(?:{_LENGTH}{_body(literals, names, canonical, named=False, keys_only=True)}|[^\n]*)$",
            re.ASCII | re.MULTILINE,
        ),
        loose=re.compile(_body(literals, names, loose, named=True)),
        settled=re.compile(
            f"^(?:({_LENGTH}{_body(literals, names, settled, named=False)})|[^\n]*)$", re.ASCII | re.MULTILINE
        ),
        text_template=PLACEHOLDER.sub(lambda m: "{" + m.group(1) + "}", template),
    )


def _literals(template: str, placeholders: list[re.Match[str]]) -> list[str]:
    """The template's text before, between and after its placeholders."""
    bounds = [0, *(p for m in placeholders for p in (m.start(), m.end())), len(template)]
    return [template[bounds[i] : bounds[i + 1]] for i in range(0, len(bounds), 2)]


def _body(
    literals: list[str],
    names: list[str],
    parts: Mapping[str, str],
    *,
    named: bool,
    keys_only: bool = False,
) -> str:
    """The template as a pattern: named groups, or (keys_only) unnamed groups for the year and number only."""
    pieces = []
    for literal, name in zip(literals, [*names, None], strict=True):
        pieces.append(re.escape(literal))
        if name is None:
            continue
        pattern = parts.get(name, parts["part"])
        if named:
            pieces.append(f"(?P<{name}>{pattern})")
        elif keys_only and name in ("year", "number"):
            pieces.append(f"({pattern})")
        else:
            pieces.append(f"(?:{pattern})")
    return "".join(pieces)


def problem_message(problem: IdProblem, text: str, id_format: IdFormat) -> str:
    """What is wrong with a typed ID and how to fix it (the message of its issue)."""
    fix = "fix it, or clear it and the next sync assigns one"
    shown = quoted(text)
    if problem is IdProblem.NOT_ASCII:
        return (
            f"{shown} holds look-alike characters (full-width or other-script digits or letters), not the "
            f"0-9 and A-Z of an ID like {id_format.example()}; type it again, or clear it and the next sync assigns one"
        )
    if problem is IdProblem.TOO_LARGE:
        return f"{shown} has a number of over {NUMBER_DIGITS} digits, more than kakosheet's numbering holds; {fix}"
    if problem is IdProblem.TOO_LONG:
        return f"{shown} is longer than the {ID_MAX_LENGTH} characters an ID may have; {fix}"
    return f"{shown} is not an ID kakosheet issued (like {id_format.example()}); {fix}"


def formula_message(text: str) -> str:
    """The message of an ID cell that holds a formula."""
    shown = f" (it shows {text!r} now)" if text else ""
    return (
        f"this cell holds a formula{shown}; a computed ID changes when rows move and then names another case, "
        "so the row is not stored: replace the formula with the ID typed as text, or clear the cell and the "
        "next sync assigns one"
    )
