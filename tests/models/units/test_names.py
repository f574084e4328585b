"""The rule that reads a unit's code or name off the front of a staff command (``match_prefix``):
properties over random names, codes and arguments (hypothesis), and the cases of DESIGN §4."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from models.units.names import Match, Named, match_prefix
from texts.catalog import fold

SYLLABLES = ("Đồng", "Tâm", "Khe", "Quang", "Bản", "Thôn", "Nà", "Pò", "Hà", "Tu", "Lục", "Nà Ếch", "Yên")
name_st = st.lists(st.sampled_from(SYLLABLES), min_size=1, max_size=3).map(" ".join)
code_st = st.from_regex(r"[0-9]{5}|V[0-9]{1,3}", fullmatch=True)
rest_word = st.from_regex(r"[0-9]{1,3}/Q[DĐ]-UBND|[0-3][0-9]/1[0-2]/20[0-9]{2}|[0-9]{1,4}", fullmatch=True)


def _unit(i: int, name: str, code: str, kind: str = "Thôn") -> Named:
    return Named(i, code, name, f"{kind} {name}")


@st.composite
def villages(draw: st.DrawFn) -> list[Named]:
    names = draw(st.lists(name_st, min_size=1, max_size=8))
    codes = draw(st.lists(code_st, min_size=len(names), max_size=len(names), unique=True))
    kinds = draw(st.lists(st.sampled_from(("Thôn", "Bản", "Khu")), min_size=len(names), max_size=len(names)))
    return [_unit(i + 1, n, c, k) for i, (n, c, k) in enumerate(zip(names, codes, kinds, strict=True))]


def typed(text: str, how: int) -> str:
    """As a user might type it: as is, lower case, upper case, or without diacritics."""
    if how == 1:
        return text.lower()
    if how == 2:
        return text.upper()
    if how == 3:
        stripped = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
        return "".join(c for c in stripped if unicodedata.category(c) != "Mn")
    return text


def keys_of(unit: Named) -> set[str]:
    return {fold(unit.name), fold(unit.full_name)}


@given(villages(), st.data())
def test_a_typed_name_or_code_finds_its_village_and_leaves_the_rest(units: list[Named], data: st.DataObject) -> None:
    unit = data.draw(st.sampled_from(units))
    said = data.draw(st.sampled_from((unit.name, unit.full_name, unit.code)))
    rest = data.draw(st.lists(rest_word, max_size=3))
    words = typed(said, data.draw(st.integers(0, 3))).split() + rest
    found = match_prefix(words, units)
    assert unit in found.units and found.rest == tuple(rest)
    # every unit returned is named by exactly the words taken (ambiguity lists them all, by code)
    n = len(words) - len(rest)
    taken = fold(" ".join(words[:n]))
    assert {u.id for u in found.units} == {u.id for u in units if taken in keys_of(u)
                                           or (n == 1 and taken == fold(u.code))}
    assert list(found.units) == sorted(found.units, key=lambda u: (u.code, u.id))


@given(villages(), st.lists(st.one_of(st.sampled_from(SYLLABLES), rest_word, code_st), max_size=6))
def test_the_longest_prefix_wins_and_nothing_is_invented(units: list[Named], words: list[str]) -> None:
    found = match_prefix(words, units)
    taken = len(words) - len(found.rest)
    assert tuple(words[taken:]) == found.rest
    if not found.units:
        assert taken == 0
    for k in range(len(words), taken, -1):  # no longer prefix names any unit
        key = fold(" ".join(words[:k]))
        assert not any(key in keys_of(u) or (k == 1 and key == fold(u.code)) for u in units)
    names = {u.id for u in units if fold(" ".join(words[:taken])) in keys_of(u)
             or (taken == 1 and fold(words[0]) == fold(u.code))}
    assert {u.id for u in found.units} == (names if taken else set())


def test_the_cases_of_the_design() -> None:
    units = [_unit(1, "Đồng Tâm", "06592"), _unit(2, "Khe Quang", "06593", "Bản"), _unit(3, "Đồng Tâm", "07001")]
    assert match_prefix("Bản Khe Quang 12/QĐ-UBND 05/12/2026".split(), units) == Match(
        (units[1],), ("12/QĐ-UBND", "05/12/2026"))
    both = match_prefix("dong tam 125-QĐ/ĐU 10/01/2025".split(), units)
    assert [u.code for u in both.units] == ["06592", "07001"] and both.rest == ("125-QĐ/ĐU", "10/01/2025")
    assert match_prefix(["06593", "x"], units) == Match((units[1],), ("x",))
    assert match_prefix("Khe".split(), units) == Match((), ("Khe",))  # a part of a name is not a name
    assert match_prefix([], units) == Match((), ())
