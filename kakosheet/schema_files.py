"""Loading a folder of schema YAML files into a checked SchemaSet."""

from __future__ import annotations

from pathlib import Path

import yaml

from kakosheet.core.schema import LogSchema, SchemaSet, build_schema_set, parse_schema
from kakosheet.errors import SchemaError

# libyaml's loader when PyYAML was built with it: the same documents, ten times faster.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_FAST_LOADER):  # type: ignore[misc,valid-type]
    """The safe loader, refusing a key given twice in one mapping: YAML would keep the later one
    silently, so a second `values:` line added under a column would drop the first list."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[object, object]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str | int | float | bool) and key in seen:
                raise yaml.constructor.ConstructorError(
                    problem=f"{key!r} is given twice here; keep one (the later would silently win)",
                    problem_mark=key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_schema_file(path: Path) -> LogSchema:
    """One schema file; a YAML error names the file, line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaError(f"{path.name}: cannot read it ({exc})") from exc
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SchemaError(f"{path.name}:{where}: not valid YAML: {problem}") from exc
    return parse_schema(data, path.name)


def load_schemas(directory: Path) -> SchemaSet:
    """Load and cross-check every ``*.yaml`` schema in a folder."""
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise SchemaError(f"no schema files (*.yaml) in {directory}; run `kakosheet init` to copy the defaults")
    return build_schema_set([load_schema_file(path) for path in files])
