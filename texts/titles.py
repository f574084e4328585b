"""How the bot names people by their post: the head's title follows the village's type
("Trưởng bản Đồng Thầm", "Trưởng khu phố Khu 1", "Trưởng thôn 3")."""

from __future__ import annotations

from texts.catalog import t


def _without_type(kind: str, name: str) -> str:
    """``name`` without a leading type word it repeats ("Thôn 15A" of a thôn → "15A")."""
    words = " ".join(name.split())
    if kind and words.lower().startswith(kind + " "):
        return words[len(kind) + 1:]
    return words


def unit_full_name(unit_type: str, name: str) -> str:
    """``<Type> <name>``, once: a thôn named "15A" is "Thôn 15A", and so is one named "Thôn 15A"."""
    kind = " ".join(unit_type.split()).lower()
    if not kind:
        return " ".join(name.split())
    return f"{kind.capitalize()} {_without_type(kind, name)}".strip()


def head_title(unit_type: str, name: str, full_name: str = "") -> str:
    """``Trưởng <type> <name>``; without a type, from the full name ("Bản Đồng Thầm" → "Trưởng bản Đồng Thầm");
    a name that starts with its type word does not repeat it ("Thôn 15A" → "Trưởng thôn 15A")."""
    kind = " ".join(unit_type.split()).lower()
    if kind:
        return f"Trưởng {kind} {_without_type(kind, name)}".strip()
    full = full_name or name
    return "Trưởng " + (full[:1].lower() + full[1:] if full else "thôn")


def honorific(party_status: str | None) -> str:
    """How the bot names a person whose party status the records give (DESIGN §3): "đồng chí" for a party
    member (full or probationary), "ông/bà" for anyone else."""
    return t("address.member" if party_status in ("member", "probationary") else "address.other")
