"""How the bot names people by their post: the head's title follows the village's type
("Trưởng bản Đồng Thầm", "Trưởng khu phố Khu 1", "Trưởng thôn 3")."""

from __future__ import annotations


def head_title(unit_type: str, name: str, full_name: str = "") -> str:
    """``Trưởng <type> <name>``; without a type, from the full name ("Bản Đồng Thầm" → "Trưởng bản Đồng Thầm")."""
    kind = " ".join(unit_type.split()).lower()
    if kind:
        return f"Trưởng {kind} {name}".strip()
    full = full_name or name
    return "Trưởng " + (full[:1].lower() + full[1:] if full else "thôn")
