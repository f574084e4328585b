"""All user-facing text: one folder per language, ``handlers/locales/<lang>/*.toml``.

Each part of the bot keeps its text in its own file of the folder (``core.toml``, ``digest.toml``,
``web.toml``, ...); the files are merged, and a key defined twice is an error.

``t("election.ask_date")`` looks a dotted key up; keyword arguments fill ``{placeholders}``.
A missing key is a bug and raises ``KeyError`` (tests read every key the code uses).
"""

from __future__ import annotations

import tomllib
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any

LOCALES = Path(__file__).with_name("locales")
DEFAULT_LANG = "vi"


@cache
def _load(lang: str) -> dict[str, str]:
    flat: dict[str, str] = {}

    def walk(prefix: str, node: dict[str, Any]) -> None:
        for k, v in node.items():
            key = f"{prefix}.{k}" if prefix else k
            if isinstance(v, dict):
                walk(key, v)
            elif key in flat:
                raise KeyError(f"catalog key {key} defined twice ({lang})")
            else:
                flat[key] = unicodedata.normalize("NFC", str(v).strip("\n"))

    for file in sorted((LOCALES / lang).glob("*.toml")):
        walk("", tomllib.loads(file.read_text(encoding="utf-8")))
    return flat


def t(key: str, lang: str = DEFAULT_LANG, /, **kwargs: Any) -> str:
    text = _load(lang)[key]
    return text.format(**kwargs) if kwargs else text


def has(key: str, lang: str = DEFAULT_LANG) -> bool:
    return key in _load(lang)


def keys(lang: str = DEFAULT_LANG) -> set[str]:
    return set(_load(lang))
