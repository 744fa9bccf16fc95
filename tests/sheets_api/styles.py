"""Cell formats as Google stores and echoes them.

Google answers every colour twice, as a Color and as a ColorStyle ({"rgbColor": ...}), and leaves out zero colour
components ({"red": 1} for pure red; black is {}). A client that compares the format it wants with the format it
reads back must cope with that, so the server echoes formats the same way.
"""

from __future__ import annotations

from typing import Any

_PAIRS = (("backgroundColor", "backgroundColorStyle"),)
_TEXT_PAIRS = (("foregroundColor", "foregroundColorStyle"),)
_BORDERS = ("top", "bottom", "left", "right")


def normal_color(color: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in color.items() if not (k in ("red", "green", "blue") and not v)}


def _pair(target: dict[str, Any], plain: str, styled: str) -> None:
    """Fill in whichever of a Color / ColorStyle pair is missing, and drop zero components."""
    if isinstance(target.get(plain), dict):
        target[plain] = normal_color(target[plain])
        if styled not in target:
            target[styled] = {"rgbColor": dict(target[plain])}
    style = target.get(styled)
    if isinstance(style, dict) and isinstance(style.get("rgbColor"), dict):
        style = dict(style, rgbColor=normal_color(style["rgbColor"]))
        target[styled] = style
        target.setdefault(plain, dict(style["rgbColor"]))


def normal_format(fmt: dict[str, Any] | None) -> dict[str, Any] | None:
    """A CellFormat in the form Google echoes it (a new dict; the input is left alone)."""
    if not fmt:
        return None
    out = dict(fmt)
    for plain, styled in _PAIRS:
        _pair(out, plain, styled)
    if isinstance(out.get("textFormat"), dict):
        text = out["textFormat"] = dict(out["textFormat"])
        for plain, styled in _TEXT_PAIRS:
            _pair(text, plain, styled)
    if isinstance(out.get("borders"), dict):
        borders = out["borders"] = dict(out["borders"])
        for side in _BORDERS:
            if isinstance(borders.get(side), dict):
                border = borders[side] = dict(borders[side])
                _pair(border, "color", "colorStyle")
    return out


def expand_mask(mask: dict[str, Any] | None) -> dict[str, Any] | None:
    """A userEnteredFormat field mask where a Color and its ColorStyle go together, as they do at Google."""
    if mask is None:
        return None
    out = dict(mask)
    for plain, styled in _PAIRS:
        _join(out, plain, styled)
    if isinstance(out.get("textFormat"), dict):
        out["textFormat"] = dict(out["textFormat"])
        for plain, styled in _TEXT_PAIRS:
            _join(out["textFormat"], plain, styled)
    return out


def _join(mask: dict[str, Any], plain: str, styled: str) -> None:
    if plain in mask and styled not in mask:
        mask[styled] = None
    elif styled in mask and plain not in mask:
        mask[plain] = None
