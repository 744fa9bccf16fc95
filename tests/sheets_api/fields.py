"""Field masks ("gridProperties/rowCount,userEnteredFormat(backgroundColor,textFormat.bold)").

The same syntax selects what spreadsheets.get returns (`fields=`) and what an update request changes (`fields`),
and gspread writes it with "/" where the reference uses ".", so both separators are accepted.
"""

from __future__ import annotations

import copy
from typing import Any

Tree = dict[str, "Tree | None"]


def parse(mask: str) -> Tree:
    """The mask as a tree: {"gridProperties": {"rowCount": None}}; None marks a whole subtree."""
    tree, rest = _parse_list(mask.replace(" ", ""), 0)
    if rest != len(mask.replace(" ", "")):
        raise ValueError(f"unbalanced field mask: {mask}")
    return tree


def _parse_list(text: str, index: int) -> tuple[Tree, int]:
    tree: Tree = {}
    while index < len(text) and text[index] != ")":
        index = _parse_path(text, index, tree)
        if index < len(text) and text[index] == ",":
            index += 1
    return tree, index


def _parse_path(text: str, index: int, tree: Tree) -> int:
    """One "a.b/c(d,e)" entry merged into tree; returns where it stopped."""
    names = []
    while True:
        start = index
        while index < len(text) and text[index] not in ".,/()":
            index += 1
        names.append(text[start:index])
        if index < len(text) and text[index] in "./":
            index += 1
            continue
        break
    leaf: Tree | None = None
    if index < len(text) and text[index] == "(":
        leaf, index = _parse_list(text, index + 1)
        index += 1  # past ")"
    _insert(tree, names, leaf)
    return index


def _insert(tree: Tree, names: list[str], leaf: Tree | None) -> None:
    node = tree
    for name in names[:-1]:
        if name in node and node[name] is None:
            return  # the whole subtree is already selected
        node = node.setdefault(name, {})  # type: ignore[assignment]
    last = names[-1]
    if not last:
        return
    existing = node.get(last)
    if leaf is None or (last in node and existing is None):
        node[last] = None
    else:
        node[last] = _merge(existing, leaf) if existing else leaf


def _merge(a: Tree, b: Tree) -> Tree:
    out = dict(a)
    for key, sub in b.items():
        if key in out and out[key] is not None and sub is not None:
            out[key] = _merge(out[key], sub)  # type: ignore[arg-type]
        else:
            out[key] = None if key in out and (out[key] is None or sub is None) else sub
    return out


def project(value: Any, tree: Tree | None) -> Any:
    """Keep only the selected fields of a reply (lists are selected element by element)."""
    if tree is None or "*" in tree:
        return value
    if isinstance(value, list):
        return [project(item, tree) for item in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, sub in tree.items():
        if key in value:
            out[key] = project(value[key], sub)
    return out


def apply(target: dict[str, Any] | None, source: dict[str, Any] | None, tree: Tree | None) -> dict[str, Any]:
    """target with the masked fields taken from source (a field absent from source is cleared)."""
    source = source or {}
    if tree is None or "*" in tree:
        return copy.deepcopy(source)
    out = dict(target or {})
    for key, sub in tree.items():
        if sub is None:
            if key in source:
                out[key] = copy.deepcopy(source[key])
            else:
                out.pop(key, None)
            continue
        inner = source.get(key)
        merged = apply(out.get(key), inner if isinstance(inner, dict) else None, sub)
        if merged:
            out[key] = merged
        else:
            out.pop(key, None)
    return out


def top_level(tree: Tree) -> set[str]:
    """The first names of a mask ("userEnteredFormat.textFormat" -> "userEnteredFormat")."""
    return set(tree)
