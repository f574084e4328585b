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
