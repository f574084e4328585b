"""Check recorded Bot API calls against the machine-readable Telegram Bot API spec.

The spec is ``tests/data/telegram-bot-api/api.min.json`` (see ``SOURCE.md`` next to it).
Only names are checked: unknown method, missing required parameter, unknown parameter.
"Required" follows the docs tables, so conditionally required parameters count as optional.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).resolve().parent.parent / "data" / "telegram-bot-api" / "api.min.json"


@cache
def load_spec() -> dict[str, Any]:
    """The parsed spec (cached)."""
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))


def spec_version() -> str:
    return str(load_spec().get("version", ""))


def method_fields(method: str) -> dict[str, dict[str, Any]] | None:
    """Field name -> field spec for ``method``, or None when the method is unknown."""
    entry = load_spec()["methods"].get(method)
    if entry is None:
        return None
    return {field["name"]: field for field in entry.get("fields", [])}


def field_types(method: str, name: str) -> list[str] | None:
    """The spec's type list of one parameter (e.g. ``["Integer", "String"]``), None if unknown."""
    fields = method_fields(method)
    if fields is None or name not in fields:
        return None
    return list(fields[name]["types"])


def check_call(method: str, params: Mapping[str, Any]) -> list[str]:
    """Problems with one call; an empty list means the call matches the spec."""
    fields = method_fields(method)
    if fields is None:
        lowered = {name.lower(): name for name in load_spec()["methods"]}
        hint = lowered.get(method.lower())
        suffix = f" (did you mean {hint!r}?)" if hint else ""
        return [f"{method}: unknown method{suffix}"]
    problems = [
        f"{method}: missing required parameter {name!r}"
        for name, field in fields.items()
        if field.get("required") and params.get(name) is None
    ]
    problems += [f"{method}: unknown parameter {name!r}" for name in params if name not in fields]
    return problems


def assert_calls_match_spec(calls: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
    """Raise AssertionError listing every problem found in ``calls`` (``(method, params)`` pairs)."""
    problems: list[str] = []
    for index, (method, params) in enumerate(calls):
        problems += [f"call #{index}: {problem}" for problem in check_call(method, params)]
    if problems:
        raise AssertionError(f"calls do not match {spec_version()}:\n" + "\n".join(problems))


# --- value types -------------------------------------------------------------------------------------
_SCALARS: dict[str, Any] = {
    "Integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "String": lambda v: isinstance(v, str),
    "Boolean": lambda v: isinstance(v, bool),
    "Float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "InputFile": lambda v: isinstance(v, dict) and "filename" in v,  # an upload, as the fake records it
}


def type_problems(type_name: str, value: Any, where: str) -> list[str]:
    """Problems of ``value`` against one spec type (``Integer``, ``Array of X``, an object type...)."""
    if type_name.startswith("Array of "):
        if not isinstance(value, list):
            return [f"{where}: expected {type_name}, got {type(value).__name__}"]
        inner = type_name[len("Array of "):]
        return [p for i, item in enumerate(value) for p in type_problems(inner, item, f"{where}[{i}]")]
    check = _SCALARS.get(type_name)
    if check is not None:
        return [] if check(value) else [f"{where}: expected {type_name}, got {type(value).__name__}"]
    entry = load_spec()["types"].get(type_name)
    if not isinstance(value, dict):
        return [f"{where}: expected {type_name}, got {type(value).__name__}"]
    if entry is None or entry.get("subtypes"):  # an abstract type (e.g. BotCommandScope): an object is enough
        return []
    fields = {field["name"]: field for field in entry.get("fields", [])}
    problems = [f"{where}: {type_name} lacks required field {name!r}"
                for name, field in fields.items() if field.get("required") and name not in value]
    problems += [f"{where}: {type_name} has no field {name!r}" for name in value if name not in fields]
    for name, item in value.items():
        if name in fields:
            problems += value_problems(fields[name]["types"], item, f"{where}.{name}")
    return problems


def value_problems(types: list[str], value: Any, where: str) -> list[str]:
    """Problems of ``value`` against a field's type list (any one type may match)."""
    found: list[str] = []
    for type_name in types:
        problems = type_problems(type_name, value, where)
        if not problems:
            return []
        found = found or problems
    return found


def check_types(method: str, params: Mapping[str, Any]) -> list[str]:
    """Parameters whose values do not have the spec's type (unknown names are ``check_call``'s)."""
    fields = method_fields(method) or {}
    return [p for name, value in params.items() if name in fields and value is not None
            for p in value_problems(fields[name]["types"], value, f"{method}.{name}")]
