"""Counts in messages, as people write them: 1 figure, 2 figures (never "1 figures")."""


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """The count and the noun in the number it takes ("1 case", "1,204 cases"); ``plural`` when it is not noun + s."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"
