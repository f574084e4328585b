"""The catalog's files are by feature: every key of one family (``election.*``, ``gb.*``, one command's
``commands.<name>.*``) lives in a single file, so a translator finds a feature's text in one place."""

from __future__ import annotations

import tomllib
from collections import defaultdict
from pathlib import Path

LOCALES = Path(__file__).resolve().parents[2] / "texts" / "locales"


def families(node: dict[str, object], prefix: str = "") -> set[str]:
    out: set[str] = set()
    for key, value in node.items():
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            out |= families(value, full)  # type: ignore[arg-type]
        else:
            parts = full.split(".")
            out.add(".".join(parts[:2]) if parts[0] in ("commands", "words") else parts[0])
    return out


def test_each_family_of_keys_lives_in_one_file() -> None:
    for lang in [p for p in LOCALES.iterdir() if p.is_dir()]:
        where: dict[str, list[str]] = defaultdict(list)
        for file in sorted(lang.glob("*.toml")):
            for family in families(tomllib.loads(file.read_text(encoding="utf-8"))):
                where[family].append(file.name)
        assert where, lang
        split = {family: files for family, files in where.items() if len(files) > 1}
        assert split == {}, f"{lang.name}: families spread over several files"
