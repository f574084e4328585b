"""All user-facing text: one folder per language, ``texts/locales/<lang>/*.toml``.

One file per feature (``core.toml``, ``election.toml``, ``merger.toml``, ``giaoban.toml``, ``web.toml``,
...), every family of keys (``election.*``, one command's ``commands.<name>.*``) in a single file; the
files are merged, and a key defined twice is an error.

``t("election.ask_date")`` looks a dotted key up; keyword arguments fill ``{placeholders}``.
``words("words.cancel")`` reads a list of words (what users type), folded for matching.
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
def _load(lang: str) -> dict[str, str | tuple[str, ...]]:
    flat: dict[str, str | tuple[str, ...]] = {}

    def walk(prefix: str, node: dict[str, Any]) -> None:
        for k, v in node.items():
            key = f"{prefix}.{k}" if prefix else k
            if isinstance(v, dict):
                walk(key, v)
            elif key in flat:
                raise KeyError(f"catalog key {key} defined twice ({lang})")
            elif isinstance(v, list):
                flat[key] = tuple(unicodedata.normalize("NFC", str(item)) for item in v)
            else:
                flat[key] = unicodedata.normalize("NFC", str(v).strip("\n"))

    for file in sorted((LOCALES / lang).glob("*.toml")):
        walk("", tomllib.loads(file.read_text(encoding="utf-8")))
    return flat


def t(key: str, lang: str = DEFAULT_LANG, /, **kwargs: Any) -> str:
    text = _load(lang)[key]
    if not isinstance(text, str):
        raise TypeError(f"catalog key {key} is a word list: use words()")
    return text.format(**kwargs) if kwargs else text


@cache
def words(key: str, lang: str = DEFAULT_LANG) -> frozenset[str]:
    """A word list of the catalog, folded (lower case, no diacritics) for matching what users type."""
    value = _load(lang)[key]
    if isinstance(value, str):
        raise TypeError(f"catalog key {key} is a text, not a word list")
    return frozenset(fold(item) for item in value)


def fold(text: str) -> str:
    """Comparison key: lower-case, no Vietnamese diacritics (đ → d), whitespace collapsed."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d").replace("Đ", "d"))
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return " ".join(unicodedata.normalize("NFC", stripped).lower().split())


def has(key: str, lang: str = DEFAULT_LANG) -> bool:
    return key in _load(lang)


def keys(lang: str = DEFAULT_LANG) -> set[str]:
    return set(_load(lang))
