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
    assert {n for n, r in buttons.items() if r == "village_head"} == {"baucu", "daihoi", "trangthai"}
    # the giao ban's buttons are the village's: its head's, or its branch secretary's where he is not the head
    assert {n for n, r in buttons.items() if r == "village_head village_secretary"} == {"giaoban", "nhiemvu"}
    assert {n for n, r in buttons.items() if r == "admin staff"} == {"tonghop", "chamtre"}
    assert {n for n, r in buttons.items() if not r} == {"huy", "trogiup"}  # everyone's
    assert "/nhantonghop bat | tat" in help_text("staff") and "/baucu" not in help_text("staff")
    assert "/baucu" in help_text("village_head") and "/tonghop" not in help_text("village_head")


def test_a_feature_uses_only_the_public_names_of_another() -> None:
    """Features call each other through public names: a name with a leading underscore is imported only
    within its own feature — a package of ``models/`` or ``bot/``, a module of ``handlers/`` or ``reports/``
    (the first two parts of a module's dotted name)."""
    offenders = []
    for top in ("models", "handlers", "bot", "reports", "texts"):
        for path in (ROOT / top).rglob("*.py"):
            own = ".".join(path.relative_to(ROOT).with_suffix("").parts[:2])
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    theirs = ".".join(node.module.split(".")[:2])
                    private = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
                    if private and theirs != own:
                        offenders.append(f"{path.relative_to(ROOT)}: {private} from {node.module}")
    assert offenders == []


def test_tables_live_in_the_tables_module_of_their_feature() -> None:
    """One convention: every table is declared in ``models/<feature>/tables.py``."""
    misplaced = []
    for path in (ROOT / "models").rglob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef) and any(
                    kw.arg == "table" for kw in node.keywords) and path.name != "tables.py":
                misplaced.append(f"{path.relative_to(ROOT)}: {node.name}")
    assert misplaced == []
