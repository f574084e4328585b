"""The shape DESIGN §2 draws, checked where import-linter cannot look (``scheduler.py`` is a module,
not a package), and the command registry's promises."""

from __future__ import annotations

import ast
from pathlib import Path

from handlers.commands import BY_NAME, COMMANDS, help_text, menu, quick
from texts.catalog import has

ROOT = Path(__file__).resolve().parents[1]


def _imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
    return names


def test_the_scheduler_imports_nothing_above_it() -> None:
    imported = _imported(ROOT / "scheduler.py")
    assert "bot" not in imported and "telegram" not in imported and "aiohttp" not in imported
    assert {"handlers", "models", "reports"} <= imported  # it does use the layers below


def test_every_command_has_its_texts_and_is_reachable_everywhere() -> None:
    for command in COMMANDS:
        assert has(f"commands.{command.name}.help"), command.name
        assert (command.action is None) != (command.flow is None), command.name
        for alias in command.aliases:
            assert BY_NAME[alias] is command
    assert [name for name, _ in menu()] == [c.name for c in COMMANDS if c.menu]
    assert all(len(text) <= 256 and text[0].isupper() for _, text in menu())  # Telegram's limit
    buttons = {name: roles for name, _, roles in quick()}
    assert {n for n, r in buttons.items() if r == "village_head"} == {"baucu", "daihoi", "giaoban", "nhiemvu",
                                                                     "trangthai"}
    assert {n for n, r in buttons.items() if r == "admin staff"} == {"tonghop", "chamtre"}
    assert {n for n, r in buttons.items() if not r} == {"huy", "trogiup"}  # everyone's
    assert "/nhantonghop bat | tat" in help_text("staff") and "/baucu" not in help_text("staff")
    assert "/baucu" in help_text("village_head") and "/tonghop" not in help_text("village_head")
